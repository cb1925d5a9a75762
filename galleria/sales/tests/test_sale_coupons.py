"""Coupons and promotions at the till: applied inside the sale's transaction, paid amounts and points after the
discount, exact per-line figures, refunds that roll the discount back, spend-triggered coupons."""

import datetime as dt

import pytest
from django.utils import timezone

from galleria.core.errors import ApplicationError
from galleria.coupons.models import Coupon, CouponRedemption, Promotion
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.selectors import ledger_check
from galleria.points.selectors import points_balance
from galleria.sales import services
from galleria.sales.models import Sale, SaleLine
from galleria.sales.selectors import sale_quote
from galleria.sales.types import PaymentIn, RefundLineIn

from .helpers import ACTOR, member, sale_in

pytestmark = pytest.mark.django_db


def commit(data):
    return services.sale_commit(data=data, actor=ACTOR)


def with_coupons(data, *coupon_ids, pay):
    from dataclasses import replace

    return replace(data, coupon_ids=tuple(coupon_ids), payments=(PaymentIn("wechat", pay),))


def test_threshold_coupon_discounts_the_sale_and_points_are_earned_on_what_was_paid(world):
    m = member(world)
    coupon = claim(m, template(world))  # 满200减30
    data = with_coupons(sale_in(world, member_id=m.pk, amounts=(15000, 6000)), coupon.coupon_id, pay=18000)
    result = commit(data)
    assert result.discount_fen == 3000
    assert result.points_earned == 180  # on ¥180 paid, not ¥210
    sale = Sale.objects.get(pk=result.sale_id)
    assert (sale.total_fen, sale.discount_fen, sale.paid_fen) == (21000, 3000, 18000)
    lines = list(SaleLine.objects.filter(sale=sale).order_by("line_no"))
    # 3000 over 15000 : 6000 by largest remainder → 2143 / 857 → 2142.86 and 857.14 → 2143 + 857
    assert [ln.discount_fen for ln in lines] == [2143, 857]
    assert sum(ln.discount_fen for ln in lines) == 3000
    assert [ln.paid_fen for ln in lines] == [12857, 5143]
    assert Coupon.objects.get(pk=coupon.coupon_id).status == "used"
    redemption = CouponRedemption.objects.get(coupon_id=coupon.coupon_id)
    assert redemption.sale_id == sale.pk and redemption.mall_fen == 3000
    assert result.applied[0].redemption_id == redemption.pk
    assert ledger_check().ok


def test_paying_the_gross_amount_is_refused_with_the_amount_due(world):
    m = member(world)
    coupon = claim(m, template(world))
    data = with_coupons(sale_in(world, member_id=m.pk, amounts=(21000,)), coupon.coupon_id, pay=21000)
    with pytest.raises(ApplicationError) as exc:
        commit(data)
    assert exc.value.code == "sale.payments_mismatch"
    assert exc.value.extra["due_fen"] == 18000
    assert not Sale.objects.exists()
    assert Coupon.objects.get(pk=coupon.coupon_id).status == "available"  # rolled back with the sale


def test_a_threshold_not_met_by_half_a_yuan_rejects_the_sale_and_writes_nothing(world):
    m = member(world)
    coupon = claim(m, template(world))
    data = with_coupons(sale_in(world, member_id=m.pk, amounts=(19950,)), coupon.coupon_id, pay=16950)
    with pytest.raises(ApplicationError) as exc:
        commit(data)
    assert exc.value.code == "coupon.threshold_not_met"
    assert not Sale.objects.exists() and not CouponRedemption.objects.exists()
    assert points_balance(member_id=m.pk) == 0


def test_someone_elses_coupon_and_a_used_coupon_are_refused(world):
    owner, other = member(world), member(world, phone="13900001111")
    coupon = claim(owner, template(world))
    data = with_coupons(sale_in(world, member_id=other.pk, amounts=(30000,)), coupon.coupon_id, pay=27000)
    with pytest.raises(ApplicationError) as exc:
        commit(data)
    assert exc.value.code == "coupon.wrong_member"
    commit(with_coupons(sale_in(world, member_id=owner.pk, amounts=(30000,)), coupon.coupon_id, pay=27000))
    with pytest.raises(ApplicationError) as exc:
        commit(with_coupons(sale_in(world, member_id=owner.pk, amounts=(30000,)), coupon.coupon_id, pay=27000))
    assert exc.value.code == "coupon.used"


def test_a_mall_wide_promotion_applies_without_coupons_even_to_anonymous_shoppers(world):
    now = timezone.now()
    Promotion.objects.create(
        mall_group=world.group,
        name="满300减50",
        kind="spend_threshold",
        value_fen=5000,
        threshold_fen=30000,
        status="active",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=1),
        members_only=False,
    )
    result = commit(sale_in(world, amounts=(30000,), pay=25000))
    assert result.discount_fen == 5000 and result.member_id is None
    assert Sale.objects.get(pk=result.sale_id).discount_fen == 5000
    # below the threshold nothing applies and the full amount is due
    assert commit(sale_in(world, amounts=(29999,))).discount_fen == 0


