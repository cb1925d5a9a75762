"""The refund: the checkout pipeline in reverse, in the caller's transaction.

resolve (the sale by receipt number; a time the POS chose must lie in the group's window, not before the sale) ->
lock (the member's accounts in the sale's order — an erased member's too —, then the sale row; the refund key is
checked under the lock) -> price in reverse (pure: sales.rules.refund_wanted / refund_line_share / refund_payments,
and the coupons' own rollback rule in galleria/coupons/rules.py) -> persist (lines, payments, the Refund row) ->
post in reverse (wallet refund, points clawed back and returned, negative tier spend, purchase rewards the kept
goods no longer earn voided) -> the settlement legs the refund rolls back (settle.refund_amounts, in proportion to
the gateway money, points and coupons it returns; docs/settlement.md). The formula is in sales/services.py's
docstring and docs/api.md."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError, NotFoundError, ValidationError
from galleria.core.locking import lock_one
from galleria.coupons import services as coupon_services
from galleria.coupons.types import RefundLineQty, SaleRefundDiscounts
from galleria.ledger.models import Account, AccountKind, Transaction, TransactionKind
from galleria.points import services as points_services
from galleria.tiers.services import tier_record_spend_in_tx
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet import services as wallet_services

from .. import rules
from ..models import PaymentMethod, Refund, Sale, SaleLine, SalePayment, SaleStatus
from ..types import RefundLineIn, RefundResult
from . import settle
from .lock import lock_member_accounts
from .post import post_settlement_legs


@dataclass
class _Tally:
    amount: int = 0
    money: int = 0
    clawback: int = 0
    give_back: int = 0
    detail: list[dict[str, int]] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)


def _resolve(
    *, merchant_id: int, pos_sale_id: str, occurred_at: dt.datetime | None, client_dated: bool
) -> tuple[Sale, dt.datetime]:
    sale = Sale.objects.select_related("mall_group").filter(merchant_id=merchant_id, pos_sale_id=pos_sale_id).first()
    if sale is None:
        raise NotFoundError(_("No such sale."), code="sale.not_found")
    if occurred_at is not None:  # a time the POS chose: in the group's window, not before the sale
        rules.check_refund_time(
            occurred_at=occurred_at,
            now=timezone.now(),
            sale_at=sale.occurred_at,
            live_minutes=sale.mall_group.sale_live_window_minutes,
            offline_days=sale.mall_group.sale_offline_window_days,
            client_dated=client_dated,
        )
    return sale, occurred_at or timezone.now()


def _lock(sale: Sale, *, pos_refund_id: str) -> tuple[Sale, dict[str, Account]]:
    accounts: dict[str, Account] = {}
    if sale.member_id is not None:
        paid_by_wallet = SalePayment.objects.filter(sale=sale, method=PaymentMethod.WALLET).exists()
        accounts = lock_member_accounts(  # a sale made before its member was erased is still refundable
            mall_group_id=sale.mall_group_id, member_id=sale.member_id, wallet=paid_by_wallet, allow_closed=True
        )
    sale = lock_one(Sale.objects.filter(pk=sale.pk))
    if Refund.objects.filter(sale=sale, pos_refund_id=pos_refund_id).exists():
        raise ConflictError(_("This refund was already recorded."), code="refund.duplicate")
    return sale, accounts


def _refund_lines(sale_lines: dict[int, SaleLine], wanted: rules.RefundWanted) -> _Tally:
    """Each line's share of the refund (pure rule), applied to the line rows (saved later)."""
    tally = _Tally(touched=set(wanted.lines()))
    for no in wanted.lines():
        ln = sale_lines[no]
        share = rules.refund_line_share(
            line_no=no,
            quantity=ln.quantity,
            refunded_qty=ln.refunded_qty,
            qty=wanted.units.get(no, 0),
            amount_fen=ln.amount_fen,
            paid_fen=ln.paid_fen,
            points_earned=ln.points_earned,
            points_spent=ln.points_spent,
            clawed_fen=ln.coupon_clawed_fen,
            clawed_returned_fen=ln.coupon_clawed_returned_fen,
            refunded_amount_fen=ln.refunded_amount_fen,
            part_fen=wanted.amounts.get(no, 0),
        )
        ln.coupon_clawed_returned_fen += share.clawed_returned_fen
        ln.refunded_qty += share.units
        ln.refunded_amount_fen += share.amount_fen
        tally.amount += share.amount_fen
        tally.money += share.money_fen
        tally.clawback += share.points_clawback
        tally.give_back += share.points_give_back
        tally.detail.append(
            {"line_no": no, "quantity": share.units, "amount_fen": share.amount_fen, "money_fen": share.money_fen}
        )
    return tally


