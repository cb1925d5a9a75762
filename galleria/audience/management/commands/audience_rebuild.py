"""`galleria audience_rebuild [--group ID]`: the nightly pass of member profiles, RFM scores and segments,
lifecycle stages and automatic tags (docs/marketing.md). Scheduled at 02:20 by `galleria scheduler`; idempotent
(recomputes from the facts), one transaction per mall group."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from galleria.audience.services import profiles_rebuild
from galleria.malls.selectors import mall_group_ids


class Command(BaseCommand):
    help = "Rebuild every member profile, RFM score and automatic tag (per mall group)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", type=int, default=None, help="only this mall group (id)")

    def handle(self, *args: Any, **options: Any) -> None:
        groups = [options["group"]] if options["group"] else mall_group_ids()
        for group_id in groups:
            r = profiles_rebuild(mall_group_id=group_id)
            steps = " ".join(f"{k}={v}s" for k, v in r.steps.items())
            self.stdout.write(
                f"group {group_id}: {r.profiles} profiles, {r.removed} removed, {r.scored} scored,"
                f" {r.tagged} tag changes in {r.seconds}s ({steps})"
            )
