"""Payments background work: sending refunds to the gateway, the member's e-receipt, the periodic sweeps."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def refund_send_task(*, refund_id: int) -> None:
    services.refund_send(refund_id=refund_id)


@task()
def payment_receipt_task(*, attempt_id: int) -> None:
    services.payment_receipt_send(attempt_id=attempt_id)
