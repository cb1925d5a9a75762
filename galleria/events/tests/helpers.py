"""Events test data: an event in one call, members with points, a registration in one call."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.events import services
from galleria.events.models import Event, Registration
from galleria.events.types import EventIn
from galleria.members.services import member_register
from galleria.merchants.models import Category, Merchant, Store
from galleria.testing_points import give_points

ACTOR = Actor.system("test")
_phones = itertools.count(50000000)
_keys = itertools.count(1)


def desk(world: Any) -> Store:
    operator = Merchant.objects.create(mall=world.mall, name="星河广场客服中心", category=Category.SERVICES)
    return Store.objects.create(merchant=operator, name="星河广场服务台", floor="L1", unit_no="L1-SD")


def event(world: Any, **values: Any) -> Event:
    """A published event in 3 days, 2 hours long, 20 seats, free, registration open now."""
    start = timeutil.now() + dt.timedelta(days=3)
    data: dict[str, Any] = {
        "title": "亲子烘焙课",
        "mall_id": world.mall.pk,
        "place": "L3 活动中庭",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=2),
        "capacity": 20,
        "status": "published",
    } | values
    return services.event_save(mall_group_id=world.group.pk, event_id=None, data=EventIn(**data), actor=ACTOR)


def member(world: Any, *, points: int = 0) -> Any:
    m = member_register(mall=world.mall, phone=f"137{next(_phones):08d}", channel="desk", actor=ACTOR)
    if points:
        give_points(world, m, points)
    return m


def register(world: Any, m: Any, ev: Event, *, seats: int = 1, key: str | None = None, **kw: Any) -> Registration:
    return services.register(
        mall_group_id=world.group.pk,
        event_id=ev.pk,
        member_id=m.pk,
        seats=seats,
        key=key or f"k{next(_keys)}",
        actor=Actor.system(f"member:{m.pk}"),
        **kw,
    )
