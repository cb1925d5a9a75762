"""`galleria seed_demo`: write the demo mall group (malls, merchants, members, staff in every role)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from galleria.demo import catalog
from galleria.demo.loyalty import seed_loyalty
from galleria.demo.seed import AlreadySeededError, SeedRefusedError, seed_demo


class Command(BaseCommand):
    help = "Seed the demo mall group 星河商业集团: 2 malls, ~90 merchants, N members, a staff login per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--members", type=int, default=catalog.DEFAULT_MEMBERS, help="members to create (default %(default)s)"
        )
        parser.add_argument(
            "--sales", type=int, default=catalog.DEFAULT_SALES, help="sales over the last year (default %(default)s)"
        )
        parser.add_argument("--seed", type=int, default=catalog.DEFAULT_SEED, help="random seed (default %(default)s)")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="wipe the database (flush) and seed again; refused if it holds any mall group but the demo's",
        )

    def handle(self, *args: Any, members: int, sales: int, seed: int, reset: bool, **options: Any) -> None:
        if not 0 <= members <= 1_000_000:
            raise CommandError("--members must be between 0 and 1,000,000")
        if not 0 <= sales <= 1_000_000:
            raise CommandError("--sales must be between 0 and 1,000,000")
        try:
            result = seed_demo(members=members, seed=seed, reset=reset)
        except AlreadySeededError:
            self.stdout.write(
                f"The demo is already seeded (mall group {catalog.GROUP_CODE!r} exists). Use --reset to seed it again."
            )
            return
        except SeedRefusedError as exc:
            raise CommandError(str(exc)) from exc
        loyalty = seed_loyalty(sales=sales if members else 0, seed=seed, today=result.today)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {catalog.GROUP_NAME} in {result.seconds:.1f} s: {result.malls} malls, "
                f"{result.merchants} merchants, {result.stores} stores, {result.terminals} POS terminals, "
                f"{result.members} members ({result.identifiers} identifiers, {result.consents} consents), "
                f"{result.users} staff users (password {catalog.DEMO_PASSWORD}); "
                f"{loyalty.sales} sales, {loyalty.refunds} refunds, {loyalty.topups} wallet top-ups; "
                + (
                    f"{loyalty.coupons.templates} coupon templates, {loyalty.coupons.claimed} coupons claimed, "
                    f"{loyalty.coupons.used} used at the tills; promotion running: {loyalty.coupons.promotion}."
                    if loyalty.coupons
                    else ""
                )
                + (
                    f" {loyalty.parking.car_parks} car parks, {loyalty.parking.stays} stays, "
                    f"{loyalty.parking.parked_now} cars parked now."
                    if loyalty.parking
                    else ""
                )
                + (
                    f" Points mall: {loyalty.points_mall.items} items, {loyalty.points_mall.orders} exchanges."
                    if loyalty.points_mall
                    else ""
                )
                + (
                    f" Online mall: {loyalty.online_mall.shops} shops, {loyalty.online_mall.products} products,"
                    f" {loyalty.online_mall.skus} SKUs, {loyalty.online_mall.checkouts} checkouts of the newest member."
                    if loyalty.online_mall
                    else ""
                )
                + (
                    f" Events: {loyalty.events.events} events, {loyalty.events.registrations} registrations."
                    if loyalty.events
                    else ""
                )
                + (
                    f" Member services: {loyalty.amenities.desks} desks, {loyalty.amenities.rentals} rentals,"
                    f" {loyalty.amenities.bookings} bookings."
                    if loyalty.amenities
                    else ""
                )
                + (
                    f" Audience: {loyalty.audience.profiles} profiles, {loyalty.audience.tags} manual tags,"
                    f" {loyalty.audience.segments} segments, a campaign to {loyalty.audience.campaign_members} members,"
                    f" {loyalty.audience.journeys} journeys."
                    if loyalty.audience
                    else ""
                )
            )
        )
