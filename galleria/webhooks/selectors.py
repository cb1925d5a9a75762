"""Webhooks reads: a group's endpoints, an endpoint, its delivery log and a delivery's attempts."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Delivery, DeliveryAttempt, Endpoint


def endpoint_list(*, mall_group_id: int) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(mall_group_id=mall_group_id).order_by("-id")


def endpoint_get(*, mall_group_id: int, endpoint_id: int) -> Endpoint | None:
    return Endpoint.objects.filter(mall_group_id=mall_group_id, pk=endpoint_id).first()


def delivery_list(*, mall_group_id: int, endpoint_id: int | None = None, status: str = "") -> QuerySet[Delivery]:
    qs = Delivery.objects.filter(endpoint__mall_group_id=mall_group_id).select_related("event", "endpoint")
    if endpoint_id is not None:
        qs = qs.filter(endpoint_id=endpoint_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def delivery_get(*, mall_group_id: int, delivery_id: int) -> Delivery | None:
    return (
        Delivery.objects.filter(endpoint__mall_group_id=mall_group_id, pk=delivery_id)
        .select_related("event", "endpoint")
        .first()
    )


def delivery_attempts(*, delivery_id: int) -> QuerySet[DeliveryAttempt]:
    return DeliveryAttempt.objects.filter(delivery_id=delivery_id).order_by("-at", "-id")
