"""The demo's online mall (小程序商城, docs/design/online-mall.md, docs/online-mall.md): the mall group opens it;
categories of two levels with icons; five shops of 星河广场 and 星河天地 — 喜茶 and 奈雪的茶 (drinks to pick up at
their stores), 优衣库, 无印良品 and 迪卡侬 (picked up or delivered) — each with products whose options make SKUs
(杯型 × 甜度, 颜色 × 尺码, …), generated pictures, stock at their store (a few kinds low, one sold out), one draft
and one product the mall has taken down; and two shelves on the app's mall home plus one on a category page.

Everything goes through galleria.commerce.services_catalog, as the portal and the console do. Pictures are drawn
here with Pillow (no bundled photos, no downloads); with Debian's CJK font installed they carry the product's name."""

from __future__ import annotations

import io
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from galleria.audit.types import Actor
from galleria.commerce import selectors_catalog, services_cart
from galleria.commerce import services_catalog as catalog
from galleria.commerce import services_checkout as checkout
from galleria.commerce.selectors_mall_orders import orders_of_checkout
from galleria.commerce.services_online_gateway import online_order_cancel
from galleria.commerce.types import Address, OnlineProductIn, OnlineSettingsIn, OptionIn, ShelfIn, ShopIn, SkuIn
from galleria.core.errors import ApplicationError
from galleria.members.selectors import members_active
from galleria.merchants.selectors import merchant_options, store_list
from galleria.wallet import services as wallet_services

ACTOR = Actor.system("demo")

# (top category, children, colour)
CATEGORIES: tuple[tuple[str, tuple[str, ...], tuple[int, int, int]], ...] = (
    ("饮品", ("奶茶", "果茶"), (138, 28, 63)),
    ("美食", ("烘焙",), (183, 121, 31)),
    ("服饰", ("男装", "女装"), (43, 108, 176)),
    ("家居", (), (31, 138, 76)),
    ("运动户外", (), (201, 100, 40)),
)

Option = tuple[str, tuple[str, ...]]
# (title, subtitle, category, options, base price fen, list price fen or 0, extra fen by option value, description)
Item = tuple[str, str, str, tuple[Option, ...], int, int, dict[str, int], str]

CUP = ("杯型", ("中杯", "大杯"))
SWEET = ("甜度", ("标准糖", "少糖", "不另外加糖"))
ICE = ("冰量", ("正常冰", "少冰", "去冰"))

