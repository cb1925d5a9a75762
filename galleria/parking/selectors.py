"""Reads of parking: tariffs as the rules see them, a stay's fee now with the member's benefits, plates, lists.

The fee of a stay is always computed (galleria/parking/rules), never read back: the tariff in force at entry, the
benefits of the moment (docs/parking.md, "Benefits and the order they apply in") and what was paid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import QuerySet

from galleria.core import sql, timeutil
from galleria.coupons.types import ParkingCouponOption
from galleria.members.selectors import member_by_plate, member_plates, plate_is_verified
from galleria.sales.selectors import member_spend_between
from galleria.sales.types import Channel
from galleria.tiers.selectors import member_tier

from . import rules
from . import sql as parking_sql
from .models import CarPark, ParkingGrant, ParkingProfile, ParkingSession, TariffVersion
from .types import FeeView, SessionState

ONCE_A_DAY = (rules.BenefitKind.TIER_HOURS, rules.BenefitKind.SPEND_HOURS)


# ---------------------------------------------------------------------------------------------------- tariffs


def _rate_set(row: dict[str, int | None], *, night: bool) -> rules.RateSet:
    day_price = row.get("day_price_fen")
    assert day_price is not None
    night_rate = None
    if night:
        night_price = row.get("night_price_fen")
        night_rate = rules.Rate(night_price if night_price is not None else day_price, row.get("night_cap_fen"))
    return rules.RateSet(
        day=rules.Rate(day_price, row.get("day_cap_fen")), night=night_rate, daily_cap_fen=row.get("daily_cap_fen")
    )


def tariff_rules(version: TariffVersion) -> rules.Tariff:
    """The stored version as the rules' Tariff (raises rules.TariffError if the row is inconsistent)."""
    has_night = version.night_starts is not None and version.night_ends is not None
    base = {
        "day_price_fen": version.day_price_fen,
        "day_cap_fen": version.day_cap_fen,
        "night_price_fen": version.night_price_fen,
        "night_cap_fen": version.night_cap_fen,
        "daily_cap_fen": version.daily_cap_fen,
    }
    holidays = tuple(
        rules.HolidayRule(
            rates=_rate_set({**base, **{k: v for k, v in h.items() if k.endswith("_fen")}}, night=has_night),
            dates=frozenset(dt.date.fromisoformat(d) for d in h.get("dates", [])),
            weekdays=frozenset(int(w) for w in h.get("weekdays", [])),
        )
        for h in version.holidays or []
    )
    assert version.night_starts is None or version.night_ends is not None
    return rules.Tariff(
        code=version.code,
        effective_from=version.effective_from,
        effective_until=version.effective_until,
        rates=_rate_set(base, night=has_night),
        unit_minutes=version.unit_minutes,
        free_minutes=version.free_minutes,
        free_minutes_mode=rules.FreeMinutesMode(version.free_minutes_mode),
        night=rules.NightBand(version.night_starts, version.night_ends)  # type: ignore[arg-type]
        if has_night
        else None,
        cap_mode=rules.CapMode(version.cap_mode),
        holidays=holidays,
    )


def tariff_list(*, car_park_id: int) -> list[TariffVersion]:
    return list(TariffVersion.objects.filter(car_park_id=car_park_id).order_by("-effective_from"))


def tariff_in_force(*, car_park_id: int, at: dt.datetime) -> rules.Tariff | None:
    versions = [tariff_rules(v) for v in tariff_list(car_park_id=car_park_id)]
    try:
        return rules.tariff_for(versions, at)
    except rules.TariffError:
        return None


# ---------------------------------------------------------------------------------------------------- car parks


def car_park_get(*, car_park_id: int, mall_group_id: int | None = None) -> CarPark | None:
    qs = CarPark.objects.select_related("mall", "mall__group", "store", "store__merchant")
    if mall_group_id is not None:
        qs = qs.filter(mall__group_id=mall_group_id)
    return qs.filter(pk=car_park_id).first()


def car_park_list(*, mall_group_id: int | None = None, mall_id: int | None = None) -> QuerySet[CarPark]:
    qs = CarPark.objects.select_related("mall").order_by("mall_id", "code")
    if mall_group_id is not None:
        qs = qs.filter(mall__group_id=mall_group_id)
    if mall_id is not None:
        qs = qs.filter(mall_id=mall_id)
    return qs


def car_park_tz(car_park: CarPark) -> dt.tzinfo:
    return timeutil.zone(car_park.mall.timezone)


def occupancy(*, car_park_id: int) -> int:
    return ParkingSession.objects.filter(car_park_id=car_park_id, state=SessionState.PARKED).count()


# ---------------------------------------------------------------------------------------------------- plates


def plate_member_id(*, mall_group_id: int, plate: str) -> int | None:
    """The member the plate is bound to (members app identifiers), if any."""
    member = member_by_plate(mall_group_id=mall_group_id, plate=plate)
    return member.pk if member is not None else None


