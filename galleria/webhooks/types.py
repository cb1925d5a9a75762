"""Webhooks enums and the values that cross app boundaries (docs/api.md, "Webhooks")."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Given up")


@dataclass(frozen=True)
class CreatedEndpoint:
    """A new endpoint and its signing secret: the only time the secret is shown."""

    endpoint_id: int
    secret: str


@dataclass(frozen=True)
class RunResult:
    delivered: int
    retried: int
    given_up: int
    disabled: int
