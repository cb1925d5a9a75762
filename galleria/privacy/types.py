"""Enums of this app that other apps may use (import them from here, not from models)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RequestKind(models.TextChoices):
    EXPORT = "export", _("Data export")
    ERASURE = "erasure", _("Account deletion")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending (cooling-off)")
    READY = "ready", _("Ready to download")
    DONE = "done", pgettext_lazy("privacy request status", "Done")  # not the member app's check-in "Done"
    CANCELLED = "cancelled", _("Cancelled")
    BLOCKED = "blocked", _("Blocked")
    EXPIRED = "expired", _("Expired")


class RequestVia(models.TextChoices):
    APP = "app", _("Member app")
    API = "api", _("Member API")
    CONSOLE = "console", _("Console (on the member's behalf)")
    RETENTION = "retention", _("Retention policy")
