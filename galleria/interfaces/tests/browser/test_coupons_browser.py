"""Coupons in a real browser, in zh-Hans (the default) with English screenshots too:

- marketing creates a 满减 coupon while the live preview follows the form, activates it, gives it to a member;
  the member sees it in the app (with its QR code) and claims a free coupon in the claim centre;
- a merchant clerk checks an exchange coupon's code and redeems it.

Screenshots: var/screenshots/coupons-*.png.
"""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from galleria.audit.types import Actor
from galleria.coupons import services as coupon_services
from galleria.coupons.models import Coupon, CouponTemplate
from galleria.members.services import member_register
from galleria.testing import PASSWORD

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
ACTOR = Actor.system("browser")
PHONE = "13800138000"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalogue():
    """The project catalogue, compiled as the demo and the server use it."""
    call_command("compile_translations", verbosity=0)


def context_page(browser, *, locale: str, mobile: bool = False) -> Page:
    viewport = {"width": 390, "height": 844} if mobile else {"width": 1440, "height": 900}
    context = browser.new_context(viewport=viewport, locale=locale, is_mobile=mobile)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"coupons-{name}.png"), full_page=True)


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def member_cookie(page: Page, url: str, member) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["member_id"] = member.pk
    store.create()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": url}])


def seed(world):
    now = timezone.now()
    member = member_register(mall=world.mall, phone=PHONE, channel="desk", actor=ACTOR, profile={"name": "王小明"})
    free = coupon_services.coupon_template_create(
        mall_group_id=world.group.pk,
        values={
            "name": "新人无门槛10元券",
            "kind": "cash_off",
            "value_fen": 1000,
            "validity_kind": "relative",
            "valid_days": 7,
            "total_quantity": 100,
            "per_member_limit": 1,
        },
        actor=ACTOR,
    )
    coupon_services.coupon_template_activate(template_id=free.pk, mall_group_id=world.group.pk, actor=ACTOR)
    points = coupon_services.coupon_template_create(
        mall_group_id=world.group.pk,
        values={
            "name": "8.5折券",
            "kind": "percent",
            "percent_off_bp": 1500,
            "max_discount_fen": 5000,
            "validity_kind": "fixed",
            "valid_from": now - dt.timedelta(days=1),
            "valid_until": now + dt.timedelta(days=20),
            "claim_method": "points",
            "claim_points": 800,
            "min_tier_rank": 0,
        },
        actor=ACTOR,
    )
    coupon_services.coupon_template_activate(template_id=points.pk, mall_group_id=world.group.pk, actor=ACTOR)
    return member, free, points


def exchange_coupon(world, member):
    now = timezone.now()
    t = coupon_services.coupon_template_create(
        mall_group_id=world.group.pk,
        values={
            "name": "喜茶 免费多肉葡萄",
            "kind": "exchange",
            "exchange_item": "多肉葡萄一杯",
            "value_fen": 1900,
            "merchant_id": world.merchant.pk,
            "funder": "merchant",
            "validity_kind": "fixed",
            "valid_from": now - dt.timedelta(days=1),
            "valid_until": now + dt.timedelta(days=10),
            "is_claimable": False,
        },
        actor=ACTOR,
    )
    coupon_services.coupon_template_activate(template_id=t.pk, mall_group_id=world.group.pk, actor=ACTOR)
    return coupon_services.coupon_grant(
        mall_group_id=world.group.pk, template_id=t.pk, member_id=member.pk, idempotency_key="ex", actor=ACTOR
    )


