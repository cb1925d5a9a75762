"""The online mall's buying screens in the member app (step O5): add to cart with its inline refusals, the cart by
shop, the checkout (ways, coupons with their reasons, points, the quote's figures, pay methods), placement that
pays now or goes to the gateway, a changed price shown instead of charged, a double tap placing once, the
checkout's result page (pay, cancel), my orders and an order's page (pickup code, cancel with refund). Bad input
never gives a 500 and another member's orders read as absent."""

from __future__ import annotations

import re

import pytest

from galleria.commerce import services_cart
from galleria.commerce.models import CartItem, Checkout, Order, Product, SkuStock
from galleria.commerce.tests.checkout_helpers import Shops
from galleria.commerce.tests.helpers import member
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.selectors import ledger_check
from galleria.payments.models import PaymentAttempt
from galleria.points.selectors import points_available
from galleria.testing import PASSWORD
from galleria.wallet.selectors import wallet_balance

pytestmark = pytest.mark.django_db


def as_member(client, m) -> None:
    session = client.session
    session["member_id"] = m.pk
    session.save()


def fill(client, s: Shops, m, lines) -> None:
    for sku, q in lines:
        services_cart.cart_set(member_id=m.pk, mall_group_id=s.world.group.pk, sku_id=sku.pk, quantity=q)


def form_of(s: Shops, **extra):
    data = {
        f"way_{s.a.pk}": f"pickup:{s.a_store.pk}",
        f"way_{s.b.pk}": "delivery",
        "name": "张三",
        "phone": "13800138000",
        "address": "深圳市南山区星河路 1 号",
        "key": "k" * 20,
        "points": "0",
    }
    return {**data, **extra}


def shown_rest(html: str) -> int:
    found = re.search(r'name="shown_rest" value="(\d+)"', html)
    assert found, "the page shows no figures"
    return int(found.group(1))


class TestAddToCart:
    def test_adds_the_chosen_kind_and_says_so(self, client, world):
        s = Shops(world)
        m = member(world)
        as_member(client, m)
        resp = client.post("/app/mall/cart/add/", {"sku": s.tea_l.pk, "product": s.tea.pk, "quantity": "2"})
        assert resp.status_code == 302 and "cart=added" in resp["Location"]
        assert CartItem.objects.get(member=m, sku=s.tea_l).quantity == 2
        page = client.get(resp["Location"])
        assert 'data-note="added"' in page.content.decode()
        assert 'data-testid="add-to-cart"' in page.content.decode()

    def test_refusals_are_said_next_to_the_button_and_add_nothing(self, client, world):
        s = Shops(world, stock=1)
        m = member(world)
        as_member(client, m)
        resp = client.post("/app/mall/cart/add/", {"sku": s.tea_m.pk, "product": s.tea.pk, "quantity": "2"})
        assert "cart=out_of_stock" in resp["Location"]
        Product.objects.filter(pk=s.tea.pk).update(status="off_sale")
        resp = client.post("/app/mall/cart/add/", {"sku": s.tea_m.pk, "product": s.tea.pk, "quantity": "1"})
        assert "cart=not_on_sale" in resp["Location"]
        resp = client.post("/app/mall/cart/add/", {"sku": "x", "product": s.tea.pk, "quantity": "abc"})
        assert resp.status_code == 302
        resp = client.post("/app/mall/cart/add/", {"sku": s.shirt_m.pk, "product": s.shirt.pk, "quantity": "abc"})
        assert "cart=quantity" in resp["Location"]
        assert not CartItem.objects.filter(member=m).exists()

    def test_a_full_cart_is_said(self, client, world, monkeypatch):
        s = Shops(world)
        m = member(world)
        as_member(client, m)
        monkeypatch.setattr(services_cart, "MAX_CART_ITEMS", 0)
        monkeypatch.setattr("galleria.commerce.services_cart.cart_count", lambda member_id: 10**6)
        resp = client.post("/app/mall/cart/add/", {"sku": s.tea_m.pk, "product": s.tea.pk, "quantity": "1"})
        assert "cart=cart_full" in resp["Location"]


