"""Coupon holds (docs/design/online-mall.md §5.1): a pending online checkout reserves coupons under its number; every
other use is `coupon.held`, the checkout's own redemption clears the hold, a release is one UPDATE by key, and the
expiry job leaves a held coupon alone until its hold ends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from galleria.coupons import selectors, services
from galleria.coupons.exceptions import CouponHeldError, CouponNotApplicableError, CouponUsedError
from galleria.coupons.models import Coupon, CouponStatus

from .helpers import basket, new_member, redeem, template
from .helpers import claim as _claim


def claim(m, tmpl) -> Coupon:
    return Coupon.objects.get(pk=_claim(m, tmpl).coupon_id)


def _hold(world, m, coupons, key="OC1", until=None, at=None):
    now = timezone.now()
    with transaction.atomic():
        return services.coupons_hold_in_tx(
            coupons=coupons,
            member_id=m.pk,
            mall_group_id=world.group.pk,
            key=key,
            until=until or now + dt.timedelta(minutes=45),
            at=at or now,
        )


@pytest.mark.django_db
def test_a_held_coupon_is_refused_elsewhere_and_redeemed_by_its_checkout(world):
    m = new_member(world)
    c = claim(m, template(world))
    assert _hold(world, m, {c.pk: world.merchant.pk}) == 1
    assert _hold(world, m, {c.pk: world.merchant.pk}) == 1  # the same key again: a no-op
    with pytest.raises(CouponHeldError):
        redeem(world, m, [c.pk], basket(25000))
    with pytest.raises(CouponHeldError):
        _hold(world, m, {c.pk: None}, key="OC2")
    quote = selectors.coupon_quote(member_id=m.pk, merchant=world.merchant, lines=basket(25000))
    assert [(o.coupon_id, o.reason_code) for o in quote.coupons] == [(c.pk, "coupon.held")]
    result = redeem(world, m, [c.pk], basket(25000), channel="online", hold_key="OC1")
    assert result.total_discount_fen == 3000
    c.refresh_from_db()
    assert (c.status, c.hold_key, c.hold_until) == (CouponStatus.USED, "", None)


@pytest.mark.django_db
def test_release_frees_the_coupons_once(world):
    m = new_member(world)
    c1, c2 = claim(m, template(world)), claim(m, template(world, name="second"))
    _hold(world, m, {c1.pk: world.merchant.pk, c2.pk: None})
    with transaction.atomic():
        assert services.coupons_release_hold_in_tx(key="OC1") == 2
        assert services.coupons_release_hold_in_tx(key="OC1") == 0
    assert redeem(world, m, [c1.pk], basket(25000)).total_discount_fen == 3000


@pytest.mark.django_db
def test_a_hold_past_its_end_no_longer_counts(world):
    m = new_member(world)
    c = claim(m, template(world))
    now = timezone.now()
    _hold(world, m, {c.pk: world.merchant.pk}, until=now - dt.timedelta(minutes=1), at=now - dt.timedelta(minutes=20))
    assert redeem(world, m, [c.pk], basket(25000)).total_discount_fen == 3000


@pytest.mark.django_db
def test_holding_revalidates_for_the_online_channel(world):
    m = new_member(world)
    offline = claim(m, template(world, channel="offline"))
    with pytest.raises(CouponNotApplicableError):
        _hold(world, m, {offline.pk: world.merchant.pk})
    used = claim(m, template(world, name="used"))
    redeem(world, m, [used.pk], basket(25000))
    with pytest.raises(CouponUsedError):
        _hold(world, m, {used.pk: world.merchant.pk})
    assert not Coupon.objects.exclude(hold_key="").exists()


@pytest.mark.django_db
def test_expiry_skips_a_coupon_while_a_checkout_holds_it(world):
    m = new_member(world)
    c = claim(m, template(world))
    now = timezone.now()
    _hold(world, m, {c.pk: world.merchant.pk}, until=now + dt.timedelta(days=40))
    later = c.valid_until + dt.timedelta(minutes=1)
    assert services.coupon_expire(now=later) == 0
    c.refresh_from_db()
    assert c.status == CouponStatus.AVAILABLE
    assert services.coupon_expire(now=now + dt.timedelta(days=41)) == 1