def _roll_back_coupons(
    sale: Sale,
    sale_lines: dict[int, SaleLine],
    wanted: rules.RefundWanted,
    tally: _Tally,
    *,
    key: str,
    when: dt.datetime,
    before: dict[int, tuple[int, int]],
) -> SaleRefundDiscounts | None:
    """The coupons and promotions of the refunded lines roll back in proportion (already out of the lines' money);
    the discount the kept goods no longer earn (a threshold lost) is kept from the money refunded and charged to
    the kept lines, so refunding them later gives it back."""
    if not sale.discount_fen:
        return None
    back = coupon_services.coupons_refund_for_sale_in_tx(
        sale_id=sale.pk,
        refund_key=key,
        lines=[
            RefundLineQty(  # the units this refund completes; for an amount refund, the part of what was left
                line_no=no,
                quantity=sale_lines[no].refunded_qty - before[no][0],
                part_fen=wanted.amounts.get(no, 0),
                of_fen=sale_lines[no].amount_fen - before[no][1] if no in wanted.amounts else 0,
            )
            for no in wanted.lines()
        ],
        occurred_at=when,
    )
    if back.clawback_fen > tally.money:
        raise ValidationError(
            _(
                "What the shopper keeps no longer earns a coupon's discount of %(lost)s fen, more than this "
                "refund returns (%(money)s fen): refund more items together, or collect the difference."
            )
            % {"lost": back.clawback_fen, "money": tally.money},
            code="refund.discount_exceeds_refund",
            extra={"clawback_fen": back.clawback_fen, "money_fen": tally.money},
        )
    tally.money -= back.clawback_fen
    for claw in back.line_clawbacks:
        sale_lines[claw.line_no].coupon_clawed_fen += claw.discount_fen
        tally.touched.add(claw.line_no)
    return back


def _persist(sale: Sale, tally: _Tally, *, key: str, when: dt.datetime, coupon_deduct: int) -> tuple[Refund, int]:
    """The money back by payment method (in proportion to what each still holds) and the Refund row; with the
    money the shopper keeps paid after it."""
    payments = list(SalePayment.objects.filter(sale=sale).order_by("pk"))
    parts = rules.refund_payments(tally.money, [p.amount_fen - p.refunded_fen for p in payments])
    for pay, part in zip(payments, parts, strict=True):
        pay.refunded_fen += part
    SalePayment.objects.bulk_update(payments, ["refunded_fen"])
    refund = Refund.objects.create(
        sale=sale,
        pos_refund_id=key,
        occurred_at=when,
        amount_fen=tally.amount,
        money_fen=tally.money,
        payments={p.method: part for p, part in zip(payments, parts, strict=True) if part},
        lines=tally.detail,
        coupon_deduct_fen=coupon_deduct,
    )
    return refund, sum(p.amount_fen - p.refunded_fen for p in payments)