class TestCart:
    def test_lines_by_shop_with_an_unavailable_one_flagged(self, client, world):
        s = Shops(world)
        m = member(world)
        as_member(client, m)
        assert 'data-testid="cart-empty"' in client.get("/app/mall/cart/").content.decode()
        fill(client, s, m, [(s.tea_m, 2), (s.shirt_m, 1), (s.tea_l, 1)])
        SkuStock.objects.filter(sku=s.tea_l).update(on_hand=0)
        html = client.get("/app/mall/cart/").content.decode()
        assert html.count('data-testid="cart-shop"') == 2
        assert html.count('data-ok="0"') == 1 and 'data-testid="line-problem"' in html
        assert 'data-testid="cart-total"' in html

    def test_quantity_change_and_remove(self, client, world):
        s = Shops(world)
        m = member(world)
        as_member(client, m)
        fill(client, s, m, [(s.tea_m, 2)])
        client.post("/app/mall/cart/update/", {"sku": s.tea_m.pk, "quantity": "2", "step": "1"})
        assert CartItem.objects.get(member=m, sku=s.tea_m).quantity == 3
        client.post("/app/mall/cart/update/", {"sku": s.tea_m.pk, "quantity": "500"})
        assert CartItem.objects.get(member=m, sku=s.tea_m).quantity == 3  # refused: said on the page
        client.post("/app/mall/cart/update/", {"sku": s.tea_m.pk, "remove": "1"})
        assert not CartItem.objects.filter(member=m).exists()


class TestCheckout:
    def test_the_page_quotes_ways_coupons_points_and_methods(self, client, world):
        s = Shops(world)
        m = member(world, points=5000)
        claim(m, template(world, name="满50减5", value_fen=500, threshold_fen=5000))
        claim(m, template(world, name="满999减99", value_fen=9900, threshold_fen=99900))
        as_member(client, m)
        fill(client, s, m, [(s.tea_m, 2), (s.shirt_m, 1)])
        html = client.get("/app/mall/checkout/").content.decode()
        assert html.count('data-testid="checkout-shop"') == 2
        assert 'data-testid="address-panel"' in html  # 优衣库 delivers
        assert html.count('data-testid="cart-coupon" data-ok="1"') == 1
        assert html.count('data-testid="cart-coupon" data-ok="0"') == 1  # 满999减99: why not, shown
        goods = shown_rest(html)
        resp = client.post("/app/mall/checkout/", form_of(s, points="1000", action="quote"))
        assert shown_rest(resp.content.decode()) == goods - 1000

    def test_wallet_pays_now_and_a_double_tap_places_once(self, client, world):
        s = Shops(world)
        m = member(world, wallet_fen=100_000)
        as_member(client, m)
        fill(client, s, m, [(s.tea_m, 1), (s.shirt_m, 1)])
        rest = shown_rest(client.post("/app/mall/checkout/", form_of(s)).content.decode())
        data = form_of(s, method="wallet", shown_rest=str(rest), action="place")
        first = client.post("/app/mall/checkout/", data)
        assert first.status_code == 302
        second = client.post("/app/mall/checkout/", data)
        assert second["Location"] == first["Location"]
        assert Checkout.objects.filter(member=m).count() == 1
        done = client.get(first["Location"]).content.decode()
        assert 'data-state="paid"' in done
        assert wallet_balance(member_id=m.pk).total_fen == 100_000 - rest
        orders = list(Order.objects.filter(member=m).order_by("pk"))
        assert {o.state for o in orders} == {"paid"} and orders[0].pickup_code

    def test_a_changed_price_is_shown_not_charged(self, client, world):
        s = Shops(world)
        m = member(world, wallet_fen=100_000)
        as_member(client, m)
        fill(client, s, m, [(s.tea_m, 1)])
        rest = shown_rest(client.post("/app/mall/checkout/", form_of(s)).content.decode())
        resp = client.post("/app/mall/checkout/", form_of(s, method="wallet", shown_rest=str(rest - 1), action="place"))
        assert resp.status_code == 409
        html = resp.content.decode()
        assert 'data-testid="price-changed"' in html and shown_rest(html) == rest
        assert not Checkout.objects.filter(member=m).exists()

    def test_a_gateway_goes_to_the_cashier_then_the_result_page_cancels(self, client, world, gateways):
        s = Shops(world)
        m = member(world, points=3000)
        as_member(client, m)
        fill(client, s, m, [(s.tea_m, 1)])
        rest = shown_rest(client.post("/app/mall/checkout/", form_of(s, points="1000")).content.decode())
        resp = client.post(
            "/app/mall/checkout/", form_of(s, points="1000", method="wechat", shown_rest=str(rest), action="place")
        )
        assert resp.status_code == 302 and resp["Location"].endswith("?go=1")
        placed = Checkout.objects.get(member=m)
        assert placed.state == "pending_payment" and placed.gateway_fen == rest
        assert PaymentAttempt.objects.get(member=m).amount_fen == rest
        page = client.get(resp["Location"]).content.decode()
        assert 'data-testid="payment-continue"' in page and "data-autogo" in page
        assert 'data-testid="time-left"' in page
        state = client.get(f"/app/mall/checkout/{placed.number}/state/")
        assert state.status_code == 200 and "HX-Refresh" not in state
        assert points_available(member_id=m.pk) == 2000  # held
        client.post(f"/app/mall/checkout/{placed.number}/cancel/")
        placed.refresh_from_db()
        assert placed.state == "cancelled" and points_available(member_id=m.pk) == 3000
        assert 'data-testid="checkout-cancelled"' in client.get(f"/app/mall/checkout/{placed.number}/").content.decode()

    def test_bad_input_is_never_a_500(self, client, world):
        s = Shops(world)
        m = member(world)
        as_member(client, m)
        fill(client, s, m, [(s.shirt_m, 1)])
        resp = client.post(
            "/app/mall/checkout/",
            {"points": "-5", "cart_coupon": "abc", f"way_{s.b.pk}": "pickup:999", "action": "place", "key": "!"},
        )
        assert resp.status_code in (200, 422)
        resp = client.post("/app/mall/checkout/", form_of(s, points="999999", action="quote"))
        assert resp.status_code == 200 and 'data-testid="points-error"' in resp.content.decode()
        resp = client.post("/app/mall/checkout/", form_of(s, name="", action="place", shown_rest="1", method="wechat"))
        assert resp.status_code == 422 and not Checkout.objects.filter(member=m).exists()


