"""Member services writes, rentals (docs/amenities.md): lend an item at a desk against a deposit, return it (the
overdue fee charged), mark it lost (the lost-item fee charged), adjust a desk's stock.

**The deposit is a ledger hold** (`ledger.services.hold_place_in_tx`, key `amen:<rental id>`) on the member's
points account or wallet (principal) account: reserved, not moved, so the member keeps the points or money and
nothing is posted while the item is out. Closing a rental releases the hold exactly once; a fee is then a *sale of
the desk's store* through the checkout pipeline (channel `amenity`, one of the mall's service channels: no points
earned, points may pay all of it), paid with the member's points or wallet, idempotent on `amen:<rental id>` — so
it is the mall's income in the ledger like a parking fee, and this app never writes a ledger row.

**Lock order**, the same in every use case, after whatever a caller holds:

1. the rental row (return, lost) — a return scanned twice finds the rental closed and charges nothing again;
2. the member's accounts (`lock_member_accounts`, primary-key order) — they serialise a member's lends, so the
   idempotency key and the one-open-rental-per-item rule are checked after taking them; the hold's release and
   the fee's sale lock the same rows again;
3. the stock row, last: the lend takes an item by one conditional UPDATE (`on_hand >= 1`), so the last umbrella
   goes to exactly one of many members at once; a return or an adjustment adds to it.

Every change is audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError
from galleria.core.locking import lock_one
from galleria.ledger import services as ledger
from galleria.ledger.exceptions import InsufficientBalanceError
from galleria.members.exceptions import MemberNotFoundError
from galleria.members.selectors import members_active
from galleria.merchants.selectors import store_for_payments
from galleria.points import selectors as points_selectors
from galleria.sales.services import sale_commit_in_tx
from galleria.sales.types import Channel, LineIn, PaymentIn, SaleIn
from galleria.tiers.selectors import member_tier

from . import exceptions, rules, selectors
from .models import Rental, RentalStock, StockMove
from .types import DepositKind, Fee, RentalState, StockReason

__all__ = ["rental_lend", "rental_lost", "rental_return", "stock_adjust"]

POINTS, WALLET, BONUS = "member_points", "member_wallet", "member_wallet_bonus"
LINE_CATEGORY = "amenity"


def hold_key(rental_id: int) -> str:
    return f"amen:{rental_id}"


def _check_key(key: str) -> None:
    if not key or len(key) > 80:
        raise ConflictError(_("This form has expired. Please start again."), code="amenities.key_required")


def _stock_row(desk_id: int, item_type_id: int) -> RentalStock:
    row, _created = RentalStock.objects.get_or_create(desk_id=desk_id, item_type_id=item_type_id)
    return row


def _move(stock_id: int, *, delta: int, reason: str, actor: Actor, rental: Rental | None = None, note: str = "") -> int:
    after = RentalStock.objects.filter(pk=stock_id).values_list("on_hand", flat=True).get()
    StockMove.objects.create(
        stock_id=stock_id,
        delta=delta,
        on_hand_after=after,
        reason=reason,
        note=note[:200],
        rental=rental,
        actor=actor.label[:100],
    )
    return int(after)


# ------------------------------------------------------------------------------------------------- stock


def stock_adjust(
    *, mall_group_id: int, desk_id: int, item_type_id: int, delta: int, reason: str, actor: Actor
) -> RentalStock:
    """Add (or with a negative `delta` take away) items at a desk: a count, a delivery, a write-off. The reason is
    required and kept with the move; the count on hand never goes below zero."""
    if not reason.strip():
        raise exceptions.InvalidError(
            _("Say why the count changes."), fields={"reason": _("Say why the count changes.")}
        )
    if delta == 0 or abs(delta) > 10_000:
        raise exceptions.InvalidError(
            _("Enter a change between -10000 and 10000, not 0."), fields={"delta": _("Enter a change, not 0.")}
        )
    desk = selectors.desk_get(mall_group_id=mall_group_id, desk_id=desk_id)
    if desk is None:
        raise exceptions.DeskNotFoundError()
    item = selectors.item_type_get(mall_group_id=mall_group_id, item_type_id=item_type_id)
    if item is None:
        raise exceptions.ItemTypeNotFoundError()
    with transaction.atomic(durable=True):
        stock = lock_one(RentalStock.objects.filter(pk=_stock_row(desk.pk, item.pk).pk))
        if stock.on_hand + delta < 0:
            raise exceptions.StockNegativeError(extra={"on_hand": stock.on_hand})
        stock.on_hand += delta
        stock.save(update_fields=["on_hand"])
        _move(stock.pk, delta=delta, reason=StockReason.ADJUST, actor=actor, note=reason.strip())
        audit_record(
            actor=actor,
            action="amenity.stock_adjust",
            target_type="amenity_stock",
            target_id=stock.pk,
            target_label=f"{desk.name} · {item.name}",
            mall_group_id=mall_group_id,
            changes={"on_hand": [stock.on_hand - delta, stock.on_hand], "reason": reason.strip()[:200]},
        )
        return stock


# ------------------------------------------------------------------------------------------------- lend


def _deposit_amount(item: object, kind: str) -> int:
    points, fen = getattr(item, "deposit_points", 0), getattr(item, "deposit_fen", 0)
    if kind == DepositKind.POINTS and points > 0:
        return int(points)
    if kind == DepositKind.WALLET and fen > 0:
        return int(fen)
    if kind == DepositKind.NONE and points == 0 and fen == 0:
        return 0
    raise exceptions.DepositNotOfferedError(fields={"deposit_kind": exceptions.DepositNotOfferedError().message})


def rental_lend(
    *,
    mall_group_id: int,
    desk_id: int,
    item_type_id: int,
    member_id: int,
    deposit_kind: str,
    key: str,
    actor: Actor,
    at: dt.datetime | None = None,
) -> Rental:
    """Lend one item of a type at a desk to a member, its deposit held on the member's points or wallet. Free until
    the end of the tier's free period. Idempotent per (member, key): the same key returns the first rental (also
    when two taps race); the same key for another item, desk or deposit is a conflict."""
    _check_key(key)
    at = at or timeutil.now()
    desk = selectors.desk_get(mall_group_id=mall_group_id, desk_id=desk_id)
    if desk is None or not desk.is_active:
        raise exceptions.DeskNotFoundError()
    item = selectors.item_type_get(mall_group_id=mall_group_id, item_type_id=item_type_id)
    if item is None or not item.is_active:
        raise exceptions.ItemTypeNotFoundError()
    if not members_active(mall_group_id=mall_group_id).filter(pk=member_id).exists():
        raise MemberNotFoundError()
    amount = _deposit_amount(item, deposit_kind)
    tier = member_tier(member_id=member_id, mall_group_id=mall_group_id)
    _stock_row(desk.pk, item.pk)  # the row exists before the race for it
    try:
        with transaction.atomic(durable=True):
            accounts = ledger.lock_member_accounts(  # 2. the member's accounts
                mall_group_id=mall_group_id, member_id=member_id, kinds=[POINTS, WALLET]
            )
            done = selectors.rental_by_key(member_id=member_id, key=key)
            if done is not None:
                if (done.desk_id, done.item_type_id, done.deposit_kind) != (desk.pk, item.pk, deposit_kind):
                    raise exceptions.IdempotencyConflictError()
                return done
            if Rental.objects.filter(member_id=member_id, item_type=item, state=RentalState.LENT).exists():
                raise exceptions.AlreadyBorrowingError()
            taken = RentalStock.objects.filter(desk=desk, item_type=item, on_hand__gte=1).update(  # 3. the stock
                on_hand=F("on_hand") - 1
            )
            if not taken:
                raise exceptions.OutOfStockError()
            rental = Rental.objects.create(
                mall_group_id=mall_group_id,
                member_id=member_id,
                item_type=item,
                desk=desk,
                lent_at=at,
                due_at=rules.due_at(selectors.tariff_of(item), lent_at=at, tier_code=tier.code),
                tier_code=tier.code,
                deposit_kind=deposit_kind,
                deposit_amount=amount,
                idempotency_key=key[:80],
                lent_by=actor.label[:100],
            )
            if amount:
                account = accounts[POINTS if deposit_kind == DepositKind.POINTS else WALLET]
                try:
                    ledger.hold_place_in_tx(
                        account_id=account.pk,
                        key=hold_key(rental.pk),
                        amount=amount,
                        reason=f"deposit {item.code}",
                        locked={a.pk: a for a in accounts.values()},
                    )
                except InsufficientBalanceError as exc:
                    raise exceptions.DepositInsufficientError(extra=exc.extra) from None
                rental.hold_key = hold_key(rental.pk)
                rental.save(update_fields=["hold_key", "updated_at"])
            stock = RentalStock.objects.get(desk=desk, item_type=item)
            _move(stock.pk, delta=-1, reason=StockReason.LEND, actor=actor, rental=rental)
            audit_record(
                actor=actor,
                action="amenity.lend",
                target_type="amenity_rental",
                target_id=rental.pk,
                target_label=f"{item.name} · {desk.name}",
                mall_group_id=mall_group_id,
                changes={
                    "member": member_id,
                    "deposit": f"{amount} {deposit_kind}",
                    "due_at": rental.due_at.isoformat(),
                },
            )
            return rental
    except IntegrityError:  # the partial unique index backed the one-open-rental rule, or the key raced
        done = selectors.rental_by_key(member_id=member_id, key=key)
        if done is not None:
            return done
        raise exceptions.AlreadyBorrowingError() from None


# ------------------------------------------------------------------------------------------------- close


def _fee_store_id(rental: Rental, return_desk_id: int | None) -> int | None:
    """The store whose sale books the fee: the returning desk's, else the lending desk's (None: no store)."""
    for desk_id in (return_desk_id, rental.desk_id):
        if desk_id is None:
            continue
        desk = selectors.desk_get(mall_group_id=rental.mall_group_id, desk_id=desk_id)
        if desk is not None and desk.store_id is not None:
            return int(desk.store_id)
    return None


def _close(
    rental: Rental, *, due_fen: int, fee: Fee | None, state: str, desk_id: int | None, actor: Actor, at: dt.datetime
) -> None:
    """Under the rental's lock: lock the member's accounts, release the deposit's hold, charge what the deposit
    covers of `due_fen` as a sale of the desk's store, and record it all on the rental."""
    accounts = ledger.lock_member_accounts(  # 2. the member's accounts (the sale locks the same rows again)
        mall_group_id=rental.mall_group_id, member_id=rental.member_id, kinds=[POINTS, WALLET, BONUS], allow_closed=True
    )
    if rental.hold_key:
        ledger.hold_release_in_tx(key=rental.hold_key, locked={a.pk: a for a in accounts.values()})
    config = points_selectors.redeem_config(policy=points_selectors.policy_get(mall_group_id=rental.mall_group_id))
    store_id = _fee_store_id(rental, desk_id)
    got = rules.collect(
        due_fen=due_fen if store_id is not None else 0,
        deposit_kind=rental.deposit_kind,
        deposit_amount=rental.deposit_amount,
        points_per_yuan=config.points_per_yuan,
        min_points=config.min_points,
        multiple=config.multiple,
    )
    if got.fen > 0 and store_id is not None:
        store = store_for_payments(store_id=store_id, mall_group_id=rental.mall_group_id)
        if store is None:
            raise exceptions.InvalidError(_("The service desk's store is closed: fees cannot be booked."))
        name = (_("Late fee: %(item)s") if state == RentalState.RETURNED else _("Lost item: %(item)s")) % {
            "item": rental.item_type.name
        }
        sale = sale_commit_in_tx(
            data=SaleIn(
                merchant_id=store.merchant_id,
                store_id=store.pk,
                terminal_id=None,
                pos_sale_id=f"amen:{rental.pk}",
                occurred_at=at,
                lines=(
                    LineIn(
                        sku=f"AMEN-{rental.item_type.code}"[:40],
                        name=name[:120],
                        quantity=1,
                        unit_price_fen=got.fen,
                        amount_fen=got.fen,
                        category=LINE_CATEGORY,
                    ),
                ),
                payments=(PaymentIn("wallet", got.fen),) if rental.deposit_kind == DepositKind.WALLET else (),
                member_id=rental.member_id,
                points_to_use=got.points,
                channel=Channel.AMENITY,
            ),
            actor=actor,
            merchant=store.merchant,
            store=store,
        )
        rental.sale_id = sale.sale_id
    rental.state, rental.closed_at, rental.closed_by = state, at, actor.label[:100]
    rental.return_desk_id = desk_id
    rental.fee_due_fen = max(0, due_fen)
    rental.fee_charged_fen, rental.fee_points = got.fen, got.points
    rental.fee_waived_fen = max(0, due_fen) - got.fen
    rental.fee_lines = [asdict(line) for line in fee.lines] if fee is not None else []
    rental.save()


