"""The coupons app's fixed SQL of a spend-reward coupon (coupons/sql.py) against the ORM it replaced: the holding
row, the facts the per-member limits read, the coupon row itself; and the limits a spend reward keeps."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.db.models import Count, Q
from django.forms.models import model_to_dict
from django.utils import timezone

from galleria.core import timeutil
from galleria.coupons import services
from galleria.coupons import sql as coupons_sql
from galleria.coupons.models import Coupon, CouponHolding
from galleria.coupons.services._common import holding_lock, issue
from galleria.tiers.models import MemberTier, TierLevel

from .helpers import claim, new_member, template

pytestmark = pytest.mark.django_db
TZ = "Asia/Shanghai"


def test_the_holding_row_is_created_once(world):
    t = template(world)
    m = new_member(world)
    for _ in range(2):
        with transaction.atomic():
            holding_lock(template_id=t.pk, member_id=m.pk)
    assert CouponHolding.objects.filter(template=t, member=m).count() == 1


def test_the_issue_facts_are_the_orm_counts(world):
    t = template(world, validity_kind="relative", valid_days=30, valid_from=None, valid_until=None)
    m, other = new_member(world), new_member(world)
    yesterday = timezone.now() - dt.timedelta(days=1)
    with time_machine.travel(yesterday, tick=False):
        claim(m, t, key="a")
    claim(m, t, key="b")
    claim(other, t, key="c")
    day = timeutil.local_day_bounds(timeutil.local_date(timezone.now(), TZ), TZ)
    for who in (m, other, new_member(world)):
        for key in (f"claim:{m.pk}:a", "sale:404"):
            got = coupons_sql.issue_facts(template_id=t.pk, member_id=who.pk, source_key=key, day=day)
            orm = Coupon.objects.filter(template=t, member_id=who.pk).aggregate(
                total=Count("pk"), today=Count("pk", filter=Q(issued_at__gte=day[0], issued_at__lt=day[1]))
            )
            done = Coupon.objects.filter(template=t, source_key=key).exists()
            assert got == (done, orm["total"], orm["today"]), (who, key)


def test_a_coupon_row_is_what_the_orm_would_store(world):
    t = template(world, validity_kind="relative", valid_days=7, valid_from=None, valid_until=None)
    m = new_member(world)
    at = timezone.now()
    with transaction.atomic():
        fixed = issue(template=t, member_id=m.pk, source="spend", source_key="sale:1", at=at, tz_name=TZ)
    orm = Coupon.objects.create(
        mall_group_id=t.mall_group_id,
        template=t,
        member_id=m.pk,
        code="ORMREFERENCE0001",
        valid_from=fixed.valid_from,
        valid_until=fixed.valid_until,
        source="spend",
        source_key="sale:2",
        issued_at=at,
    )
    stored = Coupon.objects.get(pk=fixed.pk)
    skip = ["id", "code", "source_key"]
    assert model_to_dict(stored, exclude=skip) == model_to_dict(Coupon.objects.get(pk=orm.pk), exclude=skip)
    assert (stored.code, stored.source_key, stored.status) == (fixed.code, "sale:1", "available")
    assert fixed.pk == stored.pk and not fixed._state.adding


def _spend(world, member, sale_id: int):
    world.group.refresh_from_db(fields=["config_token"])  # templates are configuration: a trigger moves the token
    with transaction.atomic():
        return services.coupons_issue_for_sale_in_tx(
            mall_group_id=world.group.pk,
            member_id=member.pk,
            merchant=world.merchant,
            sale_id=sale_id,
            eligible_paid_fen=50_000,
            occurred_at=timezone.now(),
            token=world.group.config_token,
        )


def test_a_spend_reward_keeps_its_per_member_and_daily_limits(world):
    t = template(world, trigger="spend", trigger_spend_fen=10_000, is_claimable=False, per_member_daily_limit=2)
    m = new_member(world)
    assert [len(_spend(world, m, sale_id)) for sale_id in (1, 1, 2, 3)] == [1, 0, 1, 0]  # once per sale, 2 a day
    t.per_member_limit, t.per_member_daily_limit = 2, None
    t.save()
    assert _spend(world, new_member(world), 9) and Coupon.objects.filter(template=t).count() == 3


def test_a_spend_reward_for_a_tier_reads_the_members_tier(world):
    TierLevel.objects.create(mall_group=world.group, code="basic", name="basic", rank=0, threshold=0)
    gold = TierLevel.objects.create(mall_group=world.group, code="gold", name="gold", rank=2, threshold=10**6)
    template(world, trigger="spend", trigger_spend_fen=10_000, is_claimable=False, min_tier_rank=2)
    m, vip = new_member(world), new_member(world)
    MemberTier.objects.update_or_create(member=vip, defaults={"level": gold})
    assert _spend(world, m, 1) == [] and len(_spend(world, vip, 2)) == 1
