"""The draw's arithmetic and the streak rules, without a database."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest

from galleria.games import rules

D = dt.date(2026, 3, 1)


def test_the_number_is_the_documented_hmac_read_as_an_integer_modulo_the_total_weight():
    seed = "ab" * 32
    digest = hmac.new(seed.encode(), b"7:42:3:lucky", hashlib.sha256).hexdigest()
    got = rules.draw_number(server_seed=seed, game_id=7, member_id=42, seq=3, client_seed="lucky", total_weight=1000)
    assert got == int(digest, 16) % 1000
    assert rules.seed_commitment(seed) == hashlib.sha256(seed.encode()).hexdigest()


def test_pick_walks_the_prizes_ranges_in_published_order():
    slots = [rules.Slot(1, 30), rules.Slot(2, 10), rules.Slot(3, 60)]
    assert [rules.pick(slots, n) for n in (0, 29, 30, 39, 40, 99)] == [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError):
        rules.pick(slots, 100)


def test_odds_are_shown_as_percentages_rounded_half_up_without_floats():
    assert rules.percent_text(1, 3) == "33.33"
    assert rules.percent_text(2, 3) == "66.67"
    assert rules.percent_text(1, 8) == "12.50"
    assert rules.percent_text(0, 5) == "0.00"
    assert rules.expected_cost_fen([(1, 1000), (3, 0)], 4) == 250


def test_free_plays_add_check_in_and_spend_chances():
    assert rules.free_plays(
        free_per_day=1, chances_per_checkin=2, checked_in=True, spend_fen_per_chance=10000, spent_fen=25000
    ) == (5, 4)
    assert rules.free_plays(
        free_per_day=1, chances_per_checkin=2, checked_in=False, spend_fen_per_chance=0, spent_fen=25000
    ) == (1, 0)


def test_streak_counts_the_run_ending_today_or_yesterday():
    days = {D + dt.timedelta(days=i) for i in range(5)}
    assert rules.current_streak(days, D + dt.timedelta(days=4)) == 5
    assert rules.current_streak(days, D + dt.timedelta(days=5)) == 5  # today not yet checked: still alive
    assert rules.current_streak(days, D + dt.timedelta(days=6)) == 0


def test_a_milestone_is_paid_once_per_run_even_when_a_make_up_joins_two_runs():
    run = (D, D + dt.timedelta(days=12))
    assert rules.milestones_due(run=run, paid_on=[]) == [(7, D + dt.timedelta(days=6))]
    # the second part (days 7..13 of the joined run) was paid its 7 already: joining pays nothing more
    assert rules.milestones_due(run=run, paid_on=[(7, D + dt.timedelta(days=12))]) == []
    long_run = (D, D + dt.timedelta(days=29))
    assert rules.milestones_due(run=long_run, paid_on=[(7, D + dt.timedelta(days=6))]) == [
        (30, D + dt.timedelta(days=29))
    ]


def test_make_up_limits():
    today = D + dt.timedelta(days=10)
    ok = dict(today=today, days_back=3, done_this_month=0, per_month=2, checked=False)
    assert rules.makeup_problem(day=today - dt.timedelta(days=3), **ok) == ""
    assert rules.makeup_problem(day=today - dt.timedelta(days=4), **ok) == "too_old"
    assert rules.makeup_problem(day=today, **ok) == "not_past"
    assert rules.makeup_problem(day=today - dt.timedelta(days=1), **(ok | {"checked": True})) == "already"
    assert rules.makeup_problem(day=today - dt.timedelta(days=1), **(ok | {"done_this_month": 2})) == "month_limit"
