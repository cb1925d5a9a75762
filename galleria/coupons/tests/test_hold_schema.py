"""The coupon-hold schema (docs/design/online-mall.md §3.4): `Coupon.hold_key` / `hold_until`, and the redemption
constraint swap — one active redemption per coupon, except the parts of a cross-shop coupon (`cart_key` set), which
are one active part per (coupon, sale)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from galleria.coupons.models import Coupon, CouponRedemption

from .helpers import claim, new_member, template


def _redemption(world, coupon, *, sale_id, cart_key="", status="active"):
    return CouponRedemption.objects.create(
        mall_group=world.group,
        coupon=coupon,
        template=coupon.template,
        member=coupon.member,
        merchant=world.merchant,
        sale_id=sale_id,
        kind="cash_off",
        status=status,
        redeemed_at=timezone.now(),
        cart_key=cart_key,
    )


@pytest.fixture
def coupon(world):
    member = new_member(world)
    return Coupon.objects.select_related("template", "member").get(pk=claim(member, template(world)).coupon_id)


@pytest.mark.django_db
def test_a_coupon_starts_unheld_and_can_be_held(world, coupon):
    row = Coupon.objects.get(pk=coupon.pk)
    assert (row.hold_key, row.hold_until) == ("", None)
    until = timezone.now()
    Coupon.objects.filter(pk=coupon.pk).update(hold_key="OC2612070000000001", hold_until=until)
    assert Coupon.objects.filter(hold_key="OC2612070000000001").get().hold_until == until


@pytest.mark.django_db
def test_still_one_active_redemption_per_coupon_outside_a_cart(world, coupon):
    _redemption(world, coupon, sale_id=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        _redemption(world, coupon, sale_id=2)
    _redemption(world, coupon, sale_id=3, status="reversed")  # reversed ones do not count


@pytest.mark.django_db
def test_a_cross_shop_coupon_has_one_active_part_per_sale(world, coupon):
    _redemption(world, coupon, sale_id=11, cart_key="OC1")
    _redemption(world, coupon, sale_id=12, cart_key="OC1")
    _redemption(world, coupon, sale_id=13, cart_key="OC1")
    with pytest.raises(IntegrityError), transaction.atomic():
        _redemption(world, coupon, sale_id=12, cart_key="OC1")
    _redemption(world, coupon, sale_id=12, cart_key="OC1", status="reversed")
    assert CouponRedemption.objects.filter(coupon=coupon, status="active").count() == 3
