"""Pure rules of campaigns: the stable random hold-out, quiet hours and frequency caps, and the statistics of the
report (a difference of proportions and of means between the treated and the hold-out group, with its confidence).
No Django, no database."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

MAX_HOLDOUT_BP = 5000  # at most half the segment is held out


def in_holdout(campaign_id: int, member_id: int, holdout_bp: int) -> bool:
    """Whether a member is in the campaign's hold-out: a hash of (campaign, member) below the hold-out share.
    Random across members, stable for one campaign (a re-run assigns everyone the same way), independent between
    campaigns (one member is not always held out)."""
    digest = hashlib.sha256(f"galleria-holdout:{campaign_id}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10000 < holdout_bp


def in_quiet_hours(local: dt.time, start: dt.time, end: dt.time) -> bool:
    """Whether a mall-local time is within the quiet hours [start, end) — which may wrap midnight (21:00–09:00)."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_hours_end(local_now: dt.datetime, start: dt.time, end: dt.time) -> dt.datetime:
    """The next local moment the quiet hours end, from a local time within them."""
    candidate = local_now.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local_now:
        candidate += dt.timedelta(days=1)
    return candidate


@dataclass(frozen=True)
class ArmStats:
    members: int
    buyers: int
    spend_fen: int
    sum_squares: int  # Σ spend² (fen²), for the variance

    @property
    def conversion_bp(self) -> int:
        return self.buyers * 10000 // self.members if self.members else 0

    @property
    def mean_fen(self) -> float:
        return self.spend_fen / self.members if self.members else 0.0

    @property
    def variance(self) -> float:
        """The sample variance of spend per member (members without a purchase count as 0)."""
        n = self.members
        if n < 2:
            return 0.0
        return max(0.0, (self.sum_squares - self.spend_fen * self.spend_fen / n) / (n - 1))


def arm_stats(spends: Sequence[int], members: int) -> ArmStats:
    """An arm from the spends of its buyers (one value per member who bought) and its size."""
    return ArmStats(
        members=members,
        buyers=sum(1 for s in spends if s > 0),
        spend_fen=sum(spends),
        sum_squares=sum(s * s for s in spends),
    )


@dataclass(frozen=True)
class Comparison:
    """Treated minus hold-out: the difference, its 95 % interval and the two-sided p-value (normal approximation)."""

    difference: float
    low: float
    high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def _compare(diff: float, se: float) -> Comparison:
    if se <= 0:
        return Comparison(diff, diff, diff, 1.0 if diff == 0 else 0.0)
    z = diff / se
    p = 2 * (1 - NormalDist().cdf(abs(z)))
    return Comparison(diff, diff - 1.96 * se, diff + 1.96 * se, p)


def compare_conversion(treated: ArmStats, control: ArmStats) -> Comparison:
    """Difference of the buying rates (as a fraction), two-proportion z-test with the pooled rate."""
    if not treated.members or not control.members:
        return Comparison(0.0, 0.0, 0.0, 1.0)
    p1, p2 = treated.buyers / treated.members, control.buyers / control.members
    pooled = (treated.buyers + control.buyers) / (treated.members + control.members)
    se = math.sqrt(pooled * (1 - pooled) * (1 / treated.members + 1 / control.members))
    return _compare(p1 - p2, se)


def compare_spend(treated: ArmStats, control: ArmStats) -> Comparison:
    """Difference of mean spend per member (fen), Welch's unequal-variance standard error."""
    if treated.members < 2 or control.members < 2:
        return Comparison(treated.mean_fen - control.mean_fen, 0.0, 0.0, 1.0)
    se = math.sqrt(treated.variance / treated.members + control.variance / control.members)
    return _compare(treated.mean_fen - control.mean_fen, se)


def incremental_fen(treated: ArmStats, control: ArmStats) -> int:
    """Sales the campaign added: the treated group's spend less what it would have spent at the hold-out's rate."""
    return round(treated.spend_fen - control.mean_fen * treated.members)


def roi_bp(incremental: int, cost_fen: int) -> int | None:
    """(incremental sales − cost) / cost in basis points; None without a cost."""
    if cost_fen <= 0:
        return None
    return (incremental - cost_fen) * 10000 // cost_fen
