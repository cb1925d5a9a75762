"""The rollups equal a direct recomputation from the sales and refunds, for random sales across two malls in
different time zones and random periods (a property test), and survive reruns, rebuilds and late refunds."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from galleria.analytics import selectors, services
from galleria.analytics.models import RollupMark, SalesDay
from galleria.analytics.types import Period
from galleria.sales.models import Refund, Sale
from galleria.sales.services import sale_commit, sale_refund
from galleria.sales.tests.helpers import sale_in
from galleria.sales.types import Channel

from .helpers import ACTOR, member

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)
LATER = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # every row is settled
CHANNELS = (Channel.POS, Channel.COUNTER, Channel.ONLINE, Channel.PARKING)


def _sale(world, *, mall, merchant, at, total, member_id=None, channel=Channel.POS, discount=0):
    return Sale.objects.create(
        mall_group=world.group,
        mall=mall,
        merchant=merchant,
        store=world.store,
        member_id=member_id,
        pos_sale_id=f"P{next(_ids)}",
        occurred_at=at,
        channel=channel,
        total_fen=total,
        paid_fen=total - discount,
        discount_fen=discount,
    )


def _refund(sale, *, at, amount):
    Sale.objects.filter(pk=sale.pk).update(refunded_fen=sale.refunded_fen + amount)
    sale.refunded_fen += amount
    return Refund.objects.create(
        sale=sale, pos_refund_id=f"F{next(_ids)}", occurred_at=at, amount_fen=amount, money_fen=amount
    )


def _direct(world, period: Period, tz_of: dict[int, str]) -> tuple[int, int, int, int, int, int]:
    """(sales, gross, refunds, refunded, member sales, member gross) straight from the rows."""
    sales = gross = refunds = refunded = m_sales = m_gross = 0
    for s in Sale.objects.filter(mall_group=world.group):
        day = s.occurred_at.astimezone(ZoneInfo(tz_of[s.mall_id])).date()
        if period.start <= day <= period.end:
            sales += 1
            gross += s.total_fen
            if s.member_id:
                m_sales += 1
                m_gross += s.total_fen
    for r in Refund.objects.select_related("sale").filter(sale__mall_group=world.group):
        day = r.occurred_at.astimezone(ZoneInfo(tz_of[r.sale.mall_id])).date()
        if period.start <= day <= period.end:
            refunds += 1
            refunded += r.amount_fen
    return sales, gross, refunds, refunded, m_sales, m_gross


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_a_direct_recomputation(world, seed):
    rnd = random.Random(seed)
    world.mall2.timezone = "America/Los_Angeles"  # a day boundary far from Shanghai's
    world.mall2.save()
    tz_of = {world.mall.pk: world.mall.timezone, world.mall2.pk: world.mall2.timezone}
    people = [member(world, phone=f"1391234{i:04d}").pk for i in range(4)]
    start = dt.datetime(2026, 2, 27, tzinfo=dt.UTC)
    sales = []
    for _ in range(120):
        at = start + dt.timedelta(minutes=rnd.randrange(0, 60 * 24 * 6))
        sales.append(
            _sale(
                world,
                mall=rnd.choice([world.mall, world.mall2]),
                merchant=rnd.choice([world.merchant, world.other_merchant]),
                at=at,
                total=rnd.randrange(1, 100_000),
                member_id=rnd.choice([None, *people]),
                channel=rnd.choice(CHANNELS),
            )
        )
        if rnd.random() < 0.3:  # a sale that is refunded, partly, maybe days later
            s = sales[-1]
            _refund(s, at=at + dt.timedelta(hours=rnd.randrange(0, 72)), amount=rnd.randrange(1, s.total_fen + 1))
    # the minute job, in several runs over batches of new rows
    services.rollup_refresh(now=LATER)
    assert services.rollup_refresh(now=LATER).slices == 0  # nothing new: nothing recomputed
    for _ in range(25):
        a = dt.date(2026, 2, 25) + dt.timedelta(days=rnd.randrange(0, 10))
        period = Period(a, a + dt.timedelta(days=rnd.randrange(0, 6)))
        t = selectors.sales_totals(mall_group_id=world.group.pk, period=period)
        assert (t.sales, t.gross_fen, t.refunds, t.refunded_fen, t.member_sales, t.member_gross_fen) == _direct(
            world, period, tz_of
        ), period
    # a rebuild writes the very same rows
    before = sorted(SalesDay.objects.values_list(*_COLUMNS))
    services.rollup_rebuild(mall_group_id=world.group.pk)
    assert sorted(SalesDay.objects.values_list(*_COLUMNS)) == before


_COLUMNS = ("mall_id", "day", "merchant_id", "channel", "member", "sales", "gross_fen", "refunds", "refunded_fen",
            "buyers", "discount_fen", "paid_fen")  # fmt: skip


def test_a_late_refund_counts_on_its_own_day_and_the_sale_day_stays(world):
    tz = ZoneInfo(world.mall.timezone)
    sold = dt.datetime(2026, 5, 1, 12, tzinfo=tz)
    s = _sale(world, mall=world.mall, merchant=world.merchant, at=sold, total=10_000)
    services.rollup_refresh(now=LATER)
    _refund(s, at=dt.datetime(2026, 5, 20, 9, tzinfo=tz), amount=4_000)
    result = services.rollup_refresh(now=LATER)
    assert result.slices == 1
    may1 = selectors.sales_totals(mall_group_id=world.group.pk, period=Period(dt.date(2026, 5, 1), dt.date(2026, 5, 1)))
    may20 = selectors.sales_totals(
        mall_group_id=world.group.pk, period=Period(dt.date(2026, 5, 20), dt.date(2026, 5, 20))
    )
    assert (may1.gross_fen, may1.refunded_fen, may1.net_fen) == (10_000, 0, 10_000)
    assert (may20.sales, may20.gross_fen, may20.refunded_fen, may20.net_fen) == (0, 0, 4_000, -4_000)
    may = Period(dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    month = selectors.sales_totals(mall_group_id=world.group.pk, period=may)
    assert month.net_fen == 6_000


def test_rows_newer_than_the_settle_time_wait_for_the_next_run(world):
    now = dt.datetime.now(dt.UTC)
    _sale(world, mall=world.mall, merchant=world.merchant, at=now, total=500)
    assert services.rollup_refresh(now=now).slices == 0
    assert RollupMark.objects.get().last_sale_id == 0
    assert services.rollup_refresh(now=now + dt.timedelta(seconds=services.SETTLE_SECONDS + 5)).slices == 1


def test_sales_through_the_pipeline_roll_up_with_member_share(world):
    """Real sales and a real refund (the checkout pipeline), then the command: member share and baskets."""
    m = member(world)
    sale_commit(data=sale_in(world, member_id=m.pk, amounts=(30_000,), pos_id="A1"), actor=ACTOR)
    sale_commit(data=sale_in(world, amounts=(10_000,), pos_id="A2"), actor=ACTOR)
    sale_refund(merchant_id=world.merchant.pk, pos_sale_id="A1", pos_refund_id="RF1", lines=None)
    sale_commit(data=sale_in(world, member_id=m.pk, amounts=(20_000,), pos_id="A3"), actor=ACTOR)
    # settle: the job reads rows SETTLE_SECONDS old; call the service with a later clock, then the command
    services.rollup_refresh(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
    call_command("analytics_rebuild", "--days", "2", stdout=open("/dev/null", "w"))  # noqa: SIM115
    today = dt.datetime.now(ZoneInfo(world.mall.timezone)).date()
    t = selectors.sales_totals(mall_group_id=world.group.pk, period=Period(today, today))
    assert (t.sales, t.gross_fen, t.refunded_fen, t.net_fen) == (3, 60_000, 30_000, 30_000)
    assert (t.member_sales, t.member_net_fen, t.member_share_bp) == (2, 20_000, 6667)
    assert (t.member_basket_fen, t.guest_basket_fen) == (25_000, 10_000)
    overview = selectors.sales_overview(mall_group_id=world.group.pk, period=Period(today, today))
    assert overview.by_channel == [("pos", 3, 30_000)]
    assert overview.daily == [(today, 20_000, 10_000)]
    assert overview.top_merchants == [(world.merchant.pk, 3, 30_000)]
    assert overview.compare_totals is not None and overview.compare_totals.sales == 0


def test_a_full_rebuild_moves_the_mark_so_the_minute_job_does_not_read_the_history_again(world):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    for total in (100, 200, 300):
        s = _sale(world, mall=world.mall, merchant=world.merchant, at=old, total=total)
        Sale.objects.filter(pk=s.pk).update(created_at=old)
    services.rollup_rebuild()
    mark = RollupMark.objects.get()
    assert mark.last_sale_id == Sale.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert services.rollup_refresh().slices == 0  # nothing left to read
    day = old.astimezone(ZoneInfo(world.mall.timezone)).date()
    assert selectors.sales_totals(mall_group_id=world.group.pk, period=Period(day, day)).gross_fen == 600
