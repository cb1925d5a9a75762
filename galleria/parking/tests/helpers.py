"""Parking test data: the issue's car park (first 30 min free, ¥5/h, cap ¥50 a calendar day; spend ≥ ¥200 today
→ +2 h), members on a tier, a day's spending, wallet money."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from galleria.audit.types import Actor
from galleria.members.services import member_register
from galleria.merchants.models import Category, Merchant, Store
from galleria.parking.models import CarPark, Gate, TariffVersion, Zone
from galleria.sales.services import sale_commit
from galleria.sales.types import LineIn, PaymentIn, SaleIn
from galleria.tiers.services import tier_ladder_ensure_default, tier_override
from galleria.wallet.tests.helpers import top_up

ACTOR = Actor.system("test")
SHANGHAI = ZoneInfo("Asia/Shanghai")
_phones = itertools.count(20000000)
_sales = itertools.count(1)


def local(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=SHANGHAI)


def next_noon() -> dt.datetime:
    """The next 12:00 in Shanghai (always ahead of now, so data the test made just before is in its past): tests whose
    "today" and "within the day" must not straddle the mall's midnight travel there."""
    now = dt.datetime.now(SHANGHAI)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon > now else noon + dt.timedelta(days=1)


def car_park(world, *, code: str = "p1", since: dt.datetime | None = None) -> CarPark:
    operator = Merchant.objects.create(mall=world.mall, name="星河广场停车场", category=Category.SERVICES)
    store = Store.objects.create(merchant=operator, name="星河广场停车场", floor="B1", unit_no="B1-P")
    park = CarPark.objects.create(
        mall=world.mall, code=code, name="星河广场停车场", capacity=800, store=store, spend_steps=[[20000, 2]]
    )
    TariffVersion.objects.create(
        car_park=park,
        code="P1-2026",
        effective_from=since or local(2026, 1, 1),
        unit_minutes=60,
        free_minutes=30,
        day_price_fen=500,
        daily_cap_fen=5000,
    )
    zone = Zone.objects.create(car_park=park, code="B1", name="B1 区", floor="B1", capacity=400)
    Gate.objects.create(car_park=park, code="E1", name="东入口", direction="entry", zone=zone)
    Gate.objects.create(car_park=park, code="X1", name="东出口", direction="exit")
    return park


def member(world, *, tier: str = "", phone: str | None = None):
    m = member_register(mall=world.mall, phone=phone or f"137{next(_phones):08d}", channel="desk", actor=ACTOR)
    if tier:
        tier_ladder_ensure_default(mall_group_id=world.group.pk)
        tier_override(
            member_id=m.pk, level_code=tier, until=dt.date.today() + dt.timedelta(days=300), reason="test", actor=ACTOR
        )
    return m


def spend(world, m, amount_fen: int, *, at: dt.datetime) -> None:
    """A sale at 喜茶 paid in cash."""
    sale_commit(
        data=SaleIn(
            merchant_id=world.merchant.pk,
            store_id=world.store.pk,
            terminal_id=None,
            pos_sale_id=f"T{next(_sales)}",
            occurred_at=at,
            lines=(LineIn(sku="tea", name="tea", quantity=1, unit_price_fen=amount_fen, amount_fen=amount_fen),),
            payments=(PaymentIn("cash", amount_fen),),
            member_id=m.pk,
        ),
        actor=ACTOR,
    )


def fund_wallet(world, m, amount_fen: int) -> None:
    top_up(world, m, amount_fen)
