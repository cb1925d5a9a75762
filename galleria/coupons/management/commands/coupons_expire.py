"""`galleria coupons_expire`: available coupons past their validity become expired (batched, idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from galleria.coupons.services import coupon_expire


class Command(BaseCommand):
    help = "Expire coupons past their validity (idempotent, resumable)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"expired {coupon_expire()} coupons")