def _post_points(sale: Sale, account: Account, refund: Refund, tally: _Tally, *, when: dt.datetime) -> int:
    """Points earned on the refunded goods taken back (the shortfall, if spent meanwhile, is returned) and points
    spent on them given back."""
    assert sale.member_id is not None
    source, explanation = f"refund:{refund.pk}", {"sale": sale.pk, "refund": refund.pk}
    earn_tx = Transaction.objects.filter(source=f"sale:{sale.pk}", kind=TransactionKind.EARN).first()
    spend_tx = Transaction.objects.filter(source=f"sale:{sale.pk}", kind=TransactionKind.SPEND).first()
    shortfall = 0
    if tally.clawback and earn_tx is not None:
        _tx, shortfall = points_services.points_claw_back_in_tx(
            mall_group_id=sale.mall_group_id,
            member_id=sale.member_id,
            points_account=account,
            points=tally.clawback,
            earn_tx=earn_tx,
            occurred_at=when,
            source=source,
            explanation=explanation,
        )
    if tally.give_back and spend_tx is not None:
        points_services.points_return_in_tx(
            mall_group_id=sale.mall_group_id,
            member_id=sale.member_id,
            points_account=account,
            points=tally.give_back,
            spend_tx=spend_tx,
            occurred_at=when,
            source=source,
            explanation=explanation,
        )
    return shortfall


def _post(
    sale: Sale, accounts: dict[str, Account], refund: Refund, tally: _Tally, *, when: dt.datetime, kept_paid_fen: int
) -> list[int]:
    """Everything the refund moves below sales, for a member's sale; the purchase rewards voided."""
    if sale.member_id is None:
        return []
    source = f"refund:{refund.pk}"
    wallet_back = refund.payments.get(PaymentMethod.WALLET, 0)
    if wallet_back:
        payment = wallet_selectors.payment_get_by_source(mall_group_id=sale.mall_group_id, source=f"sale:{sale.pk}")
        assert payment is not None
        wallet_services.wallet_refund_in_tx(
            payment=payment, amount_fen=wallet_back, accounts=accounts, occurred_at=when, source=source
        )
    shortfall = 0
    account = accounts.get(AccountKind.MEMBER_POINTS)
    if account is not None:
        shortfall = _post_points(sale, account, refund, tally, when=when)
    if tally.money or tally.clawback:
        tier_record_spend_in_tx(
            member_id=sale.member_id,
            mall_group_id=sale.mall_group_id,
            amount_fen=-tally.money,
            points=-tally.clawback,
            occurred_at=when,
            source=source,
        )
    refund.points_clawed_back, refund.points_shortfall = tally.clawback - shortfall, shortfall
    refund.points_returned = tally.give_back
    refund.save(update_fields=["points_clawed_back", "points_shortfall", "points_returned"])
    # 消费返券: a purchase reward that what the shopper keeps no longer earns is voided if unused
    return coupon_services.coupons_revoke_for_sale_in_tx(
        sale_id=sale.pk,
        kept_paid_fen=kept_paid_fen,
        at=when,
    )


def _settle(
    sale: Sale, refund: Refund, tally: _Tally, coupon_back: SaleRefundDiscounts | None, *, when: dt.datetime
) -> None:
    """Roll back the sale's settlement legs in proportion to what this refund returns (a sale that had nothing to
    settle — or was recorded before settlement legs existed — has no settlement transaction: nothing to undo)."""
    if not (sale.points_value_fen or sale.discount_fen or sale.points_earned) and (
        sale.channel not in settle.MALL_COLLECTED_CHANNELS
    ):
        return
    settled = Transaction.objects.filter(source=f"sale:{sale.pk}", kind=TransactionKind.SETTLEMENT).first()
    if settled is None:
        return
    before = Refund.objects.filter(sale=sale).exclude(pk=refund.pk)
    sums = before.aggregate(
        returned=Sum("points_returned"), clawed=Sum("points_clawed_back"), short=Sum("points_shortfall")
    )
    back = settle.refund_amounts(
        at_sale=settle.SettlementAmounts.from_explanation(settled.explanation),
        gateway_back_fen=sum(refund.payments.get(method, 0) for method in settle.GATEWAY_METHODS),
        points_used=sale.points_used,
        points_returned_before=sums["returned"] or 0,
        points_returned=refund.points_returned,
        points_earned=sale.points_earned,
        points_clawed_before=(sums["clawed"] or 0) + (sums["short"] or 0),
        points_clawed=tally.clawback,
        coupon_mall_back_fen=coupon_back.mall_fen if coupon_back else 0,
        coupon_merchant_back_fen=coupon_back.merchant_fen if coupon_back else 0,
    )
    post_settlement_legs(
        back,
        mall_group_id=sale.mall_group_id,
        merchant_id=sale.merchant_id,
        reverse=True,
        occurred_at=when,
        source=f"refund:{refund.pk}",
        memo=settled.memo,
        explanation={"sale": sale.pk, "refund": refund.pk, "reverses_part_of": settled.pk},
    )


