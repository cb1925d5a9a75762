"""Points-mall test data: the mall's own points-mall store (the service desk), items, members with points and wallet
money, an exchange in one call."""

from __future__ import annotations

import itertools
from typing import Any

from galleria.audit.types import Actor
from galleria.commerce import services
from galleria.commerce.models import Product
from galleria.commerce.types import Address, ProductIn
from galleria.members.services import member_register
from galleria.merchants.models import Category, Merchant, Store
from galleria.testing_points import give_points
from galleria.wallet.tests.helpers import top_up

ACTOR = Actor.system("test")
_phones = itertools.count(30000000)
_keys = itertools.count(1)


def open_shop(world: Any) -> Store:
    """星河广场's service desk (the mall's own merchant) as the points mall's store."""
    operator = Merchant.objects.create(mall=world.mall, name="星河广场客服中心", category=Category.SERVICES)
    store = Store.objects.create(merchant=operator, name="星河广场服务台", floor="L1", unit_no="L1-SD")
    services.settings_save(
        mall_group_id=world.group.pk,
        store_id=store.pk,
        pickup_place="星河广场 L1 服务台",
        pickup_hours="10:00–22:00",
        is_open=True,
        actor=ACTOR,
    )
    return store


def item(world: Any, **values: Any) -> Product:
    """An item on sale: 1,000 points + ¥0 by default, 10 in stock, picked up at the desk."""
    data: dict[str, Any] = {
        "title": "保温杯",
        "kind": "gift",
        "price_points": 1000,
        "price_fen": 0,
        "status": "on_sale",
        "initial_stock": 10,
        "allow_pickup": True,
    } | values
    return services.product_save(mall_group_id=world.group.pk, product_id=None, data=ProductIn(**data), actor=ACTOR)


def member(world: Any, *, points: int = 0, wallet_fen: int = 0) -> Any:
    m = member_register(mall=world.mall, phone=f"136{next(_phones):08d}", channel="desk", actor=ACTOR)
    if points:
        give_points(world, m, points)
    if wallet_fen:
        top_up(world, m, wallet_fen)
    return m


def exchange_in(
    world: Any, m: Any, product: Product, *, quantity: int = 1, fulfilment: str = "pickup", **kw: Any
) -> services.ExchangeIn:
    sku = product.skus.order_by("pk").first()
    assert sku is not None
    address = kw.pop("address", None)
    if fulfilment == "delivery" and address is None:
        address = Address("张三", "13800138000", "深圳市南山区星河路 1 号")
    return services.ExchangeIn(
        member_id=m.pk,
        mall_group_id=world.group.pk,
        product_id=product.pk,
        quantity=quantity,
        fulfilment=fulfilment,
        unit_points=kw.pop("unit_points", sku.price_points),
        unit_fen=kw.pop("unit_fen", sku.price_fen),
        address=address,
    )


def exchange(world: Any, m: Any, product: Product, *, key: str | None = None, **kw: Any) -> Any:
    return services.points_mall_exchange(
        exchange_in(world, m, product, **kw), key=key or f"k{next(_keys)}", actor=Actor.system(f"member:{m.pk}")
    )
