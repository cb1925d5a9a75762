"""`galleria coupons_birthdays [--group ID] [--date YYYY-MM-DD]`: birthday coupons for today's birthdays,
per mall group in its time zone (once per member, template and year: safe to run again)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from galleria.core import timeutil
from galleria.coupons.services import coupon_issue_birthdays
from galleria.malls.models import Mall, MallGroup


class Command(BaseCommand):
    help = "Issue birthday coupons (per mall group, in the group's time zone)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", type=int, default=None)
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="mall-local 'today'")

    def handle(self, *args: Any, **options: Any) -> None:
        groups = MallGroup.objects.order_by("pk")
        if options["group"]:
            groups = groups.filter(pk=options["group"])
        for group in groups:
            mall = Mall.objects.filter(group=group).order_by("pk").first()
            today = options["date"] or timeutil.local_date(timeutil.now(), mall.timezone if mall else None)
            issued = coupon_issue_birthdays(mall_group_id=group.pk, today=today)
            self.stdout.write(f"{group.code}: {issued} birthday coupons ({today})")
