"""Sale commit and refund: one transaction writes the sale, its lines and payments and every ledger movement.

Refund formula (documented in docs/api.md): for each refunded line, the fraction f = refunded quantity so far /
quantity. The line's cumulative refunded amount, money, points earned to reverse and points spent to give back
are round-half-up(line value × f); each refund takes the cumulative due minus what earlier refunds took. A full
refund therefore reverses exactly what the sale earned and spent, whatever partial refunds came before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.audit.types import Actor
from galleria.core import sql, timeutil
from galleria.core.errors import ConflictError, NotFoundError, ValidationError
from galleria.core.locking import lock_one
from galleria.core.money import allocate, ratio_round
from galleria.coupons import services as coupon_services
from galleria.coupons.types import IssuedCoupon, RefundLineQty
from galleria.ledger import services as ledger
from galleria.ledger.exceptions import AccountClosedError
from galleria.ledger.models import Account, AccountKind, Transaction, TransactionKind
from galleria.members import services as member_services
from galleria.members.models import IdentifierKind, JoinChannel, MemberIdentifier, MemberStatus
from galleria.members.selectors import member_survivor_id
from galleria.merchants.models import Merchant, Store
from galleria.points import rules as points_rules
from galleria.points import selectors as points_selectors
from galleria.points import services as points_services
from galleria.points.types import EarnLine
from galleria.tiers import selectors as tier_selectors
from galleria.tiers.services import tier_lock_in_tx, tier_record_spend_in_tx
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet import services as wallet_services

from . import rules
from . import selectors as sale_selectors
from .models import PaymentMethod, Refund, Sale, SaleLine, SalePayment, SaleStatus
from .types import RefundLineIn, RefundResult, SaleIn, SaleResult


def _kinds(*, wallet: bool) -> list[str]:
    """The member accounts a sale locks, in one call (one lock order for every use case)."""
    return [AccountKind.MEMBER_POINTS, *wallet_selectors.WALLET_KINDS] if wallet else [AccountKind.MEMBER_POINTS]


def _merchant_store(merchant_id: int, store_id: int) -> tuple[Merchant, Store]:
    store = Store.objects.select_related("merchant__mall__group").filter(pk=store_id, merchant_id=merchant_id).first()
    if store is None:
        raise NotFoundError(_("Unknown store for this merchant."), code="sale.store_unknown")
    return store.merchant, store


def _join_member(*, merchant: Merchant, phone: str, actor: Actor) -> tuple[int, bool]:
    """'Pay = join': the member with this phone, registered now if new (inside the sale's transaction)."""
    e164 = member_services.phone_normalize(phone)
    row = MemberIdentifier.objects.filter(
        mall_group_id=merchant.mall.group_id, kind=IdentifierKind.PHONE, value=e164, member__status=MemberStatus.ACTIVE
    ).first()
    if row is not None:
        return row.member_id, False
    member = member_services.member_register_in_tx(
        mall=merchant.mall, phone=e164, channel=JoinChannel.POS, actor=actor, merchant_id=merchant.pk
    )
    return member.pk, True


# Fixed SQL for the sale's own rows: written on every sale (see galleria/core/sql.py and docs/performance.md).
@cache
def _sale_insert_sql() -> str:
    return (
        f"INSERT INTO {sql.table(Sale)} (mall_group_id, mall_id, merchant_id, store_id, terminal_id, member_id,"  # noqa: S608
        " pos_sale_id, occurred_at, created_at, is_offline, status, total_fen, paid_fen, points_used,"
        " points_value_fen, points_earned, refunded_fen, earn_explanation, discount_fen)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
        f" {sql.json_placeholder()}, %s) RETURNING id"
    )


@cache
def _lines_insert_sql(n: int) -> str:
    values = ", ".join(["(" + ", ".join(["%s"] * 15) + ")"] * n)
    return f"INSERT INTO {sql.table(SaleLine)} (sale_id, {_LINE_COLUMNS}) VALUES {values}"  # noqa: S608


@cache
def _payments_insert_sql(n: int) -> str:
    values = ", ".join(["(%s, %s, %s, %s)"] * n)
    return f"INSERT INTO {sql.table(SalePayment)} (sale_id, method, amount_fen, refunded_fen) VALUES {values}"  # noqa: S608


def _is_duplicate_receipt(exc: IntegrityError) -> bool:
    """The receipt number's unique constraint (PostgreSQL names it; SQLite names its columns)."""
    text = str(exc)
    return "sale_pos_id_unique_per_merchant" in text or "sales_sale.merchant_id, sales_sale.pos_sale_id" in text


def _write_sale(head: list[object], lines: Sequence[tuple[object, ...]], payments: Sequence[tuple[object, ...]]) -> int:
    """Insert the sale, its lines and its payments; the sale's id. One statement on PostgreSQL, three elsewhere.
    A duplicate receipt number raises IntegrityError."""
    if connection.vendor == "postgresql":
        params = [*head, *(v for row in lines for v in row), *(v for row in payments for v in row)]
        inserted = sql.one(_sale_pg_sql(len(lines), len(payments)), params)
        assert inserted is not None
        return int(inserted[0])
    inserted = sql.one(_sale_insert_sql(), head)
    assert inserted is not None
    sale_id = int(inserted[0])
    if lines:
        sql.execute(_lines_insert_sql(len(lines)), [v for row in lines for v in (sale_id, *row)])
    if payments:  # a sale paid wholly with points has none
        sql.execute(_payments_insert_sql(len(payments)), [v for row in payments for v in (sale_id, *row)])
    return sale_id


_LINE_COLUMNS = (
    "line_no, sku, name, category, quantity, unit_price_fen, amount_fen, paid_fen, points_spent, points_earned,"
    " refunded_qty, discount_fen, coupon_clawed_fen, coupon_clawed_returned_fen"
)


@cache
def _sale_pg_sql(n_lines: int, n_payments: int) -> str:
    line = "(%s::int, %s::text, %s::text, %s::text, %s::int, %s::bigint, %s::bigint, %s::bigint, %s::bigint,"
    line += " %s::bigint, %s::int, %s::bigint, %s::bigint, %s::bigint)"
    parts = [f"WITH s AS ({_sale_insert_sql()})"]
    if n_lines:
        parts.append(
            f", l AS (INSERT INTO {sql.table(SaleLine)} (sale_id, {_LINE_COLUMNS})"  # noqa: S608
            f" SELECT s.id, v.* FROM s, (VALUES {', '.join([line] * n_lines)}) AS v)"
        )
    if n_payments:
        payment = "(%s::text, %s::bigint, %s::bigint)"
        parts.append(
            f", p AS (INSERT INTO {sql.table(SalePayment)} (sale_id, method, amount_fen, refunded_fen)"  # noqa: S608
            f" SELECT s.id, v.* FROM s, (VALUES {', '.join([payment] * n_payments)}) AS v)"
        )
    parts.append(" SELECT id FROM s")
    return "".join(parts)


def sale_commit_in_tx(
    *, data: SaleIn, actor: Actor, merchant: Merchant | None = None, store: Store | None = None
) -> SaleResult:
    """`merchant` and `store` may be passed already loaded (with mall and group, and a current config token),
    as the POS API has them from the terminal's key; otherwise they are read."""
    if (
        merchant is None
        or store is None
        or store.pk != data.store_id
        or merchant.pk != data.merchant_id
        or store.merchant_id != merchant.pk
    ):
        merchant, store = _merchant_store(data.merchant_id, data.store_id)
    mall = merchant.mall
    group_id = mall.group_id
    token = mall.group.config_token  # configuration comes from the per-process cache while this is current
    if data.occurred_at > timezone.now() + dt.timedelta(minutes=10):
        raise ValidationError(_("The sale time is in the future."), code="sale.future")
    member_id, joined = data.member_id, False
    if member_id is None and data.join_phone:
        member_id, joined = _join_member(merchant=merchant, phone=data.join_phone, actor=actor)
    if data.points_to_use and member_id is None:
        raise ValidationError(_("Points can only be used by a member."), code="points.member_required")
    wallet_fen = sum(p.amount_fen for p in data.payments if p.method == PaymentMethod.WALLET)
    if wallet_fen and member_id is None:
        raise ValidationError(_("Only a member can pay from a wallet."), code="wallet.member_required")
    policy = points_selectors.policy_get(mall_group_id=group_id, token=token)
    account = None
    accounts: dict[str, Account] = {}
    if member_id is not None:
        try:
            accounts = ledger.lock_member_accounts(
                mall_group_id=group_id, member_id=member_id, kinds=_kinds(wallet=bool(wallet_fen))
            )
        except AccountClosedError:
            # the member was merged into another while this sale waited for its accounts (the till resolved the
            # card a moment before the merge committed): the sale belongs to the survivor, like the card now does.
            # An erased member has no survivor: the sale is refused.
            survivor_id = member_survivor_id(member_id=member_id)
            if survivor_id == member_id:
                raise
            member_id = survivor_id
            accounts = ledger.lock_member_accounts(
                mall_group_id=group_id, member_id=member_id, kinds=_kinds(wallet=bool(wallet_fen))
            )
        account = accounts[AccountKind.MEMBER_POINTS]
    lines = data.lines
    total = rules.validate_lines(lines)
    tier_row = None
    tier_view = tier_selectors.ENTRY
    if member_id is not None:
        # the tier row is locked once (after the accounts: one lock order) and read for the earn multiplier,
        # the tier discount of promotions and the upgrade check
        tier_row = tier_lock_in_tx(member_id=member_id, mall_group_id=group_id, config_token=token)
        if tier_row is not None:
            tier_view = tier_selectors.tier_view_of(level_id=tier_row.level_id, mall_group_id=group_id, token=token)
    if data.coupon_ids and member_id is None:
        raise ValidationError(_("Coupons can only be used by a member."), code="coupon.member_required")
    # coupons chosen by the shopper and promotions in force, in the documented order (galleria/coupons/rules.py);
    # without either this costs no query (promotions come from the configuration cache)
    discounts = coupon_services.coupons_redeem_for_sale_in_tx(
        sale_id=None,
        merchant=merchant,
        member_id=member_id,
        lines=sale_selectors.basket_lines(lines),
        coupon_ids=data.coupon_ids,
        occurred_at=data.occurred_at,
        token=token,
        tier=(tier_view.rank, tier_view.discount_bp),
    )
    discount = discounts.total_discount_fen
    line_discount = [d.discount_fen for d in discounts.line_discounts]
    points_value = 0
    if data.points_to_use:
        assert account is not None
        points_value = points_rules.check_redemption(
            points=data.points_to_use,
            sale_total_fen=total - discount,
            balance=account.balance or 0,
            config=points_selectors.redeem_config(policy=policy),
        )
    rules.validate_payments(data.payments, total_fen=total, points_value_fen=points_value, discount_fen=discount)
    paid = total - discount - points_value
    line_paid = rules.split_over_lines(paid, lines, line_discount)
    line_points_spent = (
        rules.split_over_lines(data.points_to_use, lines, line_discount) if data.points_to_use else [0] * len(lines)
    )
    earned = 0
    explanation: dict[str, object] = {}
    line_points_earned = [0] * len(lines)
    tier_change = None
    config = None
    if account is not None and member_id is not None:
        config = points_selectors.earn_config(
            policy=policy,
            merchant=merchant,
            member_id=member_id,
            at=data.occurred_at,
            tz_name=mall.timezone,
            token=token,
            tier=tier_view,
        )
        earned_today = 0
        if config.daily_cap is not None:
            earned_today = points_selectors.earned_on_day(
                member_id=member_id,
                local_day=timeutil.local_date(data.occurred_at, mall.timezone),
                tz_name=mall.timezone,
            )
        result = points_rules.earn(
            lines=[
                EarnLine(sku=ln.sku, category=ln.category, paid_fen=p) for ln, p in zip(lines, line_paid, strict=True)
            ],
            config=config,
            earned_today=earned_today,
        )
        earned, explanation, line_points_earned = result.points, result.explanation, list(result.line_points)
    head = [
        group_id,
        mall.pk,
        merchant.pk,
        store.pk,
        data.terminal_id,
        member_id,
        data.pos_sale_id,
        sql.when(data.occurred_at),
        sql.when(timezone.now()),
        data.is_offline,
        SaleStatus.COMPLETED,
        total,
        paid,
        data.points_to_use,
        points_value,
        earned,
        0,
        sql.json_value(explanation),
        discount,
    ]
    line_rows = [
        (
            i + 1,
            ln.sku[:64],
            ln.name[:120],
            ln.category[:40],
            ln.quantity,
            ln.unit_price_fen,
            ln.amount_fen,
            line_paid[i],
            line_points_spent[i],
            line_points_earned[i],
            0,
            line_discount[i],
            0,
            0,
        )
        for i, ln in enumerate(lines)
    ]
    payment_rows = [(p.method, p.amount_fen, 0) for p in data.payments]
    try:  # no savepoint: a duplicate receipt aborts the whole use case anyway
        sale_id = _write_sale(head, line_rows, payment_rows)
    except IntegrityError as exc:
        if not _is_duplicate_receipt(exc):
            raise
        raise ConflictError(_("This receipt was already recorded."), code="sale.duplicate") from exc
    source = f"sale:{sale_id}"
    if discounts.applied:
        coupon_services.coupons_attach_sale_in_tx(
            redemption_ids=[a.redemption_id for a in discounts.applied if a.redemption_id is not None],
            sale_id=sale_id,
        )
    issued: list[IssuedCoupon] = []
    if account is not None and member_id is not None and config is not None:
        if wallet_fen:
            wallet_services.wallet_pay_in_tx(
                mall_group_id=group_id,
                member_id=member_id,
                accounts=accounts,
                amount_fen=wallet_fen,
                merchant_id=merchant.pk,
                occurred_at=data.occurred_at,
                source=source,
            )
        if data.points_to_use:
            points_services.points_spend_in_tx(
                mall_group_id=group_id,
                member_id=member_id,
                points_account=account,
                points=data.points_to_use,
                merchant_id=merchant.pk,
                occurred_at=data.occurred_at,
                source=source,
                explanation={"sale": sale_id, "value_fen": points_value},
            )
        points_services.points_credit_in_tx(
            policy=policy,
            member_id=member_id,
            points_account=account,
            points=earned,
            kind="earn",
            funder=config.rate.funder,
            merchant_share_bp=config.rate.merchant_share_bp,
            merchant_id=merchant.pk,
            occurred_at=data.occurred_at,
            tz_name=mall.timezone,
            source=source,
            explanation=explanation,
            memo=f"{merchant.name} {data.pos_sale_id}",
        )
        first_purchase_rule = points_selectors.behaviour_rule_active(
            mall_group_id=group_id, event="first_purchase_at_merchant", token=token
        )
        if (
            first_purchase_rule is not None
            and not Sale.objects.filter(member_id=member_id, merchant=merchant).exclude(pk=sale_id).exists()
        ):
            points_services.behaviour_award_in_tx(
                mall_group_id=group_id,
                member_id=member_id,
                event="first_purchase_at_merchant",
                occasion=f"merchant:{merchant.pk}",
                at=data.occurred_at,
                tz_name=mall.timezone,
                merchant_id=merchant.pk,
                config_token=token,
            )
        tier_change = tier_record_spend_in_tx(
            member_id=member_id,
            mall_group_id=group_id,
            amount_fen=paid,
            points=earned,
            occurred_at=data.occurred_at,
            source=source,
            config_token=token,
            new_source=True,
            locked=tier_row,
        )
        # 消费返券: spend-triggered coupons (from the configuration cache: no query when the group has none)
        issued = coupon_services.coupons_issue_for_sale_in_tx(
            mall_group_id=group_id,
            member_id=member_id,
            merchant=merchant,
            sale_id=sale_id,
            eligible_paid_fen=paid,
            occurred_at=data.occurred_at,
            token=token,
        )
    return SaleResult(
        sale_id=sale_id,
        member_id=member_id,
        member_joined=joined,
        points_earned=earned,
        points_used=data.points_to_use,
        points_balance=account.balance if account else None,
        explanation=explanation,
        tier_upgraded_to=tier_change.to_level.code if tier_change else None,
        discount_fen=discount,
        applied=discounts.applied,
        coupons_issued=tuple(issued),
    )


def sale_commit(*, data: SaleIn, actor: Actor) -> SaleResult:
    with transaction.atomic(durable=True):
        return sale_commit_in_tx(data=data, actor=actor)


def sale_refund_in_tx(
    *,
    merchant_id: int,
    pos_sale_id: str,
    pos_refund_id: str,
    lines: Sequence[RefundLineIn] | None,
    occurred_at: dt.datetime | None = None,
) -> RefundResult:
    """Refund a whole sale (`lines=None`) or some quantities of some lines."""
    sale = Sale.objects.filter(merchant_id=merchant_id, pos_sale_id=pos_sale_id).first()
    if sale is None:
        raise NotFoundError(_("No such sale."), code="sale.not_found")
    when = occurred_at or timezone.now()
    account = None
    accounts: dict[str, Account] = {}
    paid_by_wallet = SalePayment.objects.filter(sale=sale, method=PaymentMethod.WALLET).exists()
    if sale.member_id is not None:
        accounts = ledger.lock_member_accounts(  # a sale made before its member was erased is still refundable
            mall_group_id=sale.mall_group_id,
            member_id=sale.member_id,
            kinds=_kinds(wallet=paid_by_wallet),
            allow_closed=True,
        )
        account = accounts[AccountKind.MEMBER_POINTS]
    sale = lock_one(Sale.objects.filter(pk=sale.pk))
    if Refund.objects.filter(sale=sale, pos_refund_id=pos_refund_id).exists():
        raise ConflictError(_("This refund was already recorded."), code="refund.duplicate")
    sale_lines = {ln.line_no: ln for ln in SaleLine.objects.filter(sale=sale).order_by("line_no")}
    wanted: dict[int, int] = {}
    if lines is None:
        wanted = {no: ln.quantity - ln.refunded_qty for no, ln in sale_lines.items() if ln.quantity > ln.refunded_qty}
    else:
        for item in lines:
            if item.line_no not in sale_lines:
                raise ValidationError(
                    _("No such line on this sale."),
                    code="refund.line_unknown",
                    fields={f"lines.{item.line_no}": "unknown"},
                )
            wanted[item.line_no] = wanted.get(item.line_no, 0) + item.quantity
    if not wanted or any(q <= 0 for q in wanted.values()):
        raise ValidationError(_("Nothing to refund."), code="refund.empty")
    amount = money = clawback = give_back = 0
    detail = []
    for no, qty in sorted(wanted.items()):
        ln = sale_lines[no]
        if ln.refunded_qty + qty > ln.quantity:
            raise ValidationError(
                _("Refund quantity is more than what is left on the line."),
                code="refund.over_quantity",
                fields={f"lines.{no}": str(ln.quantity - ln.refunded_qty)},
            )
        before, after = ln.refunded_qty, ln.refunded_qty + qty

        def share(value: int, b: int = before, a: int = after, q: int = ln.quantity) -> int:
            return rules.cumulative_share(value, a, q) - rules.cumulative_share(value, b, q)

        line_amount, line_money = share(ln.amount_fen), share(ln.paid_fen)
        # what an earlier refund's coupon clawback charged to these units comes back with them
        held = ln.quantity - before
        clawed_back = ratio_round(ln.coupon_clawed_fen - ln.coupon_clawed_returned_fen, qty, held) if held else 0
        ln.coupon_clawed_returned_fen += clawed_back
        line_money += clawed_back
        amount += line_amount
        money += line_money
        clawback += share(ln.points_earned)
        give_back += share(ln.points_spent)
        ln.refunded_qty = after
        detail.append({"line_no": no, "quantity": qty, "amount_fen": line_amount, "money_fen": line_money})
    coupon_back = None
    coupon_deduct = 0
    touched = set(wanted)
    if sale.discount_fen:
        # the coupons and promotions of the refunded lines roll back in proportion (already out of the lines'
        # money); the discount the kept goods no longer earn (a threshold lost) is kept from the money refunded
        # and charged to the kept lines, so refunding them later gives it back
        coupon_back = coupon_services.coupons_refund_for_sale_in_tx(
            sale_id=sale.pk,
            refund_key=pos_refund_id,
            lines=[RefundLineQty(line_no=no, quantity=qty) for no, qty in sorted(wanted.items())],
            occurred_at=when,
        )
        coupon_deduct = coupon_back.clawback_fen
        if coupon_deduct > money:
            raise ValidationError(
                _(
                    "What the shopper keeps no longer earns a coupon's discount of %(lost)s fen, more than this "
                    "refund returns (%(money)s fen): refund more items together, or collect the difference."
                )
                % {"lost": coupon_deduct, "money": money},
                code="refund.discount_exceeds_refund",
                extra={"clawback_fen": coupon_deduct, "money_fen": money},
            )
        money -= coupon_deduct
        for claw in coupon_back.line_clawbacks:
            sale_lines[claw.line_no].coupon_clawed_fen += claw.discount_fen
            touched.add(claw.line_no)
    SaleLine.objects.bulk_update(
        [sale_lines[no] for no in sorted(touched)], ["refunded_qty", "coupon_clawed_fen", "coupon_clawed_returned_fen"]
    )
    # money back by payment method, in proportion to what each method still holds
    payments = list(SalePayment.objects.filter(sale=sale).order_by("pk"))
    remaining = [p.amount_fen - p.refunded_fen for p in payments]
    parts = allocate(money, remaining) if money and sum(remaining) else [0] * len(payments)
    for pay, part in zip(payments, parts, strict=True):
        pay.refunded_fen += part
    SalePayment.objects.bulk_update(payments, ["refunded_fen"])
    refund = Refund.objects.create(
        sale=sale,
        pos_refund_id=pos_refund_id,
        occurred_at=when,
        amount_fen=amount,
        money_fen=money,
        payments={p.method: part for p, part in zip(payments, parts, strict=True) if part},
        lines=detail,
        coupon_deduct_fen=coupon_deduct,
    )
    source = f"refund:{refund.pk}"
    shortfall = 0
    wallet_back = refund.payments.get(PaymentMethod.WALLET, 0)
    if wallet_back and sale.member_id is not None:
        payment = wallet_selectors.payment_get_by_source(mall_group_id=sale.mall_group_id, source=f"sale:{sale.pk}")
        assert payment is not None
        wallet_services.wallet_refund_in_tx(
            payment=payment, amount_fen=wallet_back, accounts=accounts, occurred_at=when, source=source
        )
    if account is not None and sale.member_id is not None:
        earn_tx = Transaction.objects.filter(source=f"sale:{sale.pk}", kind=TransactionKind.EARN).first()
        spend_tx = Transaction.objects.filter(source=f"sale:{sale.pk}", kind=TransactionKind.SPEND).first()
        if clawback and earn_tx is not None:
            _tx, shortfall = points_services.points_claw_back_in_tx(
                mall_group_id=sale.mall_group_id,
                member_id=sale.member_id,
                points_account=account,
                points=clawback,
                earn_tx=earn_tx,
                occurred_at=when,
                source=source,
                explanation={"sale": sale.pk, "refund": refund.pk},
            )
        if give_back and spend_tx is not None:
            points_services.points_return_in_tx(
                mall_group_id=sale.mall_group_id,
                member_id=sale.member_id,
                points_account=account,
                points=give_back,
                spend_tx=spend_tx,
                occurred_at=when,
                source=source,
                explanation={"sale": sale.pk, "refund": refund.pk},
            )
    if sale.member_id is not None and (money or clawback):
        tier_record_spend_in_tx(
            member_id=sale.member_id,
            mall_group_id=sale.mall_group_id,
            amount_fen=-money,
            points=-clawback,
            occurred_at=when,
            source=source,
        )
    refund.points_clawed_back, refund.points_shortfall, refund.points_returned = (
        clawback - shortfall,
        shortfall,
        give_back,
    )
    refund.save(update_fields=["points_clawed_back", "points_shortfall", "points_returned"])
    # 消费返券: a purchase reward that what the shopper keeps no longer earns is voided if unused
    revoked: list[int] = []
    if sale.member_id is not None:
        revoked = coupon_services.coupons_revoke_for_sale_in_tx(
            sale_id=sale.pk, kept_paid_fen=sum(p.amount_fen - p.refunded_fen for p in payments), at=when
        )
    sale.refunded_fen += amount
    sale.status = SaleStatus.REFUNDED if sale.refunded_fen == sale.total_fen else SaleStatus.PARTIALLY_REFUNDED
    if all(ln.refunded_qty == ln.quantity for ln in sale_lines.values()):
        sale.status = SaleStatus.REFUNDED
    sale.save(update_fields=["refunded_fen", "status"])
    return RefundResult(
        refund_id=refund.pk,
        sale_id=sale.pk,
        amount_fen=amount,
        money_fen=money,
        payments=refund.payments,
        points_clawed_back=refund.points_clawed_back,
        points_shortfall=shortfall,
        points_returned=give_back,
        points_balance=account.balance if account else None,
        coupon_deduct_fen=coupon_deduct,
        coupons_restored=coupon_back.restored_coupon_ids if coupon_back else (),
        coupons_revoked=tuple(revoked),
    )


def sale_refund(**kwargs: object) -> RefundResult:
    with transaction.atomic(durable=True):
        return sale_refund_in_tx(**kwargs)  # type: ignore[arg-type]
