"""Settlement in a real browser, finance → merchant → finance: finance generates November's drafts and opens 喜茶's
statement and the legs behind a figure; 喜茶's owner reads it in the merchant portal and confirms it; finance
approves it (the commission is posted) and records the payment (the payout is posted).

Screenshots: var/screenshots/settlement-*.png (console list, statement, drill-down, portal list and statement,
the paid statement)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from galleria.ledger.models import Transaction
from galleria.points.models import EarnRule
from galleria.sales.types import PaymentIn
from galleria.settlement.models import Statement
from galleria.testing import PASSWORD

from .helpers import coupon_for, local, new_member, refund, sell

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"settlement-{name}.png"), full_page=True)


def sign_in(browser: Browser, live_server, username: str, landing: str) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + landing)
    return page


def november(world) -> None:
    """A month at 喜茶 (8 % commission; it funds a quarter of its points) and at 优衣库."""
    EarnRule.objects.create(
        mall_group=world.group,
        name="喜茶联合积分",
        scope="merchant",
        merchant=world.merchant,
        funder="split",
        merchant_share_bp=2500,
    )
    m = new_member(world, topup_fen=50000)
    sell(world, at=local(2026, 10, 28), member=m, amounts=(200000,))  # October: points to pay with later
    for day in (3, 9, 17, 24):
        at = local(2026, 11, day, 14)
        sell(world, at=at, member=m, amounts=(8800, 4600), channel="pay_at_store")
        sell(world, at=at, member=m, amounts=(3800,))
    sell(world, at=local(2026, 11, 10), member=m, amounts=(6000,), payments=[PaymentIn("wallet", 6000)])
    sell(world, at=local(2026, 11, 11), member=m, amounts=(5600,), points=1200)
    coupon = coupon_for(world, m, at=local(2026, 11, 12), value_fen=2000)
    sell(world, at=local(2026, 11, 12), member=m, amounts=(12000,), coupon_ids=[coupon], discount_fen=2000)
    back, _r = sell(world, at=local(2026, 11, 20), member=m, amounts=(3000, 2000), channel="pay_at_store")
    refund(back, at=local(2026, 11, 21), key="R1", lines=[(2, 1)])
    sell(world, at=local(2026, 11, 30, 23, 59), member=m, merchant=world.other_merchant, amounts=(25900,))


def test_finance_generates_the_merchant_confirms_finance_approves_and_pays(browser, live_server, world):
    november(world)
    finance = sign_in(browser, live_server, "finance", "/console/")
    finance.click("nav >> [data-nav=settlement]")
    finance.wait_for_url("**/console/settlement/")
    finance.get_by_test_id("generate-period").fill("2026-11")
    finance.get_by_test_id("generate").click()
    finance.wait_for_url("**/console/settlement/?period=2026-11")
    rows = finance.get_by_test_id("statement-row")
    expect(rows).to_have_count(2)
    shot(finance, "console-list")

    heytea = Statement.objects.get(merchant=world.merchant)
    finance.locator(f"[data-testid=statement-row][data-id='{heytea.pk}'] >> [data-testid=open-statement]").click()
    finance.wait_for_url(f"**/console/settlement/{heytea.pk}/")
    expect(finance.get_by_test_id("statement-status")).to_have_text("Draft")
    expect(finance.get_by_test_id("amount-wallet")).to_have_text("¥60.00")
    expect(finance.get_by_test_id("approve-form")).to_have_count(0)  # nothing to approve before the merchant
    expect(finance.get_by_test_id("regenerate-form")).to_be_visible()
    shot(finance, "console-draft")
    finance.get_by_test_id("drill-collected").click()
    expect(finance.get_by_test_id("leg-row")).to_have_count(6)  # five pay-at-store sales, one refund
    expect(finance.get_by_test_id("legs-total")).to_contain_text(f"¥{heytea.collected_fen // 100:,}.00")
    shot(finance, "console-drilldown")

    owner = sign_in(browser, live_server, "heytea-owner", "/merchant/")
    owner.click("nav >> [data-nav=settlement]")
    owner.wait_for_url("**/merchant/settlement/")
    expect(owner.get_by_test_id("statement-row")).to_have_count(1)  # only its own
    expect(owner.get_by_test_id("drafts-waiting")).to_be_visible()
    shot(owner, "portal-list")
    owner.get_by_test_id("open-statement").click()
    owner.wait_for_url(f"**/merchant/settlement/{heytea.pk}/")
    shot(owner, "portal-statement")
    owner.get_by_test_id("confirm").click()
    expect(owner.get_by_test_id("statement-status")).to_have_text("Confirmed by the merchant")
    expect(owner.get_by_test_id("event-confirmed")).to_be_visible()

    finance.reload()
    finance.get_by_test_id("approve").click()
    expect(finance.get_by_test_id("statement-status")).to_have_text("Approved")
    finance.get_by_test_id("pay-reference").fill("ICBC-20261205-0042")
    shot(finance, "console-approved")
    finance.get_by_test_id("pay").click()
    expect(finance.get_by_test_id("statement-status")).to_have_text("Paid")
    expect(finance.get_by_test_id("payment-reference")).to_have_text("ICBC-20261205-0042")
    shot(finance, "console-paid")

    heytea.refresh_from_db()
    kinds = set(Transaction.objects.filter(source=f"settlement:{heytea.pk}").values_list("kind", flat=True))
    assert kinds == {"commission", "payout"}
    owner.reload()
    expect(owner.get_by_test_id("statement-status")).to_have_text("Paid")
    expect(owner.get_by_test_id("merchant-actions")).to_have_count(0)


def test_the_running_month_is_a_preview_nobody_can_decide_yet(browser, live_server, world):
    """Finance generates the month in progress: both sides see a preview, with no confirm or approve button and a
    word on when it can be decided; the commission rate reads as a percentage."""
    from django.utils import timezone

    from galleria.core import timeutil

    at = timezone.now() - dt.timedelta(minutes=1)
    sell(world, at=at, member=new_member(world), amounts=(30000,), channel="pay_at_store")
    month = f"{timeutil.local_date(at, world.mall.timezone):%Y-%m}"
    finance = sign_in(browser, live_server, "finance", "/console/")
    finance.goto(live_server.url + "/console/settlement/")
    finance.get_by_test_id("generate-period").fill(month)
    finance.get_by_test_id("generate").click()
    finance.wait_for_url(f"**/console/settlement/?period={month}")
    expect(finance.locator("[role=status]").first).to_contain_text("previews")
    expect(finance.get_by_test_id("statement-preview")).to_have_count(1)
    shot(finance, "preview-console-list")
    finance.get_by_test_id("open-statement").click()
    expect(finance.get_by_test_id("statement-status")).to_have_text("Draft")
    expect(finance.get_by_test_id("statement-preview")).to_have_text("Month not over — preview")
    expect(finance.get_by_test_id("statement-preview-notice")).to_be_visible()
    expect(finance.get_by_test_id("commission-rate")).to_have_text("8.00%")
    expect(finance.get_by_test_id("preview-explained")).to_be_visible()
    expect(finance.get_by_test_id("approve-form")).to_have_count(0)
    expect(finance.get_by_test_id("regenerate-form")).to_be_visible()
    shot(finance, "preview-console")

    owner = sign_in(browser, live_server, "heytea-owner", "/merchant/")
    owner.goto(live_server.url + "/merchant/settlement/")
    expect(owner.get_by_test_id("drafts-preview")).to_be_visible()
    expect(owner.get_by_test_id("drafts-to-confirm")).to_have_count(0)
    shot(owner, "preview-portal-list")
    owner.get_by_test_id("open-statement").click()
    expect(owner.get_by_test_id("merchant-actions")).to_contain_text("not over yet")
    expect(owner.get_by_test_id("confirm")).to_have_count(0)
    expect(owner.get_by_test_id("dispute")).to_have_count(0)
    shot(owner, "preview-portal")
