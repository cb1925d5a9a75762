"""Reconciliation and profit sharing in a real browser: the group admin reconciles a day from the console, fixes
the payment that was paid at the gateway but still waiting here, explains the trade the mall does not know, and
reads the 分账 orders with their cap.

Screenshots: var/screenshots/reconcile-*.png (runs, the day with its findings, the day fixed, profit sharing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from galleria.payments import services as payment_services
from galleria.reconcile import services
from galleria.reconcile.models import Finding, FindingState
from galleria.testing import PASSWORD

from .conftest import ACTOR, store_payment
from .test_profit_share import RECEIVER, finish

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"reconcile-{name}.png"), full_page=True)


def test_a_day_reconciled_fixed_and_explained_in_the_console(browser, live_server, pay, gateway, day, sharing):
    payment_services.merchant_profile_save(
        mall_group_id=pay.group.pk, merchant_id=pay.merchant.pk, values=RECEIVER, actor=ACTOR
    )
    shared = store_payment(pay, gateway, total=30_000)
    finish(services.profit_share_for_attempt(attempt_id=shared))
    store_payment(pay, gateway, total=18_800, sync=False)  # paid at the gateway; the notification never came
    gateway.control.bill_extra(provider="wechat", amount_fen=6_600, bill_date=day.isoformat())

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", pay.users["group_admin"].username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/console/")

    page.click("nav >> [data-nav=reconcile]")
    page.wait_for_url("**/console/reconcile/")
    page.fill("#id_date", day.isoformat())
    page.select_option("#id_provider", "wechat")
    page.get_by_test_id("run-now").click()
    page.wait_for_url(f"**/console/reconcile/wechat/{day.isoformat()}/")
    rows = page.get_by_test_id("finding-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("kpi-matched")).to_contain_text("1")
    shot(page, "day")

    page.locator("[data-testid=finding-row][data-outcome=state]").get_by_test_id("finding-fix").click()
    expect(page.locator(".alert[role=status]").first).to_contain_text("Fixed")
    extra = page.locator("[data-testid=finding-row][data-outcome=extra]")
    extra.locator("input[name=note]").fill("A test payment made by the gateway's staff; confirmed by phone")
    extra.get_by_test_id("finding-resolve").click()
    expect(page.get_by_test_id("finding-row")).to_have_count(0)  # nothing open any more
    page.select_option("select[name=state]", "")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("finding-row")).to_have_count(2)
    expect(page.get_by_test_id("finding-note")).to_contain_text("confirmed by phone")
    shot(page, "day-fixed")
    assert set(Finding.objects.values_list("state", flat=True)) == {FindingState.FIXED, FindingState.RESOLVED}

    page.click("nav >> [data-nav=reconcile]")
    expect(page.get_by_test_id("run-row")).to_have_count(1)
    shot(page, "runs")

    page.click("nav >> [data-nav=profit_shares]")
    page.wait_for_url("**/console/reconcile/shares/")
    # the first payment's share, and the late one's: started by itself once the fix-up recorded its sale
    expect(page.get_by_test_id("share-row")).to_have_count(2)
    expect(page.get_by_test_id("share-amount").first).to_be_visible()
    expect(
        page.locator("[data-testid=share-row][data-state=finished]").first.get_by_test_id("share-why")
    ).to_contain_text("limit")
    shot(page, "shares")
    context.close()
