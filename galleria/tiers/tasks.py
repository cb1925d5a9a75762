"""Event handlers of the tiers app (thin: load by id, call one service)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def on_member_joined(*, member_id: int) -> None:
    """`member.joined` → the entry tier (reason `join`); list it in settings.GALLERIA_EVENT_HANDLERS."""
    services.tier_member_joined(member_id=member_id)
