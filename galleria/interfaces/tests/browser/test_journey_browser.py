"""A journey in a real browser (issue #18, "Journeys"): a marketing manager builds a welcome journey in the step
editor — a message, a one-day wait, a branch on "bought since entering" with points for buyers and a coupon for the
rest — sees a step's mistake marked where it is, saves, publishes; new members enter as they join, get the message in
the app inbox, wait, and take their branch; the journey's page counts every step and who waits where. Screenshots
under var/screenshots/journeys/<screen>-<lang>.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.audience.tests.helpers import member, sale
from galleria.campaigns.models import MarketingSettings
from galleria.core import timeutil
from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import template as coupon_template
from galleria.journeys import services
from galleria.journeys.models import Journey
from galleria.points.models import PointsLot

from .screens import member_page, staff_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "journeys"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def add(page, scope, kind: str) -> None:
    scope.get_by_test_id("jed-add-kind").last.select_option(kind)
    scope.get_by_test_id("jed-add").last.click()


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_welcome_journey_is_built_published_and_walked(browser, live_server, world, lang):
    coupon = coupon_template(world, name="新人 ¥20 券")
    MarketingSettings.objects.create(mall_group=world.group, quiet_start=dt.time(0), quiet_end=dt.time(0))  # none
    violations: list[str] = []
    context, page = staff_page(browser, live_server, world.users["marketing"].username, lang)
    watch(page, violations)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(live_server.url + "/console/journeys/")
    page.get_by_test_id("jny-new").click()
    page.get_by_test_id("jny-name").fill("新会员欢迎旅程")
    page.get_by_test_id("jny-trigger").select_option("joined")
    expect(page.locator("#jny-days-field")).to_be_hidden()
    editor = page.get_by_test_id("jny-editor")
    add(page, editor, "message")
    editor.get_by_test_id("jed-title").fill("欢迎加入星河会员")
    editor.get_by_test_id("jed-body").fill("首次消费即送 100 积分，快来逛逛吧。")
    add(page, editor, "wait")
    editor.get_by_test_id("jed-wait").fill("1")
    editor.get_by_test_id("jed-wait-unit").select_option("days")
    add(page, editor, "branch")
    branch = editor.locator("[data-kind=branch]")
    add(page, branch.get_by_test_id("jed-yes"), "points")
    branch.get_by_test_id("jed-points").fill("100")
    add(page, branch.get_by_test_id("jed-no"), "coupon")
    branch.get_by_test_id("jed-no").get_by_test_id("jed-coupon").select_option("")  # forgot to choose one
    page.get_by_test_id("jny-save").click()
    # refused: the coupon step is marked, everything typed is still there
    expect(page.get_by_test_id("jny-error")).to_be_visible()
    expect(page.get_by_test_id("jed-error")).to_have_count(1)
    expect(page.locator("[data-kind=coupon].has-error")).to_have_count(1)
    expect(editor.get_by_test_id("jed-title")).to_have_value("欢迎加入星河会员")
    page.locator("[data-kind=coupon]").get_by_test_id("jed-coupon").select_option(str(coupon.pk))
    shot(page, f"editor-{lang}")
    page.get_by_test_id("jny-save").click()
    page.get_by_test_id("jny-publish").click()
    expect(page.get_by_test_id("jny-status")).to_have_text("Running" if lang == "en" else "进行中")

    j = Journey.objects.get()
    now = timeutil.now()
    buyer = member(world, joined_at=now)
    idle = member(world, joined_at=now)
    services.journeys_advance(now=now)
    page.reload()
    expect(page.get_by_test_id("jny-entered")).to_have_text("2")
    expect(page.get_by_test_id("jny-waiting")).to_contain_text("2")
    mctx, mpage = member_page(browser, live_server, buyer, lang)
    mpage.goto(live_server.url + "/app/inbox/")
    expect(mpage.get_by_text("欢迎加入星河会员").first).to_be_visible()
    mctx.close()

    sale(world, buyer, at=now + dt.timedelta(hours=3))
    services.journeys_advance(now=now + dt.timedelta(days=1, minutes=1))
    page.reload()
    expect(page.get_by_test_id("jny-done")).to_have_text("2")
    assert PointsLot.objects.get(member=buyer).points == 100
    assert Coupon.objects.get(member=idle, template=coupon).source == "journey"
    assert j.pk
    shot(page, f"journey-{lang}")

    page.get_by_test_id("jny-pause").click()
    expect(page.get_by_test_id("jny-status")).to_have_text("Paused" if lang == "en" else "已暂停")
    context.close()
    assert violations == []
