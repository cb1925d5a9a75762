"""Domain events: a lower app announces what happened; higher apps subscribe through settings.

`publish("member.joined", member_id=1)` enqueues every task listed for the event in
settings.GALLERIA_EVENT_HANDLERS, inside the caller's transaction (the task rows commit or roll back with the
business change). This keeps imports pointing down the layers: members does not know that points awards a
sign-up bonus, it only says that a member joined.

Before that, every function in settings.GALLERIA_EVENT_OUTBOXES is called with (event=, payload=) synchronously, in
the caller's transaction: the webhooks outbox (galleria.webhooks.services.outbox_record) writes its rows there, so a
crash can neither lose a committed event nor leave one whose change rolled back (a task could die after its row was
taken: docs/api.md, "Webhooks").
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from .tasks import enqueue_many


def publish(event: str, **payload: Any) -> None:
    for path in getattr(settings, "GALLERIA_EVENT_OUTBOXES", ()):
        import_string(path)(event=event, payload=payload)
    enqueue_many([(task_path, payload) for task_path in settings.GALLERIA_EVENT_HANDLERS.get(event, ())])