def test_console_create_preview_activate_grant_then_member_uses_the_app(browser, live_server, world):
    member, free, _points = seed(world)
    page = context_page(browser, locale="zh-CN")
    sign_in(page, live_server.url, "marketing")
    page.goto(live_server.url + "/console/coupons/new/")
    preview = page.get_by_test_id("coupon-preview")
    page.fill("#id_name", "周末满200减30")
    page.select_option("#id_kind", "threshold")
    page.fill("#id_value_fen", "30")
    page.fill("#id_threshold_fen", "200")
    expect(page.locator("#coupon-preview-body [data-testid=coupon-headline]")).to_have_text("满200减30")
    expect(page.locator("#id_parking_hours")).to_be_hidden()  # fields of other kinds are out of the way
    page.fill("#id_per_member_limit", "2")
    expect(page.locator("#coupon-preview-body")).to_contain_text("每人限领2张")
    page.locator("label[for=id_days_of_week_5]").click()
    page.locator("label[for=id_days_of_week_6]").click()
    expect(page.locator("#coupon-preview-body")).to_contain_text("仅限周六, 周日")
    expect(preview).to_be_visible()
    shot(page, "console-form-zh")
    page.get_by_test_id("save-coupon").click()
    expect(page.get_by_test_id("template-status")).to_have_text("草稿")
    page.get_by_test_id("status-activate").click()
    expect(page.get_by_test_id("template-status")).to_have_text("正常")
    page.fill("#id_member", PHONE)
    page.get_by_test_id("grant-submit").click()
    expect(page.locator(".alert-success")).to_contain_text("王小明")
    template = CouponTemplate.objects.get(name="周末满200减30")
    assert Coupon.objects.filter(template=template, member=member).count() == 1
    expect(page.get_by_test_id("kpi-issued")).to_contain_text("1")
    shot(page, "console-detail-zh")
    page.goto(live_server.url + "/console/coupons/")
    expect(page.get_by_test_id("coupon-row")).to_have_count(3)
    shot(page, "console-list-zh")

    app = context_page(browser, locale="zh-CN", mobile=True)
    member_cookie(app, live_server.url, member)
    app.goto(live_server.url + "/app/")
    shot(app, "app-home-zh")
    app.get_by_test_id("entry-coupons").click()
    expect(app.get_by_test_id("my-coupon")).to_have_count(1)
    expect(app.get_by_test_id("my-coupons")).to_contain_text("满200减30")
    shot(app, "app-my-coupons-zh")
    app.get_by_test_id("my-coupon").first.click()
    expect(app.locator("[data-testid=coupon-qr] svg.qr")).to_be_visible()
    shot(app, "app-coupon-detail-zh")
    app.goto(live_server.url + "/app/coupons/centre/")
    offer = app.locator(f"[data-testid=offer][data-template='{free.pk}']")
    offer.get_by_test_id("claim").click()
    expect(app.locator(".alert-success")).to_contain_text("领取成功")
    app.goto(live_server.url + "/app/coupons/centre/")
    expect(app.locator(f"[data-testid=offer][data-template='{free.pk}'] [data-testid=offer-reason]")).to_be_visible()
    shot(app, "app-claim-centre-zh")
    app.get_by_test_id("claim").first.click()  # the points coupon: the member has no points
    expect(app.locator(".alert-error")).to_contain_text("积分不足")
    assert Coupon.objects.filter(member=member).count() == 2
    app.context.close()
    page.context.close()


def test_merchant_verifies_and_redeems(browser, live_server, world):
    member, _free, _points = seed(world)
    issued = exchange_coupon(world, member)
    page = context_page(browser, locale="zh-CN")
    sign_in(page, live_server.url, "heytea-clerk")
    page.goto(live_server.url + "/merchant/coupons/verify/")
    page.fill("[data-testid=verify-code]", issued.code.lower())
    page.get_by_test_id("verify-check").click()
    expect(page.get_by_test_id("verify-verdict")).to_contain_text("可在本店使用")
    expect(page.get_by_test_id("verify-member")).to_contain_text("138****8000")
    shot(page, "merchant-verify-zh")
    page.get_by_test_id("verify-redeem").click()
    expect(page.get_by_test_id("verify-redeemed")).to_contain_text("多肉葡萄一杯")
    assert Coupon.objects.get(pk=issued.coupon_id).status == "used"
    page.get_by_test_id("verify-check").click()
    expect(page.get_by_test_id("verify-verdict")).to_contain_text("已被使用")
    page.context.close()


def test_key_screens_in_english(browser, live_server, world):
    member, free, _points = seed(world)
    issued = exchange_coupon(world, member)
    coupon_services.coupon_claim(member_id=member.pk, template_id=free.pk, idempotency_key="en")
    page = context_page(browser, locale="en-US")
    sign_in(page, live_server.url, "marketing")
    page.goto(live_server.url + "/console/coupons/")
    expect(page.locator("h1")).to_have_text("Coupons")
    shot(page, "console-list-en")
    page.goto(f"{live_server.url}/console/coupons/{free.pk}/")
    expect(page.get_by_test_id("kpi-issued")).to_contain_text("1 claimed")
    shot(page, "console-detail-en")
    page.goto(f"{live_server.url}/console/coupons/{free.pk}/edit/")
    expect(page.locator("#coupon-preview-body")).to_contain_text("¥10 voucher")
    shot(page, "console-form-en")
    page.goto(f"{live_server.url}/console/coupons/{free.pk}/grants/new/")
    page.fill("#id_members", f"{PHONE}\n13999999999")
    page.get_by_test_id("grant-batch-submit").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("Finished")
    expect(page.get_by_test_id("failure-row")).to_contain_text("13999999999")
    shot(page, "console-grant-batch-en")
    page.goto(live_server.url + "/console/promotions/")
    shot(page, "console-promotions-en")
    page.context.clear_cookies()
    sign_in(page, live_server.url, "heytea-clerk")
    page.goto(live_server.url + "/merchant/coupons/verify/")
    page.fill("[data-testid=verify-code]", issued.code)
    page.get_by_test_id("verify-check").click()
    expect(page.get_by_test_id("verify-verdict")).to_contain_text("Valid here, now")
    shot(page, "merchant-verify-en")
    page.context.close()

    app = context_page(browser, locale="en-US", mobile=True)
    member_cookie(app, live_server.url, member)
    app.goto(live_server.url + "/app/coupons/")
    expect(app.get_by_test_id("my-coupon")).to_have_count(3)  # claimed, exchange gift, batch grant
    shot(app, "app-my-coupons-en")
    app.get_by_test_id("my-coupon").first.click()
    shot(app, "app-coupon-detail-en")
    app.goto(live_server.url + "/app/coupons/centre/")
    shot(app, "app-claim-centre-en")
    app.context.close()
