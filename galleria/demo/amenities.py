"""The demo's member services (docs/amenities.md): a service desk per mall lending umbrellas, strollers, power banks
and wheelchairs (stock counted in with a reason), a few rentals — some out now (one overdue), some returned (one
late, its fee charged from the points deposit) — and two bookable services at the first mall, the gold lounge (a
tier benefit) and gift wrapping, with requested and confirmed bookings. All made through the services the desk
screen and the app call; the fees are sales of the points mall's service-desk store."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.utils import timezone

from galleria.amenities import selectors, services, services_bookings, services_config
from galleria.amenities.types import ItemTypeIn, OfferingIn, WeeklyHours
from galleria.audit.types import Actor
from galleria.commerce.selectors import settings_get as points_mall_settings
from galleria.core.errors import ApplicationError
from galleria.ledger.selectors import member_available
from galleria.members.selectors import members_active
from galleria.merchants.selectors import mall_list
from galleria.tiers.selectors import member_tier

ACTOR = Actor.system("demo")
DESK = Actor.system("demo desk")

ITEMS = (
    ItemTypeIn("umbrella", "雨伞", "umbrella", 3000, 3000, 120, {"gold": 240, "black": 1440}, "hour", 200, 2000, 3000),
    ItemTypeIn("stroller", "婴儿推车", "stroller", 5000, 5000, 180, {"black": 480}, "hour", 500, 3000, 30000),
    ItemTypeIn(
        "power-bank", "充电宝", "power_bank", 4900, 4900, 60, {"gold": 120, "black": 240}, "hour", 100, 1000, 9900
    ),
    ItemTypeIn("wheelchair", "轮椅", "wheelchair", 0, 0, 1440, {}, "day", 0, 0, 0),
)
STOCK = {"umbrella": 20, "stroller": 6, "power-bank": 15, "wheelchair": 3}


@dataclass
class AmenitiesResult:
    desks: int = 0
    rentals: int = 0
    bookings: int = 0


def seed_amenities(*, mall_group_id: int, seed: int) -> AmenitiesResult:
    rng = random.Random(seed + 23)
    result = AmenitiesResult()
    malls = list(mall_list(mall_group_id=mall_group_id).order_by("pk"))
    store = points_mall_settings(mall_group_id=mall_group_id).store
    if not malls:
        return result
    items = {
        spec.code: services_config.item_type_save(
            mall_group_id=mall_group_id, item_type_id=None, data=spec, actor=ACTOR
        )
        for spec in ITEMS
    }
    desks = []
    for mall in malls:
        desk = services_config.desk_save(
            mall_group_id=mall_group_id,
            desk_id=None,
            mall_id=mall.pk,
            name=f"{mall.name} 服务台",
            place="L1 中庭",
            opening_hours="10:00-22:00",
            store_id=store.pk if store is not None and store.merchant.mall_id == mall.pk else None,
            is_active=True,
            actor=ACTOR,
        )
        for code, count in STOCK.items():
            services.stock_adjust(
                mall_group_id=mall_group_id,
                desk_id=desk.pk,
                item_type_id=items[code].pk,
                delta=count,
                reason="开业盘点",
                actor=ACTOR,
            )
        desks.append(desk)
    result.desks = len(desks)
    now = timezone.now()
    members = [
        m
        for m in members_active(mall_group_id=mall_group_id).order_by("-created_at")[:200]
        if member_available(member_id=m.pk, kind="member_points") >= 5000
    ]
    plan = (  # (item, hours ago, returned?)
        ("umbrella", 1, False),
        ("power-bank", 3, False),  # overdue now
        ("stroller", 2, False),
        ("umbrella", 30, True),
        ("umbrella", 6, True),  # late: a fee
        ("power-bank", 0.5, True),
    )
    for n, (code, hours, returned) in enumerate(plan):
        if n >= len(members):
            break
        desk = desks[n % len(desks)]
        try:
            rental = services.rental_lend(
                mall_group_id=mall_group_id,
                desk_id=desk.pk,
                item_type_id=items[code].pk,
                member_id=members[n].pk,
                deposit_kind="points",
                key=f"demo-rental-{n}",
                actor=DESK,
                at=now - dt.timedelta(hours=hours),
            )
            if returned:
                services.rental_return(mall_group_id=mall_group_id, rental_id=rental.pk, desk_id=desk.pk, actor=DESK)
        except ApplicationError:
            continue
        result.rentals += 1
    result.bookings = _seed_bookings(mall_group_id, malls[0].pk, rng)
    return result


def _seed_bookings(mall_group_id: int, mall_id: int, rng: random.Random) -> int:
    lounge = services_config.offering_save(
        mall_group_id=mall_group_id,
        offering_id=None,
        data=OfferingIn(
            mall_id=mall_id,
            kind="lounge",
            name="金卡贵宾室",
            place="L5 贵宾室",
            description="金卡及以上会员专享：茶歇、休息区、行李寄存。",
            access="lounge_access",
        ),
        actor=ACTOR,
    )
    services_config.hours_save(
        mall_group_id=mall_group_id,
        offering_id=lounge.pk,
        rows=[WeeklyHours(day, dt.time(10), dt.time(22), 6) for day in range(7)],
        actor=ACTOR,
    )
    wrap = services_config.offering_save(
        mall_group_id=mall_group_id,
        offering_id=None,
        data=OfferingIn(mall_id=mall_id, kind="gift_wrap", name="礼品包装", place="L1 服务台", slot_minutes=30),
        actor=ACTOR,
    )
    services_config.hours_save(
        mall_group_id=mall_group_id,
        offering_id=wrap.pk,
        rows=[WeeklyHours(day, dt.time(10), dt.time(21), 2) for day in range(7)],
        actor=ACTOR,
    )
    members = list(members_active(mall_group_id=mall_group_id).order_by("-created_at")[:200])
    vips = [m for m in members if member_tier(member_id=m.pk, mall_group_id=mall_group_id).lounge_access][:2]
    made = 0
    now = timezone.now()
    for offering, people in ((lounge, vips), (wrap, members[:2])):
        slots = list(selectors.slot_list(offering_id=offering.pk, since=now + dt.timedelta(hours=20))[:12])
        for n, m in enumerate(people):
            if not slots:
                break
            try:
                booking = services_bookings.booking_request(
                    mall_group_id=mall_group_id,
                    slot_id=rng.choice(slots).pk,
                    member_id=m.pk,
                    key=f"demo-booking-{offering.pk}-{n}",
                    actor=ACTOR,
                    note="两份礼物，分开包装" if offering is wrap else "",
                )
                if n == 0:
                    services_bookings.booking_decide(
                        mall_group_id=mall_group_id, booking_id=booking.pk, decision="confirm", actor=DESK
                    )
            except ApplicationError:
                continue
            made += 1
    return made
