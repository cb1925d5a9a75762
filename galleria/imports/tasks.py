"""Background work of the imports area (thin: call one service)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def import_dry_run_task(*, job_id: int, attempt: int | None = None) -> None:
    services.import_dry_run(job_id=job_id, attempt=attempt)


@task()
def import_run_task(*, job_id: int, actor_user_id: int | None = None) -> None:
    services.import_run(job_id=job_id, actor_user_id=actor_user_id)
