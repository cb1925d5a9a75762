"""The demo's member-app content: merchant descriptions and hours, a published home layout with banners, and a
few inbox messages (a broadcast, one for a tier, one for the first member). Everything goes through the content
and messaging services, so versions, audit records and read tracking are what production would show."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from dataclasses import dataclass

from django.db import transaction

from galleria.audit.types import Actor
from galleria.content import rules as content_rules
from galleria.content import services as content_services
from galleria.coupons.models import CouponTemplate
from galleria.malls.models import MallGroup
from galleria.members.selectors import members_active
from galleria.merchants.models import Merchant
from galleria.messaging import services as inbox_services
from galleria.tiers.models import TierLevel

ACTOR = Actor.system("demo")

DESCRIPTIONS = {
    "dining": "美食餐饮 · 会员消费享积分",
    "fashion": "潮流服饰 · 当季新品",
    "kids": "亲子乐园 · 儿童成长",
    "supermarket": "生鲜超市 · 日常所需",
    "cinema": "影院 · 最新大片",
    "beauty": "美妆护肤 · 专柜品牌",
    "sports": "运动户外 · 专业装备",
    "services": "生活服务 · 便捷到家",
    "electronics": "数码电器 · 以旧换新",
    "jewelry": "珠宝腕表 · 匠心臻品",
    "home": "家居生活 · 品质之选",
    "entertainment": "休闲娱乐 · 欢乐时光",
    "education": "教育培训 · 成长课堂",
}
# Merchants whose hours differ from the mall's (10:00–22:00): cinemas and entertainment run late.
OWN_HOURS = {"cinema": ("09:30", "00:30"), "entertainment": ("12:00", "02:00"), "supermarket": ("08:00", "22:30")}


@dataclass
class AppContentResult:
    layout_version: int = 0
    banners: int = 0
    messages: int = 0


def banner_png(colour_from: tuple[int, int, int], colour_to: tuple[int, int, int], width: int = 1000) -> bytes:
    """A 1000×400 horizontal gradient PNG (the demo ships no image files; a real mall uploads its artwork)."""
    height = width * 2 // 5
    row = bytearray(b"\x00")
    for x in range(width):
        t = x / (width - 1)
        row += bytes(round(a + (b - a) * t) for a, b in zip(colour_from, colour_to, strict=True))
    raw = bytes(row) * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def seed_merchant_profiles(group: MallGroup) -> None:
    with transaction.atomic():
        for merchant in Merchant.objects.filter(mall__group=group).order_by("pk"):
            merchant.short_description = DESCRIPTIONS.get(merchant.category, "")
            hours = OWN_HOURS.get(merchant.category)
            if hours:
                merchant.opens_at, merchant.closes_at = (dt.time.fromisoformat(h) for h in hours)
            merchant.save(update_fields=["short_description", "opens_at", "closes_at"])


def seed_app_content(group: MallGroup) -> AppContentResult:
    result = AppContentResult()
    seed_merchant_profiles(group)
    coupon = CouponTemplate.objects.filter(mall_group=group, status="active", is_claimable=True).order_by("pk").first()
    cinema = Merchant.objects.filter(mall__group=group, category="cinema").order_by("pk").first()
    images = [
        content_services.image_upload(
            mall_group_id=group.pk, data=banner_png((138, 28, 63), (201, 164, 92)), name="spring.png", actor=ACTOR
        ),
        content_services.image_upload(
            mall_group_id=group.pk, data=banner_png((31, 36, 48), (43, 108, 176)), name="cinema.png", actor=ACTOR
        ),
    ]
    blocks: list[content_rules.Block] = [
        {
            "id": "demoban1",
            "type": "banner",
            "image_id": images[0].pk,
            "alt": "春季会员节：领券满200减30",
            "link_kind": "coupon" if coupon else "page",
            "link_target": str(coupon.pk) if coupon else "claim_centre",
            "starts_on": None,
            "ends_on": None,
        },
        {
            "id": "demoban2",
            "type": "banner",
            "image_id": images[1].pk,
            "alt": "周末观影双倍积分",
            "link_kind": "merchant" if cinema else "page",
            "link_target": str(cinema.pk) if cinema else "merchants",
            "starts_on": None,
            "ends_on": None,
        },
        {"id": "demoent1", "type": "entries", "keys": [*content_rules.DEFAULT_ENTRIES, "parking"]},
        {
            "id": "demonot1",
            "type": "section",
            "kind": "notice",
            "title": "停车提示",
            "text": "会员绑定车牌后离场自动抵扣停车费；金卡及以上每日免费停车 2 小时。",
        },
        {"id": "demofy01", "type": "section", "kind": "for_you", "title": "", "text": ""},
        {"id": "democpn1", "type": "section", "kind": "claimable_coupons", "title": "", "text": ""},
        {"id": "demomer1", "type": "section", "kind": "merchant_offers", "title": "", "text": ""},
    ]
    draft = content_services.layout_draft_edit(mall_group_id=group.pk, revision=0, edit=lambda _b: blocks, actor=ACTOR)
    result.layout_version = content_services.layout_publish(
        mall_group_id=group.pk, revision=draft.revision, actor=ACTOR
    ).version
    result.banners = len(images)
    inbox_services.inbox_send(
        mall_group_id=group.pk,
        audience="all",
        title="欢迎使用星河会员",
        body="出示会员码即可累积积分，积分可抵现、兑换停车券。领券中心每周上新！",
        actor=ACTOR,
    )
    result.messages += 1
    gold = TierLevel.objects.filter(mall_group=group).order_by("-rank").first()
    if gold is not None:
        inbox_services.inbox_send(
            mall_group_id=group.pk,
            audience="tier",
            tier_level_id=gold.pk,
            title=f"{gold.name}专属：贵宾室本周开放",
            body="本周六 14:00–18:00 贵宾室开放下午茶，凭会员码入场。",
            actor=ACTOR,
        )
        result.messages += 1
    first = members_active(mall_group_id=group.pk).order_by("pk").first()
    if first is not None:
        inbox_services.inbox_send(
            mall_group_id=group.pk,
            audience="member",
            member_id=first.pk,
            title="您的生日礼遇已到账",
            body="生日当月消费享双倍积分，祝您生日快乐！",
            actor=ACTOR,
        )
        result.messages += 1
    return result
