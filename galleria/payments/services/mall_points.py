"""WeChat Pay 智慧商圈 (business-circle points, 无感积分): payments members make at participating shops with
their own WeChat Pay reach the mall as MALL_* notifications; a payment credits points through the checkout
pipeline (channel `payment_link`), a refund reverses them, and the points are reported back to WeChat.

`mall_notice_apply_in_tx` runs inside `notices.notice_apply`'s durable transaction, after the notice row was
written once per event (an exact redelivery never gets here). Then:

- **MALL_TRANSACTION.SUCCESS** → the `MallTransaction` row of (group, WeChat transaction_id) is claimed (created
  or found) and locked: that row, not the event id, makes a payment count once — WeChat may notify the same
  payment under several events, concurrently. The payment resolves to a merchant (the shop's WeChat merchant
  number and shop number, `MerchantPaymentProfile`), a member (the openid they linked, `wechat_openid`) and an
  authorisation (`MallPointsAuth`); anything missing — or a merchant not active, or the checkout refusing — is
  acknowledged, credits nothing and is recorded as "no points" with its reason. Otherwise a `payment_link` sale
  of one line whose unit is one fen (quantity = amount in fen, so any partial refund is a whole number of units
  and the pipeline's proportional refund applies exactly) is committed in a savepoint; zero points (a cap, the
  minimum spend) is "no points" too, but the sale stands (it counts for the tier). Either way the points are to
  be reported back (`sync_state` pending; `mall_points_sync.py` sends them after commit, retried until accepted).
- **MALL_REFUND.SUCCESS** → the same row, locked; the refund is recorded once per refund_id and, when the sale
  exists, applied through `sale_refund_in_tx` (units = fen refunded). A refund that arrives before its payment
  finds (or creates) the row still AWAITING its payment and waits there; the payment applies it.
- **MALL_AUTH.ACTIVATE_CARD** → the openid's authorisation, recorded once.

Lock order: the MallTransaction row first, then whatever the pipeline locks (member accounts, tier row, sale).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.core.locking import lock_one
from galleria.core.tasks import enqueue
from galleria.members.selectors import member_resolve
from galleria.merchants.selectors import merchant_get, store_list
from galleria.sales.services import sale_commit_in_tx, sale_refund_in_tx
from galleria.sales.types import Channel, LineIn, PaymentIn, RefundLineIn, SaleIn

from ..gateways.base import Notice, NoticeKind
from ..models import (
    MallNoPoints,
    MallPointsAuth,
    MallRefund,
    MallRefundState,
    MallSyncState,
    MallTransaction,
    MallTxnState,
    NoticeOutcome,
)
from ..selectors import merchant_by_wechat_shop

log = logging.getLogger("galleria.payments.mall")

ACTOR = Actor.system("payments:wechat-mall")
SYNC_TASK = "galleria.payments.tasks.mall_points_sync_task"
SKU = "wechat-mall"
MAX_AMOUNT_FEN = 2_147_483_647  # the sale line's quantity is the amount in fen (a PositiveIntegerField)
CAPS = {"daily_cap": MallNoPoints.CAP_REACHED, "per_sale_cap": MallNoPoints.CAP_REACHED}


def mall_notice_apply_in_tx(*, notice: Notice, mall_group_id: int) -> str:
    """Apply one verified 商圈 notice inside the caller's transaction; returns the NoticeOutcome."""
    if notice.kind == NoticeKind.MALL_AUTH:
        return _apply_auth(notice, mall_group_id)
    if not notice.transaction_id:
        return NoticeOutcome.IGNORED
    if notice.kind == NoticeKind.MALL_PAYMENT:
        return _apply_payment(notice, mall_group_id)
    if notice.kind == NoticeKind.MALL_REFUND:
        return _apply_refund(notice, mall_group_id)
    return NoticeOutcome.IGNORED


# ------------------------------------------------------------------------------------------------- authorisation


def _apply_auth(notice: Notice, mall_group_id: int) -> str:
    if not notice.payer:
        return NoticeOutcome.IGNORED
    _auth, created = MallPointsAuth.objects.get_or_create(
        mall_group_id=mall_group_id,
        openid=notice.payer[:64],
        defaults={
            "authorized_at": timezone.now(),
            "source": "notice",
            "event_id": notice.event_id[:80],
            "card_code": str(notice.raw.get("code", ""))[:64],
        },
    )
    return NoticeOutcome.APPLIED if created else NoticeOutcome.DUPLICATE


# ------------------------------------------------------------------------------------------------------- payments


