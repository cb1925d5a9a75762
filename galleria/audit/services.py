from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .models import AuditEvent
from .types import Actor

SENSITIVE_FIELDS = frozenset({"phone", "name", "birthday", "email", "gender", "role", "is_active", "status"})


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that changed, values as strings (dates included)."""
    out: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if b != a:
            out[key] = [None if b is None else str(b), None if a is None else str(a)]
    return out


def audit_record(
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object,
    target_label: str = "",
    mall_group_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor_id=actor.user_id,
        actor_label=actor.label[:100],
        ip=actor.ip,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_label=target_label[:150],
        mall_group_id=mall_group_id,
        changes=dict(changes or {}),
    )