def test_partial_refund_that_breaks_the_threshold_keeps_the_lost_discount_and_full_refund_returns_the_coupon(world):
    m = member(world)
    coupon = claim(m, template(world))  # 满200减30, deduct on threshold loss, restore on full refund
    data = with_coupons(sale_in(world, member_id=m.pk, amounts=(15000, 6000)), coupon.coupon_id, pay=18000)
    result = commit(data)
    # refund the ¥60 line: its discount share (857) goes with it; the kept ¥150 no longer meets 满200, so the
    # rest of the discount (2143) is kept from the money refunded
    first = services.sale_refund(
        merchant_id=world.merchant.pk,
        pos_sale_id=data.pos_sale_id,
        pos_refund_id="RF1",
        lines=[RefundLineIn(line_no=2, quantity=1)],
    )
    assert first.coupon_deduct_fen == 2143
    assert first.money_fen == 5143 - 2143
    second = services.sale_refund(
        merchant_id=world.merchant.pk, pos_sale_id=data.pos_sale_id, pos_refund_id="RF2", lines=None
    )
    assert second.coupon_deduct_fen == 0
    # the kept item cost the shopper its full ¥150 (¥128.57 paid + ¥21.43 kept back): refunding it returns that
    assert second.money_fen == 15000
    assert first.money_fen + second.money_fen == 18000  # everything bought, everything back
    assert second.coupons_restored == (coupon.coupon_id,)
    assert Coupon.objects.get(pk=coupon.coupon_id).status == "available"
    assert Sale.objects.get(pk=result.sale_id).status == "refunded"
    assert points_balance(member_id=m.pk) == 0
    assert ledger_check().ok


def test_spend_triggered_coupon_is_issued_by_the_sale_once(world):
    reward = template(
        world,
        name="¥50 back",
        kind="cash_off",
        value_fen=5000,
        threshold_fen=0,
        trigger="spend",
        trigger_spend_fen=30000,
        is_claimable=False,
    )
    m = member(world)
    small = commit(sale_in(world, member_id=m.pk, amounts=(29999,)))
    assert small.coupons_issued == ()
    big = commit(sale_in(world, member_id=m.pk, amounts=(30000,)))
    assert [c.template_id for c in big.coupons_issued] == [reward.pk]
    assert Coupon.objects.filter(member=m, template=reward).count() == 1


def test_quote_shows_the_coupons_the_best_combination_and_points_after_it(world):
    m = member(world)
    big = claim(m, template(world))  # 满200减30
    small = claim(m, template(world, name="¥10", kind="cash_off", value_fen=1000, threshold_fen=0))
    lines = sale_in(world, member_id=m.pk, amounts=(21000,)).lines
    q = sale_quote(merchant_id=world.merchant.pk, member_id=m.pk, lines=lines, payments=[])
    assert set(q.best_coupon_ids) == {big.coupon_id, small.coupon_id}
    assert q.discount_fen == 4000 and q.paid_fen == 17000 and q.points_to_earn == 170
    assert {c.coupon_id: c.discount_fen for c in q.coupons} == {big.coupon_id: 3000, small.coupon_id: 1000}
    # the till may choose: only the ¥10 coupon
    q2 = sale_quote(
        merchant_id=world.merchant.pk, member_id=m.pk, lines=lines, payments=[], coupon_ids=(small.coupon_id,)
    )
    assert q2.discount_fen == 1000 and q2.points_to_earn == 200
    assert not CouponRedemption.objects.exists()  # a quote writes nothing


def test_a_clawback_larger_than_the_refund_is_refused_not_lost(world):
    m = member(world)
    coupon = claim(m, template(world, name="满200减100", value_fen=10000, threshold_fen=20000))
    data = with_coupons(sale_in(world, member_id=m.pk, amounts=(19900, 100)), coupon.coupon_id, pay=10000)
    commit(data)
    # returning the ¥1 item (¥0.50 paid) would leave ¥199 that no longer earns ¥99.50 of discount
    with pytest.raises(ApplicationError) as exc:
        services.sale_refund(
            merchant_id=world.merchant.pk,
            pos_sale_id=data.pos_sale_id,
            pos_refund_id="RF1",
            lines=[RefundLineIn(line_no=2, quantity=1)],
        )
    assert exc.value.code == "refund.discount_exceeds_refund"
    assert exc.value.extra == {"clawback_fen": 9950, "money_fen": 50}
    # refunding both together is fine and returns everything
    whole = services.sale_refund(
        merchant_id=world.merchant.pk, pos_sale_id=data.pos_sale_id, pos_refund_id="RF2", lines=None
    )
    assert whole.money_fen == 10000 and whole.coupon_deduct_fen == 0
    assert ledger_check().ok


def test_refunding_the_purchase_voids_the_unused_reward_it_earned(world):
    template(world, name="¥50 back", kind="cash_off", value_fen=5000, threshold_fen=0, trigger="spend",
             trigger_spend_fen=30000, is_claimable=False)  # fmt: skip
    m = member(world)
    data = sale_in(world, member_id=m.pk, amounts=(20000, 15000))
    reward = commit(data).coupons_issued[0]
    # returning the ¥150 item keeps ¥200: still under ¥300, so the unused reward goes
    r = services.sale_refund(
        merchant_id=world.merchant.pk,
        pos_sale_id=data.pos_sale_id,
        pos_refund_id="RF1",
        lines=[RefundLineIn(line_no=2, quantity=1)],
    )
    assert r.coupons_revoked == (reward.coupon_id,)
    assert Coupon.objects.get(pk=reward.coupon_id).status == "void"
    # a reward kept by a big enough purchase stays
    data2 = sale_in(world, member_id=m.pk, amounts=(40000, 1000))
    reward2 = commit(data2).coupons_issued[0]
    r2 = services.sale_refund(
        merchant_id=world.merchant.pk,
        pos_sale_id=data2.pos_sale_id,
        pos_refund_id="RF1",
        lines=[RefundLineIn(line_no=2, quantity=1)],
    )
    assert r2.coupons_revoked == () and Coupon.objects.get(pk=reward2.coupon_id).status == "available"
