"""Messaging background work: one delivery attempt per task; a retryable failure re-enqueues the task for when
its retry is due (with a backend that can defer — the database backend; `sms_retry` / `email_retry` sweep up the
rest, e.g. with the immediate backend of the tests)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from . import services


@task()
def sms_deliver_task(*, message_id: int) -> None:
    retry_in = services.sms_deliver(message_id=message_id)
    if retry_in is not None and sms_deliver_task.get_backend().supports_defer:
        later = sms_deliver_task.using(run_after=timezone.now() + dt.timedelta(seconds=retry_in))
        later.enqueue(message_id=message_id)


@task()
def email_deliver_task(*, message_id: int) -> None:
    retry_in = services.email_deliver(message_id=message_id)
    if retry_in is not None and email_deliver_task.get_backend().supports_defer:
        later = email_deliver_task.using(run_after=timezone.now() + dt.timedelta(seconds=retry_in))
        later.enqueue(message_id=message_id)


@task()
def wechat_deliver_task(*, message_id: int) -> None:
    retry_in = services.wechat_deliver(message_id=message_id)
    if retry_in is not None and wechat_deliver_task.get_backend().supports_defer:
        later = wechat_deliver_task.using(run_after=timezone.now() + dt.timedelta(seconds=retry_in))
        later.enqueue(message_id=message_id)


@task()
def push_deliver_task(*, message_id: int) -> None:
    retry_in = services.push_deliver(message_id=message_id)
    if retry_in is not None and push_deliver_task.get_backend().supports_defer:
        later = push_deliver_task.using(run_after=timezone.now() + dt.timedelta(seconds=retry_in))
        later.enqueue(message_id=message_id)
