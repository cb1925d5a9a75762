"""Enums of this app that other apps may use (import them from here, not from models)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SmsStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Audience(models.TextChoices):
    ALL = "all", _("All members")
    TIER = "tier", _("Members of one tier")
    MEMBER = "member", _("One member")