class TestOrders:
    def _paid(self, client, s, m):
        fill(client, s, m, [(s.tea_m, 1), (s.shirt_m, 1)])
        rest = shown_rest(client.post("/app/mall/checkout/", form_of(s)).content.decode())
        client.post("/app/mall/checkout/", form_of(s, method="wallet", shown_rest=str(rest), action="place"))
        return list(Order.objects.filter(member=m).order_by("pk"))

    def test_list_tabs_order_page_with_pickup_code_and_cancel_with_refund(self, client, world):
        s = Shops(world)
        m = member(world, wallet_fen=100_000)
        as_member(client, m)
        tea, shirt = self._paid(client, s, m)
        html = client.get("/app/mall/orders/").content.decode()
        assert html.count('data-testid="order-row"') == 2
        assert client.get("/app/mall/orders/?tab=pickup").content.decode().count('data-testid="order-row"') == 1
        assert 'data-testid="orders-empty"' in client.get("/app/mall/orders/?tab=cancelled").content.decode()
        assert client.get("/app/mall/orders/?tab=nonsense&page=x").status_code == 200
        page = client.get(f"/app/mall/orders/{tea.pk}/").content.decode()
        assert f'data-code="{tea.pickup_code}"' in page and "<svg" in page
        before = wallet_balance(member_id=m.pk).total_fen
        resp = client.post(f"/app/mall/orders/{shirt.pk}/cancel/")
        assert resp.status_code == 302
        shirt.refresh_from_db()
        assert shirt.state == "cancelled" and shirt.refunded_fen == shirt.goods_fen
        assert wallet_balance(member_id=m.pk).total_fen == before + shirt.wallet_fen
        page = client.get(f"/app/mall/orders/{shirt.pk}/").content.decode()
        assert 'data-testid="order-refunded"' in page and 'data-testid="order-cancel"' not in page
        assert ledger_check(mall_group_id=world.group.pk).ok

    def test_another_members_order_reads_as_absent(self, client, world):
        s = Shops(world)
        m = member(world, wallet_fen=100_000)
        as_member(client, m)
        tea, _shirt = self._paid(client, s, m)
        other = member(world)
        as_member(client, other)
        assert client.get(f"/app/mall/orders/{tea.pk}/")["Location"].endswith("/app/mall/orders/")
        client.post(f"/app/mall/orders/{tea.pk}/cancel/")
        tea.refresh_from_db()
        assert tea.state == "paid"
        number = tea.checkout.number
        assert client.get(f"/app/mall/checkout/{number}/")["Location"].endswith("/app/mall/orders/")
        assert client.get(f"/app/mall/checkout/{number}/state/").status_code == 404


