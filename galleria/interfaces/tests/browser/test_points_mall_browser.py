"""The points mall in a real browser, issue #17's first journey: a member with points opens the points mall from the
app's home, picks a gift, confirms the exchange (the balance and the limit explained) and sees the pickup code as a
QR; at the service desk a staff member types the code, sees the order and confirms the handover; the member's order
then shows it picked up, and the same code typed again is refused inline. On the way the console's item list, the
editor's live preview of the member card and the redemption statistics are shown. No CSP violation on any page.
Screenshots under var/screenshots/points-mall/<screen>-<lang>.png (looked at by a person)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from galleria.commerce import services
from galleria.commerce.models import Order, Sku
from galleria.commerce.tests.helpers import ACTOR, item, member, open_shop
from galleria.ledger.selectors import ledger_check
from galleria.points.selectors import points_balance

from .screens import member_page, staff_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "points-mall"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def picture(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (400, 400), (251, 241, 244))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((100, 120, 300, 340), radius=24, fill=colour)
    draw.rectangle((185, 120, 215, 340), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def seed(world):
    open_shop(world)
    cup = item(
        world,
        title="星河定制保温杯",
        subtitle="316 不锈钢 · 500ml",
        price_points=3000,
        initial_stock=8,
        per_member_limit=2,
        sort_order=1,
    )
    services.product_image_set(
        mall_group_id=world.group.pk, product_id=cup.pk, data=picture((138, 28, 63)), actor=ACTOR
    )
    bag = item(world, title="帆布购物袋", price_points=1000, price_fen=990, initial_stock=3, sort_order=2)
    services.product_image_set(
        mall_group_id=world.group.pk, product_id=bag.pk, data=picture((201, 164, 92)), actor=ACTOR
    )
    item(world, title="星河公仔", price_points=2000, initial_stock=0, sort_order=3)
    return cup


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_member_exchanges_points_for_a_gift_and_the_desk_hands_it_over(browser, live_server, world, lang):
    cup = seed(world)
    m = member(world, points=10_000)
    violations: list[str] = []
    app_ctx, app = member_page(browser, live_server, m, lang)
    watch(app, violations)
    try:
        # the home page's entry is the real points mall now
        app.goto(live_server.url + "/app/")
        app.locator("a[href='/app/points-mall/']").first.click()
        app.wait_for_url("**/app/points-mall/")
        expect(app.get_by_test_id("pm-balance")).to_have_attribute("data-points", "10000")
        expect(app.get_by_test_id("pm-card")).to_have_count(3)
        expect(app.get_by_test_id("pm-card").nth(2).get_by_test_id("pm-stock")).to_have_attribute("data-stock", "0")
        shot(app, f"app-home-{lang}")

        app.get_by_test_id("pm-item-link").first.click()
        app.wait_for_url(f"**/app/points-mall/items/{cup.pk}/")
        expect(app.get_by_test_id("pm-item-title")).to_have_text("星河定制保温杯")
        expect(app.get_by_test_id("pm-item-limits")).to_contain_text("2")
        shot(app, f"app-item-{lang}")

        app.get_by_test_id("pm-exchange").click()
        app.wait_for_url(f"**/app/points-mall/items/{cup.pk}/exchange/")
        expect(app.get_by_test_id("pm-total-points")).to_have_attribute("data-points", "3000")
        expect(app.get_by_test_id("pm-fulfilment-pickup")).to_be_checked()
        shot(app, f"app-confirm-{lang}")
        app.get_by_test_id("pm-confirm").click()
        app.wait_for_url(re.compile(r".*/app/points-mall/orders/\d+/$"))
        order = Order.objects.get(member=m)
        code = app.get_by_test_id("pm-pickup-code")
        expect(code).to_have_attribute("data-code", order.pickup_code)
        expect(app.get_by_test_id("pm-pickup").locator("svg.qr")).to_be_visible()
        expect(app.get_by_test_id("pm-order-state")).to_have_text(re.compile(r"待提货|Ready for pickup"))
        shot(app, f"app-order-code-{lang}")
        assert points_balance(member_id=m.pk) == 7000
        assert Sku.objects.get(product=cup).stock == 7

        # the service desk
        desk_ctx, desk = staff_page(browser, live_server, "service", lang)
        watch(desk, violations)
        try:
            desk.goto(live_server.url + "/console/points-mall/pickup/")
            desk.fill("input[name=code]", "0000 0000" if order.pickup_code != "00000000" else "1111 1111")
            desk.get_by_test_id("pm-code-find").click()
            expect(desk.get_by_test_id("pm-code-error")).to_be_visible()  # a wrong code: an inline error
            shot(desk, f"desk-wrong-code-{lang}")
            desk.fill("input[name=code]", f"{order.pickup_code[:4]} {order.pickup_code[4:]}")
            desk.get_by_test_id("pm-code-find").click()
            expect(desk.get_by_test_id("pm-desk-item")).to_contain_text("星河定制保温杯")
            shot(desk, f"desk-found-{lang}")
            desk.get_by_test_id("pm-hand-over").click()
            desk.wait_for_url(re.compile(r".*/console/points-mall/pickup/\?code=\d{8}$"))
            expect(desk.get_by_test_id("pm-desk-order")).to_have_attribute("data-state", "completed")
            expect(desk.get_by_test_id("pm-code-error")).to_be_visible()  # the code is used now: said inline
            expect(desk.get_by_test_id("pm-hand-over")).to_have_count(0)
            shot(desk, f"desk-handed-over-{lang}")
        finally:
            desk_ctx.close()

        # the member's order shows it picked up
        app.reload()
        expect(app.get_by_test_id("pm-order")).to_have_attribute("data-state", "completed")
        expect(app.get_by_test_id("pm-order-picked-up")).to_be_visible()
        expect(app.get_by_test_id("pm-pickup")).to_have_count(0)
        shot(app, f"app-order-picked-up-{lang}")
        app.goto(live_server.url + "/app/points-mall/orders/")
        expect(app.get_by_test_id("pm-order-row")).to_have_count(1)
        shot(app, f"app-orders-{lang}")
    finally:
        app_ctx.close()

    # the console's items, the editor's live preview, the order list and the statistics
    admin_ctx, admin = staff_page(browser, live_server, "marketing", lang)
    watch(admin, violations)
    try:
        admin.goto(live_server.url + "/console/points-mall/")
        expect(admin.get_by_test_id("pm-item-row")).to_have_count(3)
        shot(admin, f"console-items-{lang}")
        admin.goto(live_server.url + f"/console/points-mall/items/{cup.pk}/edit/")
        admin.fill("input[name=title]", "星河定制保温杯 · 新款")
        admin.fill("input[name=price_points]", "2500")
        expect(admin.get_by_test_id("pm-preview").get_by_test_id("pm-title")).to_have_text("星河定制保温杯 · 新款")
        expect(admin.get_by_test_id("pm-preview").get_by_test_id("pm-price")).to_contain_text("2500")
        shot(admin, f"console-editor-preview-{lang}")
        admin.goto(live_server.url + "/console/points-mall/orders/")
        expect(admin.get_by_test_id("pm-order-row")).to_have_count(1)
        expect(admin.get_by_test_id("pm-order-row")).to_have_attribute("data-state", "completed")
        shot(admin, f"console-orders-{lang}")
        admin.goto(live_server.url + "/console/points-mall/stats/")
        expect(admin.get_by_test_id("pm-kpi-points")).to_have_text("3,000")
        admin.wait_for_selector("[data-testid=pm-chart-top] canvas")
        shot(admin, f"console-stats-{lang}")
    finally:
        admin_ctx.close()
    assert ledger_check(mall_group_id=world.group.pk).ok
    assert not violations, violations
