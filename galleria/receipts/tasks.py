"""Background work of the receipts area (thin: call one service)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def receipt_read_task(*, receipt_id: int) -> None:
    services.receipt_read(receipt_id=receipt_id)


@task()
def receipt_notify_task(*, receipt_id: int, event: str) -> None:
    services.receipt_notify(receipt_id=receipt_id, event=event)
