"""The cart entry of the pipeline (docs/design/online-mall.md §5.3–5.5): the worked example exactly (shop discounts,
the cross-shop coupon in parts, points by largest remainder, the rest per sub-order, earned points), the quote saying
the same, a checkout's own holds used at payment, all-or-nothing, and the cross-shop part rolled back in proportion
on a return."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from galleria.core.errors import ApplicationError
from galleria.coupons import services as coupon_services
from galleria.coupons.models import Coupon, CouponRedemption, Promotion
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind
from galleria.ledger.selectors import ledger_check
from galleria.merchants.models import Merchant, Store
from galleria.points.selectors import points_available, points_balance
from galleria.sales import services
from galleria.sales.models import Sale
from galleria.sales.selectors import cart_quote
from galleria.sales.types import CartIn, CartPartIn, LineIn, RefundLineIn

from .helpers import ACTOR, member


def _line(sku, qty, unit):
    return LineIn(sku=sku, name=sku, quantity=qty, unit_price_fen=unit, amount_fen=qty * unit)


class Shop:
    def __init__(self, merchant, store):
        self.merchant, self.store = merchant, store


def _world(world):
    """A 喜茶 (merchant coupon 满80减10), B 优衣库 (merchant promotion 满100减10), C 无印良品; a member with 9,000
    points, a cross-shop mall coupon 满200减30 and A's coupon."""
    now = timezone.now()
    c_merchant = Merchant.objects.create(mall=world.mall, name="无印良品", category="fashion")
    c_store = Store.objects.create(merchant=c_merchant, name="无印良品 星河广场店", floor="L3", unit_no="L3-001")
    a = Shop(world.merchant, world.store)
    b = Shop(world.other_merchant, Store.objects.get(merchant=world.other_merchant))
    c = Shop(c_merchant, c_store)
    Promotion.objects.create(
        mall_group=world.group,
        merchant=b.merchant,
        name="满100减10",
        kind="spend_threshold",
        value_fen=1000,
        threshold_fen=10000,
        status="active",
        funder="merchant",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=1),
        members_only=False,
    )
    m = member(world)
    funded = services.sale_commit(data=_fund(world, m.pk), actor=ACTOR)  # 900,000 fen at A earns 9,000 points
    assert funded.points_earned == 9000
    shop_coupon = claim(
        m,
        template(
            world, name="满80减10", value_fen=1000, threshold_fen=8000, merchant_id=a.merchant.pk, funder="merchant"
        ),
    ).coupon_id
    cart_coupon = claim(m, template(world, name="满200减30", value_fen=3000, threshold_fen=20000)).coupon_id
    return m, a, b, c, shop_coupon, cart_coupon


def _fund(world, member_id):
    from .helpers import sale_in

    return sale_in(world, member_id=member_id, amounts=(900000,))


def _cart(m, a, b, c, shop_coupon, cart_coupon, *, key="OC1", rest=19220, use_holds=False, at=None):
    return CartIn(
        member_id=m.pk,
        occurred_at=at or timezone.now() - dt.timedelta(seconds=1),
        parts=(
            CartPartIn(
                a.merchant.pk,
                a.store.pk,
                f"on:{key}-A",
                (_line("奶茶", 2, 2800), _line("冰沙", 1, 3200)),
                (shop_coupon,),
            ),
            CartPartIn(b.merchant.pk, b.store.pk, f"on:{key}-B", (_line("T恤", 1, 9900), _line("袜子", 3, 1990))),
            CartPartIn(c.merchant.pk, c.store.pk, f"on:{key}-C", (_line("香薰", 1, 4550),)),
        ),
        cart_key=key,
        cart_coupon_id=cart_coupon,
        points_to_use=5000,
        rest_method="wechat",
        rest_fen=rest,
        use_holds=use_holds,
    )


EXPECTED = [
    # merchant, total, discount, cross-shop part, points, value, rest, earned
    (8800, 1860, 860, 1400, 1400, 5540, 55),
    (15870, 2639, 1639, 2700, 2700, 10531, 105),
    (4550, 501, 501, 900, 900, 3149, 31),
]


def _figures(parts):
    return [
        (p.total_fen, p.discount_fen, p.cart_discount_fen, p.points, p.points_value_fen, p.rest_fen, p.points_to_earn)
        for p in parts
    ]


