"""Events writes (docs/events.md): the console's events and poster, members' registrations with the waiting list,
seat offers and their lapse, cancellation (points refunded through the checkout pipeline) and check-in at the desk.

**Lock order**, the same in every use case here, after whatever a caller holds:

1. the event row (`lock_one`) — it serialises an event's seats: registrations, cancellations, promotions and
   lapses. The idempotency key and the member's live registration are checked *after* taking it, so a double tap
   or a concurrent resubmit finds the first registration; `queue_no` is taken under it, so the waiting list is
   served in the order members reached the lock;
2. the registration row (cancel, confirm, lapse, check-in);
3. what the checkout locks for a points-priced seat: the member's accounts, the tier row (then, for a refund, the
   sale row) — `sale_commit_in_tx` / `sale_refund_in_tx`, channel `event`.

Inbox messages to promoted members are sent `on_commit` (never inside the lock, never for a rolled-back promotion).
Every change is audited."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import pictures, timeutil
from galleria.core.errors import ConflictError, ValidationError
from galleria.core.events import publish
from galleria.core.locking import lock_one
from galleria.merchants.selectors import store_for_payments
from galleria.messaging.services import inbox_send
from galleria.messaging.types import Audience
from galleria.payments.services import attempt_refund_book_in_tx
from galleria.points import selectors as points_selectors
from galleria.sales.services import sale_commit_in_tx, sale_refund_in_tx
from galleria.sales.types import Channel, LineIn, PaymentIn, SaleIn
from galleria.tiers.selectors import member_tier, tier_level_options

from . import exceptions, rules, selectors
from .models import Event, EventPolicy, Question, Registration
from .types import HOLDING, EventIn, EventStatus, GatewayPaid, NoShowPolicy, QuestionIn, QuestionKind, RegistrationState

IMAGE_PREFIX = "events"
LINE_CATEGORY = "event"

__all__ = [
    "check_in",
    "event_poster_set",
    "event_save",
    "member_erase_in_tx",
    "offer_confirm",
    "offers_lapse",
    "policy_save",
    "question_delete",
    "question_save",
    "register",
    "registration_cancel",
]

_FIELDS = (
    "title",
    "mall_id",
    "place",
    "description",
    "starts_at",
    "ends_at",
    "registration_opens_at",
    "registration_closes_at",
    "capacity",
    "per_member_limit",
    "tier_mode",
    "min_tier_id",
    "priority_until",
    "price_points",
    "price_fen",
    "store_id",
    "cancel_hours_before",
    "status",
)


# ------------------------------------------------------------------------------------------------- console


def _reference_problems(mall_group_id: int, data: EventIn) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not selectors.mall_in_group(mall_group_id=mall_group_id, mall_id=data.mall_id):
        errors["mall"] = _("Choose a mall of this group.")
    if data.min_tier_id is not None and not tier_level_options(mall_group_id=mall_group_id).filter(pk=data.min_tier_id):
        errors["min_tier"] = _("Choose a tier of this mall group.")
    if data.store_id is not None and store_for_payments(store_id=data.store_id, mall_group_id=mall_group_id) is None:
        errors["store"] = _("Choose an open store of this mall group.")
    if data.price_points:
        config = points_selectors.redeem_config(policy=points_selectors.policy_get(mall_group_id=mall_group_id))
        problem = rules.price_problem(
            data.price_points,
            min_points=config.min_points,
            multiple=config.multiple,
            points_per_yuan=config.points_per_yuan,
        )
        if problem:
            errors["price_points"] = problem
    return errors


def event_save(*, mall_group_id: int, event_id: int | None, data: EventIn, actor: Actor) -> Event:
    """Create or edit an event. The capacity may not drop below the seats already taken."""
    errors = rules.event_problems(data) | _reference_problems(mall_group_id, data)
    if errors:
        raise exceptions.EventInvalidError(_("Check the fields marked."), fields=errors)
    with transaction.atomic(durable=True):
        if event_id is None:
            event = Event(mall_group_id=mall_group_id)
            before: dict[str, object] = {}
        else:
            found = selectors.event_get(mall_group_id=mall_group_id, event_id=event_id)
            if found is None:
                raise exceptions.EventNotFoundError()
            event = lock_one(Event.objects.filter(pk=found.pk))
            before = {f: getattr(event, f) for f in _FIELDS}
            if data.capacity < event.seats_taken:
                message = _("%(n)s seats are taken: the capacity cannot be lower.") % {"n": event.seats_taken}
                raise exceptions.EventInvalidError(message, fields={"capacity": message})
        for name in _FIELDS:
            value = getattr(data, name)
            setattr(event, name, value.strip() if isinstance(value, str) else value)
        event.save()
        if event_id is not None:
            _promote_in_tx(event, actor=actor, at=timeutil.now())  # a larger capacity serves the waiting list
        after = {f: getattr(event, f) for f in _FIELDS}
        audit_record(
            actor=actor,
            action="event.create" if event_id is None else "event.update",
            target_type="event",
            target_id=event.pk,
            target_label=event.title,
            mall_group_id=mall_group_id,
            changes={
                k: [_plain(before.get(k)), _plain(v)] for k, v in after.items() if before.get(k) != v or not before
            },
        )
        return event


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def event_poster_set(*, mall_group_id: int, event_id: int, data: bytes, actor: Actor) -> Event:
    """Check and re-encode the poster (events/images.py), store it, point the event at it."""
    picture = pictures.clean_picture(data, error=exceptions.ImageInvalidError)
    with transaction.atomic(durable=True):
        found = selectors.event_get(mall_group_id=mall_group_id, event_id=event_id)
        if found is None:
            raise exceptions.EventNotFoundError()
        event = lock_one(Event.objects.filter(pk=found.pk))
        name = default_storage.save(f"{IMAGE_PREFIX}/{event.pk}/{uuid.uuid4().hex}.jpg", ContentFile(picture.data))
        event.poster_name, event.poster_sha = name, picture.sha256
        event.save(update_fields=["poster_name", "poster_sha", "updated_at"])
        audit_record(
            actor=actor,
            action="event.poster",
            target_type="event",
            target_id=event.pk,
            target_label=event.title,
            mall_group_id=mall_group_id,
            changes={"poster": picture.sha256[:12], "size": f"{picture.width}×{picture.height}"},
        )
        return event


def policy_save(*, mall_group_id: int, policy: NoShowPolicy, actor: Actor) -> EventPolicy:
    bounds = {"limit": (0, 20), "window_days": (1, 365), "block_days": (1, 365), "offer_hours": (1, 168)}
    errors = {
        name: _("Enter a number between %(lo)s and %(hi)s.") % {"lo": lo, "hi": hi}
        for name, (lo, hi) in bounds.items()
        if not lo <= getattr(policy, name) <= hi
    }
    if errors:
        raise ValidationError(_("Check the fields marked."), code="events.policy_invalid", fields=errors)
    with transaction.atomic(durable=True):
        EventPolicy.objects.get_or_create(mall_group_id=mall_group_id)
        row = lock_one(EventPolicy.objects.filter(mall_group_id=mall_group_id))
        row.no_show_limit, row.no_show_window_days = policy.limit, policy.window_days
        row.no_show_block_days, row.offer_hours = policy.block_days, policy.offer_hours
        row.save()
        audit_record(
            actor=actor,
            action="event.policy_save",
            target_type="event_policy",
            target_id=mall_group_id,
            mall_group_id=mall_group_id,
            changes={
                "no_show": f"{policy.limit}/{policy.window_days}d → {policy.block_days}d",
                "offer_hours": policy.offer_hours,
            },
        )
        return row


# ------------------------------------------------------------------------------------------------- registering


def _new_code(mall_group_id: int) -> str:
    code = rules.new_ticket_code()
    while Registration.objects.filter(mall_group_id=mall_group_id, code=code).exists():
        code = rules.new_ticket_code()  # pragma: no cover - 1 in 10⁸ per ticket
    return code


def _check_may_register(event: Event, *, member_id: int, seats: int, at: dt.datetime) -> None:
    """Every check of a new registration (run under the event's lock)."""
    if event.status != EventStatus.PUBLISHED or not rules.registration_open(
        opens_at=event.registration_opens_at,
        closes_at=event.registration_closes_at,
        starts_at=event.starts_at,
        at=at,
    ):
        raise exceptions.RegistrationClosedError()
    if not rules.seats_ok(seats=seats, per_member_limit=event.per_member_limit):
        raise exceptions.SeatsInvalidError(fields={"seats": exceptions.SeatsInvalidError().message})
    if event.min_tier_id is not None:
        tier = member_tier(member_id=member_id, mall_group_id=event.mall_group_id)
        problem = rules.tier_problem(
            mode=event.tier_mode,
            member_rank=tier.rank,
            min_rank=event.min_tier.rank if event.min_tier else None,
            priority_until=event.priority_until,
            at=at,
        )
        if problem == "events.tier_required":
            raise exceptions.TierRequiredError()
        if problem == "events.tier_priority":
            raise exceptions.TierPriorityError()
    blocked = selectors.no_show_blocked_until(mall_group_id=event.mall_group_id, member_id=member_id, at=at)
    if blocked is not None:
        raise exceptions.NoShowBlockedError(
            _("You missed recent events you had registered for: you can register again from %(day)s.")
            % {"day": timeutil.local(blocked, selectors.event_tz(event)).strftime("%Y-%m-%d %H:%M")},
            extra={"until": blocked.isoformat()},
        )
    if selectors.live_registration(event_id=event.pk, member_id=member_id) is not None:
        raise exceptions.AlreadyRegisteredError()


def _charge(
    event: Event, reg: Registration, *, actor: Actor, at: dt.datetime, gateway: GatewayPaid | None = None
) -> None:
    """A priced seat: a sale of the event's store through the checkout pipeline (member's accounts, tier), paid
    with points and/or (`gateway`, services_gateway.py) the money WeChat Pay / Alipay took for `price_fen`."""
    if not event.price_points and not event.price_fen:
        return
    assert event.store is not None
    config = points_selectors.redeem_config(policy=points_selectors.policy_get(mall_group_id=event.mall_group_id))
    unit_fen = event.price_points * 100 // config.points_per_yuan + event.price_fen
    tenders: tuple[PaymentIn, ...] = ()
    if event.price_fen:
        if gateway is None or gateway.amount_fen != event.price_fen * reg.seats:
            raise exceptions.PaymentRequiredError()
        tenders = (PaymentIn(method=gateway.provider, amount_fen=gateway.amount_fen),)
        reg.paid_fen, reg.out_trade_no = gateway.amount_fen, gateway.out_trade_no
    reg.points = event.price_points * reg.seats
    reg.pos_sale_id = f"ev:{reg.pk}:{reg.code}"
    sale = sale_commit_in_tx(
        data=SaleIn(
            merchant_id=event.store.merchant_id,
            store_id=event.store_id or 0,
            terminal_id=None,
            pos_sale_id=reg.pos_sale_id,
            occurred_at=at,
            lines=(
                LineIn(
                    sku=f"EV{event.pk}",
                    name=event.title[:120],
                    quantity=reg.seats,
                    unit_price_fen=unit_fen,
                    amount_fen=unit_fen * reg.seats,
                    category=LINE_CATEGORY,
                ),
            ),
            payments=tenders,
            member_id=reg.member_id,
            points_to_use=reg.points,
            channel=Channel.EVENT,
        ),
        actor=actor,
    )
    reg.sale_id = sale.sale_id


def register_in_tx(
    *,
    event_id: int,
    member_id: int,
    seats: int,
    key: str,
    actor: Actor,
    at: dt.datetime,
    answers: list[dict[str, object]] | None = None,
) -> Registration:
    event = lock_one(Event.objects.filter(pk=event_id).select_related("min_tier", "store"), of=("self",))
    done = selectors.registration_by_key(member_id=member_id, key=key)  # under the lock: a resubmit finds it
    if done is not None:
        if done.event_id != event_id or done.seats != seats:
            raise exceptions.IdempotencyConflictError()
        return done
    _check_may_register(event, member_id=member_id, seats=seats, at=at)
    event.queue_seq += 1
    has_room = event.seats_taken + seats <= event.capacity and not selectors.has_queue(event_id=event.pk)
    if has_room and event.price_fen and event.price_points:  # a seat held for paying needs the points too
        balance = points_selectors.points_balance(member_id=member_id)
        if balance < event.price_points * seats:
            raise ConflictError(_("Not enough points."), code="points.insufficient", extra={"balance": balance})
    reg = Registration.objects.create(
        mall_group_id=event.mall_group_id,
        event=event,
        member_id=member_id,
        seats=seats,
        state=(RegistrationState.PAYING if event.price_fen else RegistrationState.CONFIRMED)
        if has_room
        else RegistrationState.WAITING,
        queue_no=event.queue_seq,
        idempotency_key=key[:80],
        code=_new_code(event.mall_group_id),
        confirmed_at=at if has_room and not event.price_fen else None,
        pay_expires_at=rules.pay_deadline(at=at, starts_at=event.starts_at) if has_room and event.price_fen else None,
        answers=answers or [],
    )
    if has_room:
        event.seats_taken += seats
        if not event.price_fen:  # a money-priced seat is held while the member pays (services_gateway.py)
            _charge(event, reg, actor=actor, at=at)
            reg.save(update_fields=["points", "pos_sale_id", "sale_id", "updated_at"])
    event.save(update_fields=["queue_seq", "seats_taken", "updated_at"])
    publish("event.registered", member_id=member_id, registration_id=reg.pk)
    audit_record(
        actor=actor,
        action="event.register",
        target_type="event_registration",
        target_id=reg.pk,
        target_label=event.title,
        mall_group_id=event.mall_group_id,
        changes={"event": event.pk, "seats": seats, "state": reg.state, "points": reg.points, "queue_no": reg.queue_no},
    )
    return reg


def register(
    *,
    mall_group_id: int,
    event_id: int,
    member_id: int,
    seats: int,
    key: str,
    actor: Actor,
    at: dt.datetime | None = None,
    answers: dict[str, list[str]] | None = None,
) -> Registration:
    """A member registers for `seats` seats: confirmed while seats are free (and nobody waits), otherwise on the
    waiting list; a money-priced seat is held while the member pays (services_gateway.py). Idempotent per (member,
    key): the same key returns the first registration (also when two requests race: the second waits on the event's
    lock); the same key for another event or seat count is a conflict. `answers`: "q<id>" → the values given to the
    event's questions (AnswersInvalidError with the problems per field)."""
    if not key or len(key) > 80:
        raise ConflictError(_("This form has expired. Please start again."), code="events.key_required")
    if selectors.event_get(mall_group_id=mall_group_id, event_id=event_id) is None:
        raise exceptions.EventNotFoundError()
    cleaned, problems = rules.clean_answers(selectors.question_specs(event_id=event_id), answers or {})
    if problems and selectors.registration_by_key(member_id=member_id, key=key) is None:
        raise exceptions.AnswersInvalidError(_("Please check your answers."), fields=problems)
    try:
        with transaction.atomic(durable=True):
            return register_in_tx(
                event_id=event_id,
                member_id=member_id,
                seats=seats,
                key=key,
                actor=actor,
                at=at or timeutil.now(),
                answers=cleaned,
            )
    except IntegrityError:  # a constraint backed a check (a live registration raced in from another key)
        done = selectors.registration_by_key(member_id=member_id, key=key)
        if done is not None:
            return done
        raise exceptions.AlreadyRegisteredError() from None


# ------------------------------------------------------------------------------------------------- the waiting list


def _notify_offer(reg: Registration, event: Event) -> Callable[[], None]:
    tz = selectors.event_tz(event)
    deadline = timeutil.local(reg.offer_expires_at or event.starts_at, tz).strftime("%m-%d %H:%M")
    title = _("A seat is free for you: %(title)s") % {"title": event.title[:40]}
    body = _(
        "A seat became free at %(title)s (%(when)s, %(place)s) and it is yours if you confirm by %(deadline)s "
        "in My tickets. After that it goes to the next member on the waiting list."
    ) % {
        "title": event.title,
        "when": timeutil.local(event.starts_at, tz).strftime("%Y-%m-%d %H:%M"),
        "place": event.place,
        "deadline": deadline,
    }
    group_id, member_id = event.mall_group_id, reg.member_id

    def send() -> None:
        inbox_send(
            mall_group_id=group_id,
            audience=Audience.MEMBER,
            member_id=member_id,
            title=title[:60],
            body=body,
            actor=Actor.system("events"),
        )

    return send


def _promote_in_tx(event: Event, *, actor: Actor, at: dt.datetime) -> list[Registration]:
    """Offer freed seats to the waiting list in arrival order (caller holds the event's lock). The head of the
    queue that does not fit stops the promotion (no overtaking). Each promoted member gets an inbox message after
    commit and `offer_hours` to confirm."""
    if at >= event.starts_at or event.status != EventStatus.PUBLISHED:
        return []
    policy = selectors.policy_of(mall_group_id=event.mall_group_id)
    promoted: list[Registration] = []
    for reg in selectors.waiting(event_id=event.pk):
        if event.seats_taken + reg.seats > event.capacity:
            break
        reg = lock_one(Registration.objects.filter(pk=reg.pk))
        reg.state = RegistrationState.OFFERED
        reg.offer_expires_at = rules.offer_deadline(at=at, starts_at=event.starts_at, offer_hours=policy.offer_hours)
        reg.save(update_fields=["state", "offer_expires_at", "updated_at"])
        event.seats_taken += reg.seats
        transaction.on_commit(_notify_offer(reg, event))
        audit_record(
            actor=actor,
            action="event.offer",
            target_type="event_registration",
            target_id=reg.pk,
            target_label=event.title,
            mall_group_id=event.mall_group_id,
            changes={
                "state": [RegistrationState.WAITING, RegistrationState.OFFERED],
                "until": reg.offer_expires_at.isoformat(),
            },
        )
        promoted.append(reg)
    if promoted:
        Event.objects.filter(pk=event.pk).update(seats_taken=event.seats_taken)
    return promoted


def _locked(*, registration_id: int, mall_group_id: int | None, member_id: int | None) -> tuple[Event, Registration]:
    found = selectors.registration_get(registration_id=registration_id, mall_group_id=mall_group_id)
    if found is None or (member_id is not None and found.member_id != member_id):
        raise exceptions.RegistrationNotFoundError()
    event = lock_one(Event.objects.filter(pk=found.event_id).select_related("store"), of=("self",))  # 1. the event
    return event, lock_one(Registration.objects.filter(pk=found.pk))  # 2. the registration


def offer_confirm(*, registration_id: int, member_id: int, actor: Actor, at: dt.datetime | None = None) -> Registration:
    """The promoted member takes the offered seat before its deadline (and pays its points, if priced)."""
    at = at or timeutil.now()
    with transaction.atomic(durable=True):
        event, reg = _locked(registration_id=registration_id, mall_group_id=None, member_id=member_id)
        if reg.state == RegistrationState.CONFIRMED:
            return reg
        if event.price_fen and reg.state in (RegistrationState.OFFERED, RegistrationState.PAYING):
            raise exceptions.PaymentRequiredError()  # confirmed when the money arrives (services_gateway.py)
        if reg.state != RegistrationState.OFFERED or (reg.offer_expires_at and at > reg.offer_expires_at):
            raise exceptions.OfferNotOpenError()
        _charge(event, reg, actor=actor, at=at)
        reg.state, reg.confirmed_at, reg.offer_expires_at = RegistrationState.CONFIRMED, at, None
        reg.save()
        audit_record(
            actor=actor,
            action="event.confirm",
            target_type="event_registration",
            target_id=reg.pk,
            target_label=event.title,
            mall_group_id=event.mall_group_id,
            changes={"state": [RegistrationState.OFFERED, RegistrationState.CONFIRMED], "points": reg.points},
        )
        return reg


def _release(event: Event, reg: Registration, *, state: str, actor: Actor, at: dt.datetime, by: str) -> None:
    """Cancel or lapse a registration under both locks: refund its points, free its seats, promote the queue."""
    before = reg.state
    if reg.sale_id is not None and reg.refund_id is None:
        refund = sale_refund_in_tx(  # the accounts, then the sale row
            merchant_id=_merchant_of(event), pos_sale_id=reg.pos_sale_id, pos_refund_id=f"evc:{reg.pk}", lines=None
        )
        reg.refund_id, reg.points_returned = refund.refund_id, refund.points_returned
    if reg.paid_fen and reg.out_trade_no and reg.gateway_refund_id is None:  # the gateway's money goes back
        reg.gateway_refund_id = attempt_refund_book_in_tx(
            out_trade_no=reg.out_trade_no,
            amount_fen=reg.paid_fen,
            out_refund_no=f"REV{reg.pk}",
            reason="event_cancelled",
            origin="events",
        )
    if before in HOLDING:
        event.seats_taken -= reg.seats
        Event.objects.filter(pk=event.pk).update(seats_taken=F("seats_taken") - reg.seats)
    reg.state, reg.cancelled_at, reg.cancelled_by, reg.offer_expires_at = state, at, by[:100], None
    reg.pay_expires_at = None
    reg.save()
    audit_record(
        actor=actor,
        action="event.cancel" if state == RegistrationState.CANCELLED else "event.lapse",
        target_type="event_registration",
        target_id=reg.pk,
        target_label=event.title,
        mall_group_id=event.mall_group_id,
        changes={"state": [before, state], "points_returned": reg.points_returned, "refund_fen": reg.paid_fen},
    )
    _promote_in_tx(event, actor=actor, at=at)


def _merchant_of(event: Event) -> int:
    assert event.store is not None
    return int(event.store.merchant_id)


def registration_cancel(
    *,
    registration_id: int,
    actor: Actor,
    member_id: int | None = None,
    mall_group_id: int | None = None,
    at: dt.datetime | None = None,
) -> Registration:
    """Cancel a registration: by the member (`member_id`; a seat until `cancel_hours_before` the start, a place in
    the queue or an offer until the start) or by staff of `mall_group_id` (any time before check-in). Points come
    back through the pipeline's refund; the seat goes to the waiting list. A cancelled one returns unchanged."""
    at = at or timeutil.now()
    with transaction.atomic(durable=True):
        event, reg = _locked(registration_id=registration_id, mall_group_id=mall_group_id, member_id=member_id)
        if reg.state in (RegistrationState.CANCELLED, RegistrationState.LAPSED):
            return reg
        if reg.state == RegistrationState.CHECKED_IN:
            raise exceptions.CancelNotAllowedError()
        if member_id is not None:
            hours = event.cancel_hours_before if reg.state == RegistrationState.CONFIRMED else 0
            if not rules.can_member_cancel(starts_at=event.starts_at, cancel_hours_before=hours, at=at):
                raise exceptions.CancelNotAllowedError()
        _release(event, reg, state=RegistrationState.CANCELLED, actor=actor, at=at, by=actor.label)
        return reg


def offers_lapse(*, at: dt.datetime | None = None, limit: int = 500) -> int:
    """The periodic job: offers past their deadline, and money-priced seats held unpaid past theirs, lapse and
    their seats go to the next in line (a payment arriving later is refunded in full by payments). One transaction
    per offer (idempotent: a confirmed or already lapsed one is skipped). Returns how many lapsed."""
    at = at or timeutil.now()
    lapsed = 0
    for registration_id in selectors.expired_offer_ids(at=at, limit=limit):
        with transaction.atomic(durable=True):
            event, reg = _locked(registration_id=registration_id, mall_group_id=None, member_id=None)
            offer_over = reg.state == RegistrationState.OFFERED and reg.offer_expires_at and reg.offer_expires_at <= at
            unpaid = reg.state == RegistrationState.PAYING and reg.pay_expires_at and reg.pay_expires_at <= at
            if not (offer_over or unpaid):
                continue
            _release(event, reg, state=RegistrationState.LAPSED, actor=Actor.system("events"), at=at, by="system")
            lapsed += 1
    return lapsed


# ------------------------------------------------------------------------------------------------- check-in


def check_in(*, mall_group_id: int, code: str, actor: Actor, at: dt.datetime | None = None) -> Registration:
    """Check a ticket in at the desk. Works once: the registration's lock makes two desks check in once; a second
    scan is AlreadyCheckedInError (polite), a cancelled or waiting ticket TicketNotValidError."""
    at = at or timeutil.now()
    normalised = rules.normalise_code(code)
    found = selectors.registration_by_code(mall_group_id=mall_group_id, code=normalised) if normalised else None
    if found is None:
        raise exceptions.TicketInvalidError(fields={"code": exceptions.TicketInvalidError().message})
    with transaction.atomic(durable=True):
        reg = lock_one(Registration.objects.filter(pk=found.pk).select_related("event"), of=("self",))
        if reg.state == RegistrationState.CHECKED_IN:
            raise exceptions.AlreadyCheckedInError(extra={"checked_in_at": reg.checked_in_at})
        if reg.state != RegistrationState.CONFIRMED:
            raise exceptions.TicketNotValidError(extra={"state": reg.state})
        if not rules.check_in_open(starts_at=reg.event.starts_at, ends_at=reg.event.ends_at, at=at):
            raise exceptions.CheckInClosedError()
        reg.state, reg.checked_in_at, reg.checked_in_by = RegistrationState.CHECKED_IN, at, actor.label[:100]
        reg.save(update_fields=["state", "checked_in_at", "checked_in_by", "updated_at"])
        publish("event.attended", member_id=reg.member_id, registration_id=reg.pk)
        audit_record(
            actor=actor,
            action="event.check_in",
            target_type="event_registration",
            target_id=reg.pk,
            target_label=reg.event.title,
            mall_group_id=mall_group_id,
            changes={"state": [RegistrationState.CONFIRMED, RegistrationState.CHECKED_IN], "seats": reg.seats},
        )
        return reg


# ------------------------------------------------------------------------------------------------- questions


def question_save(*, mall_group_id: int, event_id: int, data: QuestionIn, actor: Actor) -> Question:
    """Add a registration question at the end of the event's list (answers already given keep the question as it
    was asked)."""
    errors = rules.question_problems(data)
    if errors:
        raise exceptions.EventInvalidError(_("Check the fields marked."), fields=errors)
    with transaction.atomic(durable=True):
        found = selectors.event_get(mall_group_id=mall_group_id, event_id=event_id)
        if found is None:
            raise exceptions.EventNotFoundError()
        event = lock_one(Event.objects.filter(pk=found.pk))
        existing = list(selectors.questions(event_id=event.pk))
        if len(existing) >= rules.MAX_QUESTIONS:
            message = _("An event has at most %(n)s questions.") % {"n": rules.MAX_QUESTIONS}
            raise exceptions.EventInvalidError(message, fields={"label": message})
        choices = [c.strip() for c in data.choices if c.strip()] if data.kind != QuestionKind.TEXT else []
        question = Question.objects.create(
            event=event,
            position=(existing[-1].position + 1) if existing else 1,
            kind=data.kind,
            label=data.label.strip(),
            choices=choices,
            required=data.required,
        )
        audit_record(
            actor=actor,
            action="event.question_save",
            target_type="event",
            target_id=event.pk,
            target_label=event.title,
            mall_group_id=mall_group_id,
            changes={"question": question.label, "kind": question.kind, "required": question.required},
        )
        return question


def question_delete(*, mall_group_id: int, event_id: int, question_id: int, actor: Actor) -> None:
    """Remove a question: members registering from now on are not asked it; the answers given stay."""
    with transaction.atomic(durable=True):
        found = selectors.event_get(mall_group_id=mall_group_id, event_id=event_id)
        if found is None:
            raise exceptions.EventNotFoundError()
        event = lock_one(Event.objects.filter(pk=found.pk))
        question = Question.objects.filter(event=event, pk=question_id).first()
        if question is None:
            raise exceptions.QuestionNotFoundError()
        label = question.label
        question.delete()
        audit_record(
            actor=actor,
            action="event.question_delete",
            target_type="event",
            target_id=event.pk,
            target_label=event.title,
            mall_group_id=mall_group_id,
            changes={"question": label},
        )


def member_erase_in_tx(*, member_id: int, mall_group_id: int, phone: str, values: list[str]) -> int:
    """Erasure (settings.GALLERIA_ERASURE_HANDLERS): the member's free-text answers to registration questions are
    blanked (the choices they picked stay, as the registrations do, for the statistics). Returns how many
    registrations were rewritten."""
    changed = 0
    regs = Registration.objects.filter(member_id=member_id, mall_group_id=mall_group_id).exclude(answers=[])
    for reg in regs.only("pk", "answers"):
        answers = [
            {**a, "value": ""} if a.get("kind") == QuestionKind.TEXT and a.get("value") else a for a in reg.answers
        ]
        if answers != reg.answers:
            Registration.objects.filter(pk=reg.pk).update(answers=answers)
            changed += 1
    return changed