def _locked_rental(*, mall_group_id: int, rental_id: int) -> Rental:
    found = selectors.rental_get(rental_id=rental_id, mall_group_id=mall_group_id)
    if found is None:
        raise exceptions.RentalNotFoundError()
    return lock_one(Rental.objects.filter(pk=found.pk).select_related("item_type", "desk"), of=("self",))


def rental_return(
    *, mall_group_id: int, rental_id: int, desk_id: int, actor: Actor, at: dt.datetime | None = None
) -> Rental:
    """The item comes back at `desk_id` (any open desk of the group): the deposit is released and the overdue fee,
    as far as the deposit covers it, is charged. Scanned twice (or at two desks at once), it is returned and
    charged once: the second finds it closed and gets it unchanged."""
    at = at or timeutil.now()
    desk = selectors.desk_get(mall_group_id=mall_group_id, desk_id=desk_id)
    if desk is None:
        raise exceptions.DeskNotFoundError()
    with transaction.atomic(durable=True):
        rental = _locked_rental(mall_group_id=mall_group_id, rental_id=rental_id)  # 1. the rental
        if rental.state == RentalState.RETURNED:
            return rental
        if rental.state != RentalState.LENT:
            raise exceptions.RentalClosedError()
        fee = selectors.rental_fee(rental, at=at)
        _close(rental, due_fen=fee.total_fen, fee=fee, state=RentalState.RETURNED, desk_id=desk.pk, actor=actor, at=at)
        stock = _stock_row(desk.pk, rental.item_type_id)  # 3. the stock
        RentalStock.objects.filter(pk=stock.pk).update(on_hand=F("on_hand") + 1)
        _move(stock.pk, delta=1, reason=StockReason.RETURN, actor=actor, rental=rental)
        audit_record(
            actor=actor,
            action="amenity.return",
            target_type="amenity_rental",
            target_id=rental.pk,
            target_label=f"{rental.item_type.name} · {desk.name}",
            mall_group_id=mall_group_id,
            changes={
                "fee_due_fen": rental.fee_due_fen,
                "fee_charged_fen": rental.fee_charged_fen,
                "fee_points": rental.fee_points,
                "sale": rental.sale_id,
            },
        )
        return rental


