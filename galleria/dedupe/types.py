from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from galleria.core.money import format_cny


@dataclass(frozen=True)
class CandidatePair:
    low_id: int
    high_id: int
    score: int
    kinds: tuple[str, ...]
    group_id: int  # the smallest member id of the connected group the pair belongs to
    group_size: int
    signals: tuple[str, ...] = ()  # how the profiles compare (rules.SAME_NAME, DIFFERENT_NAME, DIFFERENT_BIRTHDAY)


@dataclass(frozen=True)
class MemberSide:
    """One member of a pair as the report shows it (phone masked unless revealed; name, birthday and e-mail masked
    or hidden unless the viewer may see personal data)."""

    id: int
    name: str
    phone: str
    card_no: str
    birthday: dt.date | None
    email: str
    plates: tuple[str, ...]
    has_unionid: bool
    joined_at: dt.datetime
    points: int
    wallet_fen: int

    @property
    def wallet(self) -> str:
        return format_cny(self.wallet_fen)

    tier: str


@dataclass(frozen=True)
class MergePreview:
    survivor_id: int
    absorbed_id: int
    rows: tuple[tuple[str, int], ...]  # ("app_label.Model", rows that move)
    points: int
    wallet_principal_fen: int
    wallet_bonus_fen: int
    lots: tuple[tuple[int, dt.date | None], ...]  # open lots of the absorbed member: (points, expiry)
    tier_before: str
    tier_after: str
    problems: tuple[str, ...]  # error codes that would refuse the merge now
