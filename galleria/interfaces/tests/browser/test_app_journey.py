"""The member app journey at 390×844 in Chromium, in zh-Hans (the default):

join by SMS code → consent → see the card → claim a coupon → a signed POS API sale using it → see points and the
bill → redeem another coupon at the merchant (POS API) → read the mall's inbox message → top up the wallet through
WeChat Pay at the sandbox gateway process (the demo runs it: config/settings/dev.py turns GALLERIA_SANDBOX_PAYMENTS
on, read in a child process, so a demo without gateways cannot hide behind the test settings).
Then every app screen is captured in zh-Hans and English under var/screenshots/app/ (looked at by a person); the
service desk refunds the wallet and the member deletes the account.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Page, expect

from galleria.audit.types import Actor
from galleria.coupons import services as coupon_services
from galleria.coupons.models import Coupon
from galleria.ledger.selectors import ledger_check
from galleria.members.models import Consent, Member
from galleria.merchants.models import PosTerminal
from galleria.merchants.services import pos_key_create
from galleria.messaging import services as inbox_services
from galleria.messaging.models import InboxRead, SmsMessage
from galleria.privacy import services as privacy_services
from galleria.privacy.models import PrivacyRequest
from galleria.testing_pos import PosSigner, PosTestClient
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet import services as wallet_services

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "app"
ACTOR = Actor.system("journey")
PHONE = "13812345678"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalogue():
    call_command("compile_translations", verbosity=0)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def demo_setting(name: str) -> object:
    """A setting as `galleria demo` has it: config.settings.dev imported in a fresh process, with the environment's
    own DEBUG / setting overrides removed (the defaults are what the demo ships with)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", name, "DJANGO_SETTINGS_MODULE")}
    code = f"import json; from django.conf import settings; print(json.dumps(settings.{name}))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.dev"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def sms_code() -> str:
    body = SmsMessage.objects.filter(phone="+86" + PHONE).latest("id").body
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
    assert match, body
    return match.group(1)


def templates(world):
    def make(values):
        t = coupon_services.coupon_template_create(mall_group_id=world.group.pk, values=values, actor=ACTOR)
        return coupon_services.coupon_template_activate(template_id=t.pk, mall_group_id=world.group.pk, actor=ACTOR)

    cash = make(
        {
            "name": "新人无门槛10元券",
            "kind": "cash_off",
            "value_fen": 1000,
            "validity_kind": "relative",
            "valid_days": 7,
            "total_quantity": 100,
            "per_member_limit": 1,
        }
    )
    drink = make(
        {
            "name": "喜茶 免费多肉葡萄",
            "kind": "exchange",
            "exchange_item": "多肉葡萄一杯",
            "value_fen": 1900,
            "merchant_id": world.merchant.pk,
            "funder": "merchant",
            "validity_kind": "relative",
            "valid_days": 7,
            "per_member_limit": 1,
        }
    )
    return cash, drink


def pos_client(world) -> PosTestClient:
    terminal = PosTerminal.objects.create(store=world.store, name="收银台 1")
    key, secret = pos_key_create(actor=ACTOR, terminal_id=terminal.pk)
    return PosTestClient(Client(), PosSigner(key.key_id, secret))


def claim(page: Page, url: str, template_id: int) -> None:
    page.goto(url + "/app/coupons/centre/")
    page.locator(f"[data-testid=offer][data-template='{template_id}'] [data-testid=claim]").click()
    expect(page.get_by_test_id("coupon-card").first).to_be_visible()


