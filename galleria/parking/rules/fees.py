"""The fee calculator: price a stay with a tariff, then take the benefits off in a fixed order, and explain both.

How a stay is priced (docs/parking.md has the worked examples):

1. The stay is measured in whole minutes (seconds are dropped). A stay of at most `free_minutes` is free. A longer
   one is charged from entry (`charge_from_entry`) or from entry + `free_minutes` (`deduct`).
2. The chargeable time is cut into units of `unit_minutes` from the charge start; a partial last unit counts whole.
   Each unit is priced entirely at the rate of the band in force when it starts; a band occurrence (the night of
   1 May, 20:00–08:00) takes the rates of the date it began on (holidays).
3. Caps apply in time order: a unit is charged what is left under its band occurrence's cap and under its day's cap
   (calendar day of the unit's start, or the 24 h window from entry it starts in). So the price of the first n units
   never depends on what comes after them: the fee is monotone in the stay, and benefits that take time off the end
   of the stay (below) can only lower it.
4. Hour benefits (tier, same-day spend, merchant grants, hour coupons, in that order) remove minutes from the END of
   the chargeable time — the stay is priced as if the car had left that much earlier. Amount coupons then take fen
   off. Each benefit line records exactly what it took off (the fee before it minus the fee after it), so
   gross − Σ lines = net, and every funder can be billed for what its benefit actually covered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from .benefits import NO_BENEFITS, BenefitKind, BenefitLine, Benefits, Funder, spend_step
from .engine import UTC, Segment, check_moment, explanation, make_stay
from .errors import FeeError
from .tariff import Tariff

__all__ = ["ExtraFee", "FeeResult", "calculate_fee", "extra_fee", "leave_by"]


@dataclass(frozen=True)
class FeeResult:
    tariff_code: str
    entry_at: dt.datetime
    exit_at: dt.datetime
    stay_minutes: int
    is_free_stay: bool  # the whole stay fell within the free minutes
    charged_from: dt.datetime | None
    chargeable_minutes: int
    units: int
    segments: tuple[Segment, ...]
    gross_fen: int
    benefit_minutes: int  # minutes the hour benefits took off the end of the chargeable time
    priced_until: dt.datetime | None  # the stay is priced as if the car had left at this moment
    benefits: tuple[BenefitLine, ...]
    net_fen: int
    key: str
    params: Mapping[str, int | str]

    @property
    def discount_fen(self) -> int:
        return self.gross_fen - self.net_fen

    def funded_by(self) -> dict[tuple[Funder, str | None], int]:
        """What each funder covered: (Funder.MALL, None) or (Funder.MERCHANT, merchant_id) → fen. Sums to discount."""
        totals: dict[tuple[Funder, str | None], int] = {}
        for line in self.benefits:
            if line.fen:
                key = (line.funder, line.funder_id)
                totals[key] = totals.get(key, 0) + line.fen
        return totals


@dataclass(frozen=True)
class ExtraFee:
    """What a car that stayed past `leave_by` owes for the time after its payment (0 when it left in time)."""

    leave_by: dt.datetime
    amount_fen: int
    segments: tuple[Segment, ...]
    key: str
    params: Mapping[str, int | str]


def calculate_fee(
    tariff: Tariff,
    *,
    entry_at: dt.datetime,
    exit_at: dt.datetime,
    tz: dt.tzinfo,
    benefits: Benefits = NO_BENEFITS,
) -> FeeResult:
    """Price the stay [entry_at, exit_at) and take the benefits off in the documented order.

    Errors (FeeError): `parking.naive_datetime`, `parking.exit_before_entry`, `parking.stay_too_long`. A zero-length
    stay is a free stay. Datetimes in the result are in `tz` (the mall's zone).
    """
    if not isinstance(benefits, Benefits):
        raise FeeError("parking.benefit", "benefits is a Benefits value", field="benefits")
    stay = make_stay(tariff, entry_at, exit_at, tz)
    plan = stay.plan()
    n_units = stay.units_for(stay.chargeable_minutes)
    gross = plan.fee(n_units)

    lines: list[BenefitLine] = []
    removed = 0

    def take_hours(
        kind: BenefitKind,
        hours: int,
        *,
        source_id: str | None = None,
        funder: Funder = Funder.MALL,
        funder_id: str | None = None,
        **params: int | str,
    ) -> None:
        nonlocal removed
        offered = hours * 60
        left = stay.chargeable_minutes - removed
        used = min(offered, left)
        before = plan.fee(stay.units_for(left))
        after = plan.fee(stay.units_for(left - used))
        removed += used
        lines.append(
            BenefitLine(
                kind=kind,
                source_id=source_id,
                funder=funder,
                funder_id=funder_id,
                minutes_offered=offered,
                minutes_used=used,
                fen=before - after,
                key=f"parking.benefit.{kind.value}",
                params=explanation(hours=hours, minutes_used=used, fen=before - after, **params),
            )
        )

    if benefits.tier_hours:
        take_hours(BenefitKind.TIER_HOURS, benefits.tier_hours)
    step = spend_step(benefits.spend_today_fen, benefits.spend_steps)
    if step is not None and step[1] > 0:
        take_hours(BenefitKind.SPEND_HOURS, step[1], spend_today_fen=benefits.spend_today_fen, threshold_fen=step[0])
    for grant in benefits.merchant_grants:
        take_hours(
            BenefitKind.MERCHANT_GRANT,
            grant.hours,
            source_id=grant.grant_id,
            funder=Funder.MERCHANT,
            funder_id=grant.merchant_id,
        )
    for coupon in benefits.coupons:
        if coupon.hours:
            take_hours(
                BenefitKind.COUPON_HOURS,
                coupon.hours,
                source_id=coupon.coupon_id,
                funder=coupon.funder,
                funder_id=coupon.funder_id,
            )
    due = plan.fee(stay.units_for(stay.chargeable_minutes - removed))
    for coupon in benefits.coupons:
        if coupon.amount_fen:
            taken = min(coupon.amount_fen, due)
            due -= taken
            lines.append(
                BenefitLine(
                    kind=BenefitKind.COUPON_AMOUNT,
                    source_id=coupon.coupon_id,
                    funder=coupon.funder,
                    funder_id=coupon.funder_id,
                    minutes_offered=0,
                    minutes_used=0,
                    fen=taken,
                    key="parking.benefit.coupon_amount",
                    params=explanation(amount_fen=coupon.amount_fen, fen=taken),
                )
            )

    charged = not stay.is_free
    return FeeResult(
        tariff_code=tariff.code,
        entry_at=entry_at.astimezone(tz),
        exit_at=exit_at.astimezone(tz),
        stay_minutes=stay.stay_minutes,
        is_free_stay=stay.is_free,
        charged_from=stay.at(stay.charge_start_minutes) if charged else None,
        chargeable_minutes=stay.chargeable_minutes,
        units=n_units,
        segments=stay.segments(plan, 0, n_units),
        gross_fen=gross,
        benefit_minutes=removed,
        priced_until=stay.at(stay.charge_start_minutes + stay.chargeable_minutes - removed) if charged else None,
        benefits=tuple(lines),
        net_fen=due,
        key="parking.fee.charged" if charged else "parking.fee.free_stay",
        params=explanation(
            stay_minutes=stay.stay_minutes,
            free_minutes=tariff.free_minutes,
            chargeable_minutes=stay.chargeable_minutes,
            units=n_units,
            gross_fen=gross,
            net_fen=due,
        ),
    )


def leave_by(paid_at: dt.datetime, grace_minutes: int) -> dt.datetime:
    """The moment a car that paid at `paid_at` must have left by (the exit barrier opens without another charge)."""
    paid_at = check_moment(paid_at, "paid_at")
    if type(grace_minutes) is not int or not 0 <= grace_minutes <= 24 * 60:
        raise FeeError("parking.grace_minutes", "grace_minutes is an int in [0, 1440]", field="grace_minutes")
    return (paid_at.astimezone(UTC) + dt.timedelta(minutes=grace_minutes)).astimezone(paid_at.tzinfo)


def extra_fee(
    tariff: Tariff,
    *,
    entry_at: dt.datetime,
    paid_until: dt.datetime,
    exit_at: dt.datetime,
    tz: dt.tzinfo,
    grace_minutes: int,
) -> ExtraFee:
    """What a car owes when it leaves after `leave_by(paid_until, grace_minutes)`.

    Nothing if it leaves by then (an exit stamped before the payment included). Otherwise the units of the stay that
    start after what the payment covered, as a continuation of the same stay: same tariff (the one in force at
    entry), same unit grid from the charge start (a partly used unit that was paid for is not charged again), same
    caps (what was charged before counts towards them), no second free period and no benefits (they were settled with
    the payment). Equal to gross(entry → exit) − gross(entry → paid_until), so never negative and never above a cap.
    """
    deadline = leave_by(paid_until, grace_minutes).astimezone(UTC)
    if paid_until.astimezone(UTC) < check_moment(entry_at, "entry_at").astimezone(UTC):
        raise FeeError("parking.paid_before_entry", "the payment is before the entry", field="paid_until")
    if check_moment(exit_at, "exit_at").astimezone(UTC) <= deadline:
        return ExtraFee(
            leave_by=deadline.astimezone(tz),
            amount_fen=0,
            segments=(),
            key="parking.extra.none",
            params=explanation(grace_minutes=grace_minutes),
        )
    stay = make_stay(tariff, entry_at, exit_at, tz)
    paid = make_stay(tariff, entry_at, paid_until, tz)
    plan = stay.plan()
    n_exit = stay.units_for(stay.chargeable_minutes)
    n_paid = 0 if paid.is_free else paid.units_for(paid.chargeable_minutes)
    amount = plan.fee(n_exit) - plan.fee(n_paid)
    return ExtraFee(
        leave_by=deadline.astimezone(tz),
        amount_fen=amount,
        segments=stay.segments(plan, n_paid, n_exit),
        key="parking.extra.due",
        params=explanation(grace_minutes=grace_minutes, units=n_exit - n_paid, amount_fen=amount),
    )
