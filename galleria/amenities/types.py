"""Member services' enums and the frozen values that cross app boundaries (docs/amenities.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import pgettext_lazy


class ItemIcon(models.TextChoices):
    UMBRELLA = "umbrella", pgettext_lazy("rental item", "Umbrella")
    STROLLER = "stroller", pgettext_lazy("rental item", "Stroller")
    WHEELCHAIR = "wheelchair", pgettext_lazy("rental item", "Wheelchair")
    POWER_BANK = "power_bank", pgettext_lazy("rental item", "Power bank")
    OTHER = "other", pgettext_lazy("rental item", "Other")


class FeeUnit(models.TextChoices):
    HOUR = "hour", pgettext_lazy("overdue fee unit", "per started hour")
    DAY = "day", pgettext_lazy("overdue fee unit", "per started day")


class DepositKind(models.TextChoices):
    POINTS = "points", pgettext_lazy("rental deposit", "Points")
    WALLET = "wallet", pgettext_lazy("rental deposit", "Wallet")
    NONE = "none", pgettext_lazy("rental deposit", "No deposit")


class RentalState(models.TextChoices):
    LENT = "lent", pgettext_lazy("rental state", "Lent")
    RETURNED = "returned", pgettext_lazy("rental state", "Returned")
    LOST = "lost", pgettext_lazy("rental state", "Lost")


class StockReason(models.TextChoices):
    ADJUST = "adjust", pgettext_lazy("rental stock", "Count adjusted")
    LEND = "lend", pgettext_lazy("rental stock", "Lent")
    RETURN = "return", pgettext_lazy("rental stock", "Returned")
    LOST = "lost", pgettext_lazy("rental stock", "Written off (lost)")


class OfferingKind(models.TextChoices):
    LOUNGE = "lounge", pgettext_lazy("member service", "Lounge visit")
    GIFT_WRAP = "gift_wrap", pgettext_lazy("member service", "Gift wrapping")
    PERSONAL_SHOPPING = "personal_shopping", pgettext_lazy("member service", "Personal shopping")
    HOME_DELIVERY = "home_delivery", pgettext_lazy("member service", "Home delivery")


class Access(models.TextChoices):
    OPEN = "open", pgettext_lazy("member service access", "Every member")
    LOUNGE_BENEFIT = (
        "lounge_access",
        pgettext_lazy(
            "member service access", "Free for tiers with the lounge benefit; others pay the price (none: not bookable)"
        ),
    )
    MIN_TIER = "min_tier", pgettext_lazy("member service access", "The tier and above")


class BookingState(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("booking state", "Requested")
    CONFIRMED = "confirmed", pgettext_lazy("booking state", "Confirmed")
    DECLINED = "declined", pgettext_lazy("booking state", "Declined")
    CANCELLED = "cancelled", pgettext_lazy("booking state", "Cancelled")
    DONE = "done", pgettext_lazy("booking state", "Done")
    NO_SHOW = "no_show", pgettext_lazy("booking state", "No-show")


# states that take a place of the slot (count in TimeSlot.booked; one per member and slot)
LIVE_BOOKING = frozenset({BookingState.REQUESTED, BookingState.CONFIRMED})


@dataclass(frozen=True)
class Tariff:
    """An item type's charging terms, as the fee calculator (rules.py) reads them."""

    free_minutes: int
    free_minutes_by_tier: dict[str, int] = field(default_factory=dict)
    fee_unit: str = FeeUnit.HOUR
    fee_per_unit_fen: int = 0
    daily_cap_fen: int = 0  # 0: no cap
    lost_fee_fen: int = 0


@dataclass(frozen=True)
class FeeLine:
    """One line of a fee's explanation: `key` is stable, `text` says it in the member's words."""

    key: str
    text: str
    fen: int = 0


@dataclass(frozen=True)
class Fee:
    """What a rental owes at a moment, with the lines that explain it."""

    total_fen: int
    free_minutes: int
    minutes: int  # lent for (whole minutes, rounded down)
    billable_minutes: int
    units: int  # started hours or days past the free period
    lines: tuple[FeeLine, ...]


@dataclass(frozen=True)
class Collection:
    """How much of a fee is taken from the deposit: `fen` of value (`points` when the deposit is points)."""

    fen: int
    points: int
    waived_fen: int  # what the deposit could not cover, or the part points cannot pay (below one unit)


@dataclass(frozen=True)
class ItemTypeIn:
    code: str
    name: str
    icon: str
    deposit_points: int = 0
    deposit_fen: int = 0
    free_minutes: int = 0
    free_minutes_by_tier: dict[str, int] = field(default_factory=dict)
    fee_unit: str = FeeUnit.HOUR
    fee_per_unit_fen: int = 0
    daily_cap_fen: int = 0
    lost_fee_fen: int = 0
    is_active: bool = True


@dataclass(frozen=True)
class OfferingIn:
    mall_id: int
    kind: str
    name: str
    place: str = ""
    description: str = ""
    access: str = Access.OPEN
    min_tier_id: int | None = None
    slot_minutes: int = 60
    price_points: int = 0
    store_id: int | None = None
    is_active: bool = True


@dataclass(frozen=True)
class WeeklyHours:
    """One row of an offering's weekly schedule: on `weekday` (0 = Monday) from `start` to `end`, slots of the
    offering's length, each taking `capacity` bookings."""

    weekday: int
    start: dt.time
    end: dt.time
    capacity: int


@dataclass(frozen=True)
class SlotTimes:
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
