"""`galleria payments_sweep`: close payments nobody paid before their expiry (asking the gateway first, so a late
payment is applied, not lost), send refunds the gateway has not accepted yet, and report 商圈 points to WeChat
that are due again. Idempotent; the scheduler runs it every five minutes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.payments.services import attempts_expire, refunds_resend
from galleria.payments.services.mall_points_sync import mall_points_sync_due


class Command(BaseCommand):
    help = "Close expired unpaid payments (after asking the gateway) and resend refunds not yet accepted."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = attempts_expire()
        sent = refunds_resend()
        synced = mall_points_sync_due()
        self.stdout.write(
            f"payments: {counts['closed']} closed, {counts['paid']} found paid, {counts['errors']} gateway errors; "
            f"{sent} refunds accepted; {synced} 商圈 points reports accepted"
        )
