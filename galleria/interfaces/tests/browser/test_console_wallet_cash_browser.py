"""A cash top-up at the service desk in real browsers: the agent opens the member 360 page, follows "Cash top-up",
picks the bonus offer and types ¥3,000 (the live preview shows the bonus and that it needs approval above ¥2,000),
corrects a typo shown next to the field and records it; finance approves it in the "Cash top-ups" queue; the member
opens the app and sees the money and the bonus in the wallet. A rejected one tells the desk to give the cash back.
Screenshots in zh-Hans and English: var/screenshots/wallet-cash-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from galleria.audit.types import Actor
from galleria.members.services import member_register
from galleria.messaging.models import SmsMessage
from galleria.testing import PASSWORD
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet import services as wallet_services
from galleria.wallet.models import TopUp, TopUpBonusRule, TopUpStatus

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
ACTOR = Actor.system("browser")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


FRAGMENT = Path(settings.BASE_DIR) / "var" / "po" / "wallet_cash.po"


@pytest.fixture(autouse=True)
def _catalogue(settings, tmp_path):
    """The project's catalogues, and — until the lead merges it into galleria/locale — this feature's zh-Hans
    fragment in front of them (Django merges LOCALE_PATHS, the first path wins), so the screenshots show the
    Chinese the merged catalogue will. Without the fragment (merged and removed) only the project's catalogues."""
    call_command("compile_translations", verbosity=0)
    if FRAGMENT.exists():
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        target = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
        target.mkdir(parents=True)
        with FRAGMENT.open("rb") as po_file, (target / "django.mo").open("wb") as mo_file:
            write_mo(mo_file, read_po(po_file, locale="zh_Hans"))
        settings.LOCALE_PATHS = [str(tmp_path / "locale"), *settings.LOCALE_PATHS]


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"wallet-cash-{name}.png"), full_page=full_page)


def lang_cookie(context, live_server, lang: str) -> None:
    value = "zh-hans" if lang == "zh" else "en"
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": value, "url": live_server.url}])


