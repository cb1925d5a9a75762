"""Plays, prizes, the draw log's verification, the desk and check-in streaks, through the services."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from galleria.core import timeutil
from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import template
from galleria.games import exceptions, selectors, services
from galleria.games.models import CheckInDay, Draw, Prize, StreakReward
from galleria.games.types import PrizeIn, StreakRuleIn
from galleria.ledger.models import Transaction
from galleria.points.selectors import points_balance

from .helpers import ACTOR, game, member, play

pytestmark = pytest.mark.django_db


def test_the_first_play_is_free_then_each_costs_the_entry_points_through_a_points_spend(world):
    g = game(world, [PrizeIn(kind="thanks", name="谢谢", weight=1, inventory=None)])
    m = member(world, points=25)
    first = play(world, m, g)
    assert first.entry_points == 0 and first.seq == 1 and first.prize_kind == "thanks"
    second = play(world, m, g)
    assert second.entry_points == 10 and second.seq == 2
    assert points_balance(member_id=m.pk) == 15
    spend = Transaction.objects.get(source=f"game:{second.draw_id}")
    assert spend.kind == "spend"
    play(world, m, g)
    with pytest.raises(exceptions.PointsInsufficientError):
        play(world, m, g)
    assert points_balance(member_id=m.pk) == 5


def test_points_held_by_a_checkout_or_a_deposit_cannot_pay_a_play(world):
    from galleria.ledger import services as ledger
    from galleria.ledger.models import Account

    g = game(world, [PrizeIn(kind="thanks", name="谢谢", weight=1, inventory=None)])
    m = member(world, points=25)
    play(world, m, g)  # the free play
    account = Account.objects.get(member_id=m.pk, kind="member_points")
    from django.db import transaction

    with transaction.atomic():
        ledger.hold_place_in_tx(account_id=account.pk, key="amen:test", amount=20)
    with pytest.raises(exceptions.PointsInsufficientError):  # 25 points, 20 held: 5 available < 10
        play(world, m, g)
    assert points_balance(member_id=m.pk) == 25


def test_the_same_key_returns_the_first_result_and_another_game_with_it_is_a_conflict(world):
    g = game(world)
    m = member(world)
    a = play(world, m, g, key="tap")
    b = play(world, m, g, key="tap")
    assert b.draw_id == a.draw_id and not b.created and b.number == a.number
    other = game(world, title="另一个")
    with pytest.raises(exceptions.IdempotencyConflictError):
        play(world, m, other, key="tap")


def test_points_prizes_are_credited_gifts_get_a_pickup_code_the_desk_hands_over_once(world):
    g = game(world, [PrizeIn(kind="points", name="88", weight=1, inventory=None, points=88)])
    m = member(world)
    r = play(world, m, g)
    assert r.prize_kind == "points" and r.points == 88 and points_balance(member_id=m.pk) == 88
    assert Transaction.objects.get(source=f"game:{r.draw_id}").kind == "adjust"

    gift = game(world, [PrizeIn(kind="gift", name="公仔", weight=1, inventory=2)], title="盲盒", kind="blind_box")
    r = play(world, m, gift)
    assert len(r.pickup_code) == 8
    row = services.gift_hand_over(mall_group_id=world.group.pk, code=r.pickup_code.lower(), actor=ACTOR)
    assert row.picked_up_at is not None
    with pytest.raises(exceptions.AlreadyPickedUpError):
        services.gift_hand_over(mall_group_id=world.group.pk, code=r.pickup_code, actor=ACTOR)
    with pytest.raises(exceptions.DrawNotFoundError):
        services.gift_hand_over(mall_group_id=world.group.pk, code="NOPE2345", actor=ACTOR)


def test_a_coupon_prize_is_issued_by_the_coupons_engine_with_source_game(world):
    t = template(world, name="¥20 券")
    g = game(world, [PrizeIn(kind="coupon", name="¥20 券", weight=1, inventory=10, coupon_template_id=t.pk)])
    m = member(world)
    r = play(world, m, g)
    coupon = Coupon.objects.get(pk=r.coupon_id)
    assert coupon.member_id == m.pk and coupon.source == "game" and coupon.source_key == f"game:{r.draw_id}"


def test_a_sold_out_prize_gives_thanks_and_the_log_says_so(world):
    g = game(world, [PrizeIn(kind="gift", name="公仔", weight=1, inventory=1)], free_per_day=3)
    m = member(world)
    assert play(world, m, g).prize_kind == "gift"
    r = play(world, m, g)
    assert r.sold_out and r.prize_id is None and r.prize_kind == "thanks"
    assert Prize.objects.get(game=g).won == 1
    report = selectors.verify(game=g)
    assert report.seed_ok and report.draws == 2 and report.problems == ()


def test_verification_catches_a_tampered_draw_and_a_wrong_seed(world):
    g = game(world, free_per_day=5)
    m = member(world)
    for _ in range(5):
        play(world, m, g)
    assert selectors.verify(game=g).problems == ()
    assert not selectors.verify(game=g, server_seed="00" * 32).seed_ok
    d = Draw.objects.filter(game=g).first()
    assert d is not None
    Draw.objects.filter(pk=d.pk).update(number=(d.number + 1) % d.total_weight)
    assert any(f"draw {d.pk}" in p for p in selectors.verify(game=g).problems)


def test_limits_per_day_and_per_game_and_the_check_in_chance(world):
    g = game(world, entry_points=0, free_per_day=1, chances_per_checkin=1, max_per_game=3)
    m = member(world)
    play(world, m, g)
    with pytest.raises(exceptions.PlayLimitError):
        play(world, m, g)
    services.check_in(member_id=m.pk, mall_group_id=world.group.pk, tz_name=world.mall.timezone)
    play(world, m, g)  # the check-in chance
    with pytest.raises(exceptions.PlayLimitError):
        play(world, m, g)
    with time_machine.travel(timeutil.now() + dt.timedelta(days=1)):
        play(world, m, g)
        with pytest.raises(exceptions.PlayLimitError) as err:
            play(world, m, g)
        assert err.value.extra["reason"] == "game_limit"


def test_the_seed_is_hidden_until_the_game_ends_and_prizes_are_frozen_once_published(world):
    g = game(world)
    view = selectors.commitment_view(game=g)
    assert view is not None and view.server_seed == "" and len(view.seed_hash) == 64
    with pytest.raises(exceptions.GameLockedError):
        services.prize_save(
            mall_group_id=world.group.pk,
            game_id=g.pk,
            prize_id=None,
            data=PrizeIn(kind="thanks", name="x", weight=1, inventory=None),
            actor=ACTOR,
        )
    services.game_end(mall_group_id=world.group.pk, game_id=g.pk, actor=ACTOR)
    view = selectors.commitment_view(game=g)
    assert view is not None and view.revealed and len(view.server_seed) == 64
    with pytest.raises(exceptions.GameNotOpenError):
        play(world, member(world), g)


def _rule(world, **values):
    data = (
        dict(
            is_active=True,
            reward_7_points=70,
            reward_7_template_id=None,
            reward_30_points=300,
            reward_30_template_id=None,
            makeup_enabled=True,
            makeup_points=5,
            makeup_days_back=3,
            makeup_per_month=2,
        )
        | values
    )
    return services.streak_rule_save(mall_group_id=world.group.pk, data=StreakRuleIn(**data), actor=ACTOR)


def _check_in_on(world, m, day_offset):
    with time_machine.travel(timeutil.now() + dt.timedelta(days=day_offset)):
        return services.check_in(member_id=m.pk, mall_group_id=world.group.pk, tz_name=world.mall.timezone)


def test_a_seven_day_streak_pays_once_and_a_make_up_that_joins_runs_does_not_pay_again(world):
    _rule(world, makeup_days_back=10)
    m = member(world, points=100)
    start = timeutil.now()
    tz = world.mall.timezone
    for offset in range(0, 5):  # days 0..4
        _check_in_on(world, m, offset)
    for offset in range(6, 13):  # days 6..12 (day 5 missed): a run of 7
        result = _check_in_on(world, m, offset)
    assert result.rewards == ("7",) and result.streak == 7
    assert StreakReward.objects.filter(member=m).count() == 1
    assert not _check_in_on(world, m, 12).created  # the same day again: nothing
    # making up day 5 joins the runs (13 days): the 7-day reward was paid inside it already
    with time_machine.travel(start + dt.timedelta(days=13)):
        day5 = timeutil.local_date(start + dt.timedelta(days=5), tz)
        joined = services.makeup_check_in(member_id=m.pk, mall_group_id=world.group.pk, day=day5, tz_name=tz)
    assert joined.rewards == () and joined.streak == 13
    assert StreakReward.objects.filter(member=m).count() == 1
    assert points_balance(member_id=m.pk) == 100 + 70 - 5


def test_make_up_costs_points_fills_the_gap_and_completes_a_streak(world):
    _rule(world, makeup_days_back=5)
    m = member(world, points=100)
    start = timeutil.now()
    tz = world.mall.timezone
    for offset in (0, 1, 2, 4, 5, 6):  # day 3 missed
        _check_in_on(world, m, offset)
    assert StreakReward.objects.filter(member=m).count() == 0
    with time_machine.travel(start + dt.timedelta(days=6)):
        day3 = timeutil.local_date(start + dt.timedelta(days=3), tz)
        result = services.makeup_check_in(member_id=m.pk, mall_group_id=world.group.pk, day=day3, tz_name=tz)
        assert result.rewards == ("7",) and result.streak == 7
        with pytest.raises(exceptions.MakeupNotAllowedError):
            services.makeup_check_in(member_id=m.pk, mall_group_id=world.group.pk, day=day3, tz_name=tz)
        cal = selectors.calendar_month(member_id=m.pk, mall_group_id=world.group.pk, tz_name=tz)
        assert cal.streak == 7 and cal.next_milestone == 30 and cal.days_to_next == 23
    assert CheckInDay.objects.get(member=m, day=day3).is_makeup
    assert points_balance(member_id=m.pk) == 100 - 5 + 70
    assert Transaction.objects.filter(source__startswith="game:makeup:").count() == 1


def test_erasure_clears_unclaimed_gift_codes(world):
    g = game(world, [PrizeIn(kind="gift", name="公仔", weight=1, inventory=3)])
    m = member(world)
    r = play(world, m, g)
    n = services.member_erase_in_tx(member_id=m.pk, mall_group_id=world.group.pk, phone="", values=[])
    assert n == 1 and Draw.objects.get(pk=r.draw_id).pickup_code == ""


def test_parking_hours_are_a_parking_coupon_and_kinds_must_match(world):
    parking = template(world, name="停车 2 小时", kind="parking", parking_hours=2, value_fen=0, threshold_fen=0)
    with pytest.raises(exceptions.GameInvalidError) as err:
        game(world, [PrizeIn(kind="coupon", name="停车", weight=1, inventory=None, coupon_template_id=parking.pk)])
    assert "coupon_template" in err.value.fields
    g = game(
        world,
        [PrizeIn(kind="parking_hours", name="停车 2 小时", weight=1, inventory=None, coupon_template_id=parking.pk)],
        title="停车转盘",
    )
    r = play(world, member(world), g)
    assert r.prize_kind == "parking_hours" and Coupon.objects.get(pk=r.coupon_id).template_id == parking.pk


def test_games_verify_command_checks_a_revealed_game(world):
    from io import StringIO

    from django.core.management import CommandError, call_command

    g = game(world, free_per_day=3)
    m = member(world)
    for _ in range(3):
        play(world, m, g)
    with pytest.raises(CommandError):
        call_command("games_verify", g.pk)
    services.game_end(mall_group_id=world.group.pk, game_id=g.pk, actor=ACTOR)
    out = StringIO()
    call_command("games_verify", g.pk, stdout=out)
    assert "3 draw(s) recomputed, 0 problem(s)" in out.getvalue() and "matches" in out.getvalue()
    with pytest.raises(SystemExit):
        call_command("games_verify", g.pk, seed="00" * 32, stdout=StringIO())


def test_spending_today_in_the_mall_earns_free_plays(world):
    from galleria.audit.types import Actor
    from galleria.sales.services import sale_commit
    from galleria.sales.tests.helpers import sale_in

    g = game(world, entry_points=0, free_per_day=0, spend_fen_per_chance=10000)  # one play per ¥100 spent today
    m = member(world)
    with pytest.raises(exceptions.PlayLimitError):
        play(world, m, g, mall_id=world.mall.pk)
    sale_commit(data=sale_in(world, member_id=m.pk, amounts=(25000,)), actor=Actor.system("till"))
    allowed = selectors.allowance(game=g, member_id=m.pk, tz_name=world.mall.timezone, mall_id=world.mall.pk)
    assert allowed.free_left == 2 and allowed.earned_today == 2
    play(world, m, g, mall_id=world.mall.pk)
    play(world, m, g, mall_id=world.mall.pk)
    with pytest.raises(exceptions.PlayLimitError):
        play(world, m, g, mall_id=world.mall.pk)
