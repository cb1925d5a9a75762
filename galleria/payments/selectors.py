"""Reads of payments: which providers a group takes, a member's attempt, the merchant's live feed, the console's
lists of payments, refunds and notifications."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet, Sum

from .models import (
    AttemptState,
    MerchantPaymentProfile,
    PaymentAttempt,
    PaymentCredential,
    PaymentNotice,
    PaymentRefund,
    Purpose,
)
from .types import AttemptView

PROVIDER_ORDER = ("wechat", "alipay")


def providers_available(*, mall_group_id: int) -> list[str]:
    """The providers with an active credential, WeChat Pay first."""
    found = set(
        PaymentCredential.objects.filter(mall_group_id=mall_group_id, is_active=True).values_list("provider", flat=True)
    )
    return [p for p in PROVIDER_ORDER if p in found]


def credential_list(*, mall_group_id: int) -> QuerySet[PaymentCredential]:
    return PaymentCredential.objects.filter(mall_group_id=mall_group_id).order_by("provider")


def credential_get(*, mall_group_id: int, provider: str) -> PaymentCredential | None:
    return PaymentCredential.objects.filter(mall_group_id=mall_group_id, provider=provider).first()


def attempt_view(attempt: PaymentAttempt) -> AttemptView:
    return AttemptView(
        attempt_id=attempt.pk,
        out_trade_no=attempt.out_trade_no,
        provider=attempt.provider,
        purpose=attempt.purpose,
        state=attempt.state,
        fulfilment=attempt.fulfilment,
        amount_fen=attempt.amount_fen,
        refunded_fen=attempt.refunded_fen,
        created_at=attempt.created_at,
        paid_at=attempt.paid_at,
        member_id=attempt.member_id,
        merchant_id=attempt.merchant_id,
        store_id=attempt.store_id,
        sale_id=attempt.sale_id,
        topup_id=attempt.topup_id,
        failure=attempt.failure,
        order=dict(attempt.order),
    )


def member_attempt(*, member_id: int, key: str) -> PaymentAttempt | None:
    """The member's attempt started with this form key (pay at store), or the top-up started with it."""
    if not key or len(key) > 64:
        return None
    attempt = PaymentAttempt.objects.filter(member_id=member_id, idempotency_key=key).first()
    if attempt is None:
        attempt = PaymentAttempt.objects.filter(
            member_id=member_id, purpose=Purpose.TOPUP, topup__idempotency_key=key
        ).first()
    return attempt


def member_attempt_by_trade_no(*, member_id: int, out_trade_no: str) -> PaymentAttempt | None:
    """The member's attempt under our trade number (what another app's record names it by)."""
    if not out_trade_no:
        return None
    return PaymentAttempt.objects.filter(member_id=member_id, out_trade_no=out_trade_no[:32]).first()


def topup_attempt(*, topup_id: int) -> PaymentAttempt | None:
    return PaymentAttempt.objects.filter(topup_id=topup_id).first()


def merchant_live(*, merchant_id: int, since: dt.datetime, limit: int = 20) -> list[PaymentAttempt]:
    """Pay-at-store payments the merchant received since `since`, newest first (the counter's live screen)."""
    return list(
        PaymentAttempt.objects.select_related("store")
        .filter(merchant_id=merchant_id, purpose=Purpose.STORE, state=AttemptState.PAID, paid_at__gte=since)
        .order_by("-paid_at", "-pk")[:limit]
    )


def merchant_received_total(*, merchant_id: int, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    row = PaymentAttempt.objects.filter(
        merchant_id=merchant_id,
        purpose=Purpose.STORE,
        state=AttemptState.PAID,
        paid_at__gte=since,
        paid_at__lt=until,
    ).aggregate(paid=Sum("paid_fen"), refunded=Sum("refunded_fen"))
    return {"paid_fen": int(row["paid"] or 0), "refunded_fen": int(row["refunded"] or 0)}


def merchant_payments(*, merchant_id: int) -> QuerySet[PaymentAttempt]:
    return (
        PaymentAttempt.objects.select_related("store", "member")
        .filter(merchant_id=merchant_id, purpose=Purpose.STORE)
        .exclude(state__in=(AttemptState.CREATED,))
        .order_by("-created_at", "-pk")
    )


def merchant_payment_get(*, merchant_id: int, attempt_id: int) -> PaymentAttempt | None:
    return (
        PaymentAttempt.objects.select_related("store")
        .filter(merchant_id=merchant_id, purpose=Purpose.STORE, pk=attempt_id)
        .first()
    )


def payment_list(
    *, mall_group_id: int | None, query: str = "", state: str = "", purpose: str = "", provider: str = ""
) -> QuerySet[PaymentAttempt]:
    qs = PaymentAttempt.objects.select_related("merchant", "member").order_by("-created_at", "-pk")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if query:
        qs = qs.filter(Q(out_trade_no__icontains=query) | Q(transaction_id__icontains=query))
    if state:
        qs = qs.filter(state=state)
    if purpose:
        qs = qs.filter(purpose=purpose)
    if provider:
        qs = qs.filter(provider=provider)
    return qs


def payment_get(*, mall_group_id: int | None, attempt_id: int) -> PaymentAttempt | None:
    qs = PaymentAttempt.objects.select_related("merchant", "member", "store").filter(pk=attempt_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.first()


def attempt_refunds(*, attempt_id: int) -> list[PaymentRefund]:
    return list(PaymentRefund.objects.filter(attempt_id=attempt_id).order_by("pk"))


def attempt_notices(*, out_trade_no: str) -> list[PaymentNotice]:
    return list(PaymentNotice.objects.filter(out_trade_no=out_trade_no).order_by("pk"))


def notice_list(*, mall_group_id: int | None, outcome: str = "") -> QuerySet[PaymentNotice]:
    qs = PaymentNotice.objects.order_by("-received_at", "-pk")
    if mall_group_id is not None:
        qs = qs.filter(Q(mall_group_id=mall_group_id))
    if outcome:
        qs = qs.filter(outcome=outcome)
    return qs


def merchant_profile(*, merchant_id: int) -> MerchantPaymentProfile | None:
    return MerchantPaymentProfile.objects.filter(merchant_id=merchant_id).first()


def merchant_by_wechat_shop(*, mall_group_id: int, mchid: str, shop_number: str) -> int | None:
    """The merchant a 智慧商圈 notification names (by the shop's WeChat merchant number, and its shop number when
    the merchant number alone is ambiguous)."""
    rows = list(
        MerchantPaymentProfile.objects.filter(mall_group_id=mall_group_id, wechat_mchid=mchid).values_list(
            "merchant_id", "wechat_shop_number"
        )
    )
    exact = [m for m, shop in rows if shop == shop_number]
    if exact:
        return exact[0]
    return rows[0][0] if len(rows) == 1 else None
