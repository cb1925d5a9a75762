import datetime as dt
import re

import pytest

from galleria.analytics import rules
from galleria.analytics.types import Period

TODAY = dt.date(2026, 3, 15)


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("today", TODAY, TODAY),
        ("7d", dt.date(2026, 3, 9), TODAY),
        ("30d", dt.date(2026, 2, 14), TODAY),
        ("90d", dt.date(2025, 12, 16), TODAY),
        ("month", dt.date(2026, 3, 1), TODAY),
        ("year", dt.date(2026, 1, 1), TODAY),
    ],
)
def test_presets_end_today(preset, start, end):
    period = rules.period_of(preset, today=TODAY)
    assert (period.start, period.end) == (start, end)


def test_custom_periods_are_checked():
    assert rules.period_of("custom", today=TODAY, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31)).days == 31
    for start, end, code in [
        (None, TODAY, "analytics.period_incomplete"),
        (TODAY, dt.date(2026, 3, 1), "analytics.period_reversed"),
        (dt.date(2020, 1, 1), TODAY, "analytics.period_too_long"),
    ]:
        with pytest.raises(rules.PeriodError, match=re.escape(code)):
            rules.period_of("custom", today=TODAY, start=start, end=end)
    with pytest.raises(rules.PeriodError, match=r"analytics\.period_unknown"):
        rules.period_of("fortnight", today=TODAY)


def test_comparisons():
    march = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 15))
    assert rules.compare_of(march, "previous") == Period(dt.date(2026, 2, 14), dt.date(2026, 2, 28))
    assert rules.compare_of(march, "last_year") == Period(dt.date(2025, 3, 1), dt.date(2025, 3, 15))
    leap = Period(dt.date(2028, 2, 29), dt.date(2028, 2, 29))
    assert rules.compare_of(leap, "last_year") == Period(dt.date(2027, 2, 28), dt.date(2027, 2, 28))
    assert rules.compare_of(march, "none") is None


def test_change_in_basis_points():
    assert rules.change_bp(1125, 1000) == 1250
    assert rules.change_bp(900, 1000) == -1000
    assert rules.change_bp(5, 0) is None
    assert rules.change_bp(None, 10) is None
