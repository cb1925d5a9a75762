"""Enums of this app that other apps may use (import them from here, not from models)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SmsStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")  # waiting for its first attempt or for a retry (next_attempt_at)
    SENT = "sent", _("Sent")  # the provider accepted it
    DELIVERED = "delivered", _("Delivered")  # the provider's receipt says it reached the phone
    FAILED = "failed", _("Failed")  # refused for good, out of attempts, or the receipt says undelivered


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")  # the SMTP server accepted it
    FAILED = "failed", _("Failed")


class Audience(models.TextChoices):
    ALL = "all", _("All members")
    TIER = "tier", _("Members of one tier")
    MEMBER = "member", _("One member")
