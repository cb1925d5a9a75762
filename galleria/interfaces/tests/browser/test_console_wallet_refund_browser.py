"""The service desk's wallet refund in a real browser (console, 1440×900):

a customer-service agent opens the member 360 page, follows "Refund wallet balance", previews an amount paid in
cash, then refunds the whole balance to the original channel; a refund above the threshold waits in the finance
approval queue. Screenshots in zh-Hans and English: var/screenshots/wallet-refund-*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from galleria.audit.types import Actor
from galleria.members.services import member_register
from galleria.testing import PASSWORD
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet import services as wallet_services
from galleria.wallet.models import BalanceRefund, TopUpBonusRule
from galleria.wallet.tests.fakes import FakeGateway

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
ACTOR = Actor.system("browser")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalogue():
    call_command("compile_translations", verbosity=0)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"wallet-refund-{name}.png"), full_page=True)


def staff_page(browser, live_server, world, role: str, *, lang: str) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN" if lang == "zh" else "en-US")
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans" if lang == "zh" else "en", "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", world.users[role].username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def member_with_money(world, phone: str, *amounts: int):
    member = member_register(mall=world.mall, phone=phone, channel="desk", actor=ACTOR, profile={"name": "王小明"})
    for amount in amounts:
        intent = wallet_services.wallet_topup_start(
            mall_id=world.mall.pk, member_id=member.pk, amount_fen=amount, gateway=FakeGateway()
        )
        notice = FakeGateway().pay(intent.gateway_ref)
        wallet_services.wallet_topup_confirm(gateway_ref=notice.gateway_ref, paid_amount_fen=notice.amount_fen)
    return member


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_desk_refunds_the_wallet_balance(browser, live_server, world, lang, settings):
    settings.GALLERIA_WALLET_REFUND_APPROVAL_FEN = 200_000  # ¥2,000: this desk refunds at once
    TopUpBonusRule.objects.create(mall_group=world.group, name="充1000送50", min_amount_fen=100_000, bonus_fen=5_000)
    member = member_with_money(world, "13800138991", 100_000, 20_000)  # ¥1,000 (+¥50 bonus), then ¥200
    wallet_services.wallet_pay(member_id=member.pk, amount_fen=30_000, merchant_id=world.merchant.pk, source="")
    page = staff_page(browser, live_server, world, "service", lang=lang)

    page.goto(live_server.url + f"/console/members/{member.pk}/")
    page.locator(".page-head").screenshot(path=str(SHOTS / f"wallet-refund-member-action-{lang}.png"))
    page.get_by_test_id("wallet-refund").click()
    page.wait_for_url(f"**/console/members/{member.pk}/wallet/refund/")
    expect(page.get_by_test_id("wallet-principal")).to_have_text("¥900.00")
    expect(page.get_by_test_id("plan-total")).to_have_text("¥900.00")
    expect(page.get_by_test_id("plan-part")).to_have_count(2)  # the ¥200 top-up first, then ¥700 of the ¥1,000
    shot(page, f"page-{lang}")

    # preview ¥250 in cash
    page.locator("input[name=what][value=amount]").check()
    page.fill("#id_amount", "250")
    page.locator("input[name=payout][value=cash]").check()
    page.fill("#id_reason", "会员搬家" if lang == "zh" else "moving away")
    page.get_by_test_id("refund-preview").click()
    expect(page.get_by_test_id("plan-cash")).to_have_text("¥250.00")
    expect(page.get_by_test_id("plan-gateway")).to_have_text("¥0.00")
    assert not BalanceRefund.objects.exists()
    shot(page, f"preview-{lang}")

    # a mistake shows next to its field
    page.fill("#id_amount", "900.01")
    page.get_by_test_id("refund-submit").click()
    expect(page.locator("[data-field=amount] .errorlist")).to_be_visible()
    shot(page, f"error-{lang}")

    # the whole balance, back to the original channel
    page.locator("input[name=what][value=all]").check()
    page.locator("input[name=payout][value=original]").check()
    page.get_by_test_id("refund-submit").click()
    page.wait_for_url(f"**/console/members/{member.pk}/")
    expect(page.locator(".alert-success")).to_contain_text("¥900.00")
    assert wallet_selectors.wallet_balance(member_id=member.pk).principal_fen == 0
    page.goto(live_server.url + f"/console/members/{member.pk}/wallet/refund/")
    expect(page.get_by_test_id("nothing-to-refund")).to_be_visible()
    expect(page.get_by_test_id("refund-row")).to_have_count(1)
    shot(page, f"done-{lang}")
    page.context.close()


def test_large_refund_waits_for_finance(browser, live_server, world, settings):
    settings.GALLERIA_WALLET_REFUND_APPROVAL_FEN = 50_000
    member = member_with_money(world, "13800138992", 80_000)
    wallet_services.wallet_balance_refund_request(
        member_id=member.pk,
        mall_group_id=world.group.pk,
        amount_fen=None,
        reason="会员搬家",
        actor=Actor(user_id=world.users["service"].pk, label="service"),
    )
    for lang in ("zh", "en"):
        page = staff_page(browser, live_server, world, "finance", lang=lang)
        page.locator("[data-nav=wallet_refunds]").click()
        page.wait_for_url("**/console/wallet/refunds/")
        expect(page.get_by_test_id("pending-row")).to_have_count(1)
        shot(page, f"queue-{lang}")
        if lang == "en":
            page.get_by_test_id("approve").click()
            expect(page.locator(".alert-success")).to_contain_text("¥800.00")
            expect(page.get_by_test_id("pending-row")).to_have_count(0)
            shot(page, "queue-approved-en")
        page.context.close()
    assert wallet_selectors.wallet_balance(member_id=member.pk).principal_fen == 0
