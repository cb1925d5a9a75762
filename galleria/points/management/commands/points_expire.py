"""`galleria points_expire [--group ID] [--date YYYY-MM-DD]`: expire points lots past their last valid
mall-local day and record "expiring within 30 days" events. Idempotent and resumable."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from galleria.core import timeutil
from galleria.malls.models import Mall, MallGroup
from galleria.points.services import points_expire, points_expiry_notices


class Command(BaseCommand):
    help = "Expire points lots and create expiring-soon events (per mall group, in the group's time zone)."

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
            expired = points_expire(mall_group_id=group.pk, today=today)
            notices = points_expiry_notices(mall_group_id=group.pk, today=today)
            self.stdout.write(f"{group.code}: expired {expired} points, {notices} expiring-soon events ({today})")
