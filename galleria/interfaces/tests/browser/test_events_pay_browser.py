"""A money-priced event in a real browser (issue #19, "Events"): a member registers for a ¥39 + 500 points workshop,
pays the ¥39 with WeChat Pay H5 at the sandbox gateway's cashier, comes back to the app's payment page, which asks
the gateway, and sees the ticket with its QR code and what was paid. No CSP violation on any page. Screenshots under
var/screenshots/events/pay-*-<lang>.png (looked at by a person)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from playwright.sync_api import expect

from galleria.events.models import Registration
from galleria.events.tests.helpers import desk, event, member
from galleria.payments.models import Fulfilment, PaymentAttempt
from galleria.points.selectors import points_balance
from galleria.sales.models import Sale

from .screens import member_page, watch
from .test_events_browser import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_register_pay_with_wechat_pay_h5_and_the_ticket_is_shown(browser, live_server, world, gateways, settings, lang):
    if connection.vendor == "postgresql":  # the gateway's notifications reach this server too
        settings.GALLERIA_PUBLIC_URL = live_server.url
    ev = event(
        world,
        title="手作皮具工作坊",
        place="L3 手作工坊",
        description="皮具师傅带你做一只卡包。",
        capacity=12,
        price_points=500,
        price_fen=3900,
        store_id=desk(world).pk,
    )
    m = member(world, points=800)
    violations: list[str] = []
    ctx, app = member_page(browser, live_server, m, lang)
    watch(app, violations)
    try:
        app.goto(live_server.url + f"/app/events/{ev.pk}/")
        expect(app.get_by_test_id("ev-price")).to_contain_text("¥39.00")
        expect(app.get_by_test_id("ev-method-wechat")).to_be_checked()
        shot(app, f"pay-detail-{lang}")
        app.get_by_test_id("ev-register").click()

        # WeChat Pay's H5 cashier (the sandbox gateway process): ¥39, then back to the app
        app.wait_for_url(gateways.base_url + "/sandbox/wechat/h5**", timeout=20_000)
        expect(app.locator(".amount")).to_contain_text("39.00")
        reg = Registration.objects.get(member=m)
        assert reg.state == "paying"  # the seat is held while paying
        shot(app, f"pay-cashier-{lang}")
        app.locator("button[value=pay]").click()

        app.wait_for_url(re.compile(rf".*/app/events/tickets/{reg.pk}/$"), timeout=20_000)
        expect(app.get_by_test_id("ev-ticket")).to_have_attribute("data-state", "confirmed")
        expect(app.get_by_test_id("ev-qr").locator("svg.qr")).to_be_visible()
        expect(app.get_by_test_id("ev-ticket-paid")).to_have_text("¥39.00")
        shot(app, f"pay-ticket-{lang}")
    finally:
        ctx.close()
    reg.refresh_from_db()
    assert reg.state == "confirmed" and reg.paid_fen == 3900 and reg.points == 500
    assert points_balance(member_id=m.pk) == 300
    attempt = PaymentAttempt.objects.get(member=m)
    assert (attempt.purpose, attempt.fulfilment) == ("event", Fulfilment.DONE)
    assert Sale.objects.get(pk=reg.sale_id).channel == "event"
    assert violations == []
