"""Member services writes, bookings (docs/amenities.md): a member books a time slot of a service (lounge visit,
gift wrapping, personal shopping, home delivery); staff confirm or decline it with a reason (the member gets an
inbox message after commit), mark it done or a no-show; the member may cancel before the slot starts.

A priced service (points) is paid when booking, as a sale of the service's store through the checkout pipeline
(channel `amenity`; lock order: the booking row, the slot, the member's accounts and tier row), and refunded through
the pipeline when declined or cancelled. A slot's places are taken by one conditional UPDATE
(`booked < capacity`) backed by a CHECK (`booked <= capacity`), so many members at once never overbook it; the
member's one live booking per slot is a partial unique index; the idempotency key is checked first and backed by a
unique constraint. A declined or cancelled booking gives its place back. Every change is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError
from galleria.core.locking import lock_one
from galleria.merchants.selectors import store_for_payments
from galleria.messaging.services import inbox_send
from galleria.messaging.types import Audience
from galleria.points import selectors as points_selectors
from galleria.sales.services import sale_commit_in_tx, sale_refund_in_tx
from galleria.sales.types import Channel, LineIn, SaleIn
from galleria.tiers.selectors import member_tier

from . import exceptions, rules, selectors
from .models import Booking, TimeSlot
from .types import LIVE_BOOKING, BookingState, OfferingKind

__all__ = ["booking_cancel", "booking_decide", "booking_request"]

LINE_CATEGORY = "amenity"


def booking_request(
    *,
    mall_group_id: int,
    slot_id: int,
    member_id: int,
    key: str,
    actor: Actor,
    note: str = "",
    address: str = "",
    receipt_ref: str = "",
    at: dt.datetime | None = None,
) -> Booking:
    """A member asks for a place in a slot; staff confirm it. Home delivery needs the address and the sale or
    receipt number of what is delivered. A tier-benefit service (the lounge) is refused to members whose tier does
    not have the benefit."""
    at = at or timeutil.now()
    if not key or len(key) > 80:
        raise ConflictError(_("This form has expired. Please start again."), code="amenities.key_required")
    slot = selectors.slot_get(slot_id=slot_id, mall_group_id=mall_group_id)
    if slot is None or not slot.offering.is_active:
        raise exceptions.SlotNotFoundError()
    done = selectors.booking_by_key(member_id=member_id, key=key)
    if done is not None:
        if done.slot_id != slot.pk:
            raise exceptions.IdempotencyConflictError()
        return done
    offering = slot.offering
    if offering.kind == OfferingKind.HOME_DELIVERY:
        errors = {}
        if len(address.strip()) < 5:
            errors["address"] = _("Enter the delivery address.")
        if not receipt_ref.strip():
            errors["receipt_ref"] = _("Enter the sale or receipt number of what is delivered.")
        if errors:
            raise exceptions.InvalidError(_("Check the fields marked."), fields=errors)
    tier = member_tier(member_id=member_id, mall_group_id=mall_group_id)
    min_rank = offering.min_tier.rank if offering.min_tier is not None else None
    price = rules.booking_price(
        access=offering.access,
        lounge_access=tier.lounge_access,
        member_rank=tier.rank,
        min_rank=min_rank,
        price_points=offering.price_points,
    )
    if price is None:
        raise exceptions.TierRequiredError()
    if slot.starts_at <= at:
        raise exceptions.SlotPastError()
    if selectors.live_booking(member_id=member_id, slot_id=slot.pk) is not None:
        raise exceptions.AlreadyBookedError()
    try:
        with transaction.atomic(durable=True):
            booking = Booking.objects.create(  # claims the key and the member's place in the slot (unique indexes)
                mall_group_id=mall_group_id,
                offering=offering,
                slot=slot,
                member_id=member_id,
                note=note.strip()[:200],
                address=address.strip()[:200] if offering.kind == OfferingKind.HOME_DELIVERY else "",
                receipt_ref=receipt_ref.strip()[:64] if offering.kind == OfferingKind.HOME_DELIVERY else "",
                idempotency_key=key[:80],
            )
            taken = TimeSlot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1)
            if not taken:
                raise exceptions.SlotFullError()
            if price:
                _charge(booking, points=price, actor=actor, at=at)
            audit_record(
                actor=actor,
                action="amenity.book",
                target_type="amenity_booking",
                target_id=booking.pk,
                target_label=offering.name,
                mall_group_id=mall_group_id,
                changes={"slot": slot.starts_at.isoformat(), "member": member_id, "points": booking.points},
            )
            return booking
    except IntegrityError:
        done = selectors.booking_by_key(member_id=member_id, key=key)
        if done is not None:
            return done
        raise exceptions.AlreadyBookedError() from None


def _charge(booking: Booking, *, points: int, actor: Actor, at: dt.datetime) -> None:
    """A priced booking: a sale of the offering's store through the checkout pipeline (channel amenity), paid with
    the member's points (their accounts and the tier row are locked by the pipeline)."""
    offering = booking.offering
    store = store_for_payments(store_id=offering.store_id or 0, mall_group_id=booking.mall_group_id)
    if store is None:
        raise exceptions.InvalidError(_("This service takes no payments now."))
    config = points_selectors.redeem_config(policy=points_selectors.policy_get(mall_group_id=booking.mall_group_id))
    value_fen = points * 100 // config.points_per_yuan
    booking.points, booking.pos_sale_id = points, f"amb:{booking.pk}"
    sale = sale_commit_in_tx(
        data=SaleIn(
            merchant_id=store.merchant_id,
            store_id=store.pk,
            terminal_id=None,
            pos_sale_id=booking.pos_sale_id,
            occurred_at=at,
            lines=(
                LineIn(
                    sku=f"AMB{offering.pk}",
                    name=offering.name[:120],
                    quantity=1,
                    unit_price_fen=value_fen,
                    amount_fen=value_fen,
                    category=LINE_CATEGORY,
                ),
            ),
            payments=(),
            member_id=booking.member_id,
            points_to_use=points,
            channel=Channel.AMENITY,
        ),
        actor=actor,
        merchant=store.merchant,
        store=store,
    )
    booking.sale_id = sale.sale_id
    booking.save(update_fields=["points", "pos_sale_id", "sale_id", "updated_at"])


