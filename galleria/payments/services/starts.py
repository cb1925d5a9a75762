"""Starting payments: a wallet top-up or a pay-at-store payment, at WeChat Pay or Alipay.

A start writes the attempt first (state `created`, in its own short transaction) and only then asks the gateway,
outside any transaction: a gateway that is down leaves the attempt `created` and the member retries with the same
idempotency key (the same attempt, the same out_trade_no — the gateway keys on it). A refusal marks it `failed`.
A pay-at-store start prices the basket with the checkout's quote (best coupons, points within the limits, tier
discount) and keeps what the member chose on the attempt; the sale itself is recorded only when the gateway says
the money arrived (notices.py), through the same pipeline, so the member earns at once."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core.errors import ConflictError
from galleria.merchants.selectors import store_for_payments
from galleria.sales.selectors import sale_quote
from galleria.sales.services import sale_commit_in_tx
from galleria.sales.types import Channel, LineIn, PaymentIn, Quote, SaleIn, SaleResult
from galleria.wallet import rules as wallet_rules
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet.services import wallet_topup_start

from .. import exceptions
from ..gateways.base import GatewayRefusedError, GatewayUnavailableError, PayKind
from ..models import AttemptState, MerchantPaymentProfile, PaymentAttempt, PaymentCredential, Purpose
from ..types import PaymentStarted
from ._gateway import credential_for, gateway_of

MAX_STORE_PAYMENT_FEN = 5_000_000  # ¥50,000: above it the shop's own till takes the payment
SKU = "APP-PAY"


def new_out_trade_no(prefix: str) -> str:
    """`prefix` + mall-agnostic date + 20 hex: ≤ 32 characters, unique, not guessable."""
    return f"{prefix}{timezone.now():%y%m%d}{secrets.token_hex(10)}"


def started(attempt: PaymentAttempt) -> PaymentStarted:
    return PaymentStarted(
        attempt_id=attempt.pk,
        out_trade_no=attempt.out_trade_no,
        provider=attempt.provider,
        amount_fen=attempt.amount_fen,
        pay_kind=attempt.pay_kind,
        payload=dict(attempt.start_payload),
        expires_at=attempt.expires_at,
    )


def _expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=settings.GALLERIA_PAYMENT_EXPIRY_MINUTES)


def _begin(
    attempt: PaymentAttempt,
    credential: PaymentCredential,
    *,
    description: str,
    payer: str,
    client_ip: str,
    return_url: str,
    profit_sharing: bool = False,
) -> PaymentStarted:
    """Ask the gateway for the attempt (outside any transaction). created → paying; a refusal → failed."""
    if attempt.state == AttemptState.PAYING:
        return started(attempt)
    if attempt.state != AttemptState.CREATED:
        raise ConflictError(code="payments.not_payable", extra={"state": attempt.state})
    try:
        start = gateway_of(credential).pay_start(
            kind=PayKind(attempt.pay_kind),
            out_trade_no=attempt.out_trade_no,
            amount_fen=attempt.amount_fen,
            description=description,
            expires_at=attempt.expires_at,
            payer=payer,
            client_ip=client_ip,
            return_url=return_url,
            attach=str(attempt.pk),
            profit_sharing=profit_sharing,
        )
    except GatewayUnavailableError as exc:
        raise exceptions.GatewayDownError(extra={"attempt_id": attempt.pk}) from exc
    except GatewayRefusedError as exc:
        PaymentAttempt.objects.filter(pk=attempt.pk, state=AttemptState.CREATED).update(
            state=AttemptState.FAILED, failure=(exc.code or str(exc))[:200]
        )
        raise exceptions.GatewayRefusedPaymentError(extra={"code": exc.code}) from exc
    PaymentAttempt.objects.filter(pk=attempt.pk, state=AttemptState.CREATED).update(
        state=AttemptState.PAYING, start_payload=dict(start.payload)
    )
    attempt.refresh_from_db()
    return started(attempt)


def _check_kind(provider: str, kind: str) -> None:
    allowed = {
        "wechat": {PayKind.JSAPI, PayKind.H5, PayKind.NATIVE},
        "alipay": {PayKind.WAP, PayKind.PAGE, PayKind.PRECREATE},
    }
    if kind not in allowed.get(provider, set()):
        raise exceptions.ProviderNotConfiguredError(extra={"provider": provider, "kind": kind})


# ---------------------------------------------------------------------------------------------------- top-ups


class _TopUpBridge:
    """The wallet's PaymentGateway protocol on a payments credential: the wallet creates the pending top-up and
    asks for a payment under its reference; the attempt is created under that very reference (idempotent)."""

    def __init__(self, credential: PaymentCredential, *, member_id: int, kind: str) -> None:
        self.credential = credential
        self.member_id = member_id
        self.kind = kind
        self.name = credential.provider

    def create_payment(self, *, amount_fen: int, reference: str) -> str:
        topup = wallet_selectors.topup_by_reference(reference=reference)
        if topup is None:
            raise LookupError(reference)
        try:
            with transaction.atomic():
                PaymentAttempt.objects.get_or_create(
                    out_trade_no=reference,
                    defaults={
                        "mall_group_id": self.credential.mall_group_id,
                        "credential": self.credential,
                        "provider": self.credential.provider,
                        "purpose": Purpose.TOPUP,
                        "amount_fen": amount_fen,
                        "pay_kind": self.kind,
                        "member_id": self.member_id,
                        "topup": topup,
                        "expires_at": _expiry(),
                    },
                )
        except IntegrityError:  # a concurrent start of the same top-up created it
            pass
        return reference


def topup_pay_start(
    *,
    mall_id: int,
    mall_group_id: int,
    member_id: int,
    amount_fen: int,
    provider: str,
    kind: str,
    idempotency_key: str,
    description: str,
    payer: str = "",
    client_ip: str = "",
    return_url: str = "",
) -> PaymentStarted:
    """Top up the wallet through a gateway: the wallet's pending top-up + its attempt + the gateway's start."""
    wallet_rules.check_topup_amount(amount_fen)  # the member's mistake first, before what the mall configured
    _check_kind(provider, kind)
    credential = credential_for(mall_group_id=mall_group_id, provider=provider)
    bridge = _TopUpBridge(credential, member_id=member_id, kind=kind)
    intent = wallet_topup_start(
        mall_id=mall_id, member_id=member_id, amount_fen=amount_fen, gateway=bridge, idempotency_key=idempotency_key
    )
    attempt = PaymentAttempt.objects.get(out_trade_no=intent.gateway_ref)
    return _begin(attempt, credential, description=description, payer=payer, client_ip=client_ip, return_url=return_url)


# ---------------------------------------------------------------------------------------------------- pay at store


def store_lines(*, store_name: str, total_fen: int) -> tuple[LineIn, ...]:
    """A pay-at-store basket: the amount the member typed, as one line named after the shop."""
    if not 0 < total_fen <= MAX_STORE_PAYMENT_FEN:
        raise exceptions.AmountInvalidError(extra={"total_fen": total_fen})
    return (LineIn(sku=SKU, name=store_name[:120], quantity=1, unit_price_fen=total_fen, amount_fen=total_fen),)


def _store(*, store_id: int, mall_group_id: int) -> Any:
    """A store members may pay at in the app: active, of an active merchant of the group, not switched off."""
    store = store_for_payments(store_id=store_id, mall_group_id=mall_group_id)
    if store is None:
        raise exceptions.StoreUnavailableError()
    profile = MerchantPaymentProfile.objects.filter(merchant_id=store.merchant_id).first()
    if profile is not None and not profile.pay_at_store:
        raise exceptions.StoreUnavailableError()
    return store


def store_pay_quote(
    *,
    member_id: int,
    mall_group_id: int,
    store_id: int,
    total_fen: int,
    points_to_use: int,
    coupon_ids: Sequence[int] | None,
) -> Quote:
    """What the member would pay at this shop: the checkout's own quote (read-only)."""
    store = _store(store_id=store_id, mall_group_id=mall_group_id)
    return sale_quote(
        merchant_id=store.merchant_id,
        member_id=member_id,
        lines=store_lines(store_name=store.merchant.name, total_fen=total_fen),
        payments=(),
        points_to_use=points_to_use,
        merchant=store.merchant,
        coupon_ids=coupon_ids,
    )


