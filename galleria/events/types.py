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


class RegistrationState(models.TextChoices):
    CONFIRMED = "confirmed", pgettext_lazy("event registration", "Confirmed")
    WAITING = "waiting", pgettext_lazy("event registration", "On the waiting list")
    OFFERED = "offered", pgettext_lazy("event registration", "Seat offered: confirm")
    CHECKED_IN = "checked_in", pgettext_lazy("event registration", "Checked in")
    CANCELLED = "cancelled", pgettext_lazy("event registration", "Cancelled")
    LAPSED = "lapsed", pgettext_lazy("event registration", "Offer lapsed")


# states that hold seats (count in Event.seats_taken)
HOLDING = frozenset({RegistrationState.CONFIRMED, RegistrationState.OFFERED, RegistrationState.CHECKED_IN})
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
