"""The webhooks app's SQL. Only the webhooks app imports it."""

from __future__ import annotations

from typing import Any

from django.apps import apps

from galleria.core import sql

from .models import Endpoint


def endpoints_for(*, kind: str, member_id: int | None, mall_group_id: int | None) -> list[tuple[int, int]]:
    """(endpoint id, mall group id) of the enabled endpoints subscribed to `kind` in the group — given, or the
    member's (one statement: the outbox hook runs inside every publisher's transaction)."""
    pattern = f"%,{kind},%"
    if mall_group_id is not None:
        return [
            (int(a), int(b))
            for a, b in sql.rows(
                f"SELECT id, mall_group_id FROM {sql.table(Endpoint)}"  # noqa: S608
                " WHERE mall_group_id = %s AND is_enabled AND event_types LIKE %s",
                (mall_group_id, pattern),
            )
        ]
    member_model: Any = apps.get_model("members", "Member")
    member_table = sql.table(member_model)
    return [
        (int(a), int(b))
        for a, b in sql.rows(
            f"SELECT e.id, e.mall_group_id FROM {sql.table(Endpoint)} e"  # noqa: S608
            f" JOIN {member_table} m ON m.mall_group_id = e.mall_group_id"
            " WHERE m.id = %s AND e.is_enabled AND e.event_types LIKE %s",
            (member_id, pattern),
        )
    ]