def auto_pay_enabled(*, member_id: int, plate: str) -> bool:
    """The frictionless exit charges this stay: the member turned it on and proved the plate is theirs (a plate
    only typed into the app could be someone else's car)."""
    return ParkingProfile.objects.filter(member_id=member_id, auto_pay=True).exists() and plate_is_verified(
        member_id=member_id, plate=plate
    )


# ---------------------------------------------------------------------------------------------------- stays


def open_session(*, car_park_id: int, plate: str) -> ParkingSession | None:
    return ParkingSession.objects.filter(car_park_id=car_park_id, plate=plate, state=SessionState.PARKED).first()


def member_parked(*, member_id: int, mall_group_id: int) -> list[ParkingSession]:
    """The member's cars parked now in the group's car parks: stays of the member, and stays of their bound plates
    that entered before the plate was bound (not yet claimed)."""
    plates = member_plates(member_id=member_id)
    qs = ParkingSession.objects.select_related("car_park", "car_park__mall", "zone").filter(
        state=SessionState.PARKED, car_park__mall__group_id=mall_group_id
    )
    return list(
        (qs.filter(member_id=member_id) | qs.filter(member__isnull=True, plate__in=plates)).order_by("-entry_at")
    )


def member_sessions(*, member_id: int, limit: int = 50) -> list[ParkingSession]:
    return list(
        ParkingSession.objects.select_related("car_park", "zone")
        .filter(member_id=member_id)
        .order_by("-entry_at", "-pk")[:limit]
    )


def session_get(*, session_id: int) -> ParkingSession | None:
    return ParkingSession.objects.select_related("car_park", "car_park__mall", "zone").filter(pk=session_id).first()


def _once_a_day_used(session: ParkingSession, day: dt.date) -> bool:
    """Tier and same-day spend hours are given to one stay a day (the first one that pays or leaves with them)."""
    if session.member_id is None:
        return False
    return (
        ParkingSession.objects.filter(member_id=session.member_id, daily_benefits_on=day)
        .exclude(pk=session.pk)
        .exists()
    )


def session_grants(session: ParkingSession, *, at: dt.datetime) -> list[ParkingGrant]:
    """Merchant grants this stay can use: the ones it already used, then the free ones for its plate in its mall,
    granted before `at` and still valid at entry or later, not revoked — oldest first."""
    start = session.entry_at or at
    mine = ParkingGrant.objects.filter(session=session, revoked_at__isnull=True)
    free = ParkingGrant.objects.filter(
        mall_id=session.car_park.mall_id,
        plate=session.plate,
        revoked_at__isnull=True,
        granted_at__lte=at,
        valid_until__gte=start,
        session__isnull=True,
    )
    return list(mine.order_by("granted_at", "pk")) + list(free.order_by("granted_at", "pk"))


def session_benefits(
    session: ParkingSession, *, at: dt.datetime, coupons: Sequence[rules.ParkingCoupon] = ()
) -> rules.Benefits:
    """The member's benefits for this stay now (none for a stay without a member, except merchant grants, which
    belong to the plate)."""
    car_park = session.car_park
    grants = tuple(
        rules.MerchantGrant(grant_id=str(g.pk), merchant_id=str(g.merchant_id), hours=g.hours)
        for g in session_grants(session, at=at)
    )
    if session.member_id is None:
        return rules.Benefits(merchant_grants=grants, coupons=tuple(coupons))
    tz_name = car_park.mall.timezone
    day = timeutil.local_date(at, tz_name)
    if _once_a_day_used(session, day):
        return rules.Benefits(merchant_grants=grants, coupons=tuple(coupons))
    tier = member_tier(member_id=session.member_id, mall_group_id=car_park.mall.group_id)
    since, until = timeutil.local_day_bounds(day, tz_name)
    spend = member_spend_between(
        member_id=session.member_id,
        mall_id=car_park.mall_id,
        since=since,
        until=until,
        exclude_channels=(Channel.PARKING,),
    )
    return rules.Benefits(
        tier_hours=tier.free_parking_hours,
        spend_today_fen=max(spend, 0),
        spend_steps=tuple((int(a), int(b)) for a, b in car_park.spend_steps or ()),
        merchant_grants=grants,
        coupons=tuple(coupons),
    )


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return getattr(value, "value", value)


def _segments(result: rules.FeeResult) -> tuple[dict[str, object], ...]:
    return tuple(
        {
            "starts_at": _plain(s.starts_at),
            "ends_at": _plain(s.ends_at),
            "band": _plain(s.band),
            "band_date": _plain(s.band_date),
            "is_holiday": s.is_holiday,
            "units": s.units,
            "unit_minutes": s.unit_minutes,
            "unit_price_fen": s.unit_price_fen,
            "amount_before_cap_fen": s.amount_before_cap_fen,
            "period_capped_fen": s.period_capped_fen,
            "daily_capped_fen": s.daily_capped_fen,
            "amount_fen": s.amount_fen,
            "key": s.key,
            "params": dict(s.params),
        }
        for s in result.segments
    )


