"""`galleria webpush_keys [--rotate]`: print this installation's VAPID public key (generating the pair on first use);
`--rotate` makes a new pair and deletes every browser subscription made with the old one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Print the VAPID public key (created on first use); --rotate replaces the pair."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rotate", action="store_true", help="new key pair; existing subscriptions are deleted")

    def handle(self, *args: Any, **options: Any) -> None:
        from galleria.messaging.services import vapid_public, vapid_rotate

        self.stdout.write(vapid_rotate() if options["rotate"] else vapid_public())
