"""Background work of commerce: thin, load by id and call one service."""

from __future__ import annotations

from django_tasks import task

from .services_refunds import order_gateway_refund


@task()
def order_gateway_refund_task(*, order_id: int) -> None:
    order_gateway_refund(order_id=order_id)
