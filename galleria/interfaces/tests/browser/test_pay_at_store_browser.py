"""Pay at store (聚合支付) in real browsers, end to end: the clerk keeps the "received" screen open at the till; the
member scans the shop's printed QR (the URL it encodes), types ¥300, sees the ¥30 coupon and 1,000 points applied
by the checkout's own quote, pays the rest with WeChat Pay at the sandbox gateway's cashier, lands on the
e-receipt with the points earned — and the clerk's screen shows the money the moment it is confirmed.
Screenshots in zh-Hans and English under var/screenshots/pay/ (looked at by a person)."""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from galleria.audit.types import Actor
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_register
from galleria.payments.models import PaymentAttempt
from galleria.points.selectors import points_balance
from galleria.sales.models import Sale
from galleria.testing import PASSWORD
from galleria.testing_points import give_points

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "pay"
ACTOR = Actor.system("test")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def member_page(browser, live_server, member, lang: str):
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["member_id"] = member.pk
    store.create()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": live_server.url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def clerk_page(browser, live_server, lang: str):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", "heytea-clerk")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/merchant/")
    return context, page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_member_pays_at_the_shop_and_the_clerk_sees_it(browser, live_server, world, gateways, settings, lang):
    if connection.vendor == "postgresql":  # notifications reach this server; on in-memory SQLite the live server's
        settings.GALLERIA_PUBLIC_URL = live_server.url  # threads share one connection: the page's query completes it
    member = member_register(
        mall=world.mall, phone="13812345678", channel="desk", actor=ACTOR, profile={"name": "王小丽"}
    )
    give_points(world, member, 1_000)
    claim(member, template(world))  # ¥30 off ¥200

    clerk_ctx, clerk = clerk_page(browser, live_server, lang)
    mem_ctx, app = member_page(browser, live_server, member, lang)
    try:
        # the clerk's till: the printed QR, and the "received" screen left open
        clerk.goto(live_server.url + "/merchant/payments/qr/")
        qr_url = clerk.get_by_test_id("store-qr").first.locator(".qr-card-url").inner_text().strip()
        assert qr_url.endswith(f"/app/pay/s/{world.store.pk}/")
        shot(clerk, f"qr-{lang}")
        clerk.goto(live_server.url + "/merchant/payments/live/")
        expect(clerk.get_by_test_id("live-latest")).to_be_visible()

        # the member scans it (the phone's camera opens the URL it encodes), types ¥300, uses the points
        app.goto(qr_url)
        expect(app.get_by_test_id("pay-shop")).to_contain_text("喜茶")
        app.get_by_test_id("pay-amount").fill("300")
        app.get_by_test_id("pay-use-points").check()
        expect(app.get_by_test_id("quote-pay")).to_have_text("¥260.00")  # ¥300 − ¥30 coupon − ¥10 (1,000 points)
        expect(app.get_by_test_id("quote-discount")).to_have_text("−¥30.00")
        expect(app.get_by_test_id("quote-points")).to_have_text("−¥10.00")
        earn = app.get_by_test_id("quote-earn").inner_text()
        shot(app, f"app-pay-{lang}")
        app.get_by_test_id("pay-method-wechat").check()
        app.get_by_test_id("pay-submit").click()

        # WeChat Pay's cashier (the sandbox gateway process), then back to the app's e-receipt
        app.wait_for_url(gateways.base_url + "/sandbox/wechat/h5**")
        expect(app.locator(".amount")).to_contain_text("260.00")
        shot(app, f"cashier-{lang}")
        app.locator("button[value=pay]").click()
        app.wait_for_url(re.compile(r".*/app/bills/\d+/$"), timeout=20_000)
        shot(app, f"app-receipt-{lang}")

        attempt = PaymentAttempt.objects.get(member=member)
        sale = Sale.objects.get(pk=attempt.sale_id)
        assert (sale.channel, sale.total_fen, sale.discount_fen, sale.paid_fen) == ("pay_at_store", 30000, 3000, 26000)
        assert (sale.points_used, f"+{sale.points_earned}") == (1000, earn)
        assert points_balance(member_id=member.pk) == sale.points_earned
        expect(app.locator("body")).to_contain_text(str(sale.points_earned))

        # the clerk's screen has it without anyone touching it
        expect(clerk.get_by_test_id("live-amount")).to_have_text("¥260.00", timeout=10_000)
        expect(clerk.get_by_test_id("live-row")).to_have_count(1)
        shot(clerk, f"clerk-received-{lang}")
        assert ledger_check().ok
        assert timezone.now() >= attempt.paid_at
    finally:
        mem_ctx.close()
        clerk_ctx.close()
