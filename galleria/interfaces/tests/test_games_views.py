"""Games' web layer: the console builds a game (errors inline), adds prizes and sees the odds in percent, publishes;
the member plays (JSON for the animation, the same key plays once, an expired form plays nothing), sees the gift's
pickup code; the desk hands it over once (409 the second time); the calendar makes up a missed day; the play's
query count is pinned."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from galleria.core import timeutil
from galleria.games import services
from galleria.games.models import CheckInDay, Draw, Game
from galleria.games.tests.helpers import ACTOR, game, member
from galleria.games.types import PrizeIn, StreakRuleIn

from .test_app_loyalty import sign_in_as
from .test_console_views import login

pytestmark = pytest.mark.django_db

KEY = "k" * 20


def test_console_builds_publishes_and_shows_odds(client, world):
    login(client, world, "marketing")
    now = timeutil.local(timeutil.now(), world.mall.timezone)
    form = {
        "kind": "wheel",
        "title": "",
        "colour": "#d9480f",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "free_per_day": 1,
        "entry_points": 0,
        "max_per_day": 0,
        "max_per_game": 0,
        "chances_per_checkin": 0,
        "spend_yuan_per_chance": 0,
    }
    bad = client.post(reverse("console:game_new"), form)
    assert bad.status_code == 422 and b"errorlist" in bad.content
    made = client.post(reverse("console:game_new"), form | {"title": "大转盘"})
    g = Game.objects.get(title="大转盘")
    assert made.url == reverse("console:game", args=[g.pk])
    add = reverse("console:game_prize_add", args=[g.pk])
    assert client.post(add, {"kind": "points", "name": "积分", "weight": 1}).status_code == 422  # points missing
    client.post(add, {"kind": "points", "name": "10 积分", "weight": 1, "points": 10, "cost": "0.10"})
    client.post(add, {"kind": "thanks", "name": "谢谢", "weight": 2})
    page = client.get(reverse("console:game", args=[g.pk]))
    assert page.context["odds"].expected_cost_fen == 3  # 10 fen × 1/3, rounded half up
    assert [r.percent for r in page.context["odds"].rows] == ["33.33", "66.67"]
    client.post(reverse("console:game_publish", args=[g.pk]))
    g.refresh_from_db()
    assert g.status == "published" and len(g.commitment.seed_hash) == 64


def test_member_plays_by_json_once_per_key_and_the_desk_hands_the_gift_over_once(
    client, world, django_assert_max_num_queries
):
    g = game(world, [PrizeIn(kind="gift", name="公仔", weight=1, inventory=5)], free_per_day=3)
    m = member(world)
    sign_in_as(client, m)
    url = reverse("app:game_play", args=[g.pk])
    expired = client.post(url, {"key": "x"}, HTTP_ACCEPT="application/json")
    assert expired.status_code == 422 and not Draw.objects.exists()
    with django_assert_max_num_queries(18):
        first = client.post(url, {"key": KEY}, HTTP_ACCEPT="application/json").json()
    again = client.post(url, {"key": KEY}, HTTP_ACCEPT="application/json").json()
    assert first["draw_id"] == again["draw_id"] and first["prize_kind"] == "gift" and first["slot"] == 0
    d = Draw.objects.get()
    page = client.get(reverse("app:game_prize", args=[d.pk]))
    assert d.pickup_code.encode() in page.content and b"svg" in page.content

    client.logout()
    login(client, world, "service")
    desk = reverse("console:games_desk")
    assert client.post(desk, {"code": d.pickup_code}).status_code == 200
    second = client.post(desk, {"code": d.pickup_code})
    assert second.status_code == 409 and b"gift-code-error" in second.content
    d.refresh_from_db()
    assert d.picked_up_at is not None


def test_the_calendar_makes_up_a_missed_day(client, world):
    services.streak_rule_save(
        mall_group_id=world.group.pk,
        data=StreakRuleIn(
            is_active=True,
            reward_7_points=0,
            reward_7_template_id=None,
            reward_30_points=0,
            reward_30_template_id=None,
            makeup_enabled=True,
            makeup_points=0,
            makeup_days_back=3,
            makeup_per_month=1,
        ),
        actor=ACTOR,
    )
    m = member(world)
    sign_in_as(client, m)
    today = timeutil.local_date(timeutil.now(), world.mall.timezone)
    url = reverse("app:checkin_calendar")
    page = client.get(url)
    assert page.status_code == 200 and b'data-testid="cal-makeup"' in page.content
    done = client.post(url, {"day": (today - dt.timedelta(days=1)).isoformat()})
    assert done.status_code == 302
    refused = client.post(url, {"day": (today - dt.timedelta(days=2)).isoformat()})  # one per month
    assert refused.status_code == 409
    assert CheckInDay.objects.filter(member=m, is_makeup=True).count() == 1
    client.post(reverse("app:checkin"))
    assert client.get(url).context["cal"].streak == 2
