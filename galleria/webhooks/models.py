"""Webhooks tables (docs/api.md, "Webhooks"): a group's endpoints, the events recorded for them (the outbox, written
in the transaction of the change), one delivery per endpoint and event, and every attempt's response.

`WebhookEvent.member_id` and `Delivery.member_id` are plain integers, not foreign keys: an event about a member who
was later merged or erased stays as it was sent (it carries ids only, no personal data). Deliveries of one member to
one endpoint go out in `Delivery.id` order: a later one waits while an earlier one is pending."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.core.models import TimeStampedModel
from galleria.malls.models import MallGroup

from .types import DeliveryStatus

__all__ = ["Delivery", "DeliveryAttempt", "DeliveryStatus", "Endpoint", "WebhookEvent"]


class Endpoint(TimeStampedModel):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=120, blank=True)
    event_types = models.CharField(max_length=1000)  # ",member.joined,tier.changed,"
    secret_sealed = models.TextField()  # Fernet (webhooks.secrets); shown once at creation
    is_enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)  # first failure after the last success
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        indexes = [models.Index(fields=["mall_group", "is_enabled"], name="webhooks_endpoint_group")]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    member_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"


class Delivery(models.Model):
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    member_id = models.BigIntegerField(null=True, blank=True)  # the event's, for the per-member order
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    leased_until = models.DateTimeField(null=True, blank=True)  # a worker is sending it
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="webhooks_delivery_due", condition=Q(status=DeliveryStatus.PENDING)
            ),
            models.Index(fields=["endpoint", "member_id", "status"], name="webhooks_delivery_order"),
            models.Index(fields=["endpoint", "-id"], name="webhooks_delivery_log"),
        ]


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(default=0)  # 0: no HTTP answer (error says why)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["delivery", "-at"], name="webhooks_attempt_of")]