SHOPS: tuple[tuple[str, bool, tuple[Item, ...]], ...] = (
    (
        "喜茶",
        False,  # drinks: pickup only
        (
            (
                "芝士奶茶",
                "浓郁芝士奶盖 · 醇香红茶底",
                "奶茶",
                (CUP, SWEET),
                1900,
                0,
                {"大杯": 400},
                "现点现做，到店凭取货码领取。",
            ),
            (
                "多肉葡萄",
                "当季巨峰葡萄 · 手剥果肉",
                "果茶",
                (CUP, ICE),
                2900,
                0,
                {"大杯": 300},
                "新鲜葡萄手剥去皮，搭配绿妍茶底。",
            ),
            ("烤黑糖波波牛乳", "黑糖珍珠 · 鲜牛乳", "奶茶", (CUP,), 2100, 0, {"大杯": 300}, "现熬黑糖波波，醇厚鲜奶。"),
            ("满杯红柚", "红西柚 · 清爽解腻", "果茶", (ICE,), 2500, 0, {}, "整颗红柚现剥，微苦回甘。"),
        ),
    ),
    (
        "奈雪的茶",
        False,
        (
            ("霸气橙子", "整颗鲜橙 · 茉莉初雪", "果茶", (CUP, ICE), 2600, 0, {"大杯": 300}, "鲜橙现切，茉莉绿茶底。"),
            ("宝藏鲜奶茶", "鲜牛乳 · 锡兰红茶", "奶茶", (SWEET,), 1800, 0, {}, "不加奶精，只用鲜奶。"),
            ("草莓魔法棒", "软欧包 · 草莓奶油", "烘焙", (), 2200, 2500, {}, "当日现烤，建议当天食用。"),
        ),
    ),
    (
        "优衣库",
        True,
        (
            (
                "男装 U 圆领T恤",
                "100% 棉 · 宽松版型",
                "男装",
                (("颜色", ("白色", "黑色", "藏青")), ("尺码", ("S", "M", "L", "XL"))),
                7900,
                9900,
                {},
                "厚实棉质面料，不易变形。",
            ),
            (
                "女装 AIRism 棉质宽松T恤",
                "凉爽透气 · 落肩设计",
                "女装",
                (("颜色", ("白色", "米色")), ("尺码", ("S", "M", "L"))),
                9900,
                0,
                {},
                "外层棉质、内层 AIRism，清爽舒适。",
            ),
            (
                "摇粒绒拉链夹克",
                "轻暖保暖 · 立领",
                "男装",
                (("颜色", ("灰色", "深绿")), ("尺码", ("M", "L", "XL"))),
                19900,
                24900,
                {"XL": 0},
                "柔软摇粒绒，秋冬叠穿。",
            ),
        ),
    ),
    (
        "无印良品",
        True,
        (
            ("超声波香薰机", "静音 · 定时关闭", "家居", (), 38000, 0, {}, "约 3 小时连续使用，附送精油试用装。"),
            (
                "懒人沙发",
                "微粒子填充 · 可拆洗",
                "家居",
                (("颜色", ("米色", "灰色")),),
                69900,
                79900,
                {},
                "贴合身体曲线，外套可拆洗。",
            ),
            (
                "棉水洗枕套",
                "柔软亲肤",
                "家居",
                (("尺寸", ("43×63cm", "50×70cm")),),
                5900,
                0,
                {"50×70cm": 1000},
                "水洗处理，越洗越软。",
            ),
        ),
    ),
    (
        "迪卡侬",
        True,
        (
            (
                "加厚瑜伽垫",
                "防滑 · 附背带",
                "运动户外",
                (("厚度", ("8mm", "10mm")), ("颜色", ("紫色", "蓝色"))),
                9900,
                12900,
                {"10mm": 2000},
                "高回弹 NBR 材质，居家训练。",
            ),
            (
                "速干运动T恤",
                "吸湿排汗 · 轻薄",
                "运动户外",
                (("尺码", ("S", "M", "L", "XL")),),
                4900,
                0,
                {},
                "跑步、健身都合适。",
            ),
            ("儿童平衡车", "2-5 岁 · 免工具安装", "运动户外", (), 29900, 0, {}, "轻量铝合金车架，座高可调。"),
        ),
    ),
)
HOME_SHELVES = (
    ("人气推荐", ("芝士奶茶", "男装 U 圆领T恤", "霸气橙子", "加厚瑜伽垫", "超声波香薰机", "多肉葡萄")),
    ("新品上架", ("满杯红柚", "女装 AIRism 棉质宽松T恤", "草莓魔法棒", "懒人沙发", "速干运动T恤")),
)
CATEGORY_SHELF = ("饮品", "店长推荐", ("多肉葡萄", "宝藏鲜奶茶", "烤黑糖波波牛乳"))
DRAFT = ("优衣库", "羽绒背心（准备中）")
TAKEN_DOWN = ("迪卡侬", "儿童平衡车", "图片与实物不符，请更换商品图片后联系商场运营。")
SOLD_OUT = ("满杯红柚",)


@dataclass
class OnlineMallResult:
    shops: int = 0
    products: int = 0
    skus: int = 0
    checkouts: int = 0


def _font(size: int) -> Any:
    from PIL import ImageFont

    from galleria.receipts.generator import NoCjkFontError, font_path

    try:
        path, index = font_path()
    except NoCjkFontError:
        return None
    return ImageFont.truetype(path, size, index=index)


def _shape(title: str, category: str) -> str:
    """What to draw: a cup, a shirt, bread, a mat, or a box."""
    if category in ("奶茶", "果茶"):
        return "cup"
    if category in ("男装", "女装") or "T恤" in title or "夹克" in title:
        return "shirt"
    if category == "烘焙":
        return "bread"
    if "垫" in title:
        return "mat"
    return "box"


