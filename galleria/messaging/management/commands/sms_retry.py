"""`galleria sms_retry`: attempt every queued SMS and e-mail whose retry is due (or whose task never ran)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Attempt every queued SMS and e-mail whose retry is due; idempotent (one attempt per due message)."

    def handle(self, *args: Any, **options: Any) -> None:
        from galleria.messaging.services import email_retry_due, sms_retry_due

        sms = sms_retry_due()
        mails = email_retry_due()
        self.stdout.write(f"attempted {sms} SMS and {mails} e-mail message(s)")
