"""Member services test data: a desk with stock, item types, members with points or wallet money, a gold member."""

from __future__ import annotations

import itertools
from typing import Any

from django.utils import timezone

from galleria.amenities import services, services_config
from galleria.amenities.models import RentalItemType, ServiceDesk
from galleria.amenities.types import ItemTypeIn
from galleria.audit.types import Actor
from galleria.members.services import member_register
from galleria.merchants.models import Category, Merchant, Store
from galleria.testing_points import give_points
from galleria.tiers.models import MemberTier, TierLevel
from galleria.tiers.services import tier_ladder_ensure_default

ACTOR = Actor.system("test")
_phones = itertools.count(60000000)
_keys = itertools.count(1)


def desk(world: Any, *, umbrellas: int = 5, name: str = "L1 服务台") -> ServiceDesk:
    operator = Merchant.objects.filter(mall=world.mall, category=Category.SERVICES).first()
    if operator is None:
        operator = Merchant.objects.create(mall=world.mall, name="星河广场客服中心", category=Category.SERVICES)
    store = Store.objects.create(merchant=operator, name=f"{name} 收费", floor="L1", unit_no=f"SD-{next(_keys)}")
    d = services_config.desk_save(
        mall_group_id=world.group.pk,
        desk_id=None,
        mall_id=world.mall.pk,
        name=name,
        place="L1 北门",
        opening_hours="10:00-22:00",
        store_id=store.pk,
        is_active=True,
        actor=ACTOR,
    )
    if umbrellas:
        services.stock_adjust(
            mall_group_id=world.group.pk,
            desk_id=d.pk,
            item_type_id=umbrella(world).pk,
            delta=umbrellas,
            reason="delivery",
            actor=ACTOR,
        )
    return d


def umbrella(world: Any, **values: Any) -> RentalItemType:
    """Free 2 h (gold 4 h), ¥2 per started hour, at most ¥20 a day, lost ¥30; deposit 3000 points or ¥30."""
    found = RentalItemType.objects.filter(mall_group=world.group, code=values.get("code", "umbrella")).first()
    if found is not None and not values:
        return found
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    data: dict[str, Any] = {
        "code": "umbrella",
        "name": "雨伞",
        "icon": "umbrella",
        "deposit_points": 3000,
        "deposit_fen": 3000,
        "free_minutes": 120,
        "free_minutes_by_tier": {"gold": 240},
        "fee_unit": "hour",
        "fee_per_unit_fen": 200,
        "daily_cap_fen": 2000,
        "lost_fee_fen": 3000,
    } | values
    return services_config.item_type_save(
        mall_group_id=world.group.pk, item_type_id=found.pk if found else None, data=ItemTypeIn(**data), actor=ACTOR
    )


def member(world: Any, *, points: int = 0, tier: str = "") -> Any:
    m = member_register(mall=world.mall, phone=f"136{next(_phones):08d}", channel="desk", actor=ACTOR)
    if points:
        give_points(world, m, points)
    if tier:
        tier_ladder_ensure_default(mall_group_id=world.group.pk)
        level = TierLevel.objects.get(mall_group=world.group, code=tier)
        MemberTier.objects.update_or_create(member=m, defaults={"level": level, "since": timezone.now()})
    return m


def lend(world: Any, d: ServiceDesk, m: Any, *, kind: str = "points", key: str | None = None, **kw: Any) -> Any:
    return services.rental_lend(
        mall_group_id=world.group.pk,
        desk_id=d.pk,
        item_type_id=umbrella(world).pk,
        member_id=m.pk,
        deposit_kind=kind,
        key=key or f"k{next(_keys)}",
        actor=ACTOR,
        **kw,
    )


def new_key() -> str:
    return f"k{next(_keys)}"
