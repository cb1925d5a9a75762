"""Parking background work: the member's receipt of a payment, reading a vehicle licence photo."""

from __future__ import annotations

from django_tasks import task

from .services_plates import plate_claim_read
from .services_receipt import parking_receipt_send


@task()
def parking_receipt_task(*, payment_id: int) -> None:
    parking_receipt_send(payment_id=payment_id)


@task()
def plate_claim_read_task(*, claim_id: int) -> None:
    plate_claim_read(claim_id=claim_id)
