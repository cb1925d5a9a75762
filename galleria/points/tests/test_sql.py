"""The points app's fixed SQL (points/sql.py) against its ORM reference: what counts toward the daily cap, and a
behaviour award written once per (member, event, occasion), and points paid drawn from the lots. (The first-purchase
award inside a sale: galleria/sales/tests/test_first_purchase.py.)"""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.db.models import Q, Sum

from galleria.audit.types import Actor
from galleria.core import sql, timeutil
from galleria.ledger import services as ledger
from galleria.ledger.models import AccountKind, Entry, TransactionKind
from galleria.members.services import member_register
from galleria.points import services
from galleria.points import sql as points_sql
from galleria.points.models import BehaviourAward, BehaviourRule, LotMovement, PointsLot
from galleria.points.selectors import earned_toward_daily_cap, points_balance, policy_get

pytestmark = pytest.mark.django_db
TZ = "Asia/Shanghai"
NOW = dt.datetime(2026, 11, 22, 4, 0, tzinfo=dt.UTC)  # noon in Shanghai


def orm_reference(*, member_id: int, at: dt.datetime, now: dt.datetime, lookback_days: int) -> int:
    """earned_toward_daily_cap as the ORM query it replaced (the reference the fixed SQL must equal)."""
    sale_start, sale_end = timeutil.local_day_bounds(timeutil.local_date(at, TZ), TZ)
    today_start, today_end = timeutil.local_day_bounds(timeutil.local_date(now, TZ), TZ)
    on_sale_day = Q(occurred_at__gte=sale_start, occurred_at__lt=sale_end)
    credited_today = Q(transaction__created_at__gte=today_start, transaction__created_at__lt=today_end)
    totals = (
        Entry.objects.filter(
            account__member_id=member_id,
            account__kind=AccountKind.MEMBER_POINTS,
            transaction__kind=TransactionKind.EARN,
            occurred_at__gte=min(sale_start, today_start - dt.timedelta(days=lookback_days)),
        )
        .filter(on_sale_day | credited_today)
        .aggregate(by_sale_day=Sum("amount", filter=on_sale_day), by_credit_day=Sum("amount", filter=credited_today))
    )
    return max(int(totals["by_sale_day"] or 0), int(totals["by_credit_day"] or 0))


def _member(world, phone: str):
    return member_register(mall=world.mall, phone=phone, channel="desk", actor=Actor.system("test"))


def _credit(world, member, points: int, *, occurred_at: dt.datetime, kind: str = "earn") -> None:
    """Points credited at the frozen `NOW` for something dated `occurred_at` (an earn, or another kind)."""
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        account = ledger.lock_member_accounts(
            mall_group_id=world.group.pk, member_id=member.pk, kinds=[AccountKind.MEMBER_POINTS]
        )[AccountKind.MEMBER_POINTS]
        services.points_credit_in_tx(
            policy=policy_get(mall_group_id=world.group.pk),
            member_id=member.pk,
            points_account=account,
            points=points,
            kind=kind,
            funder="mall",
            merchant_share_bp=0,
            merchant_id=world.merchant.pk,
            occurred_at=occurred_at,
            tz_name=TZ,
            source="test",
            explanation={},
        )


def test_what_counts_toward_the_daily_cap_is_what_the_orm_query_says(world):
    m, other = _member(world, "13812345678"), _member(world, "13812345679")
    _credit(world, m, 120, occurred_at=NOW - dt.timedelta(hours=1))  # today's sale, credited today
    _credit(world, m, 300, occurred_at=NOW - dt.timedelta(days=1, hours=1))  # yesterday's receipt, credited today
    _credit(world, m, 50, occurred_at=NOW - dt.timedelta(days=3))
    _credit(world, m, 20, occurred_at=NOW - dt.timedelta(hours=2), kind=TransactionKind.BEHAVIOUR)  # never counts
    _credit(world, other, 900, occurred_at=NOW - dt.timedelta(minutes=5))
    cases = [
        (NOW, NOW, 7),
        (NOW - dt.timedelta(days=1), NOW, 7),
        (NOW - dt.timedelta(days=3), NOW, 7),
        (NOW - dt.timedelta(days=3), NOW + dt.timedelta(days=1), 1),
        (NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=1), 7),
        (NOW - dt.timedelta(hours=13), NOW, 0),  # 23:00 yesterday in Shanghai
    ]
    seen = set()
    for at, now, lookback in cases:
        for who in (m, other):
            got = earned_toward_daily_cap(member_id=who.pk, at=at, now=now, tz_name=TZ, lookback_days=lookback)
            assert got == orm_reference(member_id=who.pk, at=at, now=now, lookback_days=lookback), (at, now, who)
            seen.add(got)
    # the cases tell the days of sale and of crediting apart, and the behaviour credit never counts
    assert seen == {0, 50, 420, 470, 900}


