"""Reads of parking for the console (docs/parking.md, "Console (operators)"): car parks with today's figures, live
occupancy, the stays search, a stay's history, the exceptions queue and the reports.

Every read is scoped to a mall group by the caller's argument, and every list is an index walk or a grouped
aggregate — no Python loop over stays. Stays are found through the index (car_park, state, entry_at): a query
without a state filter lists the states explicitly (`state IN (…)`), which PostgreSQL turns into one index range
per state instead of scanning a car park's whole history. Hourly figures come from two grouped counts (entries and
exits per mall-local hour) and one count of the cars present at the start of the range; the benefits report unnests
the stored benefit lines in SQL (galleria/parking/sql.py).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate, TruncHour

from galleria.core import plates, timeutil
from galleria.members.selectors import member_resolve
from galleria.merchants.selectors import merchant_options

from . import rules, sql
from .models import CarPark, Gate, ParkingEvent, ParkingGrant, ParkingPayment, ParkingSession, TariffVersion, Zone
from .selectors import car_park_list, tariff_rules
from .types import SessionException, SessionState

ALL_STATES = tuple(SessionState.values)
MAX_REPORT_DAYS = 92
PARTIAL_PLATE_CHARS = plates.PROVINCES | plates.DIGITS | plates.AUTHORITY_LETTERS | frozenset("使领港澳挂学警试超")
KIND_ORDER = {kind.value: i for i, kind in enumerate(rules.BenefitKind)}


def _pct(part: int | Decimal, whole: int) -> Decimal | None:
    """part / whole in percent with one decimal (exact decimal arithmetic), None without a whole."""
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _tz(car_park: CarPark) -> dt.tzinfo:
    return timeutil.zone(car_park.mall.timezone)


# ---------------------------------------------------------------------------------------------------- car parks


def car_parks(*, mall_group_id: int | None) -> list[CarPark]:
    return list(car_park_list(mall_group_id=mall_group_id).select_related("mall", "store", "store__merchant"))


def car_park_one(*, car_park_id: int, mall_group_id: int | None) -> CarPark | None:
    """A car park of the group (any group for None), with its mall and operator's store."""
    qs = CarPark.objects.select_related("mall", "mall__group", "store", "store__merchant").filter(pk=car_park_id)
    if mall_group_id is not None:
        qs = qs.filter(mall__group_id=mall_group_id)
    return qs.first()


def zones_of(*, car_park_id: int) -> list[Zone]:
    return list(Zone.objects.filter(car_park_id=car_park_id).order_by("code", "pk"))


def zone_one(*, car_park_id: int, zone_id: int) -> Zone | None:
    return Zone.objects.filter(car_park_id=car_park_id, pk=zone_id).first()


def gates_of(*, car_park_id: int) -> list[Gate]:
    return list(Gate.objects.select_related("zone").filter(car_park_id=car_park_id).order_by("code", "pk"))


def gate_one(*, car_park_id: int, gate_id: int) -> Gate | None:
    return Gate.objects.filter(car_park_id=car_park_id, pk=gate_id).first()


def zone_has_stays(*, zone_id: int) -> bool:
    return ParkingSession.objects.filter(zone_id=zone_id).exists()


@dataclass(frozen=True)
class CarParkRow:
    car_park: CarPark
    parked: int
    entries_today: int
    income_today_fen: int

    @property
    def occupancy_pct(self) -> Decimal | None:
        return _pct(self.parked, self.car_park.capacity)

    @property
    def free(self) -> int:
        return max(self.car_park.capacity - self.parked, 0)


def _by_zone_tz(parks: Sequence[CarPark], at: dt.datetime) -> dict[str, tuple[list[int], dt.datetime, dt.datetime]]:
    """Car parks grouped by their mall's time zone, with that zone's today [start, end)."""
    out: dict[str, tuple[list[int], dt.datetime, dt.datetime]] = {}
    for park in parks:
        tz_name = park.mall.timezone
        if tz_name not in out:
            start, end = timeutil.local_day_bounds(timeutil.local_date(at, tz_name), tz_name)
            out[tz_name] = ([], start, end)
        out[tz_name][0].append(park.pk)
    return out


def _entered(ids: Sequence[int], since: dt.datetime, until: dt.datetime) -> QuerySet[ParkingSession]:
    return ParkingSession.objects.filter(
        car_park_id__in=ids, state__in=ALL_STATES, entry_at__gte=since, entry_at__lt=until
    )


