"""The statement arithmetic (docs/settlement.md): pure functions, no database.

Periods are mall-local calendar months (`core.timeutil`): [the 1st 00:00, the next 1st 00:00) in the mall's time
zone, as UTC instants; a leg belongs to the period its `occurred_at` falls in, whenever it was written.

Rounding (the only rounding in settlement, through `core.money.ratio_round`): the commission is
base × rate / 10000 rounded half up — away from zero, so a negative base (refunds of an earlier period's sales
exceeding this period's sales) gives back what those sales were charged, rounded the same way. Every other figure is
a sum of integer fen legs and is not rounded here (the checkout rounded the points' value once per sale, half up).
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext_lazy as _

from galleria.core import timeutil
from galleria.core.money import ratio_round

from .exceptions import PeriodInvalidError
from .types import LedgerFigures, Period, StatementFigures, next_month

BP = 10000
PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")
EARLIEST = dt.date(2000, 1, 1)


def month(day: dt.date) -> Period:
    """The calendar month containing `day`."""
    start = day.replace(day=1)
    return Period(start=start, end=next_month(start))


def parse_period(text: str, *, today: dt.date | None = None) -> Period:
    """ "2026-11" → November 2026. Not before 2000, not a month that has not started yet (when `today` is given)."""
    m = PERIOD_RE.match((text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise PeriodInvalidError(_("A period is a month written YYYY-MM, e.g. 2026-11."), fields={"period": "format"})
    period = month(dt.date(int(m.group(1)), int(m.group(2)), 1))
    if period.start < EARLIEST or (today is not None and period.start > today):
        raise PeriodInvalidError(_("That month has not started yet."), fields={"period": "future"})
    return period


def previous_period(today: dt.date) -> Period:
    """The month before the one containing `today` (what the monthly job settles)."""
    return month(today.replace(day=1) - dt.timedelta(days=1))


def period_bounds(period: Period, tz_name: str | None) -> tuple[dt.datetime, dt.datetime]:
    """[since, until) of a period in a mall's time zone, as UTC instants."""
    since, _end = timeutil.local_day_bounds(period.start, tz_name)
    until, _end = timeutil.local_day_bounds(period.end, tz_name)
    return since, until


def period_has_ended(period: Period, tz_name: str | None, *, now: dt.datetime) -> bool:
    """Whether the period is over in the mall's time zone: from its end (the next 1st 00:00, mall time) on. Before
    that its statement is a *preview* — sales of the running month still arrive — which can be regenerated but not
    confirmed, disputed or approved (docs/settlement.md, "A month that has not ended")."""
    _since, until = period_bounds(period, tz_name)
    return now >= until


def commission_fen(base_fen: int, commission_bp: int) -> int:
    """base × rate (basis points), rounded half up (away from zero)."""
    return ratio_round(base_fen, commission_bp, BP)  # ratio_round's mode: ROUND_HALF_UP


def statement_figures(ledger: LedgerFigures, *, commission_bp: int) -> StatementFigures:
    """A merchant's statement from its ledger sums and sales for the period (or, for a supplementary statement,
    from what the period's legs add up to beyond the statements already frozen).

    On a merchant's settlement accounts a positive balance is what the mall owes the merchant, so the mall's debts
    are read as they are and the merchant's (its funded points, its memorandum discounts, the parking its grants
    covered) with the sign turned. The parking grants are not sales: they are in the net, not in the commission
    base."""
    coupon_merchant = -ledger.coupon_merchant_funded
    merchant_points = -ledger.merchant_points_cost
    parking_grants = -ledger.parking_grant_cost
    base = ledger.sales_fen - ledger.refunds_fen - coupon_merchant
    commission = commission_fen(base, commission_bp)
    payable = ledger.merchant_collected + ledger.wallet_spent + ledger.points_value_redeemed + ledger.coupon_mall_funded
    return StatementFigures(
        collected_fen=ledger.merchant_collected,
        wallet_fen=ledger.wallet_spent,
        points_value_fen=ledger.points_value_redeemed,
        coupon_mall_fen=ledger.coupon_mall_funded,
        merchant_points_fen=merchant_points,
        coupon_merchant_fen=coupon_merchant,
        parking_grants_fen=parking_grants,
        sales_count=ledger.sales,
        sales_fen=ledger.sales_fen,
        refunds_fen=ledger.refunds_fen,
        commission_base_fen=base,
        commission_bp=commission_bp,
        commission_fen=commission,
        net_fen=payable - merchant_points - parking_grants - commission,
    )


def payout_legs(net_fen: int) -> tuple[int, int]:
    """(the merchant's leg, the bank's leg) of paying a statement: paying the merchant N takes N off what the mall
    owes it; a negative net (the merchant pays the mall) the other way round."""
    return -net_fen, net_fen


def parking_grant_legs(delta_fen: int) -> tuple[int, int]:
    """(the merchant's leg, the car park's income leg) of billing a merchant `delta_fen` more for the parking its
    grant covered (a negative delta: a re-priced stay covered less, the difference is given back). The merchant owes
    it, as it owes the points it funds."""
    return -delta_fen, delta_fen


def commission_legs(commission_fen_: int) -> tuple[int, int]:
    """(the merchant's leg, the income leg) of charging the commission: the merchant owes it, the mall earns it."""
    return -commission_fen_, commission_fen_
