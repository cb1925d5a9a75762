"""What a new member meets, in a phone-sized browser (390×844), in zh-Hans and English: the member code with its
barcode under the QR, a refunded bill that shows what the refund took back, the tab bar lighting only the tab the
member is on, and the birthday's date input in the page language's order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.audit.types import Actor
from galleria.members.models import Member
from galleria.messaging.models import SmsMessage
from galleria.sales import services as sale_services
from galleria.sales.tests.helpers import sale_in

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PHONE = "13812345678"
ACTOR = Actor(user_id=None, label="browser-test")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=False)


def sign_in(page, live_server) -> Member:
    page.goto(live_server.url + "/app/login/")
    page.fill("#id_phone", PHONE)
    page.click("button.send-code")
    expect(page.get_by_test_id("code-sent")).to_be_visible()
    body = SmsMessage.objects.filter(phone="+86" + PHONE).latest("id").body
    found = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
    assert found is not None, body
    page.fill("#id_code", found.group(1))
    page.check("#id_agree")
    page.click("[data-testid=sign-in]")
    page.wait_for_url(live_server.url + "/app/")
    return Member.objects.get(phone="+86" + PHONE)


def active_tab(page) -> list[str]:
    return page.locator(".tabbar a[aria-current=page] span").all_inner_texts()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_code_barcode_refunded_bill_and_tabs(mobile_page, live_server, world, lang):
    page = mobile_page
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url}])
    member = sign_in(page, live_server)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert active_tab(page) == (["首页"] if lang == "zh-hans" else ["Home"])

    page.goto(live_server.url + "/app/code/")
    qr, bars = page.locator("svg.qr"), page.locator("[data-testid=code-barcode] svg.barcode")
    expect(bars).to_be_visible()
    qr_box, bar_box = qr.bounding_box(), bars.bounding_box()
    assert bar_box["y"] >= qr_box["y"] + qr_box["height"]  # under the QR
    assert bar_box["width"] >= 280 and bar_box["height"] >= 60  # wide enough for a laser scanner at 390 px
    code = page.get_by_test_id("code-digits").get_attribute("data-code")
    assert bars.get_attribute("aria-label") and len(code) == 18
    shot(page, f"appux-browser-code-{lang}.png")

    sale_services.sale_commit(data=sale_in(world, member_id=member.pk, amounts=(12800,), pos_id="F1"), actor=ACTOR)
    sale_services.sale_refund(merchant_id=world.merchant.pk, pos_sale_id="F1", pos_refund_id="R1", lines=None)
    page.goto(live_server.url + "/app/bills/")
    expect(page.get_by_test_id("purchase-points-net")).to_contain_text("+128 −128")
    expect(page.get_by_test_id("purchase-refunded")).to_contain_text("¥128.00")
    assert active_tab(page) == []
    shot(page, f"appux-browser-bills-{lang}.png")
    page.get_by_test_id("purchase").first.click()
    expect(page.get_by_test_id("bill-points-net")).to_have_text("0")
    expect(page.get_by_test_id("bill-points-reversed")).to_have_text("−128")
    shot(page, f"appux-browser-bill-{lang}.png")

    for url in ("/app/tier/", "/app/coupons/"):
        page.goto(live_server.url + url)
        assert active_tab(page) == [], url
    page.goto(live_server.url + "/app/points/")
    assert active_tab(page) == (["积分"] if lang == "zh-hans" else ["Points"])

    page.goto(live_server.url + "/app/profile/")
    page.fill("#id_birthday", "1990-05-17")
    shot(page, f"appux-browser-profile-{lang}.png")  # zh-Hans: 1990/05/17; English: 05/17/1990
    assert page.input_value("#id_birthday") == "1990-05-17"
