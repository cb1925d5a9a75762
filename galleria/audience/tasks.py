"""Audience background work: the console's "recompute now" runs the nightly pass of one group in the worker."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def rebuild_task(*, mall_group_id: int) -> None:
    services.profiles_rebuild(mall_group_id=mall_group_id)