class TestConsole:
    def test_orders_across_merchants_filtered_and_an_order_with_the_phone_masked(self, client, world):
        s = Shops(world)
        m = member(world, wallet_fen=100_000)
        as_member(client, m)
        tea, shirt = TestOrders()._paid(client, s, m)
        client.post(f"/app/mall/orders/{shirt.pk}/cancel/")
        assert client.login(username="admin", password=PASSWORD)
        html = client.get("/console/online-mall/orders/").content.decode()
        assert html.count('data-testid="online-order-row"') == 2
        html = client.get(f"/console/online-mall/orders/?state=cancelled&merchant={s.b.pk}").content.decode()
        assert html.count('data-testid="online-order-row"') == 1 and shirt.number in html
        html = client.get(f"/console/online-mall/orders/?merchant={s.a.pk}&since=2000-01-01&until=2999-01-01").content
        assert html.decode().count('data-testid="online-order-row"') == 1
        assert client.get("/console/online-mall/orders/?since=nonsense&merchant=x&state=zzz").status_code == 200
        page = client.get(f"/console/online-mall/orders/{tea.pk}/").content.decode()
        national = m.phone.removeprefix("+86")
        assert national not in page and f"{national[:3]}****{national[-4:]}" in page
        assert client.get("/console/online-mall/orders/999999/").status_code == 404


def test_the_demo_gives_the_newest_member_paid_cancelled_and_waiting_orders(world):
    from galleria.demo.online_mall import seed_online_mall
    from galleria.merchants.models import Merchant, Store

    for i, (name, category) in enumerate((("奈雪的茶", "food"), ("无印良品", "fashion"))):
        shop = Merchant.objects.create(mall=world.mall, name=name, category=category)
        Store.objects.create(merchant=shop, name=f"{name} 星河广场店", floor="L2", unit_no=f"L2-10{i}")
    m = member(world)
    result = seed_online_mall(mall_group_id=world.group.pk, seed=7)
    assert result.checkouts == 3
    states = sorted(Checkout.objects.filter(member=m).values_list("idempotency_key", "state"))
    assert states == [("demo-online-1", "paid"), ("demo-online-2", "paid"), ("demo-online-3", "pending_payment")]
    orders = Order.objects.filter(member=m)
    assert sorted(orders.values_list("state", flat=True)) == [
        "cancelled",
        "paid",
        "paid",
        "pending_payment",
        "pending_payment",
    ]
    assert orders.filter(state="paid", fulfilment="pickup").exclude(pickup_code="").exists()
    assert orders.filter(state="paid", fulfilment="delivery").exists()
    assert wallet_balance(member_id=m.pk).total_fen == 30_000 - sum(o.wallet_fen for o in orders.filter(state="paid"))
    assert ledger_check(mall_group_id=world.group.pk).ok