def store_pay_start(
    *,
    member_id: int,
    mall_group_id: int,
    store_id: int,
    total_fen: int,
    points_to_use: int,
    coupon_ids: Sequence[int] | None,
    provider: str,
    kind: str,
    idempotency_key: str,
    payer: str = "",
    client_ip: str = "",
    return_url: str = "",
) -> PaymentStarted:
    """Pay the money part of a pay-at-store basket at a gateway. The same key gives the same attempt (a different
    basket with it is IdempotencyConflictError); the sale is recorded when the money arrives."""
    _check_kind(provider, kind)
    credential = credential_for(mall_group_id=mall_group_id, provider=provider)
    store = _store(store_id=store_id, mall_group_id=mall_group_id)
    quote = store_pay_quote(
        member_id=member_id,
        mall_group_id=mall_group_id,
        store_id=store_id,
        total_fen=total_fen,
        points_to_use=points_to_use,
        coupon_ids=coupon_ids,
    )
    if quote.paid_fen <= 0:
        raise ConflictError(code="payments.nothing_to_pay")
    order = {
        "name": store.merchant.name,
        "total_fen": total_fen,
        "points": points_to_use,
        "coupons": list(quote.best_coupon_ids),
        "points_value_fen": quote.points_value_fen,
        "discount_fen": quote.discount_fen,
        "points_to_earn": quote.points_to_earn,
    }
    attempt = _store_attempt(
        credential=credential,
        member_id=member_id,
        store=store,
        amount_fen=quote.paid_fen,
        order=order,
        kind=kind,
        key=idempotency_key,
    )
    description = f"{store.merchant.name} {store.unit_no}".strip()
    profile = MerchantPaymentProfile.objects.filter(merchant_id=store.merchant_id).first()
    # WeChat Pay freezes the money for 分账 only when the order says so: ask whenever the merchant has a receiver
    sharing = provider == "wechat" and profile is not None and bool(profile.share_receiver_account)
    return _begin(
        attempt,
        credential,
        description=description,
        payer=payer,
        client_ip=client_ip,
        return_url=return_url,
        profit_sharing=sharing,
    )


