"""Enqueueing background work from a service.

A domain app's `tasks.py` sits above its `services.py` (tasks call services), so a service names the task it
enqueues by dotted path. With the database task backend the task row is written in the caller's transaction and
commits (or rolls back) with the business change: no lost and no phantom side effects.
"""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string


def enqueue(task_path: str, **kwargs: Any) -> None:
    import_string(task_path).enqueue(**kwargs)
