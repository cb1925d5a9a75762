"""Events' enums and the frozen values that cross app boundaries (docs/events.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils.translation import pgettext_lazy


class EventStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("event status", "Draft")
    PUBLISHED = "published", pgettext_lazy("event status", "Published")
    CANCELLED = "cancelled", pgettext_lazy("event status", "Cancelled")


class TierMode(models.TextChoices):
    OPEN = "open", pgettext_lazy("event tiers", "Open to every member")
    TIER_ONLY = "tier_only", pgettext_lazy("event tiers", "Only the tier and above")
    TIER_PRIORITY = "tier_priority", pgettext_lazy("event tiers", "The tier and above first, then everyone")


class QuestionKind(models.TextChoices):
    TEXT = "text", pgettext_lazy("event question", "Text")
    SINGLE = "single", pgettext_lazy("event question", "One choice")
    MULTIPLE = "multiple", pgettext_lazy("event question", "Several choices")


class RegistrationState(models.TextChoices):
    CONFIRMED = "confirmed", pgettext_lazy("event registration", "Confirmed")
    PAYING = "paying", pgettext_lazy("event registration", "Seat held: pay to confirm")
    WAITING = "waiting", pgettext_lazy("event registration", "On the waiting list")
    OFFERED = "offered", pgettext_lazy("event registration", "Seat offered: confirm")
    CHECKED_IN = "checked_in", pgettext_lazy("event registration", "Checked in")
    CANCELLED = "cancelled", pgettext_lazy("event registration", "Cancelled")
    LAPSED = "lapsed", pgettext_lazy("event registration", "Offer lapsed")


# states that hold seats (count in Event.seats_taken)
HOLDING = frozenset(
    {RegistrationState.CONFIRMED, RegistrationState.OFFERED, RegistrationState.CHECKED_IN, RegistrationState.PAYING}
)
# states of a live registration (one per member and event)
LIVE = frozenset({*HOLDING, RegistrationState.WAITING})


@dataclass(frozen=True)
class EventIn:
    """The console's event as the editor sends it (times aware)."""

    title: str
    mall_id: int
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    description: str = ""
    registration_opens_at: dt.datetime | None = None
    registration_closes_at: dt.datetime | None = None
    per_member_limit: int = 1
    tier_mode: str = TierMode.OPEN
    min_tier_id: int | None = None
    priority_until: dt.datetime | None = None
    price_points: int = 0
    price_fen: int = 0
    store_id: int | None = None
    cancel_hours_before: int = 24
    status: str = EventStatus.DRAFT


@dataclass(frozen=True)
class NoShowPolicy:
    """A group's no-show rule: `limit` no-shows within `window_days` block registration for `block_days`
    (limit 0 = off)."""

    limit: int = 2
    window_days: int = 90
    block_days: int = 30
    offer_hours: int = 24  # how long a promoted member has to confirm


@dataclass(frozen=True)
class Attendance:
    registered: int  # seats confirmed or checked in
    checked_in: int
    no_shows: int  # after the event: confirmed, never checked in
    waiting: int
    offered: int
    cancelled: int
    capacity: int


@dataclass(frozen=True)
class GatewayPaid:
    """The money a payment gateway took for a money-priced seat (services_gateway.py)."""

    provider: str
    amount_fen: int
    out_trade_no: str


@dataclass(frozen=True)
class QuestionIn:
    """A registration question as the console's form sends it (`choices` for single and multiple choice)."""

    label: str
    kind: str = QuestionKind.TEXT
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class QuestionSpec:
    """A saved question, as the answers are checked against it."""

    question_id: int
    label: str
    kind: str
    choices: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class ConversionStratum:
    tier: str
    band: str  # "25–34", "55+", "" unknown
    attendees: int
    attendee_spend_fen: int
    peers: int
    peer_spend_fen: int


@dataclass(frozen=True)
class Conversion:
    """An event's attendees' spend in its mall that day vs similar members (same tier and age band, not registered):
    totals and per stratum. Spend is every channel but the event seats, less refunds."""

    day: dt.date
    attendees: int
    attendee_buyers: int
    attendee_spend_fen: int
    peers: int
    peer_buyers: int
    peer_spend_fen: int
    peer_average_fen: int | None  # weighted to the attendees' tier and age mix
    strata: tuple[ConversionStratum, ...]
    peers_capped: bool  # a stratum had more similar members than are compared

    @property
    def attendee_average_fen(self) -> int | None:
        return self.attendee_spend_fen // self.attendees if self.attendees else None

    @property
    def attendee_buyer_pct(self) -> int | None:
        return self.attendee_buyers * 100 // self.attendees if self.attendees else None

    @property
    def peer_buyer_pct(self) -> int | None:
        return self.peer_buyers * 100 // self.peers if self.peers else None
