"""Wallet background work: sending booked top-up refunds to their gateway (outside the booking's transaction)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def topup_refund_send_task(*, topup_refund_id: int) -> None:
    services.wallet_topup_refund_send(topup_refund_id=topup_refund_id)
