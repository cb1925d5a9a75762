"""The online mall's tables hold what must always be true (docs/design/online-mall.md §3), whatever writes them:
these tests write rows directly, past the services, and the database refuses what breaks a rule. A stock row is
never oversold (`0 <= allocated <= on_hand`), a checkout's and an online order's money adds up, a line is never
refunded beyond its quantity, a review is rated 1–5, and so on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from galleria.commerce.models import (
    CartItem,
    Category,
    Checkout,
    OnlineSettings,
    Order,
    OrderLine,
    Product,
    Review,
    Shelf,
    ShipmentEvent,
    Sku,
    SkuStock,
)
from galleria.commerce.rules_catalog import MAX_STOCK, SETTINGS_BOUNDS

from .helpers import member

pytestmark = pytest.mark.django_db


def refused(**_: object):
    return pytest.raises(IntegrityError)


def _insert(model, **values):
    with transaction.atomic():
        return model.objects.create(**values)


def online_product(world, **values) -> Product:
    base = {
        "mall_group": world.group,
        "shop": "online",
        "merchant": world.merchant,
        "kind": "gift",
        "title": "芝士奶茶",
    }
    return Product.objects.create(**(base | values))


def sku(product, key="", **values) -> Sku:
    return Sku.objects.create(product=product, code=f"S{product.pk}-{key}", option_key=key, price_fen=2800, **values)


def test_an_online_product_belongs_to_a_merchant(world):
    online_product(world)
    with refused(), transaction.atomic():
        _insert(Product, mall_group=world.group, shop="online", kind="gift", title="无主")
    with refused(), transaction.atomic():
        online_product(world, min_price_fen=500, max_price_fen=400)
    with refused(), transaction.atomic():
        online_product(world, rating_count=2, rating_sum=11)  # more than 5 stars each
    online_product(world, rating_count=2, rating_sum=10, min_price_fen=400, max_price_fen=400)


def test_a_product_has_one_sku_per_option_combination(world):
    p = online_product(world)
    sku(p, "颜色=红|尺码=M")
    sku(p, "颜色=蓝|尺码=M")
    with refused(), transaction.atomic():
        Sku.objects.create(product=p, code="other-code", option_key="颜色=红|尺码=M")
    with refused(), transaction.atomic():
        sku(p, "颜色=绿", list_price_fen=-1)


def test_points_mall_skus_keep_working_without_options(world):
    """Existing points-mall SKUs have no options: their key is "" (one per product, as they always were)."""
    p = Product.objects.create(mall_group=world.group, kind="gift", title="保温杯")
    s = Sku.objects.create(product=p, code=f"PM{p.pk}", price_points=1000, stock=5)
    assert (s.options, s.option_key, s.list_price_fen, s.barcode) == ({}, "", None, "")


@pytest.fixture
def stock(world) -> SkuStock:
    return SkuStock.objects.create(sku=sku(online_product(world)), store=world.store, on_hand=10)


def test_stock_is_never_oversold(stock):
    for values in (
        {"allocated": 11},  # promised more than is in the store
        {"allocated": -1},
        {"sold": -1},
        {"on_hand": -1},
        {"on_hand": MAX_STOCK + 1},
    ):
        with refused(), transaction.atomic():
            SkuStock.objects.filter(pk=stock.pk).update(**values)
    SkuStock.objects.filter(pk=stock.pk).update(allocated=10)  # all of it promised: fine
    with refused(), transaction.atomic():  # a count that would go below what is promised
        SkuStock.objects.filter(pk=stock.pk).update(on_hand=9)


def test_one_stock_row_per_sku_and_store(stock):
    with refused(), transaction.atomic():
        SkuStock.objects.create(sku=stock.sku, store=stock.store)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    on_hand=st.integers(min_value=-5, max_value=MAX_STOCK + 5),
    allocated=st.integers(min_value=-5, max_value=MAX_STOCK + 5),
    sold=st.integers(min_value=-3, max_value=3),
)
def test_the_stock_check_accepts_exactly_the_consistent_rows(stock, on_hand, allocated, sold):
    ok = 0 <= allocated <= on_hand <= MAX_STOCK and sold >= 0
    try:
        with transaction.atomic():
            SkuStock.objects.filter(pk=stock.pk).update(on_hand=on_hand, allocated=allocated, sold=sold)
            raise _Rollback
    except IntegrityError:
        assert not ok
    except _Rollback:
        assert ok


class _Rollback(Exception):
    pass


def _checkout(world, m, **values) -> Checkout:
    now = timezone.now()
    base = {
        "mall_group": world.group,
        "member": m,
        "number": "OC2612070000000001",
        "idempotency_key": "k1",
        "state": "pending_payment",
        "placed_at": now,
        "expires_at": now + dt.timedelta(minutes=15),
        "goods_fen": 29220,
        "discount_fen": 5000,
        "points": 5000,
        "points_value_fen": 5000,
        "gateway_fen": 19220,
    }
    return Checkout.objects.create(**(base | values))


def test_a_checkout_adds_up_and_has_one_payer(world):
    m = member(world)
    for values in (
        {"gateway_fen": 19221},  # does not add up
        {"gateway_fen": 9220, "wallet_fen": 10000},  # wallet and gateway both
        {"expires_at": timezone.now() - dt.timedelta(minutes=1)},
        {"points": -1},
    ):
        with refused(), transaction.atomic():
            _checkout(world, m, **values)
    first = _checkout(world, m)
    with refused(), transaction.atomic():  # one checkout per (member, key)
        _checkout(world, m, number="OC2612070000000002")
    _checkout(world, m, number="OC2612070000000003", idempotency_key="k2", gateway_fen=0, wallet_fen=19220)
    assert first.orders.count() == 0


def _order(world, m, **values) -> Order:
    base = {
        "mall_group": world.group,
        "shop": "online",
        "number": "ON2612070000000001",
        "member": m,
        "merchant": world.merchant,
        "store": world.store,
        "state": "paid",
        "fulfilment": "pickup",
        "local_day": dt.date(2026, 12, 7),
        "goods_fen": 8800,
        "discount_fen": 1860,
        "cart_discount_fen": 860,
        "points_value_fen": 1400,
        "cash_fen": 5540,
        "gateway_fen": 5540,
        "pos_sale_id": "on:ON2612070000000001",
        "idempotency_key": "k1:1",
        "paid_at": timezone.now(),
    }
    return Order.objects.create(**(base | values))


def test_an_online_order_adds_up(world):
    m = member(world)
    for values in (
        {"cash_fen": 5541, "gateway_fen": 5541},  # goods ≠ discount + points value + cash
        {"cart_discount_fen": 1861},  # the cross-shop part is inside the discount
        {"refunded_fen": 8801},
        {"paid_at": None},  # paid without a time
    ):
        with refused(), transaction.atomic():
            _order(world, m, **values)
    _order(world, m, number="ON2", idempotency_key="k2", state="pending_payment", paid_at=None)
    order = _order(world, m)
    # a points-mall order keeps its own rules (goods_fen is not used there)
    _order(world, m, number="PM1", idempotency_key="k3", shop="points_mall", goods_fen=0, merchant=world.merchant)
    line = OrderLine.objects.create(
        order=order,
        product=online_product(world),
        sku=sku(online_product(world)),
        title="芝士奶茶",
        quantity=2,
        amount_fen=5600,
        discount_fen=636,
    )
    with refused(), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(refunded_qty=3)
    with refused(), transaction.atomic():
        OrderLine.objects.filter(pk=line.pk).update(discount_fen=5601)
    OrderLine.objects.filter(pk=line.pk).update(refunded_qty=2)


def test_cart_quantities_reviews_and_timeline_events(world):
    m = member(world)
    p = online_product(world)
    s = sku(p)
    for q in (0, 100):
        with refused(), transaction.atomic():
            CartItem.objects.create(member=m, sku=s, quantity=q)
    CartItem.objects.create(member=m, sku=s, quantity=99)
    with refused(), transaction.atomic():
        CartItem.objects.create(member=m, sku=s, quantity=1)
    order = _order(world, m)
    line = OrderLine.objects.create(order=order, product=p, sku=s, title=p.title, quantity=1, amount_fen=2800)
    for rating in (0, 6):
        with refused(), transaction.atomic():
            Review.objects.create(order_line=line, product=p, merchant=world.merchant, member=m, rating=rating)
    Review.objects.create(order_line=line, product=p, merchant=world.merchant, member=m, rating=5)
    with refused(), transaction.atomic():  # once per line
        Review.objects.create(order_line=line, product=p, merchant=world.merchant, member=m, rating=4)
    at = timezone.now()
    event = {"order": order, "at": at, "status": "in_transit", "source": "api"}
    ShipmentEvent.objects.create(**event, external_id="")
    ShipmentEvent.objects.create(**event, external_id="")  # merchant notes need no id
    ShipmentEvent.objects.create(**event, external_id="sf-1")
    with refused(), transaction.atomic():
        ShipmentEvent.objects.create(**event, external_id="sf-1")


def test_settings_bounds_categories_and_shelves(world):
    row = OnlineSettings.objects.create(mall_group=world.group)
    assert (row.pay_minutes, row.return_days, row.is_open) == (15, 7, False)
    for name, low, high in SETTINGS_BOUNDS:
        for value in (low - 1, high + 1):
            with refused(), transaction.atomic():
                OnlineSettings.objects.filter(pk=row.pk).update(**{name: value})
    top = Category.objects.create(mall_group=world.group, shop="online", name="饮品")
    with refused(), transaction.atomic():
        Category.objects.filter(pk=top.pk).update(parent=top)
    child = Category.objects.create(mall_group=world.group, shop="online", name="奶茶", parent=top)
    with refused(), transaction.atomic():
        Shelf.objects.create(mall_group=world.group, title="热卖", placement="category")
    with refused(), transaction.atomic():
        Shelf.objects.create(mall_group=world.group, title="热卖", placement="home", category=child)
    now = timezone.now()
    with refused(), transaction.atomic():
        Shelf.objects.create(mall_group=world.group, title="热卖", placement="home", starts_at=now, ends_at=now)
    Shelf.objects.create(mall_group=world.group, title="热卖", placement="category", category=child)


@pytest.mark.postgres
def test_the_gram_functions_and_the_partial_gin_index_exist():
    with connection.cursor() as cursor:
        cursor.execute("SELECT galleria_product_grams(%s)", ["芝士奶茶"])
        grams = set(cursor.fetchone()[0])
        cursor.execute("SELECT galleria_product_query(%s), galleria_product_query(%s)", ["奶茶", "芝士奶茶"])
        short, long = cursor.fetchone()
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'commerce_product_grams'")
        (indexdef,) = cursor.fetchone()
    assert grams == {"芝", "士", "奶", "茶", "芝士", "士奶", "奶茶"}
    assert short == ["奶茶"] and sorted(long) == sorted(["芝士", "士奶", "奶茶"])
    assert "gin" in indexdef and "galleria_product_grams((search_text)::text)" in indexdef
    assert "is_blocked" in indexdef and "'online'" in indexdef


def test_erasure_blanks_checkout_addresses_empties_the_cart_and_anonymises_reviews(world):
    from galleria.commerce.services_refunds import member_erase_in_tx

    m, other = member(world), member(world)
    checkout = _checkout(world, m, ship_name="张三", ship_phone="13800138000", ship_address="深圳市南山区星河路 1 号")
    p = online_product(world)
    s = sku(p)
    CartItem.objects.create(member=m, sku=s, quantity=2)
    CartItem.objects.create(member=other, sku=s, quantity=1)
    order = _order(world, m)
    line = OrderLine.objects.create(order=order, product=p, sku=s, title=p.title, quantity=1, amount_fen=2800)
    review = Review.objects.create(
        order_line=line, product=p, merchant=world.merchant, member=m, rating=4, text="好喝", photos=["ab"]
    )
    # the order has no address (pickup); the checkout, one cart row and the review are rewritten
    assert member_erase_in_tx(member_id=m.pk, mall_group_id=world.group.pk, phone="", values=[]) == 3
    checkout.refresh_from_db()
    review.refresh_from_db()
    assert (checkout.ship_name, checkout.ship_phone, checkout.ship_address) == ("", "", "")
    assert (review.is_anonymous, review.text, review.photos, review.rating) == (True, "", [], 4)
    assert list(CartItem.objects.values_list("member_id", flat=True)) == [other.pk]
    assert member_erase_in_tx(member_id=m.pk, mall_group_id=world.group.pk, phone="", values=[]) == 0
