"""Background work of settlement (thin: load by id, call one service)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from galleria.audit.types import Actor

from . import services
from .types import Period


@task()
def statements_generate_task(
    *, mall_group_id: int, period_start: str, period_end: str, actor_label: str, actor_user_id: int | None = None
) -> int:
    """Generate a period's drafts in the background (the console's "Generate"): returns how many statements were
    created or regenerated."""
    period = Period(start=dt.date.fromisoformat(period_start), end=dt.date.fromisoformat(period_end))
    actor = Actor(user_id=actor_user_id, label=actor_label or "settlement")
    result = services.statements_generate(mall_group_id=mall_group_id, period=period, actor=actor)
    return result.created + result.regenerated
