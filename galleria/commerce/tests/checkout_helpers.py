"""Online checkout test data: two open shops (喜茶 picks up at its 星河广场 store, 优衣库 delivers from its store),
a product of each with stock, a member with points, and a placement in one call (the money to confirm taken from
the pipeline's quote, as the confirmation page shows it)."""

from __future__ import annotations

import itertools
from typing import Any

from galleria.commerce import services_catalog as catalog
from galleria.commerce import services_checkout as checkout
from galleria.commerce.models import Sku
from galleria.commerce.types import Address
from galleria.merchants.models import Merchant, Store

from .catalog_helpers import categories, open_online_mall, product
from .helpers import ACTOR

_keys = itertools.count(1)
ADDRESS = Address("张三", "13800138000", "深圳市南山区星河路 1 号")


class Shops:
    def __init__(self, world: Any, *, stock: int = 10) -> None:
        self.world = world
        self.a, self.a_store = world.merchant, world.store
        self.b = world.other_merchant
        self.b_store = Store.objects.get(merchant=self.b)
        open_online_mall(world)
        open_online_mall(world, merchant=self.b, store=self.b_store)
        self.category = categories(world)[1]
        self.tea = product(world, category=self.category)  # 中杯 ¥28, 大杯 ¥32: pickup
        self.shirt = product(
            world, title="T恤", category=self.category, merchant=self.b, allow_pickup=False, allow_delivery=True
        )
        self.tea_m, self.tea_l = list(Sku.objects.filter(product=self.tea).order_by("pk"))
        self.shirt_m = Sku.objects.filter(product=self.shirt).order_by("pk").first()
        for sku, store in ((self.tea_m, self.a_store), (self.tea_l, self.a_store), (self.shirt_m, self.b_store)):
            self.stock(sku, store, stock)

    def stock(self, sku: Any, store: Any, on_hand: int) -> None:
        catalog.sku_stock_set(
            mall_group_id=self.world.group.pk,
            merchant_id=None,
            sku_id=sku.pk,
            store_id=store.pk,
            on_hand=on_hand,
            reason="count",
            actor=ACTOR,
        )

    def third(self) -> tuple[Any, Any, Any]:
        """A third shop (无印良品, pickup) with one SKU: (merchant, store, sku)."""
        merchant = Merchant.objects.create(mall=self.world.mall, name="无印良品", category="fashion")
        store = Store.objects.create(merchant=merchant, name="无印良品 星河广场店", floor="L3", unit_no="L3-001")
        open_online_mall(self.world, merchant=merchant, store=store)
        p = product(self.world, title="香薰", category=self.category, merchant=merchant)
        return merchant, store, Sku.objects.filter(product=p).order_by("pk").first()

    def choices(self, *merchants: Any, coupons: dict[int, tuple[int, ...]] | None = None) -> tuple:
        coupons = coupons or {}
        found = []
        for m in merchants:
            if m.pk == self.b.pk:
                found.append(checkout.ShopChoiceIn(m.pk, "delivery", None, coupons.get(m.pk, ())))
            else:
                store = Store.objects.filter(merchant=m).order_by("pk").first()
                assert store is not None
                found.append(checkout.ShopChoiceIn(m.pk, "pickup", store.pk, coupons.get(m.pk, ())))
        return tuple(found)


def place_in(
    world: Any,
    member: Any,
    lines: list[tuple[Any, int]],
    shops: tuple,
    *,
    points: int = 0,
    cart_coupon_id: int | None = None,
    rest_fen: int | None = None,
    pay_method: str = "wechat",
) -> checkout.PlaceIn:
    data = checkout.PlaceIn(
        member_id=member.pk,
        mall_group_id=world.group.pk,
        lines=tuple(checkout.CheckoutLineIn(sku.pk, q) for sku, q in lines),
        shops=shops,
        pay_method=pay_method,
        rest_fen=0,
        points=points,
        cart_coupon_id=cart_coupon_id,
        address=ADDRESS,
    )
    if rest_fen is None:
        rest_fen = confirmed_rest(data)
    return checkout.PlaceIn(**{**data.__dict__, "rest_fen": rest_fen})


def confirmed_rest(data: checkout.PlaceIn) -> int:
    """What the confirmation page shows: the checkout's quote."""
    return checkout.checkout_quote(data).rest_fen


def place(world: Any, member: Any, lines: list[tuple[Any, int]], shops: tuple, *, key: str | None = None, **kw: Any):
    return checkout.checkout_place(
        place_in(world, member, lines, shops, **kw), key=key or f"ck{next(_keys)}", actor=ACTOR
    )
