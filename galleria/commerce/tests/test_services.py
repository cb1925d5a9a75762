"""Points-mall services on the database: items and stock, the exchange through the checkout pipeline (points from the
soonest-expiring lots, the wallet, coupons, limits, tiers, the window, idempotency), cancellation through the
pipeline's refund (points back exactly, in a new lot; the ledger check passes), shipping and the desk's handover."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from galleria.audit.models import AuditEvent
from galleria.commerce import exceptions, selectors, services
from galleria.commerce.models import MemberQuota, Order, Sku
from galleria.commerce.types import ProductIn
from galleria.core import timeutil
from galleria.core.errors import ApplicationError, ValidationError
from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import template
from galleria.ledger.selectors import ledger_check
from galleria.points.models import LotMovement, PointsLot
from galleria.points.selectors import points_balance
from galleria.sales.models import Sale, SaleLine
from galleria.tiers.selectors import tier_level_options
from galleria.tiers.services import tier_ladder_ensure_default, tier_override
from galleria.wallet.selectors import wallet_balance

from .helpers import ACTOR, exchange, exchange_in, item, member, open_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(world):
    open_shop(world)
    return world


def books_ok(world) -> None:
    report = ledger_check(mall_group_id=world.group.pk)
    assert report.ok, report


# ---------------------------------------------------------------------------------------------- items


def test_an_item_is_saved_with_its_sku_and_audited(shop):
    product = item(shop, title="星河保温杯", price_points=2000, price_fen=990, initial_stock=5)
    sku = selectors.sku_of(product)
    assert (sku.code, sku.price_points, sku.price_fen, sku.stock, sku.sold) == (f"PM{product.pk}", 2000, 990, 5, 0)
    assert AuditEvent.objects.filter(action="points_mall.item_create", target_id=str(product.pk)).exists()
    services.product_save(
        mall_group_id=shop.group.pk,
        product_id=product.pk,
        data=ProductIn(title="星河保温杯 500ml", kind="gift", price_points=1500, status="on_sale", initial_stock=99),
        actor=ACTOR,
    )
    sku.refresh_from_db()
    assert (sku.price_points, sku.price_fen, sku.stock) == (1500, 0, 5)  # the stock moves by adjustments only


def test_a_points_price_the_group_cannot_take_is_refused_on_the_field(shop):
    with pytest.raises(exceptions.ProductInvalidError) as err:
        item(shop, price_points=150)  # the default rules take points in hundreds
    assert "price_points" in err.value.fields


def test_a_coupon_item_needs_a_coupon_of_the_group(shop):
    with pytest.raises(exceptions.ProductInvalidError) as err:
        item(shop, kind="coupon", coupon_template_id=999_999)
    assert "coupon_template" in err.value.fields


def test_stock_adjustments_never_go_below_zero(shop):
    product = item(shop, initial_stock=2)
    assert (
        services.stock_adjust(
            mall_group_id=shop.group.pk, product_id=product.pk, delta=3, reason="到货", actor=ACTOR
        ).stock
        == 5
    )
    with pytest.raises(ValidationError) as err:
        services.stock_adjust(mall_group_id=shop.group.pk, product_id=product.pk, delta=-6, reason="盘点", actor=ACTOR)
    assert err.value.code == "commerce.stock_invalid"
    assert Sku.objects.get(product=product).stock == 5
    with pytest.raises(ValidationError):
        services.stock_adjust(mall_group_id=shop.group.pk, product_id=product.pk, delta=-1, reason="", actor=ACTOR)


def test_an_item_of_another_group_is_not_found(shop):
    product = item(shop)
    with pytest.raises(exceptions.ProductNotFoundError):
        services.stock_adjust(
            mall_group_id=shop.other_group.pk, product_id=product.pk, delta=1, reason="x", actor=ACTOR
        )


# ---------------------------------------------------------------------------------------------- exchange


def test_a_points_exchange_is_a_points_mall_sale_that_earns_nothing(shop):
    product = item(shop, price_points=1000, initial_stock=3)
    m = member(shop, points=5000)
    order = exchange(shop, m, product, quantity=2)
    assert order.state == "paid" and order.fulfilment == "pickup"
    assert len(order.pickup_code) == 8 and order.total_points == 2000 and order.cash_fen == 0
    assert order.pay_method == "points"
    assert points_balance(member_id=m.pk) == 3000
    sale = Sale.objects.get(pk=order.sale_id)
    assert (sale.channel, sale.points_used, sale.points_earned, sale.store_id) == (
        "points_mall",
        2000,
        0,
        order.store_id,
    )
    line = SaleLine.objects.get(sale=sale)
    assert (line.quantity, line.unit_price_fen, line.amount_fen) == (2, 1000, 2000)  # 1,000 points = ¥10 a unit
    sku = Sku.objects.get(product=product)
    assert (sku.stock, sku.sold) == (1, 2)
    assert AuditEvent.objects.filter(action="points_mall.exchange", target_id=str(order.pk)).exists()
    books_ok(shop)


def test_points_plus_cash_from_the_wallet(shop):
    product = item(shop, price_points=800, price_fen=1990)
    m = member(shop, points=1000, wallet_fen=5000)
    order = exchange(shop, m, product)
    assert (order.total_points, order.cash_fen, order.wallet_fen, order.pay_method) == (800, 1990, 1990, "wallet")
    assert points_balance(member_id=m.pk) == 200
    assert wallet_balance(member_id=m.pk).principal_fen == 5000 - 1990
    books_ok(shop)


def test_points_are_spent_from_the_soonest_expiring_lot_first(shop):
    m = member(shop, points=1000)
    member_points_later = PointsLot.objects.get(member=m)
    PointsLot.objects.filter(pk=member_points_later.pk).update(
        expires_on=timeutil.local_date(timezone.now(), None) + dt.timedelta(days=300)
    )
    from galleria.testing_points import give_points

    give_points(shop, m, 1000)
    sooner = PointsLot.objects.filter(member=m).exclude(pk=member_points_later.pk).get()
    PointsLot.objects.filter(pk=sooner.pk).update(
        expires_on=timeutil.local_date(timezone.now(), None) + dt.timedelta(days=10)
    )
    order = exchange(shop, m, item(shop, price_points=1500))
    spent = dict(LotMovement.objects.filter(points__lt=0, lot__member=m).values_list("lot_id", "points"))
    assert spent == {sooner.pk: -1000, member_points_later.pk: -500}
    # cancelled: the 1,500 points come back as one new lot that expires with the latest lot the spend drew from
    services.order_cancel(order_id=order.pk, mall_group_id=shop.group.pk, actor=ACTOR)
    back = PointsLot.objects.filter(member=m).order_by("-pk").first()
    assert (back.points, back.expires_on) == (1500, PointsLot.objects.get(pk=member_points_later.pk).expires_on)
    assert points_balance(member_id=m.pk) == 2000
    books_ok(shop)


def test_not_enough_points_writes_nothing(shop):
    product = item(shop, price_points=1000)
    m = member(shop, points=900)
    with pytest.raises(ApplicationError) as err:
        exchange(shop, m, product)
    assert err.value.code == "points.insufficient"
    assert not Order.objects.exists() and Sku.objects.get(product=product).stock == 10


def test_not_enough_wallet_money_writes_nothing(shop):
    product = item(shop, price_points=100, price_fen=5000)
    m = member(shop, points=1000, wallet_fen=1000)
    with pytest.raises(ApplicationError):
        exchange(shop, m, product)
    assert not Order.objects.exists() and points_balance(member_id=m.pk) == 1000


def test_the_last_unit_then_out_of_stock(shop):
    product = item(shop, initial_stock=1)
    first, second = member(shop, points=5000), member(shop, points=5000)
    exchange(shop, first, product)
    with pytest.raises(exceptions.OutOfStockError):
        exchange(shop, second, product)
    assert points_balance(member_id=second.pk) == 5000 and Order.objects.count() == 1


def test_limits_per_member_and_per_mall_day(shop):
    product = item(shop, per_member_limit=3, per_day_limit=2)
    m = member(shop, points=10_000)
    # 23:30 in Shanghai, then 00:10 the next mall day
    with time_machine.travel(dt.datetime(2026, 6, 1, 23, 30, tzinfo=timeutil.zone("Asia/Shanghai")), tick=False):
        exchange(shop, m, product, quantity=2)
        with pytest.raises(exceptions.DailyLimitReachedError):
            exchange(shop, m, product)
    with time_machine.travel(dt.datetime(2026, 6, 2, 0, 10, tzinfo=timeutil.zone("Asia/Shanghai")), tick=False):
        exchange(shop, m, product)
        with pytest.raises(exceptions.LimitReachedError):
            exchange(shop, m, product)
    assert MemberQuota.objects.filter(product=product, member=m).count() == 1


def test_a_cancelled_order_no_longer_counts_toward_the_limit(shop):
    product = item(shop, per_member_limit=1)
    m = member(shop, points=5000)
    order = exchange(shop, m, product)
    services.order_cancel(order_id=order.pk, member_id=m.pk, actor=ACTOR)
    exchange(shop, m, product)


def test_tier_only_items(shop):
    tier_ladder_ensure_default(mall_group_id=shop.group.pk)
    gold = tier_level_options(mall_group_id=shop.group.pk).order_by("-rank").first()
    product = item(shop, min_tier_id=gold.pk)
    m = member(shop, points=5000)
    with pytest.raises(exceptions.TierRequiredError):
        exchange(shop, m, product)
    tier_override(
        member_id=m.pk, level_code=gold.code, until=dt.date.today() + dt.timedelta(days=30), reason="t", actor=ACTOR
    )
    exchange(shop, m, product)


def test_the_sale_window_and_a_closed_shop(shop):
    now = timezone.now()
    later = item(shop, on_sale_from=now + dt.timedelta(hours=1))
    m = member(shop, points=5000)
    with pytest.raises(exceptions.NotOnSaleError):
        exchange(shop, m, later)
    draft = item(shop, status="draft")
    with pytest.raises(exceptions.NotOnSaleError):
        exchange(shop, m, draft)
    services.settings_save(
        mall_group_id=shop.group.pk, store_id=None, pickup_place="", pickup_hours="", is_open=True, actor=ACTOR
    )
    with pytest.raises(exceptions.ShopClosedError):
        exchange(shop, m, item(shop))


def test_a_changed_price_is_never_charged_silently(shop):
    product = item(shop, price_points=1000)
    m = member(shop, points=5000)
    with pytest.raises(exceptions.PriceChangedError):
        exchange(shop, m, product, unit_points=900)


def test_delivery_needs_an_address_and_a_gift_that_ships(shop):
    pickup_only = item(shop)
    m = member(shop, points=5000)
    with pytest.raises(exceptions.FulfilmentInvalidError):
        exchange(shop, m, pickup_only, fulfilment="delivery")
    ships = item(shop, allow_delivery=True)
    order = exchange(shop, m, ships, fulfilment="delivery")
    assert (order.pickup_code, order.ship_name) == ("", "张三")
    with pytest.raises(exceptions.AddressRequiredError):
        services.points_mall_exchange(
            dataclasses.replace(exchange_in(shop, m, ships, fulfilment="delivery"), address=None),
            key="no-address",
            actor=ACTOR,
        )


def test_the_same_key_makes_one_order_and_another_item_with_it_is_a_conflict(shop):
    product, other = item(shop), item(shop, title="帆布袋")
    m = member(shop, points=5000)
    first = exchange(shop, m, product, key="tap")
    again = exchange(shop, m, product, key="tap")
    assert again.pk == first.pk and points_balance(member_id=m.pk) == 4000
    with pytest.raises(exceptions.IdempotencyConflictError):
        exchange(shop, m, other, key="tap")


# ---------------------------------------------------------------------------------------------- coupons


def test_a_coupon_item_issues_coupons_and_cancelling_voids_them(shop):
    tpl = template(shop)
    product = item(shop, kind="coupon", coupon_template_id=tpl.pk, price_points=500)
    m = member(shop, points=2000)
    order = exchange(shop, m, product, fulfilment="coupon", quantity=2)
    assert order.state == "completed" and order.pickup_code == ""
    coupons = list(Coupon.objects.filter(member=m).order_by("pk"))
    assert [c.source for c in coupons] == ["exchange", "exchange"]
    assert sorted(order.lines.get().coupon_ids) == [c.pk for c in coupons]
    services.order_cancel(order_id=order.pk, member_id=m.pk, actor=ACTOR)
    assert set(Coupon.objects.filter(member=m).values_list("status", flat=True)) == {"void"}
    assert points_balance(member_id=m.pk) == 2000
    books_ok(shop)


def test_a_used_coupon_stops_the_cancellation_and_nothing_changes(shop):
    tpl = template(shop)
    product = item(shop, kind="coupon", coupon_template_id=tpl.pk, price_points=500)
    m = member(shop, points=2000)
    order = exchange(shop, m, product, fulfilment="coupon")
    Coupon.objects.filter(member=m).update(status="used", used_at=timezone.now())
    with pytest.raises(exceptions.CouponUsedError):
        services.order_cancel(order_id=order.pk, mall_group_id=shop.group.pk, actor=ACTOR)
    order.refresh_from_db()
    assert order.state == "completed" and points_balance(member_id=m.pk) == 1500


# ---------------------------------------------------------------------------------------------- after the exchange


def test_cancelling_returns_points_wallet_and_stock_exactly_once(shop):
    product = item(shop, price_points=1000, price_fen=500, initial_stock=4)
    m = member(shop, points=3000, wallet_fen=2000)
    order = exchange(shop, m, product, quantity=2)
    assert points_balance(member_id=m.pk) == 1000 and wallet_balance(member_id=m.pk).principal_fen == 1000
    cancelled = services.order_cancel(order_id=order.pk, member_id=m.pk, reason="不想要了", actor=ACTOR)
    assert cancelled.state == "cancelled" and cancelled.points_returned == 2000 and cancelled.refund_id
    assert points_balance(member_id=m.pk) == 3000 and wallet_balance(member_id=m.pk).principal_fen == 2000
    sku = Sku.objects.get(product=product)
    assert (sku.stock, sku.sold) == (4, 0)
    again = services.order_cancel(order_id=order.pk, mall_group_id=shop.group.pk, actor=ACTOR)
    assert again.refund_id == cancelled.refund_id and points_balance(member_id=m.pk) == 3000
    books_ok(shop)


def test_a_member_cannot_cancel_what_the_item_forbids_but_staff_can(shop):
    product = item(shop, member_cancellable=False)
    m = member(shop, points=2000)
    order = exchange(shop, m, product)
    with pytest.raises(exceptions.CancelNotAllowedError):
        services.order_cancel(order_id=order.pk, member_id=m.pk, actor=ACTOR)
    services.order_cancel(order_id=order.pk, mall_group_id=shop.group.pk, actor=ACTOR)


def test_another_members_order_is_not_found(shop):
    product = item(shop)
    m, other = member(shop, points=2000), member(shop)
    order = exchange(shop, m, product)
    with pytest.raises(exceptions.OrderNotFoundError):
        services.order_cancel(order_id=order.pk, member_id=other.pk, actor=ACTOR)
    with pytest.raises(exceptions.OrderNotFoundError):
        services.order_cancel(order_id=order.pk, mall_group_id=shop.other_group.pk, actor=ACTOR)


def test_the_pickup_code_works_once(shop):
    product = item(shop)
    m = member(shop, points=2000)
    order = exchange(shop, m, product)
    with pytest.raises(exceptions.PickupCodeInvalidError):
        wrong = "00000000" if order.pickup_code != "00000000" else "11111111"
        services.order_hand_over(mall_group_id=shop.group.pk, code=wrong, order_id=order.pk, actor=ACTOR)
    done = services.order_hand_over(
        mall_group_id=shop.group.pk,
        code=f"{order.pickup_code[:4]} {order.pickup_code[4:]}",
        order_id=order.pk,
        actor=ACTOR,
    )
    assert done.state == "completed" and done.picked_up_at is not None
    with pytest.raises(exceptions.PickupCodeUsedError):
        services.order_hand_over(mall_group_id=shop.group.pk, code=order.pickup_code, order_id=order.pk, actor=ACTOR)
    with pytest.raises(exceptions.CancelNotAllowedError):  # picked up: too late to cancel
        services.order_cancel(order_id=order.pk, mall_group_id=shop.group.pk, actor=ACTOR)
    with pytest.raises(exceptions.PickupCodeInvalidError):  # another group's desk does not know the code
        services.order_hand_over(
            mall_group_id=shop.other_group.pk, code=order.pickup_code, order_id=order.pk, actor=ACTOR
        )


def test_a_cancelled_orders_code_hands_nothing_over(shop):
    m = member(shop, points=2000)
    order = exchange(shop, m, item(shop))
    services.order_cancel(order_id=order.pk, member_id=m.pk, actor=ACTOR)
    with pytest.raises(exceptions.OrderStateError):
        services.order_hand_over(mall_group_id=shop.group.pk, code=order.pickup_code, order_id=order.pk, actor=ACTOR)


def test_shipping_a_delivery(shop):
    m = member(shop, points=5000)
    order = exchange(shop, m, item(shop, allow_delivery=True, allow_pickup=False), fulfilment="delivery")
    with pytest.raises(ValidationError):
        services.order_ship(mall_group_id=shop.group.pk, order_id=order.pk, carrier="", tracking_no="", actor=ACTOR)
    shipped = services.order_ship(
        mall_group_id=shop.group.pk, order_id=order.pk, carrier="顺丰", tracking_no="SF1234567890", actor=ACTOR
    )
    assert (shipped.state, shipped.carrier, shipped.tracking_no) == ("shipped", "顺丰", "SF1234567890")
    with pytest.raises(exceptions.CancelNotAllowedError):
        services.order_cancel(order_id=order.pk, member_id=m.pk, actor=ACTOR)
    pickup = exchange(shop, m, item(shop))
    with pytest.raises(exceptions.OrderStateError):
        services.order_ship(
            mall_group_id=shop.group.pk, order_id=pickup.pk, carrier="顺丰", tracking_no="1", actor=ACTOR
        )


def test_erasure_removes_the_delivery_address_and_keeps_the_order(shop):
    from galleria.commerce.services_refunds import member_erase_in_tx

    m = member(shop, points=5000)
    order = exchange(shop, m, item(shop, allow_delivery=True, allow_pickup=False), fulfilment="delivery")
    assert order.ship_name and order.ship_address
    assert member_erase_in_tx(member_id=m.pk, mall_group_id=shop.group.pk, phone="", values=[]) == 1
    order.refresh_from_db()
    assert (order.ship_name, order.ship_phone, order.ship_address) == ("", "", "")
    assert order.state == "paid" and order.total_points > 0  # what was exchanged stays
    assert member_erase_in_tx(member_id=m.pk, mall_group_id=shop.group.pk, phone="", values=[]) == 0


def test_statistics(shop):
    a, b = item(shop, title="杯子", price_points=1000), item(shop, title="帆布袋", price_points=500, price_fen=100)
    m = member(shop, points=10_000, wallet_fen=1000)
    exchange(shop, m, a, quantity=2)
    exchange(shop, m, b)
    cancelled = exchange(shop, m, b)
    services.order_cancel(order_id=cancelled.pk, member_id=m.pk, actor=ACTOR)
    today = timeutil.local_date(timezone.now(), "Asia/Shanghai")
    stats = selectors.stats(mall_group_id=shop.group.pk, first=today - dt.timedelta(days=6), last=today)
    assert (stats.orders, stats.cancelled, stats.points_spent, stats.cash_fen, stats.items, stats.members) == (
        2,
        1,
        2500,
        100,
        3,
        1,
    )
    assert stats.by_day[-1] == (today, 2, 2500, 100) and len(stats.by_day) == 7
    assert [(t[1], t[2], t[3]) for t in stats.top_items] == [("杯子", 2, 2000), ("帆布袋", 1, 500)]


def test_availability_explains_why_not(shop):
    product = item(shop, per_member_limit=1, initial_stock=2)
    m = member(shop, points=5000)
    sku = selectors.sku_of(product)
    now = timezone.now()
    first = selectors.availability(
        product=product, sku=sku, member_id=m.pk, member_rank=0, at=now, tz_name="Asia/Shanghai"
    )
    assert (first.problem, first.max_quantity, first.stock) == ("", 1, 2)
    exchange(shop, m, product)
    product = selectors.product_get(mall_group_id=shop.group.pk, product_id=product.pk)
    after = selectors.availability(
        product=product, sku=selectors.sku_of(product), member_id=m.pk, member_rank=0, at=now, tz_name="Asia/Shanghai"
    )
    assert (after.problem, after.bought_total, after.max_quantity) == ("commerce.limit_reached", 1, 0)
