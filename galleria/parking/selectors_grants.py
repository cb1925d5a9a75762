"""Reads of merchant parking grants (docs/parking.md, "Merchant grants"): a merchant's allowance, a month's usage
(hours granted against the budget, hours the grants actually took off stays, and the fees they covered = the
merchant's cost), grant lists with each grant's state, and every merchant's month for the console.

Months are mall-local calendar months: a grant made at 23:30 on 31 March in Shanghai (15:30 UTC) counts in March,
one made ten minutes after midnight counts in April. A grant belongs to the month it was granted in, and so does its
cost (what it covered), whenever the stay that used it was paid or left: a grant is valid for cars that entered by
the end of the day it was made, so that is the same day, or later only for a car still parked overnight."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from galleria.core import timeutil
from galleria.merchants.selectors import merchant_options

from .models import GrantAllowance, ParkingGrant, ParkingSession
from .types import SessionState

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class GrantState(models.TextChoices):
    """A grant as the merchant sees it. `waiting`: not used yet and still usable (before the end of its day, or its
    plate is parked since before then); `used`: a stay took (part of) it; `expired`: its day is over, unused;
    `revoked`: the merchant took it back before it was used."""

    WAITING = "waiting", _("Waiting for the car")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired unused")
    REVOKED = "revoked", _("Revoked")


# ---------------------------------------------------------------------------------------------------- months


def month_of(moment: dt.datetime, tz_name: str | None) -> dt.date:
    """The first day of the mall-local month `moment` falls in."""
    return timeutil.local_date(moment, tz_name).replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_bounds(month: dt.date, tz_name: str | None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a mall-local calendar month as aware UTC datetimes."""
    first = month.replace(day=1)
    return timeutil.local_day_bounds(first, tz_name)[0], timeutil.local_day_bounds(next_month(first), tz_name)[0]


def parse_month(text: str | None) -> dt.date | None:
    """ "2026-03" → 2026-03-01; anything else (or a year outside 2000–2999) → None."""
    match = MONTH_RE.match((text or "").strip())
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        return None
    return dt.date(year, month, 1)


def recent_months(current: dt.date, count: int = 12) -> list[dt.date]:
    """`current` and the `count - 1` months before it, newest first (the month pickers)."""
    months = [current.replace(day=1)]
    while len(months) < count:
        months.append((months[-1] - dt.timedelta(days=1)).replace(day=1))
    return months


# ---------------------------------------------------------------------------------------------------- allowance


def allowance_get(*, merchant_id: int) -> GrantAllowance | None:
    return GrantAllowance.objects.filter(merchant_id=merchant_id).first()


def granted_hours(*, merchant_id: int, since: dt.datetime, until: dt.datetime) -> int:
    """Hours the merchant granted in [since, until), revoked grants left out: what counts against the budget."""
    total = ParkingGrant.objects.filter(
        merchant_id=merchant_id, granted_at__gte=since, granted_at__lt=until, revoked_at__isnull=True
    ).aggregate(h=Coalesce(Sum("hours"), 0))["h"]
    return int(total)