def _store_attempt(
    *,
    credential: PaymentCredential,
    member_id: int,
    store: object,
    amount_fen: int,
    order: dict[str, object],
    kind: str,
    key: str,
) -> PaymentAttempt:
    if not key or len(key) > 64:
        raise ConflictError(code="payments.key_required")
    existing = PaymentAttempt.objects.filter(member_id=member_id, idempotency_key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                existing = PaymentAttempt.objects.create(
                    mall_group_id=credential.mall_group_id,
                    credential=credential,
                    provider=credential.provider,
                    purpose=Purpose.STORE,
                    out_trade_no=new_out_trade_no("S"),
                    amount_fen=amount_fen,
                    pay_kind=kind,
                    member_id=member_id,
                    merchant_id=store.merchant_id,  # type: ignore[attr-defined]
                    store_id=store.pk,  # type: ignore[attr-defined]
                    order=order,
                    idempotency_key=key,
                    expires_at=_expiry(),
                )
        except IntegrityError:  # a concurrent start with the same key won
            existing = PaymentAttempt.objects.get(member_id=member_id, idempotency_key=key)
    same = (
        existing.amount_fen == amount_fen
        and existing.store_id == store.pk  # type: ignore[attr-defined]
        and existing.provider == credential.provider
        and existing.order.get("total_fen") == order["total_fen"]
        and existing.order.get("points") == order["points"]
    )
    if not same:
        raise exceptions.IdempotencyConflictError(extra={"attempt_id": existing.pk})
    return existing


def store_pay_direct(
    *,
    member_id: int,
    mall_group_id: int,
    store_id: int,
    total_fen: int,
    points_to_use: int,
    coupon_ids: Sequence[int] | None,
    use_wallet: bool,
    idempotency_key: str,
    actor: Actor,
) -> SaleResult:
    """Pay at the shop without a gateway: from the wallet, or nothing left to pay after points and coupons. The
    sale is recorded at once (receipt number `app:<key>`: the same key makes one sale)."""
    store = _store(store_id=store_id, mall_group_id=mall_group_id)
    if not idempotency_key or len(idempotency_key) > 40:
        raise ConflictError(code="payments.key_required")
    quote = store_pay_quote(
        member_id=member_id,
        mall_group_id=mall_group_id,
        store_id=store_id,
        total_fen=total_fen,
        points_to_use=points_to_use,
        coupon_ids=coupon_ids,
    )
    if quote.paid_fen > 0 and not use_wallet:
        raise ConflictError(code="payments.choose_method")
    data = SaleIn(
        merchant_id=store.merchant_id,
        store_id=store.pk,
        terminal_id=None,
        pos_sale_id=f"app:{idempotency_key}",
        occurred_at=timezone.now(),
        lines=store_lines(store_name=store.merchant.name, total_fen=total_fen),
        payments=(PaymentIn(method="wallet", amount_fen=quote.paid_fen),) if quote.paid_fen else (),
        member_id=member_id,
        points_to_use=points_to_use,
        coupon_ids=tuple(quote.best_coupon_ids),
        channel=Channel.PAY_AT_STORE,
    )
    with transaction.atomic(durable=True):
        return sale_commit_in_tx(data=data, actor=actor, merchant=store.merchant, store=store)


# ---------------------------------------------------------------------------------------------------- other purposes


def purpose_pay_start(
    *,
    purpose: str,
    mall_group_id: int,
    member_id: int,
    amount_fen: int,
    order: dict[str, object],
    provider: str,
    kind: str,
    idempotency_key: str,
    description: str,
    payer: str = "",
    client_ip: str = "",
    return_url: str = "",
    match: Sequence[str] | None = None,
    expires_at: dt.datetime | None = None,
    profit_sharing: bool = False,
) -> PaymentStarted:
    """Pay `amount_fen` at a gateway for a purpose another app fulfils (fulfilment.py: parking, online checkouts).
    `order` is kept on the attempt and handed to that app's fulfiler when the money arrives. The same member and
    key give the same attempt (the same amount, purpose, provider and order — its keys named in `match`, all by
    default — else IdempotencyConflictError). `expires_at`: when the gateway closes the payment (an online
    checkout's own expiry; default GALLERIA_PAYMENT_EXPIRY_MINUTES from now); `profit_sharing`: WeChat Pay keeps
    the money for 分账 (one attempt paying several merchants, docs/design/online-mall.md §5.6)."""
    if Purpose(purpose) in (Purpose.TOPUP, Purpose.STORE):
        raise ValueError(f"{purpose} has its own start")
    if amount_fen <= 0:
        raise exceptions.AmountInvalidError(extra={"amount_fen": amount_fen})
    if expires_at is not None and expires_at <= timezone.now():
        raise ConflictError(code="payments.not_payable", extra={"expires_at": expires_at.isoformat()})
    if not idempotency_key or len(idempotency_key) > 64:
        raise ConflictError(code="payments.key_required")
    _check_kind(provider, kind)
    credential = credential_for(mall_group_id=mall_group_id, provider=provider)
    existing = PaymentAttempt.objects.filter(member_id=member_id, idempotency_key=idempotency_key).first()
    if existing is None:
        try:
            with transaction.atomic():
                existing = PaymentAttempt.objects.create(
                    mall_group_id=credential.mall_group_id,
                    credential=credential,
                    provider=credential.provider,
                    purpose=purpose,
                    out_trade_no=new_out_trade_no("P"),
                    amount_fen=amount_fen,
                    pay_kind=kind,
                    member_id=member_id,
                    order=order,
                    idempotency_key=idempotency_key,
                    expires_at=expires_at or _expiry(),
                )
        except IntegrityError:  # a concurrent start with the same key won
            existing = PaymentAttempt.objects.get(member_id=member_id, idempotency_key=idempotency_key)
    same = (
        existing.purpose == purpose
        and existing.amount_fen == amount_fen
        and existing.provider == credential.provider
        and all(existing.order.get(k) == order.get(k) for k in (order if match is None else match))
    )
    if not same:
        raise exceptions.IdempotencyConflictError(extra={"attempt_id": existing.pk})
    return _begin(
        existing,
        credential,
        description=description,
        payer=payer,
        client_ip=client_ip,
        return_url=return_url,
        profit_sharing=profit_sharing,
    )
