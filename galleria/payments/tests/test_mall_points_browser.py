"""The 智慧商圈 journey in a phone-sized browser (390×844), against the sandbox gateway process and the live server:
the member links WeChat (web authorisation on the sandbox's WeChat page), turns on 商圈 points (the sandbox's
stand-in for WeChat's own page, which notifies the mall), pays ¥128 at 喜茶's own till with WeChat Pay (the
sandbox's `mall-payment`, as the shop's payment would), and sees the points in the app moments later — the
notification travelled to the live server's notify URL, the report went back to the sandbox.

Screenshots: var/screenshots/mall-points-*.png."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.audit.types import Actor
from galleria.members.models import Member, MemberIdentifier
from galleria.messaging.models import SmsMessage
from galleria.payments import services
from galleria.payments.models import MallTransaction, PaymentCredential
from galleria.payments.services.wechat_link import mall_points_sandbox_install
from galleria.points.selectors import points_balance
from galleria.testing import PASSWORD

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PHONE = "13812345678"
ACTOR = Actor.system("browser-test")
MCHID, SHOP = "1900000109", "HEYTEA-XH-001"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"mall-points-{name}.png"), full_page=True)


def sms_code() -> str:
    body = SmsMessage.objects.filter(phone="+86" + PHONE).latest("id").body
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
    assert match, body
    return match.group(1)


def sign_in(page, url: str) -> Member:
    page.goto(url + "/app/")
    page.wait_for_url("**/app/login/")
    page.fill("#id_phone", PHONE)
    page.click("button.send-code")
    expect(page.get_by_test_id("code-sent")).to_be_visible()
    page.fill("#id_code", sms_code())
    page.check("#id_agree")
    page.click("[data-testid=sign-in]")
    page.wait_for_url(url + "/app/")
    return Member.objects.get(phone="+86" + PHONE)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_link_wechat_authorise_pay_at_a_shop_and_see_the_points(
    browser, mobile_page, live_server, world, gateways, settings
):
    settings.GALLERIA_PUBLIC_URL = live_server.url  # the sandbox's notifications reach this live server
    mall_points_sandbox_install(
        mall_group_id=world.group.pk, keys=gateways.keys, base_url=gateways.base_url, actor=ACTOR
    )
    gateways.control._post("oauth-app", {"name": world.mall.name})  # the Official Account's name: 星河广场
    services.merchant_profile_save(
        mall_group_id=world.group.pk,
        merchant_id=world.merchant.pk,
        values={"wechat_mchid": MCHID, "wechat_shop_number": SHOP},
        actor=ACTOR,
    )
    page, url = mobile_page, live_server.url
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": url}])
    member = sign_in(page, url)

    page.goto(url + "/app/wechat-points/")
    expect(page.get_by_test_id("step-link")).to_have_attribute("data-done", "0")
    shot(page, "1-start")

    # 1. link WeChat: WeChat's authorisation page asks, the member allows, back in the app
    page.get_by_test_id("link-wechat").click()
    page.wait_for_url(gateways.base_url + "/connect/oauth2/authorize?**")
    expect(page.get_by_test_id("oauth-question")).to_contain_text("允许 星河广场 获取你的身份信息？")
    shot(page, "2-wechat-asks")
    page.get_by_test_id("oauth-allow").click()
    page.wait_for_url(url + "/app/wechat-points/")
    expect(page.get_by_test_id("wechat-linked")).to_be_visible()
    expect(page.get_by_test_id("mall-not-authorised")).to_be_visible()
    shot(page, "2b-linked")
    openid = MemberIdentifier.objects.get(member=member, kind="wechat_openid").value

    # 2. turn on 商圈 points in "WeChat"; its page notifies the mall and sends the member back
    page.get_by_test_id("authorise-mall").click()
    page.wait_for_url(gateways.base_url + "/sandbox/wechat/mall-auth?**")
    shot(page, "3-wechat-mall-auth")
    page.get_by_test_id("mall-auth-allow").click()
    page.wait_for_url(url + "/app/wechat-points/")
    expect(page.get_by_test_id("mall-authorised")).to_be_visible()
    expect(page.get_by_test_id("mall-points-ready")).to_be_visible()
    shot(page, "4-ready")

    # 3. the member pays ¥128 at 喜茶's own till with WeChat Pay: WeChat tells the mall
    credential = PaymentCredential.objects.get(mall_group=world.group, provider="wechat")
    paid = gateways.control.mall_payment(
        mchid=MCHID,
        shop_number=SHOP,
        openid=openid,
        amount_fen=12_800,
        notify_url=services.notify_url(credential),
        shop_name="喜茶 星河广场店",
    )
    assert paid["notified"] is True
    delivered = gateways.control.wait_delivered(paid["event_id"], timeout_s=15)
    assert delivered["state"] == "delivered", delivered
    txn = MallTransaction.objects.get(transaction_id=paid["transaction_id"])
    assert txn.state == "credited" and txn.points == 128
    deadline = time.monotonic() + 10  # the report back to WeChat runs right after the credit commits
    while txn.sync_state != "synced" and time.monotonic() < deadline:
        time.sleep(0.1)
        txn.refresh_from_db()
    assert txn.sync_state == "synced"
    assert points_balance(member_id=member.pk) == 128

    # 4. the member sees the points: on this page, and in the points history with the usual explanation
    page.reload()
    row = page.get_by_test_id("mall-payment-row").first
    expect(row).to_have_attribute("data-credited", "1")
    expect(row.get_by_test_id("mall-payment-points")).to_contain_text("+128")
    expect(row).to_contain_text("喜茶")
    shot(page, "5-earned")
    page.goto(url + "/app/points/")
    expect(page.get_by_test_id("points-balance")).to_have_text("128")
    first = page.get_by_test_id("points-row").first
    expect(first).to_contain_text("+128")
    first.locator("summary").click()
    expect(first.get_by_test_id("explanation-formula")).to_contain_text("128")
    shot(page, "6-points")

    # 5. finance staff see it in the console: member masked, shop, amount, points, reported to WeChat
    console = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    desk = console.new_page()
    console.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": url}])
    desk.goto(url + "/console/login/")
    desk.fill("#id_username", world.users["finance"].username)
    desk.fill("#id_password", PASSWORD)
    desk.click("button[type=submit]")
    desk.wait_for_url(url + "/console/")
    desk.goto(url + "/console/payments/wechat-points/")
    staff_row = desk.get_by_test_id("mall-points-row").first
    expect(staff_row).to_contain_text("138****5678")
    expect(staff_row).to_contain_text("+128")
    expect(staff_row.get_by_test_id("mall-sync-state")).to_have_text("Reported")
    shot(desk, "7-console")
    console.close()
