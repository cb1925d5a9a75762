"""Pure tier rules: no database."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galleria.tiers import rules
from galleria.tiers.types import Policy, Rung

CLASSIC = Rung("classic", 0, 0)
SILVER = Rung("silver", 1, 500_000)
GOLD = Rung("gold", 2, 2_000_000)
BLACK = Rung("black", 3, 8_000_000)
LADDER = [BLACK, CLASSIC, GOLD, SILVER]  # any order: the rules sort by rank

TODAY = dt.date(2026, 11, 22)
POLICY = Policy(grace_months=3, downgrade_one_step=True)


def decide(current, amount, *, grace=None, override=None, today=TODAY, policy=POLICY):
    return rules.evaluate(
        current_level=current,
        qualifying_level=rules.qualifying_level(amount, LADDER),
        grace_until=grace,
        override_until=override,
        today=today,
        settings=policy,
        ladder=LADDER,
    )


class TestQualifyingLevel:
    def test_boundary_is_exact_fen(self):
        assert rules.qualifying_level(499_999, LADDER) == CLASSIC  # ¥4,999.99 does not reach ¥5,000
        assert rules.qualifying_level(500_000, LADDER) == SILVER
        assert rules.qualifying_level(1_999_999, LADDER) == SILVER
        assert rules.qualifying_level(2_000_000, LADDER) == GOLD
        assert rules.qualifying_level(10**12, LADDER) == BLACK

    def test_negative_and_zero_amounts_are_entry(self):
        assert rules.qualifying_level(0, LADDER) == CLASSIC
        assert rules.qualifying_level(-5_000, LADDER) == CLASSIC

    def test_empty_ladder_is_an_error(self):
        with pytest.raises(ValueError):
            rules.qualifying_level(1, [])

    @given(st.integers(min_value=-(10**13), max_value=10**13))
    def test_monotonic(self, amount):
        lower = rules.qualifying_level(amount, LADDER)
        higher = rules.qualifying_level(amount + 1, LADDER)
        assert higher.rank >= lower.rank
        assert amount >= lower.threshold or lower == CLASSIC


class TestWindow:
    def test_twelve_months_up_to_and_including_today(self):
        assert rules.window_days(dt.date(2026, 11, 22)) == (dt.date(2025, 11, 23), dt.date(2026, 11, 22))

    def test_leap_day(self):
        assert rules.window_days(dt.date(2028, 2, 29)) == (dt.date(2027, 3, 1), dt.date(2028, 2, 29))
        assert rules.window_days(dt.date(2029, 2, 28)) == (dt.date(2028, 2, 29), dt.date(2029, 2, 28))

    def test_add_months_clamps_to_month_end(self):
        assert rules.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
        assert rules.add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
        assert rules.add_months(dt.date(2026, 3, 15), -15) == dt.date(2024, 12, 15)

    def test_grace_end_is_inclusive(self):
        assert rules.grace_end(dt.date(2026, 1, 15), 3) == dt.date(2026, 4, 14)


class TestUpgrade:
    def test_instant_upgrade_straight_to_the_highest_level_reached(self):
        d = decide(CLASSIC, 2_500_000)
        assert (d.new_level, d.reason, d.grace_until) == (GOLD, rules.UPGRADE, None)

    def test_exactly_the_threshold_upgrades(self):
        assert decide(CLASSIC, 500_000).new_level == SILVER

    def test_one_fen_short_does_not(self):
        d = decide(CLASSIC, 499_999)
        assert (d.new_level, d.reason) == (CLASSIC, None)

    def test_upgrade_during_grace_clears_it(self):
        d = decide(SILVER, 2_000_000, grace=dt.date(2027, 1, 1))
        assert (d.new_level, d.reason, d.grace_until) == (GOLD, rules.UPGRADE, None)


class TestGraceAndDowngrade:
    def test_falling_short_starts_grace_keeping_the_tier(self):
        d = decide(GOLD, 600_000)
        assert (d.new_level, d.reason, d.grace_until) == (GOLD, rules.GRACE, dt.date(2027, 2, 21))

    def test_during_grace_nothing_changes_through_the_last_day(self):
        grace = dt.date(2027, 2, 21)
        for day in (TODAY, grace):
            d = decide(GOLD, 600_000, grace=grace, today=day)
            assert (d.new_level, d.reason, d.grace_until) == (GOLD, None, grace)

    def test_requalifying_during_grace_ends_it(self):
        d = decide(GOLD, 2_000_000, grace=dt.date(2027, 2, 21))
        assert (d.new_level, d.reason, d.grace_until) == (GOLD, rules.REQUALIFIED, None)

    def test_after_grace_one_step_down_with_a_fresh_grace_when_still_short(self):
        day = dt.date(2027, 2, 22)
        d = decide(BLACK, 0, grace=dt.date(2027, 2, 21), today=day)
        assert (d.new_level, d.reason, d.grace_until) == (GOLD, rules.DOWNGRADE, dt.date(2027, 5, 21))

    def test_after_grace_one_step_down_landing_on_the_qualifying_level(self):
        d = decide(GOLD, 600_000, grace=dt.date(2027, 2, 21), today=dt.date(2027, 2, 22))
        assert (d.new_level, d.reason, d.grace_until) == (SILVER, rules.DOWNGRADE, None)

    def test_after_grace_straight_to_the_qualifying_level(self):
        policy = Policy(grace_months=3, downgrade_one_step=False)
        d = decide(BLACK, 600_000, grace=dt.date(2027, 2, 21), today=dt.date(2027, 2, 22), policy=policy)
        assert (d.new_level, d.reason, d.grace_until) == (SILVER, rules.DOWNGRADE, None)

    def test_no_grace_months_downgrades_at_once_to_the_qualifying_level(self):
        policy = Policy(grace_months=0, downgrade_one_step=True)
        d = decide(BLACK, 0, policy=policy)
        assert (d.new_level, d.reason, d.grace_until) == (CLASSIC, rules.DOWNGRADE, None)

    def test_a_second_review_on_the_same_day_changes_nothing(self):
        for policy in (POLICY, Policy(grace_months=3, downgrade_one_step=False), Policy(grace_months=0)):
            for current, amount, grace, day in [
                (BLACK, 0, None, TODAY),
                (BLACK, 0, dt.date(2026, 11, 21), TODAY),
                (GOLD, 2_000_000, dt.date(2027, 1, 1), TODAY),
            ]:
                first = decide(current, amount, grace=grace, today=day, policy=policy)
                second = decide(first.new_level, amount, grace=first.grace_until, today=day, policy=policy)
                assert (second.new_level, second.reason, second.grace_until) == (
                    first.new_level,
                    None,
                    first.grace_until,
                )


class TestOverride:
    def test_override_holds_the_tier_until_it_ends(self):
        until = dt.date(2026, 12, 31)
        for day in (TODAY, until):
            d = decide(BLACK, 0, override=until, today=day)
            assert (d.new_level, d.reason, d.grace_until, d.override_until) == (BLACK, None, None, until)

    def test_override_ends_the_next_day_at_the_qualifying_level_without_grace(self):
        d = decide(BLACK, 600_000, override=dt.date(2026, 12, 31), today=dt.date(2027, 1, 1))
        assert (d.new_level, d.reason, d.grace_until, d.override_until) == (SILVER, rules.OVERRIDE_END, None, None)

    def test_override_end_at_the_same_level_is_still_recorded(self):
        d = decide(SILVER, 600_000, override=dt.date(2026, 12, 31), today=dt.date(2027, 1, 1))
        assert (d.new_level, d.reason, d.override_until) == (SILVER, rules.OVERRIDE_END, None)

    def test_qualifying_above_the_override_upgrades_and_ends_it(self):
        d = decide(SILVER, 2_000_000, override=dt.date(2026, 12, 31))
        assert (d.new_level, d.reason, d.override_until) == (GOLD, rules.UPGRADE, None)


@given(
    current=st.sampled_from([CLASSIC, SILVER, GOLD, BLACK]),
    amount=st.integers(min_value=-(10**7), max_value=10**8),
    grace_offset=st.one_of(st.none(), st.integers(min_value=-200, max_value=200)),
    override_offset=st.one_of(st.none(), st.integers(min_value=-200, max_value=200)),
    one_step=st.booleans(),
    grace_months=st.integers(min_value=0, max_value=12),
)
def test_evaluate_invariants(current, amount, grace_offset, override_offset, one_step, grace_months):
    policy = Policy(grace_months=grace_months, downgrade_one_step=one_step)
    grace = TODAY + dt.timedelta(days=grace_offset) if grace_offset is not None else None
    override = TODAY + dt.timedelta(days=override_offset) if override_offset is not None else None
    qualifying = rules.qualifying_level(amount, LADDER)
    d = decide(current, amount, grace=grace, override=override, policy=policy)
    # Never below what the amount qualifies for; never above the higher of current and qualifying.
    assert d.new_level.rank >= qualifying.rank
    assert d.new_level.rank <= max(current.rank, qualifying.rank)
    # A level change always has a reason; going down is only a downgrade or the end of an override.
    if d.new_level != current:
        assert d.reason is not None
    if d.new_level.rank < current.rank:
        assert d.reason in (rules.DOWNGRADE, rules.OVERRIDE_END)
        if d.reason == rules.DOWNGRADE and one_step and grace_months > 0:
            assert d.new_level.rank == current.rank - 1
    # The same review again the same day is a fixed point.
    again = decide(d.new_level, amount, grace=d.grace_until, override=d.override_until, policy=policy)
    assert (again.new_level, again.reason, again.grace_until, again.override_until) == (
        d.new_level,
        None,
        d.grace_until,
        d.override_until,
    )