def _benefit_lines(result: rules.FeeResult) -> tuple[dict[str, object], ...]:
    return tuple(
        {
            "kind": line.kind.value,
            "source_id": line.source_id,
            "funder": line.funder.value,
            "funder_id": line.funder_id,
            "minutes_used": line.minutes_used,
            "fen": line.fen,
            "key": line.key,
            "params": dict(line.params),
        }
        for line in result.benefits
    )


def coupon_benefits(options: Sequence[ParkingCouponOption]) -> tuple[rules.ParkingCoupon, ...]:
    """Parking coupons as the fee engine takes them: free hours or an amount, billed to a merchant that funds one
    (a shared coupon counts as the mall's here; its split is recorded by the coupons engine's redemption)."""
    return tuple(
        rules.ParkingCoupon(
            coupon_id=str(o.coupon_id),
            hours=o.hours,
            amount_fen=0 if o.hours else o.value_fen,
            funder=rules.Funder.MERCHANT if o.funder == "merchant" and o.merchant_id else rules.Funder.MALL,
            funder_id=str(o.merchant_id) if o.funder == "merchant" and o.merchant_id else None,
        )
        for o in options
    )


def session_fee(
    session: ParkingSession,
    *,
    at: dt.datetime | None = None,
    coupons: Sequence[rules.ParkingCoupon] = (),
) -> tuple[FeeView, rules.FeeResult | None]:
    """The stay's fee at `at` (now) and what is due. After a payment the car may leave until `leave_by`; later, the
    time after the payment is charged at the tariff (rules.extra_fee: no second free period, no benefits)."""
    at = at or timeutil.now()
    car_park = session.car_park
    tz = car_park_tz(car_park)
    if session.state != SessionState.PARKED and session.exit_at is not None:
        at = min(at, session.exit_at)
    entry = session.entry_at
    tariff = tariff_in_force(car_park_id=car_park.pk, at=entry) if entry is not None else None
    if entry is None or tariff is None:  # no entry recorded (or no tariff then): the lost-ticket fee
        due = max(car_park.lost_ticket_fen - session.paid_fen, 0)
        view = FeeView(
            session_id=session.pk,
            plate=session.plate,
            entry_at=entry,
            at=at,
            stay_minutes=0,
            gross_fen=car_park.lost_ticket_fen,
            benefits_fen=0,
            net_fen=car_park.lost_ticket_fen,
            paid_fen=session.paid_fen,
            due_fen=due,
            leave_by=session.leave_by,
            tariff_code="",
        )
        return view, None
    if session.paid_until is not None and session.leave_by is not None:
        # paid already: free to leave until leave_by, then the extra time at the tariff
        extra = rules.extra_fee(
            tariff,
            entry_at=entry,
            paid_until=session.paid_until,
            exit_at=max(at, session.paid_until),
            tz=tz,
            grace_minutes=car_park.leave_grace_minutes,
        )
        fee = rules.calculate_fee(tariff, entry_at=entry, exit_at=session.paid_until, tz=tz)
        view = FeeView(
            session_id=session.pk,
            plate=session.plate,
            entry_at=entry,
            at=at,
            stay_minutes=int((at - entry).total_seconds() // 60),
            gross_fen=fee.gross_fen + extra.amount_fen,
            benefits_fen=max(fee.gross_fen - session.paid_fen, 0),
            net_fen=session.paid_fen + extra.amount_fen,
            paid_fen=session.paid_fen,
            due_fen=extra.amount_fen,
            leave_by=session.leave_by,
            tariff_code=tariff.code,
        )
        return view, None
    result = rules.calculate_fee(
        tariff,
        entry_at=entry,
        exit_at=max(at, entry),
        tz=tz,
        benefits=session_benefits(session, at=at, coupons=coupons),
    )
    view = FeeView(
        session_id=session.pk,
        plate=session.plate,
        entry_at=entry,
        at=at,
        stay_minutes=result.stay_minutes,
        gross_fen=result.gross_fen,
        benefits_fen=result.discount_fen,
        net_fen=result.net_fen,
        paid_fen=session.paid_fen,
        due_fen=max(result.net_fen - session.paid_fen, 0),
        leave_by=session.leave_by,
        tariff_code=tariff.code,
        segments=_segments(result),
        benefits=_benefit_lines(result),
    )
    return view, result


def segment_members_with_stays(*, since: dt.datetime, at_least: int) -> sql.Fragment:
    """Members with at least `at_least` stays entered since `since`: a segment condition (galleria/audience)."""
    return parking_sql.members_with_stays(since=since, at_least=at_least)


def stays_left_between(
    *, mall_group_id: int, since: dt.datetime, until: dt.datetime
) -> list[tuple[int, int, dt.datetime, dt.datetime]]:
    """(stay, member, entered, left) for the members' stays that left a car park of the group in [since, until)
    (a journey's "left the car park without buying")."""
    rows = ParkingSession.objects.filter(
        car_park__mall__group_id=mall_group_id,
        state=SessionState.EXITED,
        member_id__isnull=False,
        entry_at__isnull=False,
        exit_at__gte=since,
        exit_at__lt=until,
    ).values_list("pk", "member_id", "entry_at", "exit_at")
    return [(int(p), int(m), e, x) for p, m, e, x in rows if e is not None and x is not None]
