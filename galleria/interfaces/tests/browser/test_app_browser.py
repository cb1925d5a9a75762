"""Member app in a phone-sized browser (390×844): join by SMS code, show the dynamic member code, edit the profile."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.members.models import Member
from galleria.messaging.models import SmsMessage

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PHONE = "13812345678"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=False)


def sms_code() -> str:
    body = SmsMessage.objects.filter(phone="+86" + PHONE).latest("id").body
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
    assert match, body
    return match.group(1)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_member_joins_and_sees_the_member_code(mobile_page, live_server, world):
    page = mobile_page
    page.goto(live_server.url + "/app/")
    page.wait_for_url("**/app/login/")
    shot(page, "app-login.png")

    page.fill("#id_phone", PHONE)
    page.click("button.send-code")
    expect(page.get_by_test_id("code-sent")).to_contain_text("138****5678")
    expect(page.locator("button.send-code")).to_be_disabled()  # resend countdown
    page.fill("#id_code", sms_code())
    page.click("[data-testid=sign-in]")
    expect(page.locator("[data-testid=login-form] .errorlist")).to_contain_text("Please agree")
    shot(page, "app-login-error.png")
    page.check("#id_agree")
    page.click("[data-testid=sign-in]")
    page.wait_for_url(live_server.url + "/app/")

    member = Member.objects.get(phone="+86" + PHONE)
    assert member.join_channel == "app"
    expect(page.locator("#member-code svg.qr")).to_be_visible()
    expect(page.get_by_test_id("card-no")).to_have_attribute("data-card-no", member.card_no)
    digits = page.get_by_test_id("code-digits").get_attribute("data-code")
    assert digits and len(digits) == 18 and digits.startswith("66")
    countdown = page.locator("[data-countdown]")
    first = countdown.text_content()
    page.wait_for_timeout(1300)
    assert countdown.text_content() != first  # the countdown ticks
    box = page.locator("#member-code svg.qr").bounding_box()
    assert box and box["width"] >= 200 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    shot(page, "app-home.png")

    # the Refresh link swaps in a fresh panel through htmx
    page.click("#member-code >> text=Refresh")
    expect(page.locator("#member-code svg.qr")).to_be_visible()

    page.click(".tabbar >> text=Profile")
    page.wait_for_url("**/app/profile/")
    page.fill("#id_name", "王小丽")
    page.select_option("#id_gender", "female")
    page.click("[data-testid=profile-form] button[type=submit]")
    expect(page.locator(".alert-success")).to_be_visible()
    page.fill("#id_plate", "粤B12345")
    page.click("[data-testid=plate-form] button[type=submit]")
    expect(page.get_by_test_id("plates")).to_contain_text("粤B12345")
    page.fill("#id_plate", "not a plate")
    page.click("[data-testid=plate-form] button[type=submit]")
    expect(page.get_by_test_id("plate-error")).to_be_visible()
    page.fill("#id_plate", "粤BD12345")
    page.click("[data-testid=plate-form] button[type=submit]")
    expect(page.get_by_test_id("plates")).to_contain_text("粤BD12345")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "app-profile.png")
    page.evaluate("document.getElementById('plates').scrollIntoView()")
    shot(page, "app-profile-plates.png")

    page.click("[data-testid=sign-out]")
    page.wait_for_url("**/app/login/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_member_code_panel_refreshes_itself(mobile_page, live_server, world):
    from importlib import import_module

    from galleria.audit.types import Actor
    from galleria.members.services import member_register

    member = member_register(
        mall=world.mall, phone=PHONE, channel="desk", actor=Actor.system(), profile={"name": "张三"}
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["member_id"] = member.pk
    store.create()
    page = mobile_page
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": live_server.url}]
    )
    page.clock.install()
    page.goto(live_server.url + "/app/")
    expect(page.locator(".app-header")).to_contain_text("Hello, 张三")
    expect(page.locator("#member-code svg.qr")).to_be_visible()
    with page.expect_request("**/app/code/") as request_info:
        page.clock.fast_forward("01:02")  # past the code's lifetime: htmx fetches a fresh panel
    assert request_info.value.headers.get("hx-request") == "true"
    expect(page.locator("#member-code svg.qr")).to_be_visible()
    expect(page.get_by_test_id("code-digits")).to_have_attribute("data-code", re.compile(r"^66\d{16}$"))
