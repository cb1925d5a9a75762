"""The sales overview in a real browser (issue #20, "Dashboards"): a finance manager opens Console → Sales overview
and reads net sales, the member share and the baskets of the last 30 days against the previous 30, the members /
non-members chart per day and the channel split — figures from the daily rollups of real sales and a refund; a
reversed custom period is refused inline. Screenshots under var/screenshots/analytics/<screen>-<lang>.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.analytics import services
from galleria.sales.services import sale_commit, sale_refund
from galleria.sales.tests.helpers import ACTOR, member, sale_in

from .screens import staff_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "analytics"


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_sales_overview_shows_the_rollups(browser, live_server, world, lang):
    m = member(world)
    sale_commit(data=sale_in(world, member_id=m.pk, amounts=(30_000,), pos_id="B1"), actor=ACTOR)
    sale_commit(data=sale_in(world, amounts=(10_000,), pos_id="B2"), actor=ACTOR)
    sale_commit(data=sale_in(world, member_id=m.pk, amounts=(20_000,), pos_id="B3"), actor=ACTOR)
    sale_refund(merchant_id=world.merchant.pk, pos_sale_id="B1", pos_refund_id="RB1", lines=None)
    services.rollup_refresh(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))

    violations: list[str] = []
    context, page = staff_page(browser, live_server, world.users["finance"].username, lang)
    watch(page, violations)
    page.goto(live_server.url + "/console/")
    page.locator("[data-nav=analytics_sales]").click()
    expect(page.get_by_test_id("kpi-net")).to_contain_text("300.00")  # ¥600 sold, ¥300 refunded
    expect(page.get_by_test_id("kpi-sales")).to_contain_text("3")
    expect(page.get_by_test_id("kpi-member_share")).to_contain_text("66.67%")  # ¥200 of ¥300
    expect(page.get_by_test_id("kpi-member_basket")).to_contain_text("250.00")
    expect(page.get_by_test_id("kpi-guest_basket")).to_contain_text("100.00")
    expect(page.get_by_test_id("merchant-table")).to_contain_text(world.merchant.name)
    expect(page.locator("[data-testid=chart-daily] canvas")).to_have_count(1)
    expect(page.locator("[data-testid=chart-channels] canvas")).to_have_count(1)
    expect(page.locator("[data-testid=chart-points] canvas")).to_have_count(1)  # the member's points moved today
    expect(page.get_by_test_id("kpi-liability")).to_contain_text("¥")
    expect(page.locator("[data-testid=chart-joins] canvas")).to_have_count(1)  # the member joined today
    expect(page.get_by_test_id("kpi-joined")).to_contain_text("1")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"overview-{lang}.png"), full_page=True)

    page.get_by_test_id("analytics-filters").locator("#an-period").select_option("custom")
    page.locator("#an-start").fill("2026-03-10")
    page.locator("#an-end").fill("2026-03-01")
    page.get_by_test_id("analytics-apply").click()
    expect(page.get_by_test_id("analytics-error")).to_be_visible()
    assert not violations, violations
    context.close()
