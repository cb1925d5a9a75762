"""Member app loyalty in a phone-sized browser (390×844): points with the explanation of a purchase, daily
check-in, tier progress, and a ¥1,000 wallet top-up through the sandbox payment screen."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.members.models import Member
from galleria.messaging.models import SmsMessage
from galleria.points.models import BehaviourRule, PointsCampaign
from galleria.points.services import points_adjust_request
from galleria.sales import services as sale_services
from galleria.sales.tests.helpers import sale_in
from galleria.tiers.services import tier_ladder_ensure_default, tier_override
from galleria.wallet.models import TopUp, TopUpBonusRule

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PHONE = "13812345678"
ACTOR = Actor(user_id=None, label="browser-test")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=False)


def sms_code() -> str:
    body = SmsMessage.objects.filter(phone="+86" + PHONE).latest("id").body
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
    assert match, body
    return match.group(1)


def loyalty_rules(world) -> None:
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    BehaviourRule.objects.create(mall_group=world.group, event="checkin", points=5)
    today = timeutil.local_date(timezone.now(), world.mall.timezone)
    PointsCampaign.objects.create(
        mall_group=world.group,
        name="会员日",
        multiplier_bp=20000,
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=1),
    )
    for minimum, bonus in ((100000, 5000), (300000, 20000), (500000, 40000)):
        TopUpBonusRule.objects.create(
            mall_group=world.group, name=f"充{minimum}", min_amount_fen=minimum, bonus_fen=bonus
        )


def sign_in(page, live_server) -> Member:
    page.goto(live_server.url + "/app/")
    page.wait_for_url("**/app/login/")
    page.fill("#id_phone", PHONE)
    page.click("button.send-code")
    expect(page.get_by_test_id("code-sent")).to_be_visible()
    page.fill("#id_code", sms_code())
    page.check("#id_agree")
    page.click("[data-testid=sign-in]")
    page.wait_for_url(live_server.url + "/app/")
    return Member.objects.get(phone="+86" + PHONE)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_points_tier_and_a_top_up_through_wechat_pay(mobile_page, live_server, world, gateways, settings):
    if connection.vendor == "postgresql":  # the sandbox gateway's notifications reach this server; on in-memory
        settings.GALLERIA_PUBLIC_URL = live_server.url  # SQLite the server's threads share one connection, so
    # there the payment page's own query to the gateway (the same path) completes the payment
    loyalty_rules(world)
    page = mobile_page
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    member = sign_in(page, live_server)

    # the member shops: an earlier purchase, a goodwill adjustment, then ¥128 at 喜茶 on member day as a Silver member
    today = timeutil.local_date(timezone.now(), world.mall.timezone)
    sale_services.sale_commit(
        data=sale_in(world, member_id=member.pk, amounts=(35600,), at=timezone.now() - dt.timedelta(hours=3)),
        actor=ACTOR,
    )
    points_adjust_request(
        mall_group_id=world.group.pk,
        member_id=member.pk,
        points=50,
        reason="补录 POS 离线小票",
        actor=ACTOR,
        tz_name=world.mall.timezone,
    )
    tier_override(
        member_id=member.pk, level_code="silver", until=today + dt.timedelta(days=90), reason="开业礼遇", actor=ACTOR
    )
    result = sale_services.sale_commit(
        data=sale_in(world, member_id=member.pk, amounts=(12800,), at=timezone.now()), actor=ACTOR
    )
    assert result.points_earned == 307

    # Points: the credit and its explanation, then the daily check-in
    page.click(".tabbar >> text=Points")
    page.wait_for_url("**/app/points/")
    balance = 712 + 50 + 307  # ¥356 × 2 (member day) + adjustment + the Silver member-day purchase
    expect(page.get_by_test_id("points-balance")).to_have_text(f"{balance:,}")
    first = page.get_by_test_id("points-row").first
    expect(first).to_contain_text("Earned at 喜茶")
    expect(first).to_contain_text("+307")
    first.locator("summary").click()
    expect(first.get_by_test_id("explanation-formula")).to_have_text(
        "¥128.00 paid × 1 point per ¥1 × 1.2 (银卡) × 2 (会员日) = 307 points"
    )
    page.get_by_test_id("checkin-button").click()
    expect(page.get_by_test_id("checkin-message")).to_contain_text("Checked in: +5 points.")
    expect(page.get_by_test_id("points-balance")).to_have_text(f"{balance + 5:,}")
    shot(page, "app-points.png")
    page.get_by_test_id("checkin-button").click()
    expect(page.get_by_test_id("checkin-message")).to_contain_text("You have already checked in today.")

    # Tier: reached from the card on the home page
    page.click(".tabbar >> text=Home")
    page.get_by_test_id("home-tier").click()
    page.wait_for_url("**/app/tier/")
    expect(page.get_by_test_id("tier-name")).to_have_text("银卡")
    expect(page.get_by_test_id("tier-needed")).to_contain_text("more to reach 金卡")
    expect(page.get_by_test_id("next-benefits")).to_contain_text("VIP lounge access")
    expect(page.get_by_test_id("tier-history")).to_contain_text("Manual override")
    shot(page, "app-tier.png")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    shot(page, "app-tier-history.png")

    # Wallet: pick the ¥1,000 bonus offer, pay at WeChat Pay's cashier (the sandbox gateway), see principal and bonus
    page.click(".tabbar >> text=Wallet")
    page.wait_for_url("**/app/wallet/")
    offer = page.get_by_role("button", name="Top up ¥1,000, get ¥50 free")
    expect(offer).to_contain_text("+¥50 bonus")
    offer.click()
    expect(offer).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator("#id_amount")).to_have_value("1000")
    expect(page.get_by_test_id("bonus-preview")).to_have_text("You will also get a ¥50.00 bonus.")
    page.fill("#id_amount", "12.345")
    page.get_by_test_id("topup-submit").click()
    expect(page.get_by_test_id("amount-error")).to_contain_text("at most two decimals")
    page.fill("#id_amount", "1000")
    page.get_by_test_id("topup-method-wechat").check()
    page.get_by_test_id("topup-submit").click()
    page.wait_for_url(gateways.base_url + "/sandbox/wechat/h5**")  # WeChat Pay's H5 cashier
    expect(page.locator("body")).to_contain_text("1000.00")
    shot(page, "app-wallet-cashier.png")
    page.locator("button[value=pay]").click()
    page.wait_for_url(re.compile(r".*/app/payments/[^/]+/$"))  # back in the app
    expect(page.get_by_test_id("payment-done")).to_be_visible(timeout=15_000)
    shot(page, "app-wallet-paid.png")
    page.get_by_test_id("payment-done").get_by_role("link").click()
    page.wait_for_url("**/app/wallet/")
    expect(page.get_by_test_id("wallet-total")).to_have_text("¥1,050.00")
    expect(page.get_by_test_id("wallet-principal")).to_have_text("¥1,000.00")
    expect(page.get_by_test_id("wallet-bonus")).to_have_text("¥50.00")
    expect(page.get_by_test_id("wallet-history")).to_contain_text("Including ¥50.00 bonus")
    assert TopUp.objects.filter(member=member).count() == 1
    shot(page, "app-wallet.png")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    shot(page, "app-wallet-history.png")

    # home: points, wallet and the recent purchases
    page.click(".tabbar >> text=Home")
    expect(page.get_by_test_id("home-wallet")).to_contain_text("¥1,050.00")
    page.get_by_test_id("recent-purchases").scroll_into_view_if_needed()
    expect(page.get_by_test_id("recent-purchases")).to_contain_text("+307 points earned")
    shot(page, "app-home-purchases.png")
