"""Event rules without a database: registration and tier windows, seats, cancellation and check-in deadlines, the
no-show block, offer deadlines, ticket codes, the editor's checks."""

from __future__ import annotations

import datetime as dt

from galleria.events import rules
from galleria.events.types import EventIn, NoShowPolicy, TierMode

T0 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def test_registration_is_open_from_the_opening_until_the_close_or_the_start():
    start = T0 + 3 * D
    assert rules.registration_open(opens_at=None, closes_at=None, starts_at=start, at=T0)
    assert not rules.registration_open(opens_at=T0 + H, closes_at=None, starts_at=start, at=T0)
    assert not rules.registration_open(opens_at=None, closes_at=T0, starts_at=start, at=T0)
    assert not rules.registration_open(opens_at=None, closes_at=None, starts_at=start, at=start)


def test_tier_only_and_tier_priority():
    kw = {"min_rank": 2, "priority_until": T0 + D, "at": T0}
    assert rules.tier_problem(mode=TierMode.OPEN, member_rank=0, **kw) == ""
    assert rules.tier_problem(mode=TierMode.TIER_ONLY, member_rank=1, **kw) == "events.tier_required"
    assert rules.tier_problem(mode=TierMode.TIER_ONLY, member_rank=2, **kw) == ""
    assert rules.tier_problem(mode=TierMode.TIER_PRIORITY, member_rank=1, **kw) == "events.tier_priority"
    assert rules.tier_problem(mode=TierMode.TIER_PRIORITY, member_rank=1, **kw | {"at": T0 + D}) == ""


def test_seats_per_member_default_one():
    assert rules.seats_ok(seats=1, per_member_limit=1)
    assert not rules.seats_ok(seats=2, per_member_limit=1)
    assert not rules.seats_ok(seats=0, per_member_limit=3)


def test_members_may_cancel_until_n_hours_before_the_start():
    start = T0 + 48 * H
    assert rules.can_member_cancel(starts_at=start, cancel_hours_before=48, at=T0)
    assert not rules.can_member_cancel(starts_at=start, cancel_hours_before=48, at=T0 + dt.timedelta(seconds=1))


def test_check_in_window_two_hours_before_until_the_end():
    start, end = T0, T0 + 2 * H
    assert rules.check_in_open(starts_at=start, ends_at=end, at=start - 2 * H)
    assert not rules.check_in_open(starts_at=start, ends_at=end, at=start - 2 * H - dt.timedelta(seconds=1))
    assert not rules.check_in_open(starts_at=start, ends_at=end, at=end + dt.timedelta(seconds=1))


def test_an_offer_lasts_its_hours_but_never_past_the_start():
    assert rules.offer_deadline(at=T0, starts_at=T0 + 3 * D, offer_hours=24) == T0 + D
    assert rules.offer_deadline(at=T0, starts_at=T0 + 2 * H, offer_hours=24) == T0 + 2 * H


def test_two_no_shows_within_90_days_block_for_30_days():
    policy = NoShowPolicy(limit=2, window_days=90, block_days=30)
    first, second = T0 - 60 * D, T0 - 10 * D
    assert rules.no_show_blocked_until(no_show_ends=[first], policy=policy, at=T0) is None
    assert rules.no_show_blocked_until(no_show_ends=[first, second], policy=policy, at=T0) == second + 30 * D
    assert rules.no_show_blocked_until(no_show_ends=[first, second], policy=policy, at=second + 31 * D) is None
    # 100 days apart: not within the window
    assert rules.no_show_blocked_until(no_show_ends=[T0 - 110 * D, second], policy=policy, at=T0) is None
    # the rule switched off
    assert rules.no_show_blocked_until(no_show_ends=[first, second], policy=NoShowPolicy(limit=0), at=T0) is None


def test_ticket_codes_as_typed_or_scanned():
    code = rules.new_ticket_code()
    assert len(code) == 8 and code.isdigit()
    assert rules.normalise_code("１２３４ ５６７８") == "12345678"
    assert rules.normalise_code("EV1234-5678") == "12345678"
    assert rules.normalise_code("1234567") == ""
    assert rules.spaced_code("12345678") == "1234 5678"


def test_editor_checks():
    good = EventIn(title="烘焙课", mall_id=1, place="L3", starts_at=T0, ends_at=T0 + H, capacity=20)
    assert rules.event_problems(good) == {}
    bad = EventIn(
        title="",
        mall_id=1,
        place="",
        starts_at=T0,
        ends_at=T0,
        capacity=0,
        per_member_limit=11,
        tier_mode=TierMode.TIER_PRIORITY,
        price_points=100,
    )
    assert set(rules.event_problems(bad)) == {
        "title",
        "place",
        "ends_at",
        "capacity",
        "per_member_limit",
        "min_tier",
        "priority_until",
        "store",
    }


def test_points_price_under_the_groups_rules():
    assert rules.price_problem(0, min_points=100, multiple=100, points_per_yuan=100) == ""
    assert rules.price_problem(500, min_points=100, multiple=100, points_per_yuan=100) == ""
    assert rules.price_problem(50, min_points=100, multiple=100, points_per_yuan=100)
    assert rules.price_problem(150, min_points=100, multiple=100, points_per_yuan=100)