def rental_lost(
    *, mall_group_id: int, rental_id: int, desk_id: int | None, actor: Actor, at: dt.datetime | None = None
) -> Rental:
    """The member reports the item lost: the overdue fee so far plus the item's lost-item fee, as far as the deposit
    covers them (the deposit is the guarantee: the rest is recorded as not collected), are charged and the deposit
    released; the item is written off the lending desk's stock (it was already off the count on hand)."""
    at = at or timeutil.now()
    with transaction.atomic(durable=True):
        rental = _locked_rental(mall_group_id=mall_group_id, rental_id=rental_id)
        if rental.state == RentalState.LOST:
            return rental
        if rental.state != RentalState.LENT:
            raise exceptions.RentalClosedError()
        fee = selectors.rental_fee(rental, at=at)
        due = fee.total_fen + rental.item_type.lost_fee_fen
        _close(rental, due_fen=due, fee=fee, state=RentalState.LOST, desk_id=desk_id, actor=actor, at=at)
        rental.fee_lines = [
            *rental.fee_lines,
            {"key": "lost", "text": _("Lost-item fee."), "fen": rental.item_type.lost_fee_fen},
        ]
        rental.save(update_fields=["fee_lines", "updated_at"])
        stock = _stock_row(rental.desk_id, rental.item_type_id)
        _move(
            stock.pk,
            delta=0,
            reason=StockReason.LOST,
            actor=actor,
            rental=rental,
            note=_("Written off: lost by the member"),
        )
        audit_record(
            actor=actor,
            action="amenity.lost",
            target_type="amenity_rental",
            target_id=rental.pk,
            target_label=f"{rental.item_type.name} · {rental.desk.name}",
            mall_group_id=mall_group_id,
            changes={
                "fee_due_fen": rental.fee_due_fen,
                "fee_charged_fen": rental.fee_charged_fen,
                "fee_points": rental.fee_points,
                "sale": rental.sale_id,
            },
        )
        return rental
