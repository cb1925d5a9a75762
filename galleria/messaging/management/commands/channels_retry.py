"""`galleria channels_retry`: attempt every queued WeChat and web push message whose retry is due (or whose task
never ran) — the WeChat and push counterpart of `sms_retry`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Attempt every queued WeChat and web push message whose retry is due; idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        from galleria.messaging.services import push_retry_due, wechat_retry_due

        wechat = wechat_retry_due()
        push = push_retry_due()
        self.stdout.write(f"attempted {wechat} WeChat and {push} web push message(s)")
