"""Joins per mall-local day and channel equal the members' own rows, back-dated joins (imports) included, and a
join committed under a lower id after a higher one is still counted (the job re-reads the last ids)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from galleria.analytics import selectors, services
from galleria.analytics.models import RollupMark
from galleria.analytics.types import Period
from galleria.members.models import Member
from galleria.sales.tests.helpers import member

pytestmark = pytest.mark.django_db

LATER = dt.datetime(2035, 1, 1, tzinfo=dt.UTC)


def test_joins_per_day_equal_the_members(world):
    people = [member(world, phone=f"1370000{i:04d}") for i in range(6)]
    tz = ZoneInfo(world.mall.timezone)
    # two joins back-dated as an import writes them, one across the local midnight
    Member.objects.filter(pk=people[0].pk).update(created_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=tz))
    Member.objects.filter(pk=people[1].pk).update(
        created_at=dt.datetime(2026, 3, 1, 16, 10, tzinfo=dt.UTC), join_channel="import"
    )
    services.rollup_refresh(now=LATER)
    direct = Counter(m.created_at.astimezone(tz).date() for m in Member.objects.filter(mall_group=world.group))
    for day, n in direct.items():
        total, _by_channel = selectors.joins(mall_group_id=world.group.pk, period=Period(day, day))
        assert total == n, day
    march = selectors.joins_daily(mall_group_id=world.group.pk, period=Period(dt.date(2026, 3, 1), dt.date(2026, 3, 2)))
    assert march == [(dt.date(2026, 3, 1), 1), (dt.date(2026, 3, 2), 1)]  # 16:10 UTC = 00:10 on 2 March in Shanghai
    _total, channels = selectors.joins(
        mall_group_id=world.group.pk, period=Period(dt.date(2026, 3, 2), dt.date(2026, 3, 2))
    )
    assert channels == [("import", 1)]


def test_a_join_committed_late_under_a_lower_id_is_counted(world):
    first = member(world, phone="13700009991")
    second = member(world, phone="13700009992")
    services.rollup_refresh(now=LATER)
    # as if `first` had committed only now: its row was not there when the job read up to `second`
    RollupMark.objects.update(last_member_id=second.pk)
    Member.objects.filter(pk=first.pk).update(created_at=dt.datetime(2026, 4, 4, 12, tzinfo=dt.UTC))
    services.rollup_refresh(now=LATER)
    total, _c = selectors.joins(mall_group_id=world.group.pk, period=Period(dt.date(2026, 4, 4), dt.date(2026, 4, 4)))
    assert total == 1
