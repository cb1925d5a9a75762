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


# --- 智慧商圈 (payment-linked points) ---------------------------------------------------------------------------------


@task()
def mall_points_sync_task(*, mall_txn_id: int) -> None:
    """Report a 商圈 payment's points to WeChat; on a gateway failure, try again later (with a backend that can
    defer, this task re-enqueues itself after the service's gap; the payments sweep catches anything left)."""
    import datetime as dt

    from django.utils import timezone

    from .services.mall_points_sync import mall_points_sync

    retry_in = mall_points_sync(mall_txn_id=mall_txn_id)
    if retry_in is not None and mall_points_sync_task.get_backend().supports_defer:
        later = mall_points_sync_task.using(run_after=timezone.now() + dt.timedelta(seconds=retry_in))
        later.enqueue(mall_txn_id=mall_txn_id)


@task()
def mall_points_sync_due_task() -> None:
    """Report every 商圈 payment whose points report is due (what the payments sweep runs)."""
    from .services.mall_points_sync import mall_points_sync_due

    mall_points_sync_due()