def test_member_journey(browser, live_server, world, settings, gateways):
    cash, drink = templates(world)
    pos = pos_client(world)
    url = live_server.url
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)

    # join by SMS code, consenting to the policy
    page.goto(url + "/app/")
    page.wait_for_url("**/app/login/")
    shot(page, "login-zh")
    page.fill("#id_phone", PHONE)
    page.click("button.send-code")
    page.fill("#id_code", sms_code())
    page.check("#id_agree")
    page.click("[data-testid=sign-in]")
    page.wait_for_url(url + "/app/")
    member = Member.objects.get(phone="+86" + PHONE)
    assert Consent.objects.filter(member=member).exists()

    # the card, with fixed dimensions (no layout shift once the page settles)
    card = page.get_by_test_id("member-card")
    expect(card).to_contain_text(member.card_no[:4])
    box = card.bounding_box()
    assert box and box["height"] == 208
    page.wait_for_load_state("networkidle")
    assert card.bounding_box() == box

    # claim the 10-yuan coupon and the free drink
    claim(page, url, cash.pk)
    claim(page, url, drink.pk)
    cash_code = Coupon.objects.get(member=member, template=cash).code
    drink_code = Coupon.objects.get(member=member, template=drink).code

    # the till: a signed POS sale using the coupon
    body = {
        "pos_sale_id": "J-0001",
        "member": member.card_no,
        "lines": [{"sku": "T1", "name": "多肉葡萄", "quantity": 2, "unit_price_fen": 6400, "amount_fen": 12800}],
        "payments": [{"method": "wechat", "amount_fen": 11800}],
        "coupon_codes": [cash_code],
    }
    sale = pos.post("/api/v1/pos/sales", body)
    assert sale.status_code in (200, 201), sale.content
    earned = sale.json()["points_earned"]
    assert earned > 0

    # points on the card and the bill with its coupon
    page.goto(url + "/app/")
    expect(page.get_by_test_id("home-points")).to_contain_text(str(earned))
    page.goto(url + "/app/bills/")
    expect(page.get_by_test_id("purchases")).to_contain_text("喜茶")
    page.get_by_test_id("purchase").first.locator("a").click()
    expect(page.get_by_test_id("bill-coupons")).to_contain_text("新人无门槛10元券")
    expect(page.get_by_test_id("bill-points-earned")).to_contain_text(str(earned))

    # the free drink redeemed at the merchant's counter (POS API)
    redeemed = pos.post(f"/api/v1/pos/coupons/{drink_code}/redeem", {}, idempotency_key="journey-drink")
    assert redeemed.status_code in (200, 201), redeemed.content
    page.goto(url + "/app/coupons/?status=used")
    expect(page.locator("[data-testid=coupon-title]", has_text="喜茶 免费多肉葡萄")).to_be_visible()

    # the mall's message: unread badge on home, read in the inbox
    message = inbox_services.inbox_send(
        mall_group_id=world.group.pk, audience="all", title="周末双倍积分", body="本周末全场消费双倍积分。", actor=ACTOR
    )
    page.goto(url + "/app/")
    expect(page.get_by_test_id("unread-badge")).to_contain_text("1")
    page.get_by_test_id("entry-inbox").click()
    page.get_by_test_id("inbox-item").first.click()
    expect(page.get_by_test_id("inbox-message")).to_contain_text("本周末全场消费双倍积分")
    assert InboxRead.objects.filter(message=message, member_id=member.pk).exists()
    page.goto(url + "/app/")
    expect(page.get_by_test_id("unread-badge")).to_have_count(0)

    # top up ¥200 through WeChat Pay at the sandbox gateway, as the demo does (it runs the sandbox process)
    assert demo_setting("GALLERIA_SANDBOX_PAYMENTS") is True, "config/settings/dev.py must run the sandbox gateway"
    page.goto(url + "/app/wallet/")
    page.fill("#id_amount", "200")
    page.get_by_test_id("topup-method-wechat").check()
    page.get_by_test_id("topup-submit").click()
    page.wait_for_url(gateways.base_url + "/sandbox/wechat/h5**")
    page.locator("button[value=pay]").click()
    page.wait_for_url(re.compile(r".*/app/payments/[^/]+/$"))
    expect(page.get_by_test_id("payment-done")).to_be_visible(timeout=15_000)
    page.goto(url + "/app/wallet/")
    expect(page.get_by_test_id("wallet-total")).to_have_text("¥200.00")
    assert wallet_selectors.wallet_balance(member_id=member.pk).principal_fen == 20000

    # every screen, in zh-Hans and in English
    screens = {
        "home": "/app/",
        "code": "/app/code/",
        "points": "/app/points/",
        "tier": "/app/tier/",
        "wallet": "/app/wallet/",
        "bills": "/app/bills/",
        "bill": page_url_of_first_bill(member),
        "coupons": "/app/coupons/",
        "coupon-centre": "/app/coupons/centre/",
        "merchants": "/app/merchants/",
        "merchant": f"/app/merchants/{world.merchant.pk}/",
        "inbox": "/app/inbox/",
        "inbox-message": f"/app/inbox/{message.pk}/",
        "profile": "/app/profile/",
    }
    for lang, suffix in (("zh-hans", "zh"), ("en", "en")):
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": url}])
        for name, path in screens.items():
            page.goto(url + path)
            expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else re.compile("zh"))
            shot(page, f"{name}-{suffix}")

    # the wallet holds the member's money: the service desk refunds it (to the sandbox gateway) before the deletion
    desk = world.users["service"]
    refund = wallet_services.wallet_balance_refund_request(
        member_id=member.pk,
        mall_group_id=world.group.pk,
        amount_fen=None,
        reason="closing the account",
        actor=Actor(user_id=desk.pk, label=desk.username),
    )
    assert (refund.status, refund.to_gateway_fen) == ("done", 20000)
    assert wallet_selectors.wallet_balance(member_id=member.pk).principal_fen == 0

    # export my data, then delete my account: requested in the app, carried out after the cooling-off
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": url}])
    page.goto(url + "/app/profile/")
    page.get_by_test_id("link-consents").click()
    page.get_by_test_id("export-create").click()
    expect(page.get_by_test_id("export-summary")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_test_id("export-json").click()
    doc = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert doc["profile"]["member_id"] == member.pk and doc["profile"]["phone"] == "+86" + PHONE
    assert any(s["receipt_no"] == "J-0001" for s in doc["sales"]), doc["sales"]
    shot(page, "export-zh")
    page.goto(url + "/app/profile/privacy/#delete")
    page.fill("#id_last4", PHONE[-4:])
    page.check("#id_understand")
    page.get_by_test_id("delete-submit").click()
    expect(page.get_by_test_id("erasure-pending")).to_be_visible()
    shot(page, "deletion-pending-zh")
    request = PrivacyRequest.objects.get(member=member, kind="erasure")
    done = privacy_services.erasure_run_due(now=request.due_at + dt.timedelta(minutes=1))
    assert done.erased == 1, done
    member.refresh_from_db()
    assert member.status == "erased" and member.phone == "" and not member.identifiers.exists()
    assert ledger_check().ok  # the sale, its points, the top-up, its refund and the forfeit still balance
    page.goto(url + "/app/")
    expect(page).to_have_url(re.compile(r"/app/login/"))  # the session ended with the account
    context.close()


def page_url_of_first_bill(member: Member) -> str:
    from galleria.sales.models import Sale

    return f"/app/bills/{Sale.objects.filter(member=member).latest('pk').pk}/"
