"""What the recommendations app hands to the screens (frozen dataclasses) and its enums."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import models
from django.utils.translation import gettext_lazy as _


class MemberLike(Protocol):
    """What the recommender reads of a member (a members.Member satisfies it; members' tables stay private)."""

    @property
    def pk(self) -> Any: ...
    @property
    def mall_group_id(self) -> int: ...
    @property
    def birthday(self) -> dt.date | None: ...
    @property
    def join_mall_id(self) -> int: ...


class EntryKind(models.TextChoices):
    NEIGHBOUR = "neighbour", _("Similar merchant")
    POPULAR = "popular", _("Popular in a segment")


class ReasonKind(models.TextChoices):
    OFTEN = "often", _("Because you often shop there")
    ALSO = "also", _("Members who shop there also visit")
    SEGMENT = "segment", _("Popular with members like you")
    POPULAR = "popular", _("Popular in the mall")


BLOCKS = ("merchants", "coupons", "events")


@dataclass(frozen=True)
class MerchantPick:
    """One merchant to visit and why. `because` names one of the member's own merchants (never another
    member's data)."""

    merchant_id: int
    name: str
    category: str
    score_ppm: int
    reason: str  # ReasonKind
    because_id: int | None = None
    because: str = ""


@dataclass(frozen=True)
class CouponPick:
    template_id: int
    name: str
    merchant_id: int
    merchant: str
    claim_method: str
    claim_points: int
    claim_price_fen: int


@dataclass(frozen=True)
class EventPick:
    event_id: int
    title: str
    starts_at: dt.datetime
    place: str


@dataclass(frozen=True)
class ForMember:
    """A member's recommendations now: personalised or not (switched off, no history, no model)."""

    personalised: bool
    switched_off: bool
    model_version: int | None
    merchants: tuple[MerchantPick, ...]
    seeds: tuple[tuple[int, int], ...] = ()  # (merchant id, purchases) the picks were built from: the member's own


@dataclass(frozen=True)
class BlockSwitches:
    merchants: bool = True
    coupons: bool = True
    events: bool = True

    def any_on(self) -> bool:
        return self.merchants or self.coupons or self.events
