"""The demo's points mall (docs/points-mall.md): the first mall's service desk as the points mall's store, four
categories, a dozen items — gifts picked up at the desk or delivered, coupons of templates made for the points mall
(parking hours, mall services, a cash voucher), a gold-only gift, one item sold out and one not on sale yet — and a
few exchanges made through the same services the app calls: some waiting at the desk (the demo member's among them,
so the app shows a pickup code), one picked up, one shipped, one cancelled."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from galleria.audit.types import Actor
from galleria.commerce import selectors, services
from galleria.commerce.types import Address, ProductIn
from galleria.core.errors import ApplicationError
from galleria.coupons.services import coupon_template_activate, coupon_template_create
from galleria.members.selectors import members_active
from galleria.merchants.selectors import mall_list
from galleria.merchants.services import merchant_create, store_save
from galleria.points.selectors import points_balance
from galleria.points.services import points_adjust_request
from galleria.tiers.selectors import tier_level_options

ACTOR = Actor.system("demo")
DESK = Actor.system("demo desk")
OPENING_GIFT = 4000
TZ = "Asia/Shanghai"

# (category, title, subtitle, kind, points, cash fen, stock, extra)
GIFTS: tuple[tuple[str, str, str, int, int, int, dict[str, Any]], ...] = (
    ("礼品", "星河定制保温杯", "316 不锈钢 · 500ml", 3000, 0, 120, {"allow_delivery": True, "per_member_limit": 2}),
    ("礼品", "帆布购物袋", "可折叠 · 星河限定款", 1000, 0, 300, {"per_day_limit": 1}),
    ("礼品", "蓝牙降噪耳机", "积分 + 现金更划算", 8000, 9900, 20, {"allow_delivery": True, "per_member_limit": 1}),
    ("礼品", "儿童绘本套装", "6 册 · 3-6 岁", 4000, 0, 40, {}),
    ("礼品", "金卡专享 精品咖啡礼盒", "挂耳咖啡 12 包", 6000, 0, 30, {"gold_only": True, "allow_delivery": True}),
    ("礼品", "星河公仔（已兑完）", "限量 100 只", 2000, 0, 0, {}),
    ("礼品", "中秋月饼礼盒", "中秋前一周上架", 5000, 0, 200, {"later": True}),
)
COUPONS: tuple[tuple[str, str, str, int, dict[str, Any]], ...] = (
    ("停车", "停车券 2 小时", "积分兑停车，出场自动抵扣", 400, {"kind": "parking", "parking_hours": 2}),
    ("停车", "停车券 5 小时", "周末逛街不心慌", 900, {"kind": "parking", "parking_hours": 5}),
    (
        "优惠券",
        "¥20 代金券（满 ¥100 可用）",
        "全场通用",
        1500,
        {"kind": "threshold", "value_fen": 2000, "threshold_fen": 10000},
    ),
    ("生活服务", "VIP 休息室 体验券", "服务台领取 · 含饮品", 800, {"kind": "cash_off", "value_fen": 3000}),
    ("生活服务", "婴儿车租借券", "服务台借还", 300, {"kind": "cash_off", "value_fen": 1000}),
)


@dataclass
class PointsMallResult:
    items: int = 0
    orders: int = 0


def _picture(rng: random.Random) -> bytes:
    """A square picture in the mall's colours (no bundled photos: generated)."""
    from PIL import Image, ImageDraw

    hue = rng.choice(((138, 28, 63), (201, 164, 92), (43, 108, 176), (31, 138, 76), (183, 121, 31)))
    image = Image.new("RGB", (480, 480), (251, 241, 244))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((90, 150, 390, 400), radius=28, fill=hue)
    draw.rectangle((225, 150, 255, 400), fill=(255, 255, 255))
    draw.rounded_rectangle((70, 110, 410, 170), radius=14, fill=tuple(min(c + 40, 255) for c in hue))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _template(group_id: int, name: str, values: dict[str, object], now: dt.datetime) -> int:
    template = coupon_template_create(
        mall_group_id=group_id,
        values={
            "name": name,
            "validity_kind": "relative",
            "valid_days": 30,
            "is_claimable": False,  # only through the points mall
            "total_quantity": 5000,
            **values,
        },
        actor=ACTOR,
    )
    return coupon_template_activate(template_id=template.pk, mall_group_id=group_id, actor=ACTOR).pk