def _refund(booking: Booking) -> None:
    """Give a priced booking's points back (the pipeline's refund: the member's accounts, then the sale row)."""
    if booking.sale_id is None or booking.refund_id is not None:
        return
    store = booking.offering.store
    assert store is not None
    refund = sale_refund_in_tx(
        merchant_id=store.merchant_id, pos_sale_id=booking.pos_sale_id, pos_refund_id=f"ambc:{booking.pk}", lines=None
    )
    booking.refund_id, booking.points_returned = refund.refund_id, refund.points_returned


def _notify(booking: Booking, *, title: str, body: str) -> Callable[[], None]:
    group_id, member_id = booking.mall_group_id, booking.member_id

    def send() -> None:
        inbox_send(
            mall_group_id=group_id,
            audience=Audience.MEMBER,
            member_id=member_id,
            title=title[:60],
            body=body,
            actor=Actor.system("amenities"),
        )

    return send


def _locked(booking_id: int, *, mall_group_id: int | None, member_id: int | None) -> Booking:
    found = selectors.booking_get(booking_id=booking_id, mall_group_id=mall_group_id, member_id=member_id)
    if found is None:
        raise exceptions.BookingNotFoundError()
    return lock_one(
        Booking.objects.filter(pk=found.pk).select_related("slot", "offering", "offering__mall", "offering__store"),
        of=("self",),
    )


def _give_back(booking: Booking) -> None:
    TimeSlot.objects.filter(pk=booking.slot_id, booked__gt=0).update(booked=F("booked") - 1)


DECISIONS = {
    "confirm": ({BookingState.REQUESTED}, BookingState.CONFIRMED),
    "decline": ({BookingState.REQUESTED, BookingState.CONFIRMED}, BookingState.DECLINED),
    "done": ({BookingState.CONFIRMED}, BookingState.DONE),
    "no_show": ({BookingState.CONFIRMED}, BookingState.NO_SHOW),
}