def _close(sale: Sale, sale_lines: dict[int, SaleLine], *, amount: int) -> None:
    sale.refunded_fen += amount
    sale.status = SaleStatus.REFUNDED if sale.refunded_fen == sale.total_fen else SaleStatus.PARTIALLY_REFUNDED
    if all(ln.refunded_qty == ln.quantity for ln in sale_lines.values()):
        sale.status = SaleStatus.REFUNDED
    sale.save(update_fields=["refunded_fen", "status"])


def refund_in_tx(
    *,
    merchant_id: int,
    pos_sale_id: str,
    pos_refund_id: str,
    lines: Sequence[RefundLineIn] | None,
    occurred_at: dt.datetime | None = None,
    client_dated: bool = False,
) -> RefundResult:
    """Refund a whole sale (`lines=None`), some quantities of some lines, or part of the value of a single-unit
    line (`RefundLineIn.amount_fen`: a bill paid at the store, a receipt). `client_dated`: `occurred_at` was chosen
    by the POS (checked against the group's window), not by the server."""
    sale, when = _resolve(
        merchant_id=merchant_id, pos_sale_id=pos_sale_id, occurred_at=occurred_at, client_dated=client_dated
    )
    sale, accounts = _lock(sale, pos_refund_id=pos_refund_id)
    sale_lines = {ln.line_no: ln for ln in SaleLine.objects.filter(sale=sale).order_by("line_no")}
    held = {no: (ln.quantity, ln.refunded_qty) for no, ln in sale_lines.items()}
    wanted = rules.refund_wanted(held=held, lines=lines)
    before = {no: (ln.refunded_qty, ln.refunded_amount_fen) for no, ln in sale_lines.items()}
    tally = _refund_lines(sale_lines, wanted)
    coupon_back = _roll_back_coupons(sale, sale_lines, wanted, tally, key=pos_refund_id, when=when, before=before)
    coupon_deduct = coupon_back.clawback_fen if coupon_back else 0
    SaleLine.objects.bulk_update(
        [sale_lines[no] for no in sorted(tally.touched)],
        ["refunded_qty", "refunded_amount_fen", "coupon_clawed_fen", "coupon_clawed_returned_fen"],
    )
    refund, kept_paid = _persist(sale, tally, key=pos_refund_id, when=when, coupon_deduct=coupon_deduct)
    revoked = _post(sale, accounts, refund, tally, when=when, kept_paid_fen=kept_paid)
    _settle(sale, refund, tally, coupon_back, when=when)
    _close(sale, sale_lines, amount=tally.amount)
    account = accounts.get(AccountKind.MEMBER_POINTS)
    return RefundResult(
        refund_id=refund.pk,
        sale_id=sale.pk,
        amount_fen=tally.amount,
        money_fen=tally.money,
        payments=refund.payments,
        points_clawed_back=refund.points_clawed_back,
        points_shortfall=refund.points_shortfall,
        points_returned=tally.give_back,
        points_balance=account.balance if account is not None else None,
        coupon_deduct_fen=coupon_deduct,
        coupons_restored=coupon_back.restored_coupon_ids if coupon_back else (),
        coupons_revoked=tuple(revoked),
    )