def test_a_behaviour_is_awarded_once_with_its_credit(world):
    BehaviourRule.objects.create(mall_group=world.group, event="checkin", points=5)
    m = _member(world, "13812345670")
    first = services.points_checkin(member_id=m.pk, mall_group_id=world.group.pk, tz_name=TZ)
    again = services.points_checkin(member_id=m.pk, mall_group_id=world.group.pk, tz_name=TZ)
    assert first is not None and again is None
    assert first.transaction is not None
    stored = BehaviourAward.objects.get(member=m)
    assert (stored.pk, stored.points, stored.transaction_id) == (first.pk, 5, first.transaction.pk)
    assert stored.occasion == first.occasion and stored.local_date == first.local_date
    assert points_balance(member_id=m.pk) == 5


def _lots_and_movements(member) -> tuple[list[tuple], list[tuple]]:
    lots = list(PointsLot.objects.filter(member=member).order_by("pk").values_list("pk", "points", "remaining"))
    moves = list(
        LotMovement.objects.filter(lot__member=member).order_by("pk").values_list("lot_id", "transaction_id", "points")
    )
    return lots, moves


def _spend(world, member, points: int) -> None:
    with transaction.atomic():
        account = ledger.lock_member_accounts(
            mall_group_id=world.group.pk, member_id=member.pk, kinds=[AccountKind.MEMBER_POINTS]
        )[AccountKind.MEMBER_POINTS]
        services.points_spend_in_tx(
            mall_group_id=world.group.pk,
            member_id=member.pk,
            points_account=account,
            points=points,
            merchant_id=world.merchant.pk,
            occurred_at=NOW,
            source="test",
            explanation={},
        )


@pytest.mark.parametrize("portable", [False, True])
def test_points_paid_are_drawn_from_the_lots_soonest_expiring_first(world, portable):
    """The open lots (fixed SQL) are what the ORM query returns, and paying draws them FIFO with one movement per lot
    drawn — in the one-statement form (PostgreSQL) and the portable one (every database)."""
    m = _member(world, "13812345677")
    _credit(world, m, 100, occurred_at=NOW - dt.timedelta(days=400))  # expires first
    _credit(world, m, 300, occurred_at=NOW - dt.timedelta(days=2))
    _credit(world, m, 50, occurred_at=NOW - dt.timedelta(days=1))
    orm = list(PointsLot.objects.filter(member_id=m.pk, remaining__gt=0).order_by("expires_on", "id"))
    assert [(lot.pk, lot.remaining, lot.expires_on) for lot in points_sql.open_lots(m.pk)] == [
        (lot.pk, lot.remaining, lot.expires_on) for lot in orm
    ]
    first, second, third = (lot.pk for lot in orm)
    form = sql.portable_writes_for_tests() if portable else contextlib.nullcontext()
    with form:
        _spend(world, m, 250)  # all of the first lot and 150 of the second
        _spend(world, m, 150)  # the rest of the second
    lots, moves = _lots_and_movements(m)
    assert [(pk, remaining) for pk, _points, remaining in lots] == [(first, 0), (second, 0), (third, 50)]
    assert [(lot, pts) for lot, _tx, pts in moves] == [(first, -100), (second, -150), (second, -150)]
    assert len({tx for _lot, tx, _pts in moves}) == 2
    assert [lot.pk for lot in points_sql.open_lots(m.pk)] == [third]
    assert points_balance(member_id=m.pk) == 50