def booking_decide(
    *, mall_group_id: int, booking_id: int, decision: str, reason: str = "", actor: Actor, at: dt.datetime | None = None
) -> Booking:
    """Staff confirm or decline a booking (a decline needs a reason, told to the member), or mark a confirmed one
    done or a no-show. Deciding again what is already decided that way returns it unchanged."""
    at = at or timeutil.now()
    if decision not in DECISIONS:
        raise exceptions.InvalidError(_("Choose what to do."))
    allowed, target = DECISIONS[decision]
    if target == BookingState.DECLINED and not reason.strip():
        raise exceptions.InvalidError(
            _("Tell the member why."), fields={"reason": _("Tell the member why the booking is declined.")}
        )
    with transaction.atomic(durable=True):
        booking = _locked(booking_id, mall_group_id=mall_group_id, member_id=None)
        if booking.state == target:
            return booking
        if booking.state not in allowed:
            raise exceptions.BookingStateError(extra={"state": booking.state})
        before = booking.state
        if target == BookingState.DECLINED:  # a requested or confirmed place goes back, the points too
            _give_back(booking)
            _refund(booking)
        booking.state, booking.decided_at, booking.decided_by = target, at, actor.label[:100]
        booking.reason = reason.strip()[:200]
        booking.save(
            update_fields=["state", "decided_at", "decided_by", "reason", "refund_id", "points_returned", "updated_at"]
        )
        tz = booking.offering.mall.timezone
        when = timeutil.local(booking.slot.starts_at, tz).strftime("%Y-%m-%d %H:%M")
        if target == BookingState.CONFIRMED:
            transaction.on_commit(
                _notify(
                    booking,
                    title=_("Booking confirmed: %(name)s") % {"name": booking.offering.name[:40]},
                    body=_("Your booking of %(name)s on %(when)s is confirmed. %(place)s")
                    % {"name": booking.offering.name, "when": when, "place": booking.offering.place},
                )
            )
        elif target == BookingState.DECLINED:
            transaction.on_commit(
                _notify(
                    booking,
                    title=_("Booking declined: %(name)s") % {"name": booking.offering.name[:40]},
                    body=_("We are sorry: your booking of %(name)s on %(when)s was declined. Reason: %(reason)s")
                    % {"name": booking.offering.name, "when": when, "reason": booking.reason},
                )
            )
        audit_record(
            actor=actor,
            action=f"amenity.booking_{decision}",
            target_type="amenity_booking",
            target_id=booking.pk,
            target_label=booking.offering.name,
            mall_group_id=booking.mall_group_id,
            changes={"state": [before, target], "reason": booking.reason},
        )
        return booking


def booking_cancel(*, booking_id: int, member_id: int, actor: Actor, at: dt.datetime | None = None) -> Booking:
    """The member cancels a live booking before its slot starts; its place goes back to the slot."""
    at = at or timeutil.now()
    with transaction.atomic(durable=True):
        booking = _locked(booking_id, mall_group_id=None, member_id=member_id)
        if booking.state == BookingState.CANCELLED:
            return booking
        if booking.state not in LIVE_BOOKING or booking.slot.starts_at <= at:
            raise exceptions.BookingStateError(extra={"state": booking.state})
        before = booking.state
        _give_back(booking)
        _refund(booking)
        booking.state, booking.decided_at, booking.decided_by = BookingState.CANCELLED, at, actor.label[:100]
        booking.save(update_fields=["state", "decided_at", "decided_by", "refund_id", "points_returned", "updated_at"])
        audit_record(
            actor=actor,
            action="amenity.booking_cancel",
            target_type="amenity_booking",
            target_id=booking.pk,
            target_label=booking.offering.name,
            mall_group_id=booking.mall_group_id,
            changes={"state": [before, BookingState.CANCELLED]},
        )
        return booking


def member_erase_in_tx(*, member_id: int, mall_group_id: int, phone: str, values: list[str]) -> int:
    """Erasure (settings.GALLERIA_ERASURE_HANDLERS): the member's bookings lose what the member typed (note,
    delivery address, receipt number); a live one is cancelled and gives its place back. The rows stay, keyed only
    by the member's id, for the slot counts and the report."""
    live = Booking.objects.filter(member_id=member_id, mall_group_id=mall_group_id, state__in=list(LIVE_BOOKING))
    for booking in live.select_related("slot"):
        _give_back(booking)
    live.update(state=BookingState.CANCELLED, decided_by="erasure")
    return Booking.objects.filter(member_id=member_id, mall_group_id=mall_group_id).update(
        note="", address="", receipt_ref=""
    )
