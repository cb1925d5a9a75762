"""The demo's events (docs/events.md): one upcoming event with seats left (the demo member holds a ticket, so the app
shows a QR code), one full event with a waiting list, one upcoming points-priced event for gold members first, and
one past event with attendance (most checked in, a couple of no-shows) — all made through the services the app and
the desk call."""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass

from django.utils import timezone

from galleria.audit.types import Actor
from galleria.commerce.selectors import settings_get as points_mall_settings
from galleria.events import services
from galleria.events.types import EventIn, QuestionIn
from galleria.members.selectors import members_active
from galleria.merchants.selectors import mall_list
from galleria.tiers.selectors import tier_level_options

ACTOR = Actor.system("demo")
DESK = Actor.system("demo desk")


@dataclass
class EventsResult:
    events: int = 0
    registrations: int = 0
    checked_in: int = 0


def _poster(rng: random.Random) -> bytes:
    """A 16:9 poster in the mall's colours (generated: no bundled photos)."""
    from PIL import Image, ImageDraw

    hue = rng.choice(((138, 28, 63), (43, 108, 176), (31, 138, 76), (183, 121, 31)))
    image = Image.new("RGB", (960, 540), hue)
    draw = ImageDraw.Draw(image)
    draw.ellipse((360, 90, 600, 330), fill=(251, 241, 244))
    draw.rounded_rectangle((240, 380, 720, 430), radius=20, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _event(group_id: int, rng: random.Random, **values: object) -> int:
    event = services.event_save(mall_group_id=group_id, event_id=None, data=EventIn(**values), actor=ACTOR)  # type: ignore[arg-type]
    services.event_poster_set(mall_group_id=group_id, event_id=event.pk, data=_poster(rng), actor=ACTOR)
    return int(event.pk)


def seed_events(*, mall_group_id: int, seed: int) -> EventsResult:
    rng = random.Random(seed + 19)
    result = EventsResult()
    mall = mall_list(mall_group_id=mall_group_id).order_by("pk").first()
    members = list(members_active(mall_group_id=mall_group_id).order_by("-created_at")[:40])
    if mall is None or len(members) < 20:
        return result
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    day = dt.timedelta(days=1)
    upcoming = now + 4 * day + dt.timedelta(hours=2)
    baking = _event(
        mall_group_id,
        rng,
        title="周末亲子烘焙课",
        mall_id=mall.pk,
        place=f"{mall.name} L3 活动中庭",
        description="和孩子一起做小熊饼干，材料由商场提供。每位会员最多 2 个名额。",
        starts_at=upcoming,
        ends_at=upcoming + dt.timedelta(hours=2),
        capacity=30,
        per_member_limit=2,
        status="published",
    )
    full_at = now + 2 * day + dt.timedelta(hours=5)
    flowers = _event(
        mall_group_id,
        rng,
        title="会员日花艺沙龙",
        mall_id=mall.pk,
        place=f"{mall.name} L2 会员中心",
        description="花艺老师带你做一束冬日花束。名额已满，可排队候补。",
        starts_at=full_at,
        ends_at=full_at + dt.timedelta(hours=2),
        capacity=6,
        status="published",
    )
    gold = tier_level_options(mall_group_id=mall_group_id).order_by("-rank").first()
    store_id = points_mall_settings(mall_group_id=mall_group_id).store_id
    if gold is not None and store_id is not None:
        tasting = now + 9 * day
        _event(
            mall_group_id,
            rng,
            title="金卡优先 · 精品咖啡品鉴会",
            mall_id=mall.pk,
            place=f"{mall.name} L1 咖啡市集",
            description="金卡会员优先报名 48 小时，之后向全体会员开放。每位 500 积分。",
            starts_at=tasting,
            ends_at=tasting + dt.timedelta(hours=2),
            capacity=20,
            tier_mode="tier_priority",
            min_tier_id=gold.pk,
            priority_until=now + 2 * day,
            price_points=500,
            store_id=store_id,
            status="published",
        )
        result.events += 1
        workshop = now + 6 * day + dt.timedelta(hours=3)
        leather = _event(  # money-priced: paid with WeChat Pay / Alipay (plus points) when registering
            mall_group_id,
            rng,
            title="手作皮具工作坊",
            mall_id=mall.pk,
            place=f"{mall.name} L3 手作工坊",
            description="皮具师傅带你做一只卡包，材料费 ¥39 + 500 积分，报名时用微信支付或支付宝支付。",
            starts_at=workshop,
            ends_at=workshop + dt.timedelta(hours=2),
            capacity=12,
            price_points=500,
            price_fen=3900,
            store_id=store_id,
            cancel_hours_before=48,
            status="published",
        )
        services.question_save(
            mall_group_id=mall_group_id,
            event_id=leather,
            data=QuestionIn(label="卡包颜色", kind="single", choices=("原色", "棕色", "黑色"), required=True),
            actor=ACTOR,
        )
        services.question_save(
            mall_group_id=mall_group_id,
            event_id=leather,
            data=QuestionIn(label="想烫印的字母（可选）"),
            actor=ACTOR,
        )
        result.events += 1
    past_at = now - 10 * day
    lecture = _event(
        mall_group_id,
        rng,
        title="秋季穿搭讲座",
        mall_id=mall.pk,
        place=f"{mall.name} L4 多功能厅",
        description="造型师分享秋冬穿搭。",
        starts_at=past_at,
        ends_at=past_at + dt.timedelta(hours=2),
        capacity=12,
        status="published",
    )
    result.events += 3

    def join(event_id: int, member_id: int, n: int, at: dt.datetime | None = None, seats: int = 1) -> str:
        reg = services.register(
            mall_group_id=mall_group_id,
            event_id=event_id,
            member_id=member_id,
            seats=seats,
            key=f"demo-{event_id}-{n}",
            actor=Actor.system(f"member:{member_id}"),
            at=at,
        )
        result.registrations += 1
        return reg.code

    join(baking, members[0].pk, 0, seats=2)  # the demo member's ticket
    for n, m in enumerate(members[1:9], start=1):
        join(baking, m.pk, n)
    for n, m in enumerate(members[9:17], start=1):  # 6 seats, 8 members: 2 on the waiting list
        join(flowers, m.pk, n)
    codes = [join(lecture, m.pk, n, at=past_at - 3 * day) for n, m in enumerate(members[17:27], start=1)]
    for code in codes[:8]:  # 8 came, 2 did not
        services.check_in(mall_group_id=mall_group_id, code=code, actor=DESK, at=past_at + dt.timedelta(minutes=10))
        result.checked_in += 1
    return result
