"""Buying in the online mall in a real browser (step O5, 390×844, zh-Hans): a member adds a drink of 喜茶 and a
香薰 of 无印良品 to the cart from their product pages, checks out picking both up, with a cross-shop mall coupon and
1,000 points, pays the rest with WeChat Pay H5 at the sandbox gateway's cashier and comes back to the checkout's
page, which shows two paid orders with their pickup codes; my orders and the order's page (QR + digits). Then a
second order paid at once from the wallet is cancelled by the member and the refund shows. No CSP violation or page
error. Screenshots under var/screenshots/online-mall/ (order-*.png)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import Page, expect

from galleria.commerce.models import Checkout, Order
from galleria.commerce.tests.checkout_helpers import Shops
from galleria.commerce.tests.helpers import member
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.selectors import ledger_check
from galleria.payments.models import Fulfilment, PaymentAttempt
from galleria.points.selectors import points_balance
from galleria.wallet.selectors import wallet_balance

from .screens import member_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "online-mall"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"order-{name}.png"), full_page=True)


def choose(app: Page, test_id: str) -> None:
    """Check a radio in the middle of the screen (the sticky total bar and tab bar cover the bottom edge)."""
    target = app.get_by_test_id(test_id)
    target.evaluate("e => e.scrollIntoView({block: 'center'})")
    target.check()


def add(app: Page, url: str, product, sku) -> None:
    app.goto(f"{url}/app/mall/p/{product.pk}/?sku={sku.pk}")
    app.get_by_test_id("add-to-cart").click()
    expect(app.get_by_test_id("cart-note")).to_have_attribute("data-note", "added")


def test_two_shops_with_points_and_a_coupon_paid_by_wechat_h5_then_a_wallet_order_cancelled(
    browser, live_server, world, gateways, settings
):
    if connection.vendor == "postgresql":  # the gateway's notifications reach this server too
        settings.GALLERIA_PUBLIC_URL = live_server.url
    s = Shops(world)
    _muji, muji_store, aroma = s.third()
    s.stock(aroma, muji_store, 10)
    m = member(world, points=5000, wallet_fen=50_000)
    coupon = claim(m, template(world, name="满50减5", value_fen=500, threshold_fen=5000)).coupon_id
    claim(m, template(world, name="满999减99", value_fen=9900, threshold_fen=99900))
    url = live_server.url
    context, app = member_page(browser, live_server, m, "zh-hans")
    violations: list[str] = []
    watch(app, violations)
    try:
        add(app, url, s.tea, s.tea_m)
        shot(app, "product-added")
        add(app, url, aroma.product, aroma)
        app.get_by_test_id("go-cart").click()
        expect(app.get_by_test_id("cart-shop")).to_have_count(2)
        shot(app, "cart")
        app.get_by_test_id("cart-checkout").click()

        # checkout: both picked up; the mall coupon (the other one says why not), 1,000 points, WeChat Pay
        expect(app.get_by_test_id("checkout-shop")).to_have_count(2)
        expect(app.locator('[data-testid=cart-coupon][data-ok="0"]')).to_contain_text("满999减99")
        app.locator(f'input[name=cart_coupon][value="{coupon}"]').check()  # quotes again by itself
        expect(app.get_by_test_id("fig-discount")).to_have_text("−¥5.00")
        app.get_by_test_id("points-input").fill("1000")
        app.get_by_test_id("checkout-update").click()
        expect(app.get_by_test_id("fig-points")).to_have_text("−¥10.00")
        expect(app.get_by_test_id("fig-rest")).to_have_attribute("data-fen", str(5600 - 500 - 1000))
        choose(app, "method-wechat")
        shot(app, "checkout")
        app.get_by_test_id("checkout-place").click()

        # WeChat Pay's cashier (the sandbox gateway process): ¥41, then back to the checkout's page
        app.wait_for_url(gateways.base_url + "/sandbox/wechat/h5**")
        expect(app.locator(".amount")).to_contain_text("41.00")
        shot(app, "cashier")
        app.locator("button[value=pay]").click()
        app.wait_for_url(re.compile(r".*/app/mall/checkout/OC\d+/.*"), timeout=20_000)
        expect(app.get_by_test_id("checkout-paid")).to_be_visible(timeout=20_000)
        expect(app.get_by_test_id("result-order")).to_have_count(2)
        expect(app.get_by_test_id("result-pickup-code")).to_have_count(2)
        shot(app, "paid")

        paid = Checkout.objects.get(member=m)
        assert (paid.state, paid.gateway_fen, paid.points, paid.cart_coupon_id) == ("paid", 4100, 1000, coupon)
        orders = list(Order.objects.filter(checkout=paid).order_by("pk"))
        assert [o.state for o in orders] == ["paid", "paid"] and all(len(o.pickup_code) == 8 for o in orders)
        attempt = PaymentAttempt.objects.get(member=m)
        assert (attempt.provider, attempt.pay_kind, attempt.fulfilment) == ("wechat", "h5", Fulfilment.DONE)
        assert points_balance(member_id=m.pk) == 5000 - 1000 + sum(o.points_earned for o in orders)

        app.get_by_test_id("result-order").first.click()
        expect(app.get_by_test_id("pickup-digits")).to_have_attribute("data-code", orders[0].pickup_code)
        expect(app.locator("[data-testid=pickup-code] svg.qr")).to_be_visible()
        shot(app, "pickup-code")
        app.goto(url + "/app/mall/orders/?tab=pickup")
        expect(app.get_by_test_id("order-row")).to_have_count(2)
        shot(app, "orders")

        # a second order paid at once from the wallet, then cancelled by the member: the refund shows
        add(app, url, s.tea, s.tea_m)
        app.goto(url + "/app/mall/checkout/")
        choose(app, "method-wallet")
        expect(app.get_by_test_id("fig-rest")).to_have_attribute("data-fen", "2800")
        app.get_by_test_id("checkout-place").click()
        expect(app.get_by_test_id("checkout-paid")).to_be_visible()
        assert wallet_balance(member_id=m.pk).total_fen == 50_000 - 2800
        app.get_by_test_id("result-order").click()
        app.get_by_test_id("order-cancel").click()
        expect(app.get_by_test_id("order-state")).to_have_text("已取消")
        expect(app.get_by_test_id("order-refunded")).to_have_text("¥28.00")
        shot(app, "cancelled")
        assert wallet_balance(member_id=m.pk).total_fen == 50_000
        assert Order.objects.filter(member=m, state="cancelled").count() == 1

        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": url}])
        app.goto(url + "/app/mall/orders/")
        expect(app.get_by_test_id("order-row")).to_have_count(3)
        shot(app, "orders-en")
        assert ledger_check(mall_group_id=world.group.pk).ok
        assert not violations, violations
    finally:
        context.close()
