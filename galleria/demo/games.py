"""The demo's games (docs/games.md): a published lucky wheel (points, a coupon, a gift, parking hours, thanks) and a
published blind box, each with some plays by recent members; the check-in streak rewards (50 points at 7 days, a
coupon at 30, make-ups for 20 points) and five check-ins in the last six days for the demo member, so the calendar
shows a streak and a day to make up.
Everything is made through the services the console and the app call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.coupons.selectors import template_list
from galleria.games import services
from galleria.games.types import GameIn, PrizeIn, StreakRuleIn
from galleria.members.selectors import members_active
from galleria.merchants.selectors import mall_list

ACTOR = Actor.system("demo")


@dataclass
class GamesResult:
    games: int = 0
    plays: int = 0
    checkins: int = 0


def _game(group_id: int, data: GameIn, prizes: list[PrizeIn]) -> int:
    game = services.game_save(mall_group_id=group_id, game_id=None, data=data, actor=ACTOR)
    for prize in prizes:
        services.prize_save(mall_group_id=group_id, game_id=game.pk, prize_id=None, data=prize, actor=ACTOR)
    services.game_publish(mall_group_id=group_id, game_id=game.pk, actor=ACTOR)
    return int(game.pk)


def seed_games(*, mall_group_id: int, seed: int) -> GamesResult:
    result = GamesResult()
    mall = mall_list(mall_group_id=mall_group_id).order_by("pk").first()
    members = list(members_active(mall_group_id=mall_group_id).order_by("-created_at")[:40])
    if mall is None or len(members) < 10:
        return result
    active = list(template_list(mall_group_id=mall_group_id, status="active"))
    coupon = next((t for t in active if t.kind == "cash_off" and t.claim_method != "price"), None) or next(
        (t for t in active if t.kind not in ("parking", "exchange", "shipping")), None
    )
    parking = next((t for t in active if t.kind == "parking"), None)
    now = timezone.now().replace(second=0, microsecond=0)
    wheel_prizes = [PrizeIn(kind="points", name="88 积分", weight=30, inventory=None, points=88, cost_fen=88)]
    if coupon is not None:
        wheel_prizes.append(
            PrizeIn(
                kind="coupon",
                name=coupon.name[:40],
                weight=15,
                inventory=200,
                coupon_template_id=coupon.pk,
                cost_fen=1000,
            )
        )
    wheel_prizes.append(PrizeIn(kind="gift", name="星河限定公仔", weight=5, inventory=20, cost_fen=3900))
    if parking is not None:
        wheel_prizes.append(
            PrizeIn(
                kind="parking_hours",
                name="停车 2 小时",
                weight=10,
                inventory=None,
                coupon_template_id=parking.pk,
                cost_fen=1000,
            )
        )
    wheel_prizes.append(PrizeIn(kind="thanks", name="谢谢参与", weight=40, inventory=None))
    wheel = _game(
        mall_group_id,
        GameIn(
            kind="wheel",
            title="冬日幸运大转盘",
            description="每天免费转 1 次，签到再送 1 次；之后每次 20 积分。",
            colour="#d9480f",
            starts_at=now - dt.timedelta(days=2),
            ends_at=now + dt.timedelta(days=28),
            entry_points=20,
            free_per_day=1,
            max_per_day=5,
            max_per_game=0,
            chances_per_checkin=1,
            spend_fen_per_chance=0,
        ),
        wheel_prizes,
    )
    box = _game(
        mall_group_id,
        GameIn(
            kind="blind_box",
            title="新年盲盒",
            description="每人每天 1 次，选一个盒子打开。",
            colour="#7048e8",
            starts_at=now - dt.timedelta(days=1),
            ends_at=now + dt.timedelta(days=14),
            entry_points=0,
            free_per_day=1,
            max_per_day=1,
            max_per_game=10,
            chances_per_checkin=0,
            spend_fen_per_chance=0,
        ),
        [
            PrizeIn(kind="gift", name="生肖盲盒公仔", weight=10, inventory=30, cost_fen=5900),
            PrizeIn(kind="points", name="188 积分", weight=20, inventory=None, points=188, cost_fen=188),
            PrizeIn(kind="points", name="18 积分", weight=70, inventory=None, points=18, cost_fen=18),
        ],
    )
    result.games = 2
    for n, m in enumerate(members[1:31]):  # the demo member (members[0]) plays for themselves
        for game_id in (wheel, box) if n % 2 == 0 else (wheel,):
            try:
                services.draw(
                    member_id=m.pk,
                    mall_group_id=mall_group_id,
                    game_id=game_id,
                    idempotency_key=f"demo-{game_id}-{m.pk}",
                    tz_name=mall.timezone,
                    client_seed="" if n % 3 else f"lucky{seed % 100}",
                )
                result.plays += 1
            except ApplicationError:
                continue
    template_30 = coupon.pk if coupon is not None else None
    services.streak_rule_save(
        mall_group_id=mall_group_id,
        data=StreakRuleIn(
            is_active=True,
            reward_7_points=50,
            reward_7_template_id=None,
            reward_30_points=0 if template_30 else 300,
            reward_30_template_id=template_30,
            makeup_enabled=True,
            makeup_points=20,
            makeup_days_back=3,
            makeup_per_month=2,
        ),
        actor=ACTOR,
    )
    demo = members[0]
    for days_ago in (6, 5, 4, 3, 1):  # day 2 missed: the calendar offers a make-up that would make a 6-day streak
        services.check_in(
            member_id=demo.pk,
            mall_group_id=mall_group_id,
            tz_name=mall.timezone,
            at=now - dt.timedelta(days=days_ago),
        )
        result.checkins += 1
    return result