def parked_counts(*, car_park_ids: Sequence[int]) -> dict[int, int]:
    rows = (
        ParkingSession.objects.filter(car_park_id__in=car_park_ids, state=SessionState.PARKED)
        .values_list("car_park_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return dict(rows)


def car_park_rows(*, mall_group_id: int | None, at: dt.datetime | None = None) -> list[CarParkRow]:
    """Each car park of the group with the cars parked now, today's entries and today's parking income (what the
    payments of today settled: points value and money), today in its mall's time zone. Four queries."""
    at = at or timeutil.now()
    parks = car_parks(mall_group_id=mall_group_id)
    ids = [p.pk for p in parks]
    parked = parked_counts(car_park_ids=ids)
    entries: dict[int, int] = {}
    income: dict[int, int] = {}
    for zone_ids, start, end in _by_zone_tz(parks, at).values():
        entries.update(_entered(zone_ids, start, end).values_list("car_park_id").annotate(n=Count("id")).order_by())
        income.update(
            ParkingPayment.objects.filter(session__car_park_id__in=zone_ids, paid_at__gte=start, paid_at__lt=end)
            .values_list("session__car_park_id")
            .annotate(total=Sum("amount_fen"))
            .order_by()
        )
    return [
        CarParkRow(
            car_park=p,
            parked=parked.get(p.pk, 0),
            entries_today=entries.get(p.pk, 0),
            income_today_fen=income.get(p.pk) or 0,
        )
        for p in parks
    ]


# ---------------------------------------------------------------------------------------------------- tariffs


@dataclass(frozen=True)
class TariffRow:
    version: TariffVersion
    status: str  # "in_force" | "scheduled" | "past"
    until: dt.datetime | None  # when the next version takes over (or the stored end)


def tariff_rows(*, car_park_id: int, at: dt.datetime | None = None) -> list[TariffRow]:
    """The car park's versions, newest first, with what the rules say is in force now."""
    at = at or timeutil.now()
    versions = list(TariffVersion.objects.filter(car_park_id=car_park_id).order_by("-effective_from", "-pk"))
    in_force: int | None = None
    try:
        by_code = {v.code: v for v in versions}
        chosen = rules.tariff_for([tariff_rules(v) for v in versions], at)
        in_force = by_code[chosen.code].pk
    except rules.TariffError:
        in_force = None
    rows = []
    next_start: dt.datetime | None = None
    for v in versions:
        status = "in_force" if v.pk == in_force else ("scheduled" if v.effective_from > at else "past")
        ends = v.effective_until if v.effective_until is not None else next_start
        if v.effective_until is not None and next_start is not None:
            ends = min(v.effective_until, next_start)
        rows.append(TariffRow(version=v, status=status, until=ends))
        next_start = v.effective_from
    return rows


def tariff_one(*, car_park_id: int, version_id: int) -> TariffVersion | None:
    return TariffVersion.objects.filter(car_park_id=car_park_id, pk=version_id).first()


# ---------------------------------------------------------------------------------------------------- live


@dataclass(frozen=True)
class LiveZone:
    zone: Zone
    parked: int
    entries_hour: int
    exits_hour: int

    @property
    def free(self) -> int:
        return max(self.zone.capacity - self.parked, 0)

    @property
    def occupancy_pct(self) -> Decimal | None:
        return _pct(self.parked, self.zone.capacity)


@dataclass(frozen=True)
class LiveCarPark:
    car_park: CarPark
    parked: int
    entries_hour: int
    exits_hour: int
    zones: tuple[LiveZone, ...] = ()
    unzoned: int = 0  # parked cars whose entry named no zone
    sensors_free: int | None = None  # sum of the zones' reported free spaces (those that report)
    sensors_at: dt.datetime | None = None  # the oldest of those reports

    @property
    def free(self) -> int:
        return max(self.car_park.capacity - self.parked, 0)

    @property
    def occupancy_pct(self) -> Decimal | None:
        return _pct(self.parked, self.car_park.capacity)

    @property
    def occupancy_width(self) -> int:
        pct = self.occupancy_pct
        return min(int(pct), 100) if pct is not None else 0


def _counts(qs: QuerySet[ParkingSession]) -> dict[tuple[int, int | None], int]:
    return {(cp, z): n for cp, z, n in qs.values_list("car_park_id", "zone_id").annotate(n=Count("id")).order_by()}


def live_occupancy(
    *, mall_group_id: int | None, at: dt.datetime | None = None, car_park_id: int | None = None
) -> list[LiveCarPark]:
    """Per car park and zone: cars parked now (open stays), free spaces (capacity − parked, and what the space
    sensors last reported), entries and exits in the last hour. Five queries whatever the number of car parks."""
    at = at or timeutil.now()
    hour_ago = at - dt.timedelta(hours=1)
    parks = [
        p
        for p in car_parks(mall_group_id=mall_group_id)
        if (p.is_active and car_park_id is None) or p.pk == car_park_id
    ]
    ids = [p.pk for p in parks]
    parked = _counts(ParkingSession.objects.filter(car_park_id__in=ids, state=SessionState.PARKED))
    entered = _counts(_entered(ids, hour_ago, at + dt.timedelta(seconds=1)))
    left = _counts(
        ParkingSession.objects.filter(
            car_park_id__in=ids, state=SessionState.EXITED, exit_at__gte=hour_ago, exit_at__lte=at
        )
    )
    zones: dict[int, list[Zone]] = defaultdict(list)
    for zone in Zone.objects.filter(car_park_id__in=ids).order_by("code", "pk"):
        zones[zone.car_park_id].append(zone)
    out = []
    for park in parks:

        def total(counts: dict[tuple[int, int | None], int], pk: int = park.pk) -> int:
            return sum(n for (cp, _z), n in counts.items() if cp == pk)

        live_zones = tuple(
            LiveZone(
                zone=z,
                parked=parked.get((park.pk, z.pk), 0),
                entries_hour=entered.get((park.pk, z.pk), 0),
                exits_hour=left.get((park.pk, z.pk), 0),
            )
            for z in zones[park.pk]
        )
        reporting = [z for z in zones[park.pk] if z.free_reported is not None and z.free_reported_at is not None]
        out.append(
            LiveCarPark(
                car_park=park,
                parked=total(parked),
                entries_hour=total(entered),
                exits_hour=total(left),
                zones=live_zones,
                unzoned=parked.get((park.pk, None), 0),
                sensors_free=sum(z.free_reported or 0 for z in reporting) if reporting else None,
                sensors_at=min(z.free_reported_at for z in reporting if z.free_reported_at) if reporting else None,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------------- stays


def plate_query(text: str) -> tuple[str, bool] | None:
    """What a person typed into the plate search: (canonical plate, True) for a whole plate, (canonical fragment,
    False) for part of one (at least 2 plate characters: "12345", "粤B", "B1234"), None for something else."""
    raw = (text or "").strip()
    if not raw:
        return None
    try:
        return rules.normalize_plate(raw), True
    except rules.PlateError:
        pass
    folded = unicodedata.normalize("NFKC", raw[:32]).translate(plates.TRADITIONAL).upper()
    cleaned = "".join(ch for ch in folded if not ch.isspace() and ch not in plates.SEPARATORS)
    if len(cleaned) < 2 or len(cleaned) > 12 or any(ch not in PARTIAL_PLATE_CHARS for ch in cleaned):
        return None
    return cleaned, False


def member_for_search(*, mall_group_id: int, text: str) -> int | None:
    """The member a card number or phone (or any identifier the members app resolves) names, if any."""
    found = member_resolve(mall_group_id=mall_group_id, raw=text)
    return found.member.pk if found is not None else None


@dataclass(frozen=True)
class StayFilters:
    car_park_id: int | None = None
    plate: str = ""  # canonical plate or fragment (plate_query)
    plate_exact: bool = False
    member_id: int | None = None
    state: str = ""
    exception: str = ""
    since: dt.datetime | None = None  # the stay's time (entry, or exit when no entry was seen) ≥ since
    until: dt.datetime | None = None  # … < until
    parked_before: dt.datetime | None = None  # open stays that entered before this moment (stale)


def stay_search(*, mall_group_id: int | None, f: StayFilters) -> QuerySet[ParkingSession]:
    """Stays of the group's car parks matching the filters, most recent first (entry time, or exit time for a stay
    whose entry was never seen)."""
    qs = ParkingSession.objects.select_related("car_park", "car_park__mall", "member", "zone")
    if mall_group_id is not None:
        qs = qs.filter(car_park__mall__group_id=mall_group_id)
    if f.car_park_id is not None:
        qs = qs.filter(car_park_id=f.car_park_id)
    if f.member_id is not None:
        qs = qs.filter(member_id=f.member_id)
    if f.plate:
        qs = qs.filter(plate=f.plate) if f.plate_exact else qs.filter(plate__contains=f.plate)
    qs = qs.filter(state=f.state) if f.state else qs.filter(state__in=ALL_STATES)
    if f.exception:
        qs = qs.filter(exception=f.exception)
    # when a stay happened: its entry, or its exit for a stay whose entry was never seen — the expression the
    # index parking_session_recent holds, so a date range and the order are one index range scan
    qs = qs.alias(happened=Coalesce("entry_at", "exit_at"))
    if f.since is not None:
        qs = qs.filter(happened__gte=f.since)
    if f.until is not None:
        qs = qs.filter(happened__lt=f.until)
    if f.parked_before is not None:
        qs = qs.filter(state=SessionState.PARKED, entry_at__lt=f.parked_before)
    return qs.order_by(Coalesce("entry_at", "exit_at").desc(), "-pk")


def stay_one(*, session_id: int, mall_group_id: int | None) -> ParkingSession | None:
    qs = ParkingSession.objects.select_related("car_park", "car_park__mall", "car_park__mall__group", "member", "zone")
    if mall_group_id is not None:
        qs = qs.filter(car_park__mall__group_id=mall_group_id)
    return qs.filter(pk=session_id).first()


def stay_events(*, session_id: int) -> list[ParkingEvent]:
    """The car-park system's events that built the stay, in the order they happened."""
    return list(ParkingEvent.objects.filter(session_id=session_id).order_by("occurred_at", "received_at", "pk"))


def stay_payments(*, session_id: int) -> list[ParkingPayment]:
    return list(ParkingPayment.objects.filter(session_id=session_id).order_by("paid_at", "pk"))


def stay_grants(*, session_id: int) -> list[ParkingGrant]:
    """Merchant grants this stay used (billed to the merchant for `fen_used`)."""
    return list(ParkingGrant.objects.select_related("merchant").filter(session_id=session_id).order_by("granted_at"))


# ---------------------------------------------------------------------------------------------------- exceptions

QUEUE_KINDS = (
    SessionException.NO_ENTRY.value,
    SessionException.NO_EXIT.value,
    SessionException.UNPAID_EXIT.value,
    SessionException.LOST_TICKET.value,
    SessionException.PLATE_CORRECTED.value,
)
STALE = "stale"


def exception_counts(
    *, mall_group_id: int | None, car_park_id: int | None, since: dt.datetime, stale_before: dt.datetime
) -> dict[str, int]:
    """How many stays of each exception since `since` (the stay's time), and open stays that entered before
    `stale_before` (whatever their age). Two queries."""
    base = stay_search(mall_group_id=mall_group_id, f=StayFilters(car_park_id=car_park_id, since=since)).exclude(
        exception=""
    )
    counts = dict.fromkeys((*QUEUE_KINDS, STALE), 0)
    counts.update(dict(base.order_by().values_list("exception").annotate(n=Count("id"))))
    counts[STALE] = stay_search(
        mall_group_id=mall_group_id, f=StayFilters(car_park_id=car_park_id, parked_before=stale_before)
    ).count()
    return counts


def exception_list(
    *, mall_group_id: int | None, car_park_id: int | None, kind: str, since: dt.datetime, stale_before: dt.datetime
) -> QuerySet[ParkingSession]:
    if kind == STALE:
        f = StayFilters(car_park_id=car_park_id, parked_before=stale_before)
    else:
        f = StayFilters(car_park_id=car_park_id, exception=kind, since=since)
    return stay_search(mall_group_id=mall_group_id, f=f)


# ---------------------------------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class ReportScope:
    """Which car parks (all of the group's, or one) and which mall-local days [first, last]."""

    car_parks: tuple[CarPark, ...]
    first: dt.date
    last: dt.date
    tz_name: str

    @property
    def ids(self) -> list[int]:
        return [p.pk for p in self.car_parks]

    @property
    def capacity(self) -> int:
        return sum(p.capacity for p in self.car_parks)

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return (
            timeutil.local_day_bounds(self.first, self.tz_name)[0],
            timeutil.local_day_bounds(self.last, self.tz_name)[1],
        )

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class HourOfDay:
    hour: int
    avg_parked: Decimal  # cars parked at the top of the hour, averaged over the days
    peak_parked: int
    avg_entries: Decimal
    occupancy_pct: Decimal | None


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    entries: int
    exits: int
    peak_parked: int  # the most cars parked at the top of an hour that day
    avg_parked: Decimal
    occupancy_pct: Decimal | None  # average parked / capacity


@dataclass(frozen=True)
class Utilisation:
    hours: tuple[HourOfDay, ...]
    days: tuple[DayRow, ...]
    entries: int
    exits: int


def _hourly(qs: QuerySet[ParkingSession], column: str, tz: dt.tzinfo) -> dict[dt.datetime, int]:
    rows = qs.annotate(bucket=TruncHour(column, tzinfo=tz)).values_list("bucket").annotate(n=Count("id")).order_by()
    return {bucket.astimezone(tz).replace(tzinfo=None): n for bucket, n in rows}


def utilisation(scope: ReportScope) -> Utilisation:
    """Cars parked at the top of every hour of the range, from three queries: the cars present when the range
    starts, and entries and exits grouped by mall-local hour (a stay counts from its entry to its exit; a stay
    closed as an exception counts until it was closed; an exit without an entry is not a car that was counted
    in). Then averages and peaks by hour of day and by day."""
    tz = timeutil.zone(scope.tz_name)
    start, end = scope.bounds
    ids = scope.ids
    present = (
        ParkingSession.objects.filter(car_park_id__in=ids, state__in=ALL_STATES, entry_at__lt=start)
        .filter(Q(exit_at__isnull=True) | Q(exit_at__gte=start))
        .count()
    )
    entries = _hourly(_entered(ids, start, end), "entry_at", tz)
    exits = _hourly(
        ParkingSession.objects.filter(car_park_id__in=ids, exit_at__gte=start, exit_at__lt=end, entry_at__isnull=False),
        "exit_at",
        tz,
    )
    capacity = scope.capacity
    by_hour: dict[int, list[int]] = defaultdict(list)
    entries_by_hour: dict[int, int] = defaultdict(int)
    day_rows = []
    parked = present
    for day in scope.days:
        snapshots: list[int] = []
        day_entries = day_exits = 0
        for hour in range(24):
            moment = dt.datetime.combine(day, dt.time(hour))
            snapshots.append(parked)  # at the top of the hour
            by_hour[hour].append(parked)
            came, went = entries.get(moment, 0), exits.get(moment, 0)
            entries_by_hour[hour] += came
            day_entries += came
            day_exits += went
            parked += came - went
        avg = (Decimal(sum(snapshots)) / 24).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        day_rows.append(
            DayRow(
                day=day,
                entries=day_entries,
                exits=day_exits,
                peak_parked=max(snapshots),
                avg_parked=avg,
                occupancy_pct=_pct(avg, capacity),
            )
        )
    n_days = len(scope.days)
    hours = []
    for hour in range(24):
        values = by_hour[hour]
        avg = (Decimal(sum(values)) / n_days).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        hours.append(
            HourOfDay(
                hour=hour,
                avg_parked=avg,
                peak_parked=max(values),
                avg_entries=(Decimal(entries_by_hour[hour]) / n_days).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
                occupancy_pct=_pct(avg, capacity),
            )
        )
    return Utilisation(
        hours=tuple(hours),
        days=tuple(day_rows),
        entries=sum(r.entries for r in day_rows),
        exits=sum(r.exits for r in day_rows),
    )


@dataclass(frozen=True)
class RevenueDay:
    day: dt.date
    payments: int
    points_fen: int  # the value of the points used
    wallet_fen: int
    other_fen: int  # taken by the car-park system itself (third party) or a gateway
    points: int

    @property
    def total_fen(self) -> int:
        return self.points_fen + self.wallet_fen + self.other_fen


def revenue_by_day(scope: ReportScope) -> list[RevenueDay]:
    """Parking payments by mall-local day of payment: what they settled, split into the value of points, wallet
    money and money taken elsewhere. One grouped query."""
    tz = timeutil.zone(scope.tz_name)
    start, end = scope.bounds
    rows = (
        ParkingPayment.objects.filter(session__car_park_id__in=scope.ids, paid_at__gte=start, paid_at__lt=end)
        .annotate(day=TruncDate("paid_at", tzinfo=tz))
        .values_list("day")
        .annotate(
            n=Count("id"),
            amount=Sum("amount_fen"),
            wallet=Sum("wallet_fen"),
            other=Sum("other_fen"),
            points=Sum("points_used"),
        )
        .order_by()
    )
    found = {
        day: (n, amount or 0, wallet or 0, other or 0, points or 0) for day, n, amount, wallet, other, points in rows
    }
    out = []
    for day in scope.days:
        n, amount, wallet, other, points = found.get(day, (0, 0, 0, 0, 0))
        out.append(
            RevenueDay(
                day=day,
                payments=n,
                points_fen=amount - wallet - other,
                wallet_fen=wallet,
                other_fen=other,
                points=points,
            )
        )
    return out


@dataclass(frozen=True)
class BenefitRow:
    kind: str  # rules.BenefitKind value
    funder: str  # "mall" | "merchant"
    merchant_id: int | None
    merchant_name: str
    lines: int
    minutes: int
    fen: int


@dataclass(frozen=True)
class IncomeVsBenefits:
    stays: int  # stays that left (or were closed) in the range with a fee
    gross_fen: int  # fees before benefits
    benefits_fen: int  # what the benefit lines took off
    other_fen: int  # gross − net not explained by a benefit line (e.g. paid at the car park for less)
    fee_fen: int  # fees after benefits
    paid_fen: int  # paid for those stays (any time)
    rows: tuple[BenefitRow, ...] = field(default_factory=tuple)

    @property
    def unpaid_fen(self) -> int:
        return max(self.fee_fen - self.paid_fen, 0)

    def by_kind(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for row in self.rows:
            out[row.kind] += row.fen
        return dict(out)


def income_vs_benefits(scope: ReportScope) -> IncomeVsBenefits:
    """Stays that left in the range (mall-local days of exit): gross fees, the benefits that reduced them — by kind
    and by funder (the mall for tier and same-day spend hours, the granting merchant for merchant grants, the
    coupon's funder for coupons) — the fees after benefits and what was paid. The benefit lines are the ones stored
    in each stay's explanation (by its first payment or at its exit); one SQL statement unnests them."""
    start, end = scope.bounds
    left = ParkingSession.objects.filter(
        car_park_id__in=scope.ids, exit_at__gte=start, exit_at__lt=end, gross_fen__isnull=False
    )
    totals = left.aggregate(n=Count("id"), gross=Sum("gross_fen"), fee=Sum("fee_fen"), paid=Sum("paid_fen"))
    names = (
        dict(
            merchant_options(mall_group_id=None)
            .filter(mall__group_id__in={p.mall.group_id for p in scope.car_parks})
            .values_list("pk", "name")
        )
        if scope.car_parks
        else {}
    )
    rows = []
    for kind, funder, merchant, lines, minutes, fen in sql.benefit_lines(
        car_park_ids=scope.ids, since=start, until=end
    ):
        merchant_id = int(merchant) if merchant and merchant.isdigit() else None
        rows.append(
            BenefitRow(
                kind=kind,
                funder=funder,
                merchant_id=merchant_id,
                merchant_name=names.get(merchant_id, "") if merchant_id is not None else "",
                lines=lines,
                minutes=minutes,
                fen=fen,
            )
        )
    rows.sort(key=lambda r: (KIND_ORDER.get(r.kind, len(KIND_ORDER)), r.funder, -r.fen))
    gross, fee = totals["gross"] or 0, totals["fee"] or 0
    benefits = sum(r.fen for r in rows)
    return IncomeVsBenefits(
        stays=totals["n"] or 0,
        gross_fen=gross,
        benefits_fen=benefits,
        other_fen=gross - fee - benefits,
        fee_fen=fee,
        paid_fen=totals["paid"] or 0,
        rows=tuple(rows),
    )


def report_scope(
    *, car_parks: Iterable[CarPark], first: dt.date, last: dt.date, tz_name: str | None = None
) -> ReportScope:
    parks = tuple(car_parks)
    tz = tz_name or (parks[0].mall.timezone if parks else "")
    return ReportScope(car_parks=parks, first=first, last=last, tz_name=tz or "")
