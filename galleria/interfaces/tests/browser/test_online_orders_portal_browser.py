"""The merchant portal's online orders on a 390 px phone (build step O3/O4 screens):

- 喜茶's clerk opens the orders list ("today" figures, the to-prepare tab), opens a pickup order, marks it ready,
  then types the member's code on the pickup page and hands it over; typing the code again is refused politely
  with the time it was handed over;
- the member asks for a refund of the order (the after-sales service: the member app's screens are another step);
  喜茶's owner opens the after-sales queue, sees the refund preview (the wallet's money, to the fen) and accepts:
  the page shows it refunded and the member's wallet has the money back.

No CSP violation or page error. Screenshots under var/screenshots/online-orders/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from galleria.audit.types import Actor
from galleria.commerce import services_after_sales as after_sales
from galleria.commerce.models import Order, OrderLine
from galleria.commerce.tests.checkout_helpers import Shops, place
from galleria.commerce.tests.helpers import member
from galleria.core.money import fen_to_yuan_str
from galleria.wallet.selectors import wallet_balance

from .test_online_mall_browser import phone_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "online-orders"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_ready_then_hand_over_by_code_then_an_after_sales_refund(browser, live_server, world):
    s = Shops(world)
    m = member(world, wallet_fen=50000)
    placed = place(world, m, [(s.tea_m, 2)], s.choices(s.a), pay_method="wallet")
    order = Order.objects.get(checkout=placed)
    violations: list[str] = []
    url = live_server.url

    context, page = phone_staff(browser, live_server, "heytea-clerk", violations)
    page.goto(url + "/merchant/shop/orders/")
    expect(page.get_by_test_id("to-prepare")).to_have_text("1")
    row = page.get_by_test_id("order-row").first
    expect(row).to_have_attribute("data-number", order.number)
    shot(page, "orders")
    row.click()
    expect(page.get_by_test_id("order-state")).to_have_attribute("data-state", "paid")
    page.get_by_test_id("mark-ready").click()
    expect(page.get_by_test_id("order-state")).to_have_attribute("data-state", "ready_for_pickup")
    shot(page, "order-ready")
    page.goto(url + "/merchant/shop/pickup/")
    page.fill("[data-testid=pickup-code]", f"{order.pickup_code[:4]} {order.pickup_code[4:]}")
    page.get_by_test_id("pickup-lookup").click()
    expect(page.get_by_test_id("pickup-order")).to_contain_text(order.number)
    shot(page, "pickup-found")
    page.get_by_test_id("hand-over").click()
    expect(page.get_by_test_id("order-state")).to_have_attribute("data-state", "delivered")
    expect(page.get_by_test_id("handed-over")).to_be_visible()
    page.goto(url + f"/merchant/shop/pickup/?code={order.pickup_code}")
    expect(page.get_by_test_id("pickup-error")).to_be_visible()  # a second scan: when it was handed over
    expect(page.get_by_test_id("hand-over")).to_have_count(0)
    shot(page, "pickup-used")
    context.close()

    line = OrderLine.objects.get(order=order)
    request = after_sales.after_sale_request(
        member_id=m.pk,
        data=after_sales.ReturnIn(order.pk, "refund_only", {line.pk: 1}, "少了珍珠"),
        key="browser-1",
        actor=Actor.system("member"),
    )
    wallet_before = wallet_balance(member_id=m.pk).total_fen
    expected = after_sales.after_sale_preview(request_id=request.pk, merchant_id=s.a.pk).payments["wallet"]

    context, page = phone_staff(browser, live_server, "heytea-owner", violations)
    page.goto(url + "/merchant/shop/after-sales/")
    page.get_by_test_id("return-row").first.click()
    expect(page.get_by_test_id("refund-preview")).to_be_visible()
    expect(page.get_by_test_id("preview-money").first).to_contain_text(fen_to_yuan_str(expected))
    shot(page, "after-sales-preview")
    page.get_by_test_id("accept").click()
    expect(page.get_by_test_id("return-state")).to_have_attribute("data-state", "refunded")
    expect(page.get_by_test_id("refund-done")).to_be_visible()
    shot(page, "after-sales-refunded")
    context.close()

    assert wallet_balance(member_id=m.pk).total_fen == wallet_before + expected
    assert not violations, violations
