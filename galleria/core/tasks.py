"""Enqueueing background work from a service.

A domain app's `tasks.py` sits above its `services.py` (tasks call services), so a service names the task it
enqueues by dotted path. With the database task backend the task row is written in the caller's transaction and
commits (or rolls back) with the business change: no lost and no phantom side effects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string

from . import sql


def enqueue(task_path: str, **kwargs: Any) -> None:
    import_string(task_path).enqueue(**kwargs)


def enqueue_many(calls: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Enqueue several tasks (or one); with the database backend their rows are written in one INSERT (an event with
    three handlers costs one statement, not three), a fixed statement built once from the task model
    (`core.sql.insert_instances`, the columns as `bulk_create` writes them: the notification and parking paths
    write task rows on every request). Any other backend enqueues them one by one."""
    tasks = [(import_string(path), dict(kwargs)) for path, kwargs in calls]
    if not tasks:
        return
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.compat import normalize_json, task_enqueued
    from django_tasks_db.models import DBTaskResult, get_date_max

    backend = tasks[0][0].get_backend()
    if not isinstance(backend, DatabaseBackend) or any(t.backend != tasks[0][0].backend for t, _ in tasks):
        for task, kwargs in tasks:
            task.enqueue(**kwargs)
        return
    rows: list[DBTaskResult] = []
    for task, kwargs in tasks:
        backend.validate_task(task)
        rows.append(
            DBTaskResult(
                id=backend._get_id(),
                args_kwargs=normalize_json({"args": [], "kwargs": kwargs}),
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                run_after=task.run_after or get_date_max(),  # what the model's pre_save does (bulk skips it)
                backend_name=backend.alias,
            )
        )
    sql.insert_instances(rows)  # DBTaskResult.objects.bulk_create(rows), on the task backend's database
    for row in rows:  # what DatabaseBackend.enqueue signals for each task
        task_enqueued.send(type(backend), task_result=row.task_result)


def enqueue_after_commit(task_path: str, **kwargs: Any) -> None:
    """A task that must only run once the caller's transaction has committed (a receipt of a payment): with the
    database backend its row is written now, in that transaction — it commits or rolls back with it, and no worker
    sees it before (a transactional outbox; one INSERT, no second transaction after the commit); any other backend
    may run a task at once, so it is enqueued on commit there."""
    from django_tasks_db import DatabaseBackend

    if isinstance(import_string(task_path).get_backend(), DatabaseBackend):
        enqueue_many([(task_path, kwargs)])
        return
    transaction.on_commit(lambda: enqueue(task_path, **kwargs))
