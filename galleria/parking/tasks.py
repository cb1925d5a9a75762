"""Parking background work: the member's receipt of a payment."""

from __future__ import annotations

from django_tasks import task

from .services_receipt import parking_receipt_send


@task()
def parking_receipt_task(*, payment_id: int) -> None:
    parking_receipt_send(payment_id=payment_id)