class TestAfterSalesAndReviews:
    def test_receive_a_shipped_order_ask_for_a_refund_withdraw_it_and_review(self, client, world):
        from galleria.commerce import services_orders
        from galleria.commerce.models import ReturnRequest, Review
        from galleria.commerce.tests.helpers import ACTOR

        s = Shops(world)
        m = member(world, wallet_fen=100_000)
        as_member(client, m)
        _tea, shirt = TestOrders()._paid(client, s, m)
        page = client.get(f"/app/mall/orders/{shirt.pk}/").content.decode()
        assert 'data-testid="order-after-sale"' not in page  # paid, not shipped: cancel instead
        services_orders.order_ship(
            order_id=shirt.pk, merchant_id=s.b.pk, carrier="SF", tracking_no="SF1234567890", actor=ACTOR
        )
        page = client.get(f"/app/mall/orders/{shirt.pk}/").content.decode()
        assert 'data-testid="order-receive"' in page and 'data-testid="order-timeline"' in page
        client.post(f"/app/mall/orders/{shirt.pk}/receive/")
        shirt.refresh_from_db()
        assert shirt.state == "delivered"
        form = client.get(f"/app/mall/orders/{shirt.pk}/after-sale/")
        assert form.status_code == 200
        from galleria.commerce.models import OrderLine

        line = OrderLine.objects.get(order=shirt)
        bad = client.post(f"/app/mall/orders/{shirt.pk}/after-sale/", {"kind": "refund_only", f"qty_{line.pk}": "9"})
        assert bad.status_code == 422 and not ReturnRequest.objects.exists()
        data = {"kind": "refund_only", f"qty_{line.pk}": "1", "reason": "不合身", "key": "r" * 20}
        assert client.post(f"/app/mall/orders/{shirt.pk}/after-sale/", data).status_code == 302
        assert client.post(f"/app/mall/orders/{shirt.pk}/after-sale/", data).status_code in (302, 422)
        request = ReturnRequest.objects.get()
        page = client.get(f"/app/mall/orders/{shirt.pk}/").content.decode()
        assert 'data-testid="return-row" data-state="requested"' in page
        client.post(f"/app/mall/orders/{shirt.pk}/returns/{request.pk}/withdraw/")
        request.refresh_from_db()
        assert request.state == "withdrawn"
        client.post(f"/app/mall/orders/{shirt.pk}/lines/{line.pk}/review/", {"rating": "5", "text": "很合身"})
        assert Review.objects.get(order_line=line).rating == 5
        assert 'data-testid="line-review"' in client.get(f"/app/mall/orders/{shirt.pk}/").content.decode()
        other = member(world)
        as_member(client, other)
        assert client.get(f"/app/mall/orders/{shirt.pk}/after-sale/")["Location"].endswith("/app/mall/orders/")


class TestOtherWaysToPay:
    def test_alipay_wap_and_switching_to_wechat_from_the_result_page(self, client, world, gateways):
        s = Shops(world)
        m = member(world)
        as_member(client, m)
        fill(client, s, m, [(s.tea_m, 1)])
        rest = shown_rest(client.post("/app/mall/checkout/", form_of(s)).content.decode())
        resp = client.post("/app/mall/checkout/", form_of(s, method="alipay", shown_rest=str(rest), action="place"))
        assert resp.status_code == 302 and resp["Location"].endswith("?go=1")
        placed = Checkout.objects.get(member=m)
        attempt = PaymentAttempt.objects.get(member=m)
        assert (attempt.provider, attempt.pay_kind, attempt.amount_fen) == ("alipay", "wap", rest)
        resp = client.post(f"/app/mall/checkout/{placed.number}/pay/", {"provider": "wechat"})
        assert resp["Location"].endswith("?go=1")
        second = PaymentAttempt.objects.get(member=m, provider="wechat")
        assert second.idempotency_key == f"{placed.number}:wechat" and second.pay_kind == "h5"
        assert client.post(f"/app/mall/checkout/{placed.number}/pay/", {"provider": "cash"}).status_code == 302
        assert PaymentAttempt.objects.filter(member=m).count() == 2

    def test_a_coupon_paying_everything_is_points_only_and_paid_at_once(self, client, world):
        s = Shops(world)
        m = member(world)
        free = claim(m, template(world, name="喜茶免单券", kind="cash_off", value_fen=2800, threshold_fen=0))
        as_member(client, m)
        fill(client, s, m, [(s.tea_m, 1)])
        html = client.post("/app/mall/checkout/", form_of(s, **{f"coupon_{s.a.pk}": str(free.coupon_id)})).content
        page = html.decode()
        assert shown_rest(page) == 0 and 'data-testid="method-points"' in page
        data = form_of(s, **{f"coupon_{s.a.pk}": str(free.coupon_id)}, shown_rest="0", action="place")
        resp = client.post("/app/mall/checkout/", data)
        assert resp.status_code == 302
        placed = Checkout.objects.get(member=m)
        assert (placed.state, placed.pay_method, placed.gateway_fen, placed.wallet_fen) == ("paid", "points", 0, 0)
