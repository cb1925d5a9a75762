"""Campaign rules: the hold-out is random, stable and of the asked share; quiet hours wrap midnight; the report's
statistics match hand computations."""

from __future__ import annotations

import datetime as dt
import math

from hypothesis import given
from hypothesis import strategies as st

from galleria.campaigns import rules


def test_the_holdout_has_the_asked_share_and_is_stable():
    held = [m for m in range(1, 20001) if rules.in_holdout(7, m, 1000)]
    assert 1800 <= len(held) <= 2200  # 10 % of 20,000 ± 5 sigma-ish
    assert held == [m for m in range(1, 20001) if rules.in_holdout(7, m, 1000)]
    other = {m for m in range(1, 20001) if rules.in_holdout(8, m, 1000)}
    assert len(set(held) & other) < 400  # independent between campaigns: ~1 % overlap
    assert not any(rules.in_holdout(7, m, 0) for m in range(1, 2000))


@given(st.integers(1, 10**9), st.integers(0, 5000))
def test_a_bigger_share_only_adds_members(member_id, bp):
    if rules.in_holdout(3, member_id, bp):
        assert rules.in_holdout(3, member_id, min(10000, bp + 1))


def test_quiet_hours():
    start, end = dt.time(21, 0), dt.time(9, 0)
    assert rules.in_quiet_hours(dt.time(22, 30), start, end)
    assert rules.in_quiet_hours(dt.time(3, 0), start, end)
    assert not rules.in_quiet_hours(dt.time(9, 0), start, end)
    assert not rules.in_quiet_hours(dt.time(12, 0), start, end)
    assert rules.in_quiet_hours(dt.time(13, 0), dt.time(12, 0), dt.time(14, 0))
    assert not rules.in_quiet_hours(dt.time(13, 0), dt.time(0, 0), dt.time(0, 0))
    night = dt.datetime(2026, 12, 7, 23, 15)
    assert rules.quiet_hours_end(night, start, end) == dt.datetime(2026, 12, 8, 9, 0)
    early = dt.datetime(2026, 12, 8, 2, 0)
    assert rules.quiet_hours_end(early, start, end) == dt.datetime(2026, 12, 8, 9, 0)


def test_the_statistics_by_hand():
    treated = rules.arm_stats([10000] * 120 + [0] * 880, 1000)  # 12 % bought ¥100
    holdout = rules.arm_stats([10000] * 8 + [0] * 92, 100)  # 8 %
    assert treated.buyers == 120 and treated.conversion_bp == 1200
    conv = rules.compare_conversion(treated, holdout)
    pooled = 128 / 1100
    se = math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 100))
    assert math.isclose(conv.difference, 0.04) and math.isclose(conv.high - conv.difference, 1.96 * se)
    assert 0.2 < conv.p_value < 0.3 and not conv.significant
    assert rules.incremental_fen(treated, holdout) == 1200000 - 800 * 1000
    assert rules.roi_bp(400000, 100000) == 30000
    assert rules.roi_bp(5, 0) is None
    spend = rules.compare_spend(treated, holdout)
    var_t = (120 * 10000**2 - 1200000**2 / 1000) / 999
    assert math.isclose(treated.variance, var_t)
    assert math.isclose(spend.difference, 400.0)