@pytest.mark.django_db
def test_the_worked_example_quote_and_commit(world):
    m, a, b, c, shop_coupon, cart_coupon = _world(world)
    data = _cart(m, a, b, c, shop_coupon, cart_coupon)
    quote = cart_quote(data=data)
    assert _figures(quote.parts) == EXPECTED
    assert (quote.goods_fen, quote.discount_fen, quote.rest_fen, quote.points_to_earn) == (29220, 5000, 19220, 191)
    assert quote.parts[0].line_discounts == (636 + 547, 364 + 313)
    assert quote.parts[1].line_discounts == (624 + 1022, 376 + 617)
    with transaction.atomic():
        result = services.cart_commit_in_tx(data=data, actor=ACTOR)
    assert result.parts == quote.parts
    sale_b = Sale.objects.get(pk=result.sales[1].sale_id)
    assert (sale_b.total_fen, sale_b.paid_fen, sale_b.points_value_fen, sale_b.discount_fen) == (
        15870,
        10531,
        2700,
        2639,
    )
    assert sale_b.channel == "online"
    parts = CouponRedemption.objects.filter(coupon_id=cart_coupon).order_by("merchant_id")
    assert sorted(r.discount_fen for r in parts) == [501, 860, 1639]
    assert {r.cart_key for r in parts} == {"OC1"}
    assert sorted(r.sale_id for r in parts) == sorted(s.sale_id for s in result.sales)
    assert Coupon.objects.get(pk=cart_coupon).status == "used"
    assert points_balance(member_id=m.pk) == 9000 - 5000 + 191
    assert ledger_check().ok


@pytest.mark.django_db
def test_paying_a_checkout_uses_its_own_holds(world):
    m, a, b, c, shop_coupon, cart_coupon = _world(world)
    now = timezone.now()
    account = Account.objects.get(member_id=m.pk, kind=AccountKind.MEMBER_POINTS)
    with transaction.atomic():
        ledger.hold_place_in_tx(account_id=account.pk, key="chk:OC9", amount=5000)
        coupon_services.coupons_hold_in_tx(
            coupons={shop_coupon: a.merchant.pk, cart_coupon: None},
            member_id=m.pk,
            mall_group_id=world.group.pk,
            key="OC9",
            until=now + dt.timedelta(minutes=45),
            at=now,
        )
    assert points_available(member_id=m.pk) == 4000
    data = _cart(m, a, b, c, shop_coupon, cart_coupon, key="OC9", use_holds=True)
    assert _figures(cart_quote(data=data).parts) == EXPECTED
    with pytest.raises(ApplicationError) as err:  # without the checkout's key its coupons are held
        cart_quote(data=_cart(m, a, b, c, shop_coupon, cart_coupon, key="OC8"))
    assert err.value.code == "coupon.held"
    with transaction.atomic():
        result = services.cart_commit_in_tx(data=data, actor=ACTOR)
    assert _figures(result.parts) == EXPECTED
    assert Account.objects.get(pk=account.pk).held == 0
    assert not Coupon.objects.exclude(hold_key="").exists()
    assert ledger_check().ok


@pytest.mark.django_db
def test_a_wrong_rest_or_a_failing_part_writes_nothing(world):
    m, a, b, c, shop_coupon, cart_coupon = _world(world)
    before = Sale.objects.count()
    with pytest.raises(ApplicationError) as err, transaction.atomic():
        services.cart_commit_in_tx(data=_cart(m, a, b, c, shop_coupon, cart_coupon, rest=19221), actor=ACTOR)
    assert err.value.code == "sale.payments_mismatch"
    with transaction.atomic():
        services.cart_commit_in_tx(data=_cart(m, a, b, c, shop_coupon, cart_coupon, key="OC1"), actor=ACTOR)
    with pytest.raises(ApplicationError) as err, transaction.atomic():  # the coupons are used now
        services.cart_commit_in_tx(data=_cart(m, a, b, c, shop_coupon, cart_coupon, key="OC2"), actor=ACTOR)
    assert err.value.code == "coupon.used"
    assert Sale.objects.count() == before + 3
    assert ledger_check().ok


@pytest.mark.django_db
def test_returning_part_of_a_sub_order_rolls_its_cross_shop_part_back_in_proportion(world):
    m, a, b, c, shop_coupon, cart_coupon = _world(world)
    with transaction.atomic():
        result = services.cart_commit_in_tx(data=_cart(m, a, b, c, shop_coupon, cart_coupon), actor=ACTOR)
    # §7: 1 of the 3 袜子 (line 2 of B's sale)
    refund = services.sale_refund(
        merchant_id=b.merchant.pk, pos_sale_id="on:OC1-B", pos_refund_id="rr:1", lines=[RefundLineIn(2, 1)]
    )
    assert refund.money_fen == 1320
    assert refund.points_returned == 339
    assert refund.points_clawed_back == 13
    assert refund.coupon_deduct_fen == 0
    part = CouponRedemption.objects.get(coupon_id=cart_coupon, sale_id=result.sales[1].sale_id)
    assert part.refunded_fen == 206
    # the rest of B and all of A and C: every part reversed, back to where the member was
    for merchant, number in ((b.merchant, "B"), (a.merchant, "A"), (c.merchant, "C")):
        services.sale_refund(
            merchant_id=merchant.pk, pos_sale_id=f"on:OC1-{number}", pos_refund_id="rr:all", lines=None
        )
    assert points_balance(member_id=m.pk) == 9000
    assert not CouponRedemption.objects.filter(coupon_id=cart_coupon, status="active").exists()
    assert ledger_check().ok
