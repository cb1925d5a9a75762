from __future__ import annotations

from django_tasks import task

from . import services


@task()
def sms_deliver_task(*, message_id: int) -> None:
    services.sms_deliver(message_id=message_id)
