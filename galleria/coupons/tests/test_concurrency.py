"""Real concurrency on PostgreSQL: threads with their own connections claiming and redeeming at once."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from galleria.core.errors import ApplicationError
from galleria.coupons import selectors, services
from galleria.coupons.models import Coupon, CouponRedemption, CouponStockShard
from galleria.testing import run_parallel as parallel

from .helpers import basket, claim, new_member, template

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_parallel(n, fn):
    """Each thread's result, or the stable code of the error it raised."""

    def attempt(i):
        try:
            return fn(i)
        except ApplicationError as exc:
            return exc.code

    return parallel(n, attempt)


def test_concurrent_claims_never_oversell(world):
    t = template(world, total_quantity=7)
    members = [new_member(world) for _ in range(16)]

    outcomes = run_parallel(16, lambda i: claim(members[i], t, key=f"c{i}") and "ok")
    assert outcomes.count("ok") == 7
    assert set(outcomes) == {"ok", "coupon.sold_out"}
    assert Coupon.objects.filter(template=t).count() == 7
    assert selectors.stock_remaining(template_id=t.pk) == 0
    assert not CouponStockShard.objects.filter(remaining__lt=0).exists()


def test_concurrent_claims_by_one_member_respect_the_per_member_limit(world):
    t = template(world, per_member_limit=2, total_quantity=100)
    m = new_member(world)

    outcomes = run_parallel(10, lambda i: claim(m, t, key=f"m{i}") and "ok")
    assert outcomes.count("ok") == 2
    assert set(outcomes) == {"ok", "coupon.limit_reached"}
    assert Coupon.objects.filter(member=m).count() == 2
    assert selectors.stock_remaining(template_id=t.pk) == 98


def test_concurrent_replays_of_one_claim_key_issue_one_coupon(world):
    t = template(world, total_quantity=100)
    m = new_member(world)

    results = run_parallel(8, lambda i: claim(m, t, key="same"))
    assert len({r.coupon_id for r in results}) == 1
    assert Coupon.objects.filter(member=m).count() == 1
    assert selectors.stock_remaining(template_id=t.pk) == 99


def test_one_coupon_redeemed_by_two_tills_at_once_succeeds_once(world):
    m = new_member(world)
    c = claim(m, template(world))
    merchant = type(world.merchant).objects.select_related("mall").get(pk=world.merchant.pk)

    def till(i):
        with transaction.atomic():
            services.coupons_redeem_for_sale_in_tx(
                sale_id=9000 + i,
                merchant=merchant,
                member_id=m.pk,
                lines=basket(30000),
                coupon_ids=[c.coupon_id],
                occurred_at=timezone.now(),
            )
        return "ok"

    outcomes = run_parallel(6, till)
    assert outcomes.count("ok") == 1
    assert set(outcomes) == {"ok", "coupon.used"}
    assert CouponRedemption.objects.filter(coupon_id=c.coupon_id).count() == 1
