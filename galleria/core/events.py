"""Domain events: a lower app announces what happened; higher apps subscribe through settings.

`publish("member.joined", member_id=1)` enqueues every task listed for the event in
settings.GALLERIA_EVENT_HANDLERS, inside the caller's transaction (the task rows commit or roll back with the
business change). This keeps imports pointing down the layers: members does not know that points awards a
sign-up bonus, it only says that a member joined.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .tasks import enqueue_many


def publish(event: str, **payload: Any) -> None:
    enqueue_many([(task_path, payload) for task_path in settings.GALLERIA_EVENT_HANDLERS.get(event, ())])