def _claim(mall_group_id: int, transaction_id: str) -> MallTransaction:
    """The transaction's row, created if new, locked. A concurrent creator makes this wait for its commit."""
    rows = MallTransaction.objects.filter(mall_group_id=mall_group_id, transaction_id=transaction_id[:64])
    if not rows.exists():
        MallTransaction.objects.get_or_create(mall_group_id=mall_group_id, transaction_id=transaction_id[:64])
    return lock_one(rows)


def _apply_payment(notice: Notice, mall_group_id: int) -> str:
    txn = _claim(mall_group_id, notice.transaction_id)
    if txn.state != MallTxnState.AWAITING:
        return NoticeOutcome.DUPLICATE
    _describe(txn, notice)
    txn.event_id = notice.event_id[:80]
    _credit(txn)
    txn.sync_state, txn.sync_next_at = MallSyncState.PENDING, timezone.now()
    txn.save()
    for refund in MallRefund.objects.filter(mall_txn=txn, state=MallRefundState.PENDING).order_by("pk"):
        _refund(txn, refund)  # refunds that arrived before the payment
    txn_id = txn.pk
    transaction.on_commit(lambda: enqueue(SYNC_TASK, mall_txn_id=txn_id))
    log.info("商圈 %s: %s %s points (%s)", txn.transaction_id, txn.state, txn.points, txn.reason or "-")
    return NoticeOutcome.APPLIED


def _describe(txn: MallTransaction, notice: Notice) -> None:
    raw = notice.raw
    txn.openid = notice.payer[:64]
    txn.mchid = notice.mch_id[:32]
    txn.shop_number = notice.shop_number[:64]
    txn.shop_name = str(raw.get("shop_name") or raw.get("merchant_name") or "")[:120]
    txn.amount_fen = max(int(notice.amount_fen or 0), 0)
    txn.paid_at = notice.paid_at or timezone.now()


def _no_points(txn: MallTransaction, reason: str, detail: str = "") -> None:
    txn.state, txn.reason, txn.reason_detail, txn.points = MallTxnState.NO_POINTS, reason, detail[:200], 0


def _credit(txn: MallTransaction) -> None:
    """Resolve merchant, member and authorisation, then the sale through the pipeline (or why none)."""
    store_id = _participating_store(txn)
    if store_id is None:
        return
    resolution = member_resolve(mall_group_id=txn.mall_group_id, raw=txn.openid) if txn.openid else None
    if resolution is None or txn.openid.isdigit():
        return _no_points(txn, MallNoPoints.MEMBER_UNKNOWN)
    txn.member_id = resolution.member.pk
    if not MallPointsAuth.objects.filter(mall_group_id=txn.mall_group_id, openid=txn.openid).exists():
        return _no_points(txn, MallNoPoints.NOT_AUTHORISED)
    if not 0 < txn.amount_fen <= MAX_AMOUNT_FEN:
        return _no_points(txn, MallNoPoints.REFUSED, f"amount {txn.amount_fen}")
    assert txn.paid_at is not None and txn.merchant_id is not None
    txn.booked_at = min(txn.paid_at, timezone.now())
    try:
        with transaction.atomic():
            result = sale_commit_in_tx(data=_sale_in(txn, store_id=store_id), actor=ACTOR)
    except ApplicationError as exc:  # the checkout refused (a promotion that changes the amount due, …)
        log.warning("商圈 %s: the checkout refused the sale (%s)", txn.transaction_id, exc.code)
        return _no_points(txn, MallNoPoints.REFUSED, exc.code)
    txn.sale_id, txn.points, txn.points_balance = result.sale_id, result.points_earned, result.points_balance
    if result.points_earned > 0:
        txn.state, txn.reason = MallTxnState.CREDITED, ""
        return None
    capped = str(result.explanation.get("capped_by") or "")
    reason = CAPS.get(capped) or (MallNoPoints.BELOW_MINIMUM if capped == "min_spend" else MallNoPoints.NOTHING_EARNED)
    txn.state, txn.reason, txn.reason_detail = MallTxnState.NO_POINTS, reason, capped
    return None


def _participating_store(txn: MallTransaction) -> int | None:
    """The store to book the sale at: the shop must be mapped to an active merchant with an open store."""
    merchant_id = merchant_by_wechat_shop(mall_group_id=txn.mall_group_id, mchid=txn.mchid, shop_number=txn.shop_number)
    if merchant_id is None:
        _no_points(txn, MallNoPoints.SHOP_UNMAPPED)
        return None
    txn.merchant_id = merchant_id
    merchant = merchant_get(mall_group_id=txn.mall_group_id, merchant_id=merchant_id)
    store = store_list(merchant_id=merchant_id).filter(is_active=True).first()
    if merchant.status != "active" or store is None:
        _no_points(txn, MallNoPoints.MERCHANT_INACTIVE, merchant.status if store else "no open store")
        return None
    return int(store.pk)


