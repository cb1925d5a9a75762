"""The demo's car parks (docs/parking.md): one per mall with zones, gates and the tariff of the issue's example (first
30 minutes free, ¥5 an hour, ¥50 a calendar day; night 22:00–08:00 ¥1 an hour, at most ¥10 a night), same-day spend
hours, cinemas allowed to grant parking — and a week of stays driven through the same services the car-park API
calls: entries, exit requests (frictionless exits charged from wallets), payments in the app with points and at the
booth, exits, a few exceptions (a misread plate corrected, an exit whose entry was missed, a car parked for days).
Cars are parked right now, among them the demo member's, so the app's "my car" has something to show."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.malls.models import Mall, MallGroup
from galleria.members.selectors import member_plates, members_active
from galleria.merchants.models import Category, Merchant, Store
from galleria.parking import selectors, services, services_admin, services_grants, services_plates
from galleria.parking.specimens import licence_photo

from . import catalog

ACTOR = Actor.system("demo")
TZ = "Asia/Shanghai"


@dataclass
class ParkingResult:
    car_parks: int = 0
    stays: int = 0
    parked_now: int = 0


def _car_park(mall: Mall, *, capacity: int, since: dt.datetime) -> int:
    """The mall's car park through the console's services: zones, gates, the tariff in force since `since`, and
    the mall's cinemas and restaurants allowed to grant parking. Its id."""
    operator = Merchant.objects.create(mall=mall, name=f"{mall.name}停车场", category=Category.SERVICES)
    store = Store.objects.create(merchant=operator, name=f"{mall.name}停车场", floor="B1", unit_no="B1-P01")
    group_id = mall.group_id
    park = services_admin.car_park_save(
        mall_group_id=group_id,
        mall_id=mall.pk,
        actor=ACTOR,
        data=services_admin.CarParkIn(
            code="p1",
            name=f"{mall.name}停车场",
            capacity=capacity,
            store_id=store.pk,
            spend_steps=((20000, 2), (50000, 4)),
            auto_pay_cap_fen=10000,
            lost_ticket_fen=5000,
        ),
    )
    services_admin.tariff_version_create(
        mall_group_id=group_id,
        car_park_id=park.pk,
        actor=ACTOR,
        at=since,
        data=services_admin.TariffIn(
            code=f"{mall.code}-2026",
            unit_minutes=60,
            free_minutes=30,
            day_price_fen=500,
            night_starts=dt.time(22),
            night_ends=dt.time(8),
            night_price_fen=100,
            night_cap_fen=1000,
            daily_cap_fen=5000,
        ),
    )
    for code in ("B1", "B2"):
        zone = services_admin.zone_save(
            mall_group_id=group_id,
            car_park_id=park.pk,
            actor=ACTOR,
            data=services_admin.ZoneIn(code=code, name=f"{code} 区", floor=code, capacity=capacity // 2),
        )
        services_admin.gate_save(
            mall_group_id=group_id,
            car_park_id=park.pk,
            actor=ACTOR,
            data=services_admin.GateIn(code=f"E-{code}", name=f"{code} 入口", direction="entry", zone_id=zone.pk),
        )
    for code, name in (("X1", "北出口"), ("X2", "南出口")):
        services_admin.gate_save(
            mall_group_id=group_id,
            car_park_id=park.pk,
            actor=ACTOR,
            data=services_admin.GateIn(code=code, name=name, direction="exit"),
        )
    for merchant in Merchant.objects.filter(mall=mall, category__in=(Category.CINEMA, Category.DINING))[:4]:
        services_grants.allowance_save(merchant_id=merchant.pk, monthly_hours=300, max_hours_per_grant=3, actor=ACTOR)
    return park.pk


def _random_plate(rng: random.Random) -> str:
    region = rng.choice([r for r, _w in catalog.PLATE_REGIONS])
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return region + "".join(rng.choice("0123456789" + letters[:6]) for _ in range(4)) + rng.choice("0123456789")


def _entry_time(rng: random.Random, day: dt.date) -> dt.datetime:
    start, _end = timeutil.local_day_bounds(day, TZ)
    hour = rng.choices(range(8, 22), weights=(2, 3, 5, 7, 8, 6, 5, 6, 7, 8, 9, 8, 5, 3))[0]
    return start + dt.timedelta(hours=hour, minutes=rng.randint(0, 59))


def _pay_in_the_app(session_id: int, *, at: dt.datetime, n: int) -> bool:
    """A member's stay paid in the app before leaving: whole hours with points if the member has them, the rest
    (or all) from the wallet. False if neither can pay (the driver pays at the booth)."""
    session = selectors.session_get(session_id=session_id)
    if session is None or session.member_id is None:
        return False
    _view, quote = services.pay_quote(session=session, at=at)
    for points in dict.fromkeys((quote.points if quote else 0, 0)):
        try:
            with transaction.atomic():
                services.parking_pay(
                    session_id=session_id,
                    member_id=session.member_id,
                    points=points,
                    key=f"demo-pay-{n}",
                    actor=ACTOR,
                    at=at,
                )
            return True
        except ApplicationError:
            continue
    return False


def _stay(rng: random.Random, park: Any, plate: str, entry: dt.datetime, now: dt.datetime, n: int) -> bool:
    """One stay through the services; True if the car is still parked."""
    services.event_entry(car_park=park, event_id=f"demo-in-{park.pk}-{n}", plate=plate, at=entry, gate="E-B1")
    minutes = int(rng.triangular(20, 360, 110))
    leave = entry + dt.timedelta(minutes=minutes)
    if leave >= now - dt.timedelta(minutes=5):
        return True
    parked = selectors.open_session(car_park_id=park.pk, plate=plate)
    if parked is not None and parked.member_id is not None and rng.random() < 0.5:  # paid in the app on the way out
        _pay_in_the_app(parked.pk, at=leave - dt.timedelta(minutes=4), n=n)
    decision = services.exit_request(car_park=park, plate=plate, at=leave, gate="X1", request_id=f"demo-rq-{n}")
    if decision.decision == "pay" and decision.session_id is not None and rng.random() < 0.97:  # paid at the booth
        services.event_payment(
            car_park=park,
            event_id=f"demo-booth-{n}",
            plate=plate,
            amount_fen=decision.due_fen,
            at=leave,
            reference=f"BOOTH{n:06d}",
        )
    services.event_exit(
        car_park=park, event_id=f"demo-out-{park.pk}-{n}", plate=plate, at=leave + dt.timedelta(minutes=1), gate="X1"
    )
    return False


def seed_parking(*, mall_group_id: int, seed: int = catalog.DEFAULT_SEED, days: int = 7) -> ParkingResult:
    rng = random.Random(seed * 7919 + 16)
    result = ParkingResult()
    group = MallGroup.objects.get(pk=mall_group_id)
    now = timezone.now()
    today = timeutil.local_date(now, TZ)
    member_ids = list(members_active(mall_group_id=mall_group_id).order_by("pk").values_list("pk", flat=True)[:400])
    plates = [p for mid in member_ids[:200] for p in member_plates(member_id=mid)]
    for mid in member_ids[:60:3]:  # plates verified at the service desk, frictionless exit on
        bound = member_plates(member_id=mid)
        if bound:
            services_plates.plate_verify_at_desk(
                mall_group_id=mall_group_id, member_id=mid, plate=bound[0], actor=ACTOR
            )
            services.auto_pay_set(member_id=mid, enabled=True, actor=ACTOR)
    n = 0
    for mall in Mall.objects.filter(group=group).order_by("pk"):
        park_id = _car_park(
            mall, capacity=800 if mall.code == catalog.PLAZA else 500, since=now - dt.timedelta(days=400)
        )
        park = selectors.car_park_get(car_park_id=park_id)
        assert park is not None
        result.car_parks += 1
        granting = list(Merchant.objects.filter(mall=mall, category__in=(Category.CINEMA, Category.DINING))[:4])
        for back in range(days, -1, -1):
            day = today - dt.timedelta(days=back)
            for _ in range(60 if back else 90):
                entry = _entry_time(rng, day)
                if entry >= now - dt.timedelta(minutes=10):
                    continue
                plate = rng.choice(plates) if plates and rng.random() < 0.45 else _random_plate(rng)
                if selectors.open_session(car_park_id=park.pk, plate=plate) is not None:
                    continue
                n += 1
                if granting and rng.random() < 0.08:  # a cinema or a restaurant granted the visitor parking
                    merchant = rng.choice(granting)
                    with contextlib.suppress(ApplicationError):  # the month's budget is used up
                        services_grants.grant_create(
                            merchant_id=merchant.pk,
                            plate=plate,
                            hours=rng.choice((2, 3)),
                            actor=Actor.system(merchant.name),
                            key=f"demo-grant-{n:06d}",
                            at=entry + dt.timedelta(minutes=30),
                        )
                with transaction.atomic():
                    still = _stay(rng, park, plate, entry, now, n)
                result.stays += 1
                result.parked_now += int(still)
        # exceptions worth a look in the console: a car parked for days, an exit whose entry was missed
        with transaction.atomic():
            services.event_entry(
                car_park=park,
                event_id=f"demo-stale-{park.pk}",
                plate=_random_plate(rng),
                at=now - dt.timedelta(days=4, hours=3),
                gate="E-B2",
                zone="B2",
            )
            services.event_exit(
                car_park=park,
                event_id=f"demo-noentry-{park.pk}",
                plate=_random_plate(rng),
                at=now - dt.timedelta(hours=2),
            )
    _park_the_demo_member(group, now)
    return result


def _park_the_demo_member(group: MallGroup, now: dt.datetime) -> None:
    """The member the demo banner suggests for the app (the newest) parks at the first mall since 2 h 40 min ago."""
    sample = members_active(mall_group_id=group.pk).order_by("-created_at").first()
    park = selectors.car_park_list(mall_group_id=group.pk).order_by("pk").first()
    if sample is None or park is None:
        return
    plates = member_plates(member_id=sample.pk)
    if not plates:
        from galleria.members.services import member_identifier_add

        member_identifier_add(member_id=sample.pk, actor=ACTOR, kind="plate", value="粤B·D12345")
        plates = member_plates(member_id=sample.pk)
    plate = plates[0]
    _claim_plate(group, member_id=sample.pk, plate=plate)
    if selectors.open_session(car_park_id=park.pk, plate=plate) is None:
        with transaction.atomic():
            services.event_entry(
                car_park=park,
                event_id="demo-member-car",
                plate=plate,
                at=now - dt.timedelta(hours=2, minutes=40),
                gate="E-B2",
                zone="B2",
            )


def _claim_plate(group: MallGroup, *, member_id: int, plate: str) -> None:
    """The demo member has sent a photo of the vehicle licence for their plate: the console's plate-claims queue
    has one to review (approve it and the app's frictionless exit can be turned on)."""
    with contextlib.suppress(ApplicationError):
        services_plates.plate_claim_submit(
            mall_group_id=group.pk, member_id=member_id, plate=plate, photo=licence_photo(plate), actor=ACTOR
        )