def _picture(title: str, colour: tuple[int, int, int], kind: str, shade: int = 0) -> bytes:
    """A 600×600 product picture: a soft background, a shape for the kind of goods, the name when a CJK font is
    installed."""
    from PIL import Image, ImageDraw

    tint = tuple(min(255, c + shade) for c in colour)
    image = Image.new("RGB", (600, 600), (250, 244, 238))
    draw = ImageDraw.Draw(image)
    draw.ellipse((80, 60, 520, 500), fill=tuple(min(255, c + 150) for c in colour))
    shape = _shape(title, kind)
    if shape == "cup":
        draw.polygon(((200, 170), (400, 170), (375, 470), (225, 470)), fill=tint)
        draw.rectangle((190, 150, 410, 180), fill=(255, 255, 255))
        draw.line((330, 60, 300, 170), fill=(60, 60, 60), width=12)
        for x, y in ((250, 420), (290, 440), (330, 420), (350, 445), (270, 450)):
            draw.ellipse((x - 12, y - 12, x + 12, y + 12), fill=(60, 40, 30))
    elif shape == "shirt":
        draw.polygon(
            (
                (180, 170),
                (250, 140),
                (350, 140),
                (420, 170),
                (470, 250),
                (410, 280),
                (400, 470),
                (200, 470),
                (190, 280),
                (130, 250),
            ),
            fill=tint,
        )
        draw.arc((265, 120, 335, 180), 0, 180, fill=(255, 255, 255), width=8)
    elif shape == "bread":
        draw.rounded_rectangle((150, 250, 450, 420), radius=80, fill=tint)
        for x in (220, 300, 380):
            draw.line((x - 30, 280, x + 10, 390), fill=(255, 240, 220), width=10)
    elif shape == "mat":
        draw.rounded_rectangle((150, 200, 450, 420), radius=110, fill=tint)
        draw.ellipse((330, 220, 430, 400), fill=tuple(max(0, c - 40) for c in tint))
    else:
        draw.rounded_rectangle((170, 190, 430, 450), radius=30, fill=tint)
        draw.rectangle((170, 260, 430, 280), fill=(255, 255, 255))
    font = _font(40)
    if font is not None:
        draw.rounded_rectangle((40, 500, 560, 570), radius=20, fill=(255, 255, 255))
        draw.text((300, 535), title[:12], fill=colour, font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _icon(name: str, colour: tuple[int, int, int]) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 160), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 20, 140, 140), fill=tuple(min(255, c + 60) for c in colour))
    font = _font(64)
    if font is not None:
        draw.text((80, 78), name[:1], fill=(255, 255, 255), font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _skus(options: Sequence[Option], base: int, list_price: int, extra: dict[str, int]) -> list[SkuIn]:
    names = [name for name, _values in options]
    out = []
    for combo in itertools.product(*[values for _name, values in options]):
        chosen = dict(zip(names, combo, strict=True))
        price = base + sum(extra.get(v, 0) for v in combo)
        out.append(
            SkuIn(options=chosen, price_fen=price, list_price_fen=list_price + price - base if list_price else None)
        )
    return out


def seed_online_mall(*, mall_group_id: int, seed: int) -> OnlineMallResult:
    rng = random.Random(seed + 29)
    result = OnlineMallResult()
    catalog.online_settings_save(mall_group_id=mall_group_id, data=OnlineSettingsIn(is_open=True), actor=ACTOR)
    categories: dict[str, int] = {}
    colours: dict[str, tuple[int, int, int]] = {}
    for order, (top, children, colour) in enumerate(CATEGORIES):
        row = catalog.online_category_save(
            mall_group_id=mall_group_id,
            category_id=None,
            name=top,
            parent_id=None,
            sort_order=order,
            is_active=True,
            actor=ACTOR,
        )
        catalog.online_category_icon_set(
            mall_group_id=mall_group_id, category_id=row.pk, data=_icon(top, colour), actor=ACTOR
        )
        categories[top], colours[top] = row.pk, colour
        for child_order, child in enumerate(children):
            categories[child] = catalog.online_category_save(
                mall_group_id=mall_group_id,
                category_id=None,
                name=child,
                parent_id=row.pk,
                sort_order=child_order,
                is_active=True,
                actor=ACTOR,
            ).pk
            colours[child] = colour
    merchants = {
        m.name: m
        for m in merchant_options(mall_group_id=mall_group_id).filter(name__in=[s[0] for s in SHOPS]).order_by("-pk")
    }  # the 星河广场 shop of a name in both malls
    titles: dict[str, int] = {}
    for shop_name, delivers, items in SHOPS:
        merchant = merchants.get(shop_name)
        store = store_list(merchant_id=merchant.pk).filter(is_active=True).first() if merchant else None
        if merchant is None or store is None:
            continue
        catalog.merchant_shop_save(
            mall_group_id=mall_group_id,
            merchant_id=merchant.pk,
            data=ShopIn(
                is_open=True,
                ship_from_store_id=store.pk if delivers else None,
                pickup_store_ids=(store.pk,),
                return_address=f"{store.name}（{store.floor} {store.unit_no}）" if delivers else "",
                service_phone=f"0755-8{rng.randint(1000000, 9999999)}",
            ),
            actor=ACTOR,
        )
        result.shops += 1
        for sort, (title, subtitle, category, options, base, list_price, extra, description) in enumerate(items):
            product = catalog.online_product_save(
                mall_group_id=mall_group_id,
                merchant_id=merchant.pk,
                product_id=None,
                data=OnlineProductIn(
                    title=title,
                    subtitle=subtitle,
                    description=description,
                    category_id=categories[category],
                    allow_pickup=True,
                    allow_delivery=delivers,
                    sort_order=sort * 10,
                ),
                actor=ACTOR,
            )
            skus = catalog.online_product_options_save(
                mall_group_id=mall_group_id,
                merchant_id=merchant.pk,
                product_id=product.pk,
                options=[OptionIn(name=name, values=values) for name, values in options],
                skus=_skus(options, base, list_price, extra),
                actor=ACTOR,
            )
            for shade in (0, 40)[: 2 if options else 1]:
                catalog.online_product_image_add(
                    mall_group_id=mall_group_id,
                    merchant_id=merchant.pk,
                    product_id=product.pk,
                    data=_picture(title, colours[category], category, shade),
                    actor=ACTOR,
                )
            for i, sku in enumerate(skus):
                count = 0 if title in SOLD_OUT else (3 if i == 1 else rng.randint(12, 80))
                catalog.sku_stock_set(
                    mall_group_id=mall_group_id,
                    merchant_id=merchant.pk,
                    sku_id=sku.pk,
                    store_id=store.pk,
                    on_hand=count,
                    reason="开业盘点",
                    actor=ACTOR,
                )
            catalog.online_product_publish(
                mall_group_id=mall_group_id, merchant_id=merchant.pk, product_id=product.pk, actor=ACTOR
            )
            titles[title] = product.pk
            result.products += 1
            result.skus += len(skus)
        if shop_name == DRAFT[0]:
            catalog.online_product_save(
                mall_group_id=mall_group_id,
                merchant_id=merchant.pk,
                product_id=None,
                data=OnlineProductIn(
                    title=DRAFT[1], subtitle="轻薄保暖", category_id=categories["男装"], allow_delivery=True
                ),
                actor=ACTOR,
            )
    if TAKEN_DOWN[1] in titles:
        catalog.online_product_block(
            mall_group_id=mall_group_id, product_id=titles[TAKEN_DOWN[1]], reason=TAKEN_DOWN[2], actor=ACTOR
        )
    for order, (title, picks) in enumerate(HOME_SHELVES):
        shelf = catalog.shelf_save(
            mall_group_id=mall_group_id,
            shelf_id=None,
            data=ShelfIn(title=title, placement="home", sort_order=order),
            actor=ACTOR,
        )
        catalog.shelf_items_set(
            mall_group_id=mall_group_id,
            shelf_id=shelf.pk,
            product_ids=[titles[t] for t in picks if t in titles],
            actor=ACTOR,
        )
    top, title, picks = CATEGORY_SHELF
    shelf = catalog.shelf_save(
        mall_group_id=mall_group_id,
        shelf_id=None,
        data=ShelfIn(title=title, placement="category", category_id=categories[top]),
        actor=ACTOR,
    )
    catalog.shelf_items_set(
        mall_group_id=mall_group_id,
        shelf_id=shelf.pk,
        product_ids=[titles[t] for t in picks if t in titles],
        actor=ACTOR,
    )
    result.checkouts = seed_member_orders(mall_group_id=mall_group_id, titles=titles)
    return result


# ------------------------------------------------------------------------------------------------- orders

# (key, [(title, units)], pay method): what the demo's newest member bought (the app's "My orders" is not empty)
MEMBER_CHECKOUTS: tuple[tuple[str, tuple[tuple[str, int], ...], str], ...] = (
    ("demo-online-1", (("芝士奶茶", 2), ("男装 U 圆领T恤", 1)), "wallet"),  # paid: a pickup code and a delivery
    ("demo-online-2", (("多肉葡萄", 1),), "wallet"),  # paid, then cancelled by the member (refunded)
    ("demo-online-3", (("霸气橙子", 1), ("超声波香薰机", 1)), "wechat"),  # waiting for payment (15 minutes)
)
DEMO_ADDRESS = ("王小明", "13800138000", "深圳市南山区科技园星河路 88 号")


def _first_sku(product_id: int) -> Any:
    skus = selectors_catalog.product_skus(product_id=product_id)
    return skus[0] if skus else None


def seed_member_orders(*, mall_group_id: int, titles: dict[str, int]) -> int:
    """The newest member (the demo banner's) tops up ¥300 and checks out through the app's own services: a paid
    checkout of two shops, a paid order they cancel (refunded to the wallet), one waiting for WeChat Pay. Every
    step is a service call (cart, quote, placement, cancel); nothing is written to a table directly."""
    member = members_active(mall_group_id=mall_group_id).order_by("-created_at").first()
    if member is None:
        return 0
    actor = Actor.system(f"member:{member.pk}")
    intent = wallet_services.wallet_topup_start(mall_id=member.join_mall_id, member_id=member.pk, amount_fen=30_000)
    wallet_services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=30_000)
    made = 0
    for key, lines, pay_method in MEMBER_CHECKOUTS:
        skus = [(_first_sku(titles[t]), q) for t, q in lines if t in titles]
        if not skus or any(sku is None for sku, _q in skus):
            continue
        for sku, q in skus:
            services_cart.cart_set(member_id=member.pk, mall_group_id=mall_group_id, sku_id=sku.pk, quantity=q)
        shops: list[checkout.ShopChoiceIn] = []
        for sku, _q in skus:
            merchant_id = int(sku.product.merchant_id or 0)
            if any(c.merchant_id == merchant_id for c in shops):
                continue
            shop = selectors_catalog.merchant_shop_get(mall_group_id=mall_group_id, merchant_id=merchant_id)
            pickup, ship_from = selectors_catalog.shop_store_ids(shop=shop)
            if sku.product.allow_delivery and ship_from is not None:
                shops.append(checkout.ShopChoiceIn(merchant_id, "delivery"))
            elif pickup:
                shops.append(checkout.ShopChoiceIn(merchant_id, "pickup", pickup[0]))
        data = checkout.PlaceIn(
            member_id=member.pk,
            mall_group_id=mall_group_id,
            lines=tuple(checkout.CheckoutLineIn(sku.pk, q) for sku, q in skus),
            shops=tuple(shops),
            pay_method=pay_method,
            rest_fen=0,
            address=Address(*DEMO_ADDRESS),
        )
        try:
            rest = checkout.checkout_quote(data).rest_fen
            placed = checkout.checkout_place(
                checkout.PlaceIn(**{**data.__dict__, "rest_fen": rest}), key=key, actor=actor
            )
            if key == "demo-online-2":
                for order in orders_of_checkout(checkout_id=placed.pk):
                    online_order_cancel(order_id=order.pk, member_id=member.pk, actor=actor, reason="买错了口味")
        except ApplicationError:  # out of stock, the shop closed: the demo goes on
            continue
        made += 1
    return made
