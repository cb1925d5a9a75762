"""Background work of reconcile (thin: load by id, call one service)."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from . import services


@task()
def profit_share_task(*, attempt_id: int) -> None:
    """分账 of one paid pay-at-store payment, after the transaction that recorded its sale commits (at once when
    there is none): the gateway is never called inside the payment's transaction."""
    transaction.on_commit(lambda: services.profit_share_for_attempt(attempt_id=attempt_id))
