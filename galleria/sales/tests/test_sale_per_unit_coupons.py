"""Per-unit coupons and promotions through the real sale and refund: ¥X off each item (每件减) and a special
price per item (特价). Refunding one unit returns that unit's price less exactly its own discount."""

import datetime as dt

import pytest
from django.utils import timezone

from galleria.coupons.models import Coupon, CouponRedemption, Promotion, RedemptionStatus
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.selectors import ledger_check
from galleria.sales import services
from galleria.sales.models import Sale, SaleLine
from galleria.sales.selectors import sale_quote
from galleria.sales.types import LineIn, PaymentIn, RefundLineIn, SaleIn

from .helpers import ACTOR, member

pytestmark = pytest.mark.django_db


def basket(world, *, member_id, lines, pay, coupon_ids=(), pos_id):
    return SaleIn(
        merchant_id=world.merchant.pk,
        store_id=world.store.pk,
        terminal_id=None,
        pos_sale_id=pos_id,
        occurred_at=timezone.now() - dt.timedelta(seconds=1),
        lines=tuple(
            LineIn(sku=sku, name=sku, quantity=qty, unit_price_fen=unit, amount_fen=unit * qty, category="")
            for sku, qty, unit in lines
        ),
        payments=(PaymentIn("wechat", pay),),
        member_id=member_id,
        coupon_ids=tuple(coupon_ids),
    )


def refund(world, pos_sale_id, refund_id, lines):
    return services.sale_refund(
        merchant_id=world.merchant.pk,
        pos_sale_id=pos_sale_id,
        pos_refund_id=refund_id,
        lines=None if lines is None else [RefundLineIn(line_no=no, quantity=q) for no, q in lines],
    )


def test_five_yuan_off_each_shirt_and_refunding_one_shirt_returns_its_price_less_five(world):
    m = member(world)
    coupon = claim(
        m,
        template(
            world,
            name="T恤每件减5元",
            kind="per_item",
            value_fen=500,
            threshold_fen=0,
            scope_kind="skus",
            scope_skus=["TEE"],
        ),
    )
    lines = [("TEE", 3, 9900), ("CAP", 1, 5000)]
    quote = sale_quote(
        merchant_id=world.merchant.pk,
        member_id=m.pk,
        lines=basket(world, member_id=m.pk, lines=lines, pay=1, pos_id="Q").lines,
        payments=[],
        coupon_ids=[coupon.coupon_id],
    )
    assert quote.discount_fen == 1500
    data = basket(
        world, member_id=m.pk, lines=lines, pay=29700 + 5000 - 1500, coupon_ids=[coupon.coupon_id], pos_id="S1"
    )
    result = services.sale_commit(data=data, actor=ACTOR)
    assert result.discount_fen == quote.discount_fen == 1500
    sale_lines = list(SaleLine.objects.filter(sale_id=result.sale_id).order_by("line_no"))
    assert [(ln.discount_fen, ln.paid_fen) for ln in sale_lines] == [(1500, 28200), (0, 5000)]
    redemption = CouponRedemption.objects.get(coupon_id=coupon.coupon_id)
    assert redemption.kind == "per_item" and redemption.discount_fen == 1500
    assert redemption.explanation["per_unit"] == [{"line_no": 1, "units": 3, "unit_discount_fen": 500}]

    one = refund(world, "S1", "RF1", [(1, 1)])
    assert (one.amount_fen, one.money_fen, one.coupon_deduct_fen) == (9900, 9400, 0)
    redemption.refresh_from_db()
    assert redemption.refunded_fen == 500 and redemption.status == RedemptionStatus.ACTIVE
    assert Coupon.objects.get(pk=coupon.coupon_id).status == "used"

    rest = refund(world, "S1", "RF2", [(1, 2), (2, 1)])
    assert rest.money_fen == 2 * 9400 + 5000
    assert one.money_fen + rest.money_fen == data.payments[0].amount_fen
    redemption.refresh_from_db()
    assert redemption.refunded_fen == 1500 and redemption.status == RedemptionStatus.REVERSED
    assert rest.coupons_restored == (coupon.coupon_id,)
    assert Sale.objects.get(pk=result.sale_id).status == "refunded"
    assert ledger_check().ok


def test_special_price_promotion_for_up_to_two_units_and_unit_by_unit_refunds(world):
    now = timezone.now()
    promo = Promotion.objects.create(
        mall_group=world.group,
        name="爆款特价 ¥79",
        kind="unit_price",
        unit_price_fen=7900,
        max_units=2,
        scope_kind="skus",
        scope_skus=["HOT"],
        status="active",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=1),
        members_only=False,
    )
    # three ¥99 units and a ¥59 one (already below the special price): two units at ¥79, the rest at full price
    lines = [("HOT", 3, 9900), ("HOT", 1, 5900)]
    data = basket(world, member_id=None, lines=lines, pay=29700 + 5900 - 4000, pos_id="S2")
    result = services.sale_commit(data=data, actor=ACTOR)
    assert result.discount_fen == 4000
    assert [(a.promotion_id, a.discount_fen) for a in result.applied] == [(promo.pk, 4000)]
    paid = [ln.paid_fen for ln in SaleLine.objects.filter(sale_id=result.sale_id).order_by("line_no")]
    assert paid == [25700, 5900]
    # the line holds 2 discounted units and 1 full-price one: each refunded unit takes back a third of the
    # line's discount (in proportion, like every kind); the whole line adds up exactly
    backs = [refund(world, "S2", f"RF{i}", [(1, 1)]).money_fen for i in range(3)]
    assert sum(backs) == 25700
    assert all(abs(b - 25700 / 3) < 1 for b in backs)
    assert refund(world, "S2", "RF9", [(2, 1)]).money_fen == 5900
    redemption = CouponRedemption.objects.get(promotion=promo, sale_id=result.sale_id)
    assert redemption.refunded_fen == 4000 and redemption.status == RedemptionStatus.REVERSED
    assert ledger_check().ok