def staff_page(browser, live_server, world, role: str, *, lang: str) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN" if lang == "zh" else "en-US")
    lang_cookie(context, live_server, lang)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", world.users[role].username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def member_page(browser, live_server, phone: str, *, lang: str) -> Page:
    """The member signed in to the app on a phone-sized screen (SMS code from the outbox)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN" if lang == "zh" else "en-US"
    )
    lang_cookie(context, live_server, lang)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/app/")
    page.wait_for_url("**/app/login/")
    page.fill("#id_phone", phone)
    page.click("button.send-code")
    expect(page.get_by_test_id("code-sent")).to_be_visible()
    body = SmsMessage.objects.filter(phone="+86" + phone).latest("id").body
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
    assert code, body
    page.fill("#id_code", code.group(1))
    page.check("#id_agree")
    page.click("[data-testid=sign-in]")
    page.wait_for_url(live_server.url + "/app/")
    return page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_desk_takes_cash_finance_approves_the_member_sees_it(browser, live_server, world, lang, settings):
    settings.GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN = 200_000  # ¥2,000
    for minimum, bonus in ((100_000, 5_000), (300_000, 20_000)):
        TopUpBonusRule.objects.create(
            mall_group=world.group, name=f"充{minimum}", min_amount_fen=minimum, bonus_fen=bonus
        )
    phone = "13800138993" if lang == "zh" else "13800138994"
    member = member_register(mall=world.mall, phone=phone, channel="desk", actor=ACTOR, profile={"name": "王小明"})

    # the service desk: member 360 → Cash top-up
    desk = staff_page(browser, live_server, world, "service", lang=lang)
    desk.goto(live_server.url + f"/console/members/{member.pk}/")
    expect(desk.get_by_test_id("wallet-cash-topup")).to_be_visible()
    desk.locator(".page-head").screenshot(path=str(SHOTS / f"wallet-cash-member-action-{lang}.png"))
    desk.get_by_test_id("wallet-cash-topup").click()
    desk.wait_for_url(f"**/console/members/{member.pk}/wallet/cash-topup/")
    expect(desk.get_by_test_id("bonus-offer")).to_have_count(2)
    shot(desk, f"page-{lang}")

    # a bonus offer fills the amount; the live preview shows the bonus and the second approval
    desk.get_by_test_id("bonus-offer").nth(1).click()
    expect(desk.locator("#id_amount")).to_have_value("3000.00")
    expect(desk.get_by_test_id("preview-bonus")).to_have_text("¥200.00")
    expect(desk.get_by_test_id("preview-total")).to_have_text("¥3,200.00")
    expect(desk.get_by_test_id("needs-approval")).to_be_visible()
    expect(desk.get_by_test_id("approval-explained")).to_be_visible()
    desk.fill("#id_amount", "1500")  # within the threshold: credited at once, no approval
    expect(desk.get_by_test_id("preview-bonus")).to_have_text("¥50.00")
    expect(desk.get_by_test_id("needs-approval")).to_be_hidden()
    desk.fill("#id_amount", "3000")
    desk.fill("#id_note", "收银小票 0042" if lang == "zh" else "till receipt 0042")
    shot(desk, f"preview-{lang}")

    # a typo is shown next to its field, and the server's preview agrees with the live one
    desk.fill("#id_amount", "3000.005")
    desk.get_by_test_id("cash-submit").click()
    expect(desk.locator("[data-field=amount] .errorlist")).to_be_visible()
    assert not TopUp.objects.exists()
    shot(desk, f"error-{lang}")
    desk.fill("#id_amount", "3000")
    desk.get_by_test_id("cash-preview").click()
    expect(desk.get_by_test_id("preview-total")).to_have_text("¥3,200.00")
    expect(desk.get_by_test_id("needs-approval")).to_be_visible()

    desk.get_by_test_id("cash-submit").click()
    desk.wait_for_url(f"**/console/members/{member.pk}/wallet/cash-topup/")
    expect(desk.locator(".alert-warning").first).to_contain_text("¥2,000.00")
    expect(desk.get_by_test_id("cash-waiting")).to_be_visible()
    expect(desk.get_by_test_id("cash-row")).to_have_count(1)
    topup = TopUp.objects.get(member=member)
    assert topup.is_awaiting_approval and wallet_selectors.wallet_balance(member_id=member.pk) == (0, 0)
    shot(desk, f"waiting-{lang}")
    desk.context.close()

    # finance: the "Cash top-ups" queue
    finance = staff_page(browser, live_server, world, "finance", lang=lang)
    finance.locator("[data-nav=wallet_cash_topups]").click()
    finance.wait_for_url("**/console/wallet/cash-topups/")
    expect(finance.get_by_test_id("pending-row")).to_have_count(1)
    expect(finance.get_by_test_id("pending-row")).to_contain_text("¥3,000.00")
    shot(finance, f"queue-{lang}")
    finance.get_by_test_id("pending-row").locator("input[name=note]").fill("点钞无误" if lang == "zh" else "counted")
    finance.get_by_test_id("approve").click()
    expect(finance.locator(".alert-success")).to_contain_text("¥3,000.00")
    expect(finance.get_by_test_id("pending-row")).to_have_count(0)
    expect(finance.get_by_test_id("decided-row")).to_have_count(1)
    shot(finance, f"queue-approved-{lang}")
    finance.context.close()
    assert wallet_selectors.wallet_balance(member_id=member.pk) == (300_000, 20_000)

    # the member's wallet in the app
    app = member_page(browser, live_server, phone, lang=lang)
    app.goto(live_server.url + "/app/wallet/")
    expect(app.get_by_test_id("wallet-total")).to_have_text("¥3,200.00")
    expect(app.get_by_test_id("wallet-principal")).to_have_text("¥3,000.00")
    expect(app.get_by_test_id("wallet-bonus")).to_have_text("¥200.00")
    expect(app.get_by_test_id("wallet-row").first).to_contain_text("¥200.00")
    expect(app.get_by_test_id("pending-topup")).to_have_count(0)
    shot(app, f"app-wallet-{lang}", full_page=False)
    # the history, scrolled to the top of the screen (the tab bar stays fixed at the bottom)
    app.locator(".history-panel").evaluate("el => el.scrollIntoView({block: 'start'})")
    app.screenshot(path=str(SHOTS / f"wallet-cash-app-history-{lang}.png"))
    app.context.close()


def test_a_rejected_cash_top_up_tells_the_desk_to_give_the_cash_back(browser, live_server, world, settings):
    settings.GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN = 200_000
    member = member_register(mall=world.mall, phone="13800138995", channel="desk", actor=ACTOR)
    service = Actor(user_id=world.users["service"].pk, label="service")
    wallet_services.wallet_topup_cash(
        mall_id=world.mall.pk, member_id=member.pk, amount_fen=250_000, actor=service, note="点错金额"
    )
    for lang in ("zh", "en"):
        page = staff_page(browser, live_server, world, "group_admin", lang=lang)
        page.goto(live_server.url + "/console/wallet/cash-topups/")
        if lang == "en":
            page.get_by_test_id("pending-row").locator("input[name=note]").fill("wrong amount typed")
            page.get_by_test_id("reject").click()
            expect(page.locator(".alert-warning")).to_contain_text("gives the cash back")
            expect(page.get_by_test_id("decided-row")).to_contain_text("Cancelled: cash given back")
            shot(page, "queue-rejected-en")
            page.goto(live_server.url + f"/console/members/{member.pk}/wallet/cash-topup/")
            expect(page.get_by_test_id("cash-row")).to_contain_text("Cancelled: cash given back")
            shot(page, "rejected-member-en")
        else:
            expect(page.get_by_test_id("pending-row")).to_have_count(1)
        page.context.close()
    assert TopUp.objects.get(member=member).status == TopUpStatus.CANCELLED
    assert wallet_selectors.wallet_balance(member_id=member.pk) == (0, 0)
