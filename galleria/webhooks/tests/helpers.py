"""Webhooks test data: an endpoint in one call, members that publish events."""

from __future__ import annotations

import itertools
from typing import Any

from galleria.audit.types import Actor
from galleria.members.services import member_register
from galleria.webhooks import rules, services

ACTOR = Actor(user_id=None, label="admin@test")
_phones = itertools.count(60000000)


def endpoint(world: Any, url: str, *, types: list[str] | None = None) -> tuple[int, str]:
    created = services.endpoint_create(
        mall_group_id=world.group.pk,
        url=url,
        description="ERP",
        event_types=types or list(rules.EVENT_TYPES),
        actor=ACTOR,
    )
    return created.endpoint_id, created.secret


def member(world: Any) -> Any:
    return member_register(mall=world.mall, phone=f"139{next(_phones):08d}", channel="desk", actor=ACTOR)
