"""The demo's audience (docs/marketing.md): three manual tags given to some members (a VIP salon list, families,
complaint-sensitive), four saved segments a marketing team would build, and the first pass over every member (RFM
scores and segments, lifecycle stages, automatic tags) — all through the audience services."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from galleria.audience import services
from galleria.audit.types import Actor
from galleria.members.selectors import members_active
from galleria.tiers.selectors import tier_level_options

ACTOR = Actor.system("demo")

TAGS = (
    ("VIP 沙龙", "受邀参加季度 VIP 沙龙的会员"),
    ("亲子家庭", "带孩子来的家庭会员（服务台登记）"),
    ("投诉敏感", "处理过投诉，沟通需谨慎"),
)


@dataclass
class AudienceResult:
    tags: int = 0
    segments: int = 0
    profiles: int = 0
    campaign_members: int = 0
    journeys: int = 0


def seed_audience(*, mall_group_id: int, seed: int) -> AudienceResult:
    rng = random.Random(seed + 17)
    result = AudienceResult()
    member_ids = list(members_active(mall_group_id=mall_group_id).order_by("pk").values_list("pk", flat=True))
    group = services.tag_group_save(mall_group_id=mall_group_id, name="服务台", actor=ACTOR)
    tag_ids = []
    for name, description in TAGS:
        tag = services.tag_save(
            mall_group_id=mall_group_id, name=name, description=description, group_id=group.pk, actor=ACTOR
        )
        tag_ids.append(tag.pk)
        picked = rng.sample(member_ids, min(len(member_ids), rng.randint(8, 40)))
        services.tag_members_add(mall_group_id=mall_group_id, tag_id=tag.pk, member_ids=picked, actor=ACTOR)
        result.tags += 1
    top_tiers = [t.pk for t in tier_level_options(mall_group_id=mall_group_id).order_by("-rank")[:2]]
    segments: list[tuple[str, dict[str, Any]]] = [
        (
            "近 90 天餐饮消费满 ¥300 的女性",
            {
                "match": "all",
                "conditions": [
                    {"field": "gender", "in": ["female"]},
                    {"field": "spend", "days": 90, "categories": ["dining"], "min": 30000},
                ],
            },
        ),
        (
            "沉睡的高等级会员",
            {
                "match": "all",
                "conditions": [
                    {"field": "tier", "in": top_tiers},
                    {"field": "lifecycle", "in": ["at_risk", "dormant"]},
                ],
            },
        ),
        (
            "有车一族 · 同意短信营销",
            {
                "match": "all",
                "conditions": [
                    {"field": "plate", "verified": False},
                    {"field": "consent", "channel": "sms", "granted": True},
                ],
            },
        ),
        (
            "重要价值或重要保持客户",
            {
                "match": "any",
                "conditions": [
                    {"field": "rfm", "in": ["important_value", "important_keep"]},
                    {"field": "tag", "any": [tag_ids[0]]},
                ],
            },
        ),
    ]
    rebuilt = services.profiles_rebuild(mall_group_id=mall_group_id)
    result.profiles = rebuilt.profiles
    for name, definition in segments:
        if not top_tiers and any(c.get("field") == "tier" for c in definition["conditions"]):
            continue
        services.segment_save(mall_group_id=mall_group_id, name=name, definition=definition, actor=ACTOR)
        result.segments += 1
    result.campaign_members = seed_campaign(mall_group_id=mall_group_id)
    result.journeys = seed_journeys(mall_group_id=mall_group_id)
    return result


def seed_journeys(*, mall_group_id: int) -> int:
    """Four journeys a mall's marketing team runs (welcome, birthday, win-back, points expiring), published and run
    once over the demo's members: their pages show who entered, each step's counts and who waits where."""
    from galleria.coupons.selectors import template_list
    from galleria.journeys import services as journey_services

    coupon = template_list(mall_group_id=mall_group_id).filter(status="active").order_by("pk").first()
    nudge: list[dict[str, Any]] = (
        [{"id": "c1", "kind": "coupon", "template_id": coupon.pk}] if coupon is not None else []
    )
    journeys: list[tuple[str, str, int, dict[str, Any]]] = [
        (
            "新会员欢迎旅程",
            "joined",
            7,
            {
                "steps": [
                    {
                        "id": "m1",
                        "kind": "message",
                        "inbox": True,
                        "title": "欢迎加入星河会员",
                        "body": "首次消费即可累计积分，会员日再享双倍。",
                    },
                    {"id": "w1", "kind": "wait", "minutes": 3 * 1440},
                    {
                        "id": "b1",
                        "kind": "branch",
                        "test": "purchased",
                        "yes": [{"id": "p1", "kind": "points", "points": 100}],
                        "no": [
                            *nudge,
                            {
                                "id": "m2",
                                "kind": "message",
                                "inbox": True,
                                "title": "送您一张见面礼券",
                                "body": "到店消费即可使用，别错过。",
                            },
                        ],
                    },
                ]
            },
        ),
        (
            "生日关怀",
            "birthday",
            7,
            {
                "steps": [
                    {
                        "id": "m1",
                        "kind": "message",
                        "inbox": True,
                        "sms": True,
                        "title": "生日快乐",
                        "body": "星河广场祝您生日快乐！送上 200 积分。",
                        "sms_text": "生日快乐，200积分已到账",
                    },
                    {"id": "p1", "kind": "points", "points": 200},
                ]
            },
        ),
        (
            "沉睡会员唤醒",
            "dormant",
            60,
            {
                "steps": [
                    {
                        "id": "m1",
                        "kind": "message",
                        "inbox": True,
                        "title": "好久不见",
                        "body": "最近有很多新店开业，回来逛逛吧。",
                    },
                    *nudge,
                    {"id": "w1", "kind": "wait", "minutes": 7 * 1440},
                    {
                        "id": "b1",
                        "kind": "branch",
                        "test": "purchased",
                        "yes": [],
                        "no": [
                            {
                                "id": "m2",
                                "kind": "message",
                                "inbox": True,
                                "sms": True,
                                "title": "礼券即将过期",
                                "body": "您的礼券即将过期，记得使用。",
                                "sms_text": "礼券即将过期",
                            }
                        ],
                    },
                ]
            },
        ),
        (
            "积分到期提醒",
            "points_expiring",
            30,
            {
                "steps": [
                    {
                        "id": "m1",
                        "kind": "message",
                        "inbox": True,
                        "sms": True,
                        "title": "积分即将到期",
                        "body": "您有积分将在 30 天内到期，可在积分商城兑换礼品或抵扣停车费。",
                        "sms_text": "积分30天内到期",
                    },
                ]
            },
        ),
    ]
    for name, trigger, days, definition in journeys:
        j = journey_services.journey_save(
            mall_group_id=mall_group_id,
            actor=ACTOR,
            values={"name": name, "trigger": trigger, "trigger_days": days, "reentry": "every", "draft": definition},
        )
        journey_services.journey_publish(mall_group_id=mall_group_id, journey_id=j.pk, actor=ACTOR)
    journey_services.journeys_scan()
    journey_services.journeys_advance()
    return len(journeys)


def seed_campaign(*, mall_group_id: int) -> int:
    """One campaign sent ten days ago (10:00 mall time) to the demo's best customers, with a 20 % hold-out and an
    inbox message and SMS, still in its 14 measured days: the report compares what both groups bought since."""
    from galleria.audience.selectors import group_tz, segment_list
    from galleria.campaigns import services as campaign_services
    from galleria.core import timeutil

    segment = segment_list(mall_group_id=mall_group_id).filter(name="重要价值或重要保持客户").first()
    if segment is None:
        return 0
    tz = timeutil.zone(group_tz(mall_group_id=mall_group_id))
    day = timeutil.now().astimezone(tz).date() - dt.timedelta(days=10)
    at = dt.datetime.combine(day, dt.time(10, 0), tzinfo=tz)
    c = campaign_services.campaign_save(
        mall_group_id=mall_group_id,
        actor=ACTOR,
        values={
            "name": "老客回馈 · 双倍积分周",
            "segment_id": segment.pk,
            "holdout_bp": 2000,
            "send_inbox": True,
            "send_sms": True,
            "title": "老客回馈双倍积分周",
            "body": "感谢您一直以来的支持！本周在星河广场消费享双倍积分，积分可在积分商城兑换好礼。",
            "sms_text": "本周消费享双倍积分",
            "scheduled_at": at,
            "measure_days": 14,
        },
    )
    campaign_services.campaign_schedule(mall_group_id=mall_group_id, campaign_id=c.pk, actor=ACTOR, now=at)
    return campaign_services.campaign_run(campaign_id=c.pk, now=at).members