def seed_points_mall(*, mall_group_id: int, seed: int) -> PointsMallResult:
    rng = random.Random(seed + 17)
    now = timezone.now()
    result = PointsMallResult()
    mall = mall_list(mall_group_id=mall_group_id).order_by("pk").first()
    if mall is None:
        return result
    desk = merchant_create(
        actor=ACTOR, mall_id=mall.pk, values={"name": f"{mall.name}客服中心", "category": "services"}
    )
    store = store_save(
        actor=ACTOR,
        merchant_id=desk.pk,
        store_id=None,
        values={"name": f"{mall.name}服务台", "floor": "L1", "unit_no": "L1-SVC"},
    )
    services.settings_save(
        mall_group_id=mall_group_id,
        store_id=store.pk,
        pickup_place=f"{mall.name} L1 服务台",
        pickup_hours="10:00–22:00",
        is_open=True,
        actor=ACTOR,
    )
    categories = {}
    for order, name in enumerate(("礼品", "优惠券", "停车", "生活服务")):
        categories[name] = services.category_save(
            mall_group_id=mall_group_id, category_id=None, name=name, sort_order=order, is_active=True, actor=ACTOR
        ).pk
    gold = tier_level_options(mall_group_id=mall_group_id).order_by("-rank").first()
    products = []
    for sort, (category, title, subtitle, points, cash, stock, extra) in enumerate(GIFTS):
        data = ProductIn(
            title=title,
            subtitle=subtitle,
            kind="gift",
            price_points=points,
            price_fen=cash,
            category_id=categories[category],
            allow_pickup=True,
            allow_delivery=bool(extra.get("allow_delivery")),
            per_member_limit=extra.get("per_member_limit"),
            per_day_limit=extra.get("per_day_limit"),
            min_tier_id=gold.pk if extra.get("gold_only") and gold is not None else None,
            on_sale_from=now + dt.timedelta(days=20) if extra.get("later") else None,
            sort_order=sort * 10,
            status="on_sale",
            description=f"{title}：{subtitle}。兑换后凭取货码到服务台领取。",
            initial_stock=stock,
        )
        product = services.product_save(mall_group_id=mall_group_id, product_id=None, data=data, actor=ACTOR)
        services.product_image_set(mall_group_id=mall_group_id, product_id=product.pk, data=_picture(rng), actor=ACTOR)
        products.append(product)
    for sort, (category, title, subtitle, points, values) in enumerate(COUPONS):
        template_id = _template(mall_group_id, title, dict(values), now)
        data = ProductIn(
            title=title,
            subtitle=subtitle,
            kind="coupon",
            price_points=points,
            coupon_template_id=template_id,
            category_id=categories[category],
            per_member_limit=5,
            per_day_limit=2,
            sort_order=5 + sort * 10,
            status="on_sale",
            description=f"{title}：{subtitle}。兑换后券直接进入“我的券”。",
            initial_stock=1000,
        )
        products.append(services.product_save(mall_group_id=mall_group_id, product_id=None, data=data, actor=ACTOR))
    result.items = len(products)
    result.orders = _exchanges(mall_group_id, products, rng)
    return result


def _exchanges(mall_group_id: int, products: Sequence[Any], rng: random.Random) -> int:
    """A few members with points exchange; the newest member (the demo banner's) has a gift waiting at the desk."""
    newest = list(members_active(mall_group_id=mall_group_id).order_by("-created_at")[:400])
    if not newest:
        return 0
    demo_member = newest[0]
    # the points mall's opening gift to the member the demo banner suggests, so the app has an exchange to show
    points_adjust_request(
        mall_group_id=mall_group_id,
        member_id=demo_member.pk,
        points=OPENING_GIFT,
        reason="积分商城开业赠送",
        actor=DESK,
        tz_name=TZ,
    )
    rich = [m for m in newest[1:] if points_balance(member_id=m.pk) >= 3000]
    members = [demo_member, *rich]
    made = 0
    plan = [
        (0, 0, "pickup"),
        (0, 8, "coupon"),
        (1, 1, "pickup"),
        (2, 0, "delivery"),
        (3, 7, "coupon"),
        (4, 3, "pickup"),
    ]
    plan += [(i, rng.choice((1, 3, 7, 9, 10)), "") for i in range(5, 14)]
    orders = []
    for index, product_index, how in plan:
        if index >= len(members) or product_index >= len(products):
            continue
        member, product = members[index], products[product_index]
        found = selectors.product_get(mall_group_id=mall_group_id, product_id=product.pk)
        sku = selectors.sku_of(found) if found is not None else None
        if found is None or sku is None or points_balance(member_id=member.pk) < sku.price_points:
            continue
        fulfilment = how or ("coupon" if found.kind == "coupon" else "pickup")
        try:
            order = services.points_mall_exchange(
                services.ExchangeIn(
                    member_id=member.pk,
                    mall_group_id=mall_group_id,
                    product_id=found.pk,
                    quantity=1,
                    fulfilment=fulfilment,
                    unit_points=sku.price_points,
                    unit_fen=sku.price_fen,
                    address=Address("王小明", "13800138000", "深圳市南山区科技园星河路 88 号")
                    if fulfilment == "delivery"
                    else None,
                ),
                key=f"demo-{index}-{product_index}",
                actor=Actor.system(f"member:{member.pk}"),
            )
        except ApplicationError:  # no wallet money for the cash part, a limit: the demo goes on
            continue
        orders.append(order)
        made += 1
    # the desk: one gift handed over, one shipped, one cancelled (never the demo member's own pickup)
    waiting = [o for o in orders if o.state == "paid" and o.fulfilment == "pickup" and o.member_id != members[0].pk]
    if waiting:
        services.order_hand_over(
            mall_group_id=mall_group_id, code=waiting[0].pickup_code, order_id=waiting[0].pk, actor=DESK
        )
    shipping = [o for o in orders if o.state == "paid" and o.fulfilment == "delivery"]
    if shipping:
        services.order_ship(
            mall_group_id=mall_group_id,
            order_id=shipping[0].pk,
            carrier="顺丰速运",
            tracking_no="SF1402786531220",
            actor=DESK,
        )
    if len(waiting) > 1:
        services.order_cancel(
            order_id=waiting[1].pk, mall_group_id=mall_group_id, reason="会员改选其他礼品", actor=DESK
        )
    return made