@dataclass(frozen=True)
class GrantUsage:
    """A merchant's month: the budget and what happened to the grants made in it."""

    month: dt.date
    has_allowance: bool
    monthly_hours: int
    max_hours_per_grant: int
    hours_granted: int  # not revoked: counts against monthly_hours
    grants: int  # not revoked
    grants_used: int
    minutes_used: int  # what the grants took off stays
    fen_covered: int  # the fees they covered: what the merchant is billed

    @property
    def hours_left(self) -> int:
        return max(self.monthly_hours - self.hours_granted, 0)

    @property
    def percent_granted(self) -> int:
        """Share of the month's hours granted, 0–100 (the budget bar)."""
        if self.monthly_hours <= 0:
            return 100 if self.hours_granted else 0
        return min(self.hours_granted * 100 // self.monthly_hours, 100)


def _usage_sums(qs: QuerySet[ParkingGrant]) -> QuerySet[ParkingGrant, dict[str, int]]:
    live = Q(revoked_at__isnull=True)
    return (
        qs.order_by()
        .values("merchant_id")
        .annotate(
            hours_granted=Coalesce(Sum("hours", filter=live), 0),
            grants=Count("pk", filter=live),
            grants_used=Count("pk", filter=live & Q(session__isnull=False)),
            minutes_used=Coalesce(Sum("minutes_used", filter=live), 0),
            fen_covered=Coalesce(Sum("fen_used", filter=live), 0),
        )
    )


def grant_usage(*, merchant_id: int, month: dt.date, tz_name: str | None) -> GrantUsage:
    since, until = month_bounds(month, tz_name)
    allowance = allowance_get(merchant_id=merchant_id)
    rows = list(
        _usage_sums(ParkingGrant.objects.filter(merchant_id=merchant_id, granted_at__gte=since, granted_at__lt=until))
    )
    row = rows[0] if rows else {}
    return GrantUsage(
        month=month,
        has_allowance=allowance is not None,
        monthly_hours=allowance.monthly_hours if allowance else 0,
        max_hours_per_grant=allowance.max_hours_per_grant if allowance else 0,
        hours_granted=int(row.get("hours_granted", 0)),
        grants=int(row.get("grants", 0)),
        grants_used=int(row.get("grants_used", 0)),
        minutes_used=int(row.get("minutes_used", 0)),
        fen_covered=int(row.get("fen_covered", 0)),
    )


# ---------------------------------------------------------------------------------------------------- grants


def _still_parked() -> Exists:
    """The grant's plate is parked in one of its mall's car parks since before the end of the grant's validity: an
    unused grant past its day can still be used by that stay."""
    return Exists(
        ParkingSession.objects.filter(
            car_park__mall_id=OuterRef("mall_id"),
            plate=OuterRef("plate"),
            state=SessionState.PARKED,
            entry_at__lte=OuterRef("valid_until"),
        )
    )


def grant_list(
    *,
    mall_group_id: int | None = None,
    merchant_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    state: str = "",
    plate: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[ParkingGrant]:
    """Grants, newest first, with `still_parked` annotated (see grant_state); filtered by group, merchant, the
    moment they were granted in [since, until), state and plate (canonical form, or a part of it)."""
    now = now or timeutil.now()
    qs = (
        ParkingGrant.objects.select_related("merchant", "merchant__mall", "session", "session__car_park")
        .annotate(still_parked=_still_parked())
        .order_by("-granted_at", "-pk")
    )
    if mall_group_id is not None:
        qs = qs.filter(mall__group_id=mall_group_id)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    if since is not None:
        qs = qs.filter(granted_at__gte=since)
    if until is not None:
        qs = qs.filter(granted_at__lt=until)
    if plate:
        qs = qs.filter(plate__contains=plate.strip().upper()[:12])
    unused = Q(revoked_at__isnull=True, session__isnull=True)
    if state == GrantState.USED:
        qs = qs.filter(revoked_at__isnull=True, session__isnull=False)
    elif state == GrantState.REVOKED:
        qs = qs.filter(revoked_at__isnull=False)
    elif state == GrantState.WAITING:
        qs = qs.filter(unused & (Q(valid_until__gte=now) | Q(still_parked=True)))
    elif state == GrantState.EXPIRED:
        qs = qs.filter(unused & Q(valid_until__lt=now, still_parked=False))
    return qs


def grant_state(grant: ParkingGrant, *, now: dt.datetime) -> str:
    """GrantState of a grant from grant_list (which annotates `still_parked`)."""
    if grant.revoked_at is not None:
        return GrantState.REVOKED
    if grant.session_id is not None:
        return GrantState.USED
    if grant.valid_until >= now or getattr(grant, "still_parked", False):
        return GrantState.WAITING
    return GrantState.EXPIRED


def grant_get(*, grant_id: int, merchant_id: int) -> ParkingGrant | None:
    """One of the merchant's grants (another merchant's is None)."""
    return ParkingGrant.objects.filter(pk=grant_id, merchant_id=merchant_id).first()


@dataclass(frozen=True)
class MerchantMonth:
    """One merchant's month in the console: the allowance and the month's grants."""

    merchant_id: int
    merchant_name: str
    mall_name: str
    has_allowance: bool
    monthly_hours: int
    max_hours_per_grant: int
    hours_granted: int
    grants: int
    grants_used: int
    minutes_used: int
    fen_covered: int  # what the mall bills the merchant for the month's grants


def merchant_months(*, mall_group_id: int, month: dt.date, merchant_id: int | None = None) -> list[MerchantMonth]:
    """Every merchant of the group with an allowance or a grant in the month (each in its mall's month), by mall
    and name: one grouped query per time zone of the group's malls, one for the allowances."""
    merchants = {m.pk: m for m in merchant_options(mall_group_id=mall_group_id)}
    if merchant_id is not None:
        merchants = {k: v for k, v in merchants.items() if k == merchant_id}
    zones: dict[str, list[int]] = {}
    for m in merchants.values():
        zones.setdefault(m.mall.timezone, []).append(m.pk)
    sums: dict[int, dict[str, int]] = {}
    for tz_name, ids in zones.items():
        since, until = month_bounds(month, tz_name)
        rows = _usage_sums(
            ParkingGrant.objects.filter(merchant_id__in=ids, granted_at__gte=since, granted_at__lt=until)
        )
        for row in rows:
            sums[int(row["merchant_id"])] = {k: int(v) for k, v in row.items()}
    allowances = {a.merchant_id: a for a in GrantAllowance.objects.filter(merchant_id__in=list(merchants))}
    out: list[MerchantMonth] = []
    for pk, m in merchants.items():
        allowance, row = allowances.get(pk), sums.get(pk, {})
        if allowance is None and not row:
            continue
        out.append(
            MerchantMonth(
                merchant_id=pk,
                merchant_name=m.name,
                mall_name=m.mall.name,
                has_allowance=allowance is not None,
                monthly_hours=allowance.monthly_hours if allowance else 0,
                max_hours_per_grant=allowance.max_hours_per_grant if allowance else 0,
                hours_granted=row.get("hours_granted", 0),
                grants=row.get("grants", 0),
                grants_used=row.get("grants_used", 0),
                minutes_used=row.get("minutes_used", 0),
                fen_covered=row.get("fen_covered", 0),
            )
        )
    return out
