"""`galleria sms_prune`: delete SMS outbox rows older than GALLERIA_SMS_RETENTION_DAYS (phone numbers, texts)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Delete SMS outbox rows older than GALLERIA_SMS_RETENTION_DAYS (messages still queued stay); idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        from galleria.messaging.services import sms_prune

        days = int(getattr(settings, "GALLERIA_SMS_RETENTION_DAYS", 90))
        deleted = sms_prune(older_than_days=days)
        self.stdout.write(f"deleted {deleted} SMS outbox row(s) older than {days} days")
