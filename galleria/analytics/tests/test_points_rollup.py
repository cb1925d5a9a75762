"""The daily points rollup equals the ledger: over all days it adds up to the group's system account balances
(issued, adjusted, redeemed, expired), and each day equals the legs of that local day."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest

from galleria.analytics import selectors, services
from galleria.analytics.models import PointsDay
from galleria.analytics.types import Period
from galleria.ledger.models import Entry
from galleria.ledger.selectors import system_balances
from galleria.ledger.selectors_analytics import POINTS_FLOWS
from galleria.points.services import points_adjust_request, points_expire
from galleria.sales.services import sale_commit, sale_refund
from galleria.sales.tests.helpers import ACTOR, member, sale_in

pytestmark = pytest.mark.django_db

LATER = dt.datetime(2035, 1, 1, tzinfo=dt.UTC)


def test_points_rollup_adds_up_to_the_ledger(world):
    m = member(world)
    sale_commit(data=sale_in(world, member_id=m.pk, amounts=(50_000,), pos_id="P1"), actor=ACTOR)
    sale_commit(data=sale_in(world, member_id=m.pk, amounts=(20_000,), pos_id="P2"), actor=ACTOR)
    sale_commit(data=sale_in(world, member_id=m.pk, amounts=(10_000,), points=300, pos_id="P3"), actor=ACTOR)
    sale_refund(merchant_id=world.merchant.pk, pos_sale_id="P2", pos_refund_id="RP2", lines=None)
    points_adjust_request(
        mall_group_id=world.group.pk, member_id=m.pk, points=-50, reason="补录更正", actor=ACTOR, tz_name=None
    )
    services.rollup_refresh(now=LATER)
    points_expire(mall_group_id=world.group.pk, today=dt.date(2034, 12, 31))  # every lot is past its expiry
    services.rollup_refresh(now=LATER)

    sums = system_balances(mall_group_id=world.group.pk, kinds=list(POINTS_FLOWS.values()))
    ledger = {flow: sum(v for (k, _m), v in sums.items() if k == kind) for flow, kind in POINTS_FLOWS.items()}
    everything = Period(dt.date(2000, 1, 1), dt.date(2035, 12, 31))
    t = selectors.points_totals(mall_group_id=world.group.pk, period=everything)
    assert (t.issued, t.adjusted, t.redeemed, t.expired) == (
        -ledger["issued"],
        -ledger["adjusted"],
        ledger["redeemed"],
        ledger["expired"],
    )
    assert t.issued > 0 and t.redeemed == 300 and t.adjusted == -50 and t.expired > 0
    assert t.breakage_bp == round(t.expired * 10000 / (t.expired + 300))

    # each day = that local day's legs of the system accounts
    tz = ZoneInfo(world.mall.timezone)
    direct: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    flow_of = {kind: flow for flow, kind in POINTS_FLOWS.items()}
    for kind, amount, at in Entry.objects.filter(
        account__mall_group=world.group, account__member__isnull=True, account__kind__in=list(flow_of)
    ).values_list("account__kind", "amount", "occurred_at"):
        sign = -1 if flow_of[kind] in ("issued", "adjusted") else 1
        direct[at.astimezone(tz).date()][flow_of[kind]] += sign * amount
    rolled = {
        row.day: {"issued": row.issued, "adjusted": row.adjusted, "redeemed": row.redeemed, "expired": row.expired}
        for row in PointsDay.objects.filter(mall_group=world.group)
    }
    assert rolled == {day: {f: flows.get(f, 0) for f in POINTS_FLOWS} for day, flows in direct.items()}
    # a rebuild writes the same rows
    services.rollup_rebuild(mall_group_id=world.group.pk, until=dt.date(2035, 1, 1))
    again = {row.day: (row.issued, row.adjusted, row.redeemed, row.expired) for row in PointsDay.objects.all()}
    assert again == {day: tuple(v.values()) for day, v in rolled.items()}
