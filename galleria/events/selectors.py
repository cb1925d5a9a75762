"""Events reads (docs/events.md): events for the app and the console, a member's tickets and waiting-list
position, the desk's lookup by ticket code, the registrations list and export, attendance and no-shows.

Other layers read events through this module and `types`; the tables are private (import-linter)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db.models import Count, Q, QuerySet, Sum

from galleria.core import sql
from galleria.malls.selectors import mall_list
from galleria.tiers.selectors import group_tz

from . import rules
from . import sql as events_sql
from .models import Event, EventPolicy, Question, Registration
from .types import HOLDING, LIVE, Attendance, EventStatus, NoShowPolicy, QuestionSpec, RegistrationState

S = RegistrationState


def event_tz(event: Event) -> str | None:
    """The event's mall's time zone (times are shown and entered in it)."""
    if event.mall_id is not None:
        return str(event.mall.timezone)
    return group_tz(mall_group_id=event.mall_group_id)


def mall_in_group(*, mall_group_id: int, mall_id: int) -> bool:
    return mall_list(mall_group_id=mall_group_id).filter(pk=mall_id).exists()


def _events(mall_group_id: int | None) -> QuerySet[Event]:
    qs = Event.objects.select_related("min_tier", "mall", "store")
    return qs if mall_group_id is None else qs.filter(mall_group_id=mall_group_id)


def event_get(*, mall_group_id: int | None, event_id: int) -> Event | None:
    return _events(mall_group_id).filter(pk=event_id).first()


def event_list(*, mall_group_id: int, query: str = "", status: str = "") -> QuerySet[Event]:
    qs = _events(mall_group_id)
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(place__icontains=query))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-starts_at", "-pk")


def events_for_members(*, mall_group_id: int, at: dt.datetime) -> QuerySet[Event]:
    """Published events that have not ended, soonest first."""
    return _events(mall_group_id).filter(status=EventStatus.PUBLISHED, ends_at__gt=at).order_by("starts_at", "pk")


def event_by_poster(*, event_id: int, sha: str) -> Event | None:
    return Event.objects.filter(pk=event_id, poster_sha=sha).exclude(status=EventStatus.DRAFT).first()


def poster_bytes(*, event: Event) -> bytes | None:
    if not event.poster_name:
        return None
    try:
        with default_storage.open(event.poster_name, "rb") as f:
            return bytes(f.read())
    except OSError:
        return None


def policy_of(*, mall_group_id: int) -> NoShowPolicy:
    row = EventPolicy.objects.filter(mall_group_id=mall_group_id).first()
    if row is None:
        return NoShowPolicy()
    return NoShowPolicy(
        limit=row.no_show_limit,
        window_days=row.no_show_window_days,
        block_days=row.no_show_block_days,
        offer_hours=row.offer_hours,
    )


# ------------------------------------------------------------------------------------------------- registrations


def registration_by_key(*, member_id: int, key: str) -> Registration | None:
    return Registration.objects.filter(member_id=member_id, idempotency_key=key[:80]).first()


def live_registration(*, event_id: int, member_id: int) -> Registration | None:
    return Registration.objects.filter(event_id=event_id, member_id=member_id, state__in=LIVE).first()


def has_queue(*, event_id: int) -> bool:
    return Registration.objects.filter(event_id=event_id, state=S.WAITING).exists()


def waiting(*, event_id: int) -> QuerySet[Registration]:
    """The waiting list in arrival order."""
    return Registration.objects.filter(event_id=event_id, state=S.WAITING).select_related("member").order_by("queue_no")


def waiting_position(*, registration: Registration) -> int:
    """1 for the head of the queue."""
    if registration.state != S.WAITING:
        return 0
    ahead = Registration.objects.filter(
        event_id=registration.event_id, state=S.WAITING, queue_no__lt=registration.queue_no
    ).count()
    return ahead + 1


def registration_get(*, registration_id: int, mall_group_id: int | None) -> Registration | None:
    qs = Registration.objects.select_related("event", "member").filter(pk=registration_id)
    return qs.first() if mall_group_id is None else qs.filter(mall_group_id=mall_group_id).first()


def registration_by_code(*, mall_group_id: int, code: str) -> Registration | None:
    if not code:
        return None
    return Registration.objects.select_related("event", "member").filter(mall_group_id=mall_group_id, code=code).first()


def member_tickets(*, member_id: int) -> QuerySet[Registration]:
    return Registration.objects.filter(member_id=member_id).select_related("event").order_by("-event__starts_at", "-pk")


def member_registration(*, member_id: int, registration_id: int) -> Registration | None:
    return member_tickets(member_id=member_id).filter(pk=registration_id).first()


def registration_list(*, event_id: int, query: str = "", state: str = "") -> QuerySet[Registration]:
    qs = Registration.objects.filter(event_id=event_id).select_related("member")
    if query:
        qs = qs.filter(
            Q(member__card_no__icontains=query)
            | Q(member__phone__icontains=query)
            | Q(member__name__icontains=query)
            | Q(code=query)
        )
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("queue_no", "pk")


def expired_offer_ids(*, at: dt.datetime, limit: int) -> list[int]:
    """Offers past their deadline, then seats held unpaid past theirs (money-priced events)."""
    offers = list(
        Registration.objects.filter(state=S.OFFERED, offer_expires_at__lte=at)
        .order_by("offer_expires_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    unpaid = list(
        Registration.objects.filter(state=S.PAYING, pay_expires_at__lte=at)
        .order_by("pay_expires_at", "pk")
        .values_list("pk", flat=True)[: max(limit - len(offers), 0)]
    )
    return offers + unpaid


# ------------------------------------------------------------------------------------------------- attendance


def attendance(*, event: Event, at: dt.datetime) -> Attendance:
    """Seats per state; no-shows are counted once the event has ended (confirmed, never checked in)."""
    rows = dict(Registration.objects.filter(event_id=event.pk).values_list("state").annotate(n=Sum("seats")).order_by())
    ended = at >= event.ends_at
    confirmed = int(rows.get(S.CONFIRMED, 0) or 0)
    checked_in = int(rows.get(S.CHECKED_IN, 0) or 0)
    return Attendance(
        registered=confirmed + checked_in,
        checked_in=checked_in,
        no_shows=confirmed if ended else 0,
        waiting=int(rows.get(S.WAITING, 0) or 0),
        offered=int(rows.get(S.OFFERED, 0) or 0) + int(rows.get(S.PAYING, 0) or 0),
        cancelled=int(rows.get(S.CANCELLED, 0) or 0) + int(rows.get(S.LAPSED, 0) or 0),
        capacity=event.capacity,
    )


@dataclass(frozen=True)
class NoShowRow:
    event_id: int
    title: str
    starts_at: dt.datetime
    registered: int
    checked_in: int
    no_shows: int


def no_show_stats(*, mall_group_id: int, at: dt.datetime, limit: int = 50) -> list[NoShowRow]:
    """Ended events, latest first: registered, checked in and no-show seats."""
    qs = (
        Event.objects.filter(mall_group_id=mall_group_id, ends_at__lte=at)
        .exclude(status=EventStatus.DRAFT)
        .annotate(
            confirmed=Sum("registrations__seats", filter=Q(registrations__state=S.CONFIRMED)),
            arrived=Sum("registrations__seats", filter=Q(registrations__state=S.CHECKED_IN)),
        )
        .order_by("-starts_at")[:limit]
    )
    return [
        NoShowRow(
            event_id=e.pk,
            title=e.title,
            starts_at=e.starts_at,
            registered=(e.confirmed or 0) + (e.arrived or 0),
            checked_in=e.arrived or 0,
            no_shows=e.confirmed or 0,
        )
        for e in qs
    ]


def no_show_ends(*, member_id: int, since: dt.datetime, at: dt.datetime) -> list[dt.datetime]:
    """The end times of ended events the member had a confirmed seat at and never checked in to."""
    return list(
        Registration.objects.filter(
            member_id=member_id, state=S.CONFIRMED, event__ends_at__gte=since, event__ends_at__lte=at
        ).values_list("event__ends_at", flat=True)
    )


def no_show_blocked_until(*, mall_group_id: int, member_id: int, at: dt.datetime) -> dt.datetime | None:
    policy = policy_of(mall_group_id=mall_group_id)
    if policy.limit <= 0:
        return None
    since = at - dt.timedelta(days=policy.window_days + policy.block_days)
    return rules.no_show_blocked_until(
        no_show_ends=no_show_ends(member_id=member_id, since=since, at=at), policy=policy, at=at
    )


def counts_by_state(*, event_id: int) -> dict[str, int]:
    return dict(Registration.objects.filter(event_id=event_id).values_list("state").annotate(n=Count("pk")).order_by())


def holding_states() -> frozenset[str]:
    return frozenset(HOLDING)


def segment_members_by_registration(*, event_ids: list[int], state: str, now: dt.datetime) -> sql.Fragment:
    """Members registered for / attending / not showing at these events: a segment condition."""
    return events_sql.members_by_registration(event_ids, state=state, now=now)


# ------------------------------------------------------------------------------------------------- questions


def questions(*, event_id: int) -> QuerySet[Question]:
    return Question.objects.filter(event_id=event_id).order_by("position", "pk")


def question_specs(*, event_id: int) -> list[QuestionSpec]:
    return [
        QuestionSpec(
            question_id=q.pk,
            label=q.label,
            kind=q.kind,
            choices=tuple(str(c) for c in q.choices or ()),
            required=q.required,
        )
        for q in questions(event_id=event_id)
    ]