def _sale_in(txn: MallTransaction, *, store_id: int) -> SaleIn:
    assert txn.merchant_id is not None and txn.booked_at is not None
    amount = txn.amount_fen  # the line counts fen: the bill reads "微信支付 ¥128.00 · 喜茶（按 ¥0.01 计）× 12800"
    name = f"微信支付 ¥{amount // 100}.{amount % 100:02d} · {txn.shop_name or txn.shop_number}（按 ¥0.01 计）"
    return SaleIn(
        merchant_id=txn.merchant_id,
        store_id=store_id,
        terminal_id=None,
        pos_sale_id=f"wxmall:{txn.transaction_id}",
        occurred_at=txn.booked_at,
        lines=(LineIn(sku=SKU, name=name[:120], quantity=amount, unit_price_fen=1, amount_fen=amount),),
        payments=(PaymentIn(method="wechat", amount_fen=amount),),
        member_id=txn.member_id,
        channel=Channel.PAYMENT_LINK,
    )


# -------------------------------------------------------------------------------------------------------- refunds


def _apply_refund(notice: Notice, mall_group_id: int) -> str:
    txn = _claim(mall_group_id, notice.transaction_id)
    refund_id = (notice.refund_id or notice.event_id)[:64]
    if MallRefund.objects.filter(mall_txn=txn, refund_id=refund_id).exists():
        return NoticeOutcome.DUPLICATE
    refund_fen = int(notice.refund_fen or 0)
    if refund_fen <= 0:
        return NoticeOutcome.IGNORED
    refund = MallRefund.objects.create(
        mall_txn=txn,
        refund_id=refund_id,
        refund_fen=refund_fen,
        refunded_at=notice.refunded_at,
        event_id=notice.event_id[:80],
    )
    txn.refunded_fen += refund_fen
    if txn.state == MallTxnState.AWAITING:  # the payment has not arrived: keep what the refund tells of it
        _describe(txn, notice)
        txn.save()
        log.info("商圈 %s: refund %s before its payment: kept for it", txn.transaction_id, refund_id)
        return NoticeOutcome.APPLIED
    _refund(txn, refund)
    txn.save()
    return NoticeOutcome.APPLIED


def _refund(txn: MallTransaction, refund: MallRefund) -> None:
    """Reverse the sale in proportion to this refund (units = fen), in a savepoint; record what happened."""
    if txn.sale_id is None or txn.merchant_id is None:
        refund.state, refund.detail = MallRefundState.NOTHING, str(txn.reason)
        refund.save()
        return
    applied = sum(MallRefund.objects.filter(mall_txn=txn).exclude(pk=refund.pk).values_list("applied_fen", flat=True))
    units = min(refund.refund_fen, txn.amount_fen - applied)
    if units <= 0:
        refund.state, refund.detail = MallRefundState.NOTHING, "already refunded in full"
        refund.save()
        return
    try:
        with transaction.atomic():
            result = sale_refund_in_tx(
                merchant_id=txn.merchant_id,
                pos_sale_id=f"wxmall:{txn.transaction_id}",
                pos_refund_id=f"wxmall:{refund.refund_id}",
                lines=[RefundLineIn(line_no=1, quantity=units)],
                occurred_at=_refund_time(txn, refund),
                client_dated=False,
            )
    except ApplicationError as exc:
        log.error("商圈 %s: refund %s not applied (%s)", txn.transaction_id, refund.refund_id, exc.code)
        refund.state, refund.detail = MallRefundState.FAILED, exc.code[:200]
        refund.save()
        return
    reversed_points = result.points_clawed_back + result.points_shortfall
    refund.state, refund.applied_fen, refund.points_reversed = MallRefundState.APPLIED, units, reversed_points
    refund.sale_refund_id = result.refund_id
    refund.detail = f"shortfall {result.points_shortfall}" if result.points_shortfall else ""
    refund.save()
    txn.points_reversed += reversed_points
    txn.save(update_fields=["points_reversed", "updated_at"])


def _refund_time(txn: MallTransaction, refund: MallRefund) -> dt.datetime:
    """When the refund happened, never before the sale nor in the future."""
    now = timezone.now()
    wanted = refund.refunded_at or now
    if txn.booked_at is not None:
        wanted = max(wanted, txn.booked_at)
    return min(wanted, now)
