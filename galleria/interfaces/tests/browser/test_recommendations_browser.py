"""Recommendations in a real browser (issue #23): the member sees the "为你推荐" block on the app home where the
layout placed it, opens the for-you page with the reasons, switches personalisation off with one tap and sees popular
content instead; the console shows the model's training and offline scores and what a member is recommended and
why, with the phone masked. Screenshots under var/screenshots/recommendations/<screen>-<lang>.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.audit.types import Actor
from galleria.content import services as content_services
from galleria.core import timeutil
from galleria.members.services import member_register
from galleria.merchants.models import Category
from galleria.recommendations import services
from galleria.recommendations.tests.helpers import members, merchant, sales

from .screens import member_page, staff_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "recommendations"
ACTOR = Actor.system("test")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_for_you_block_page_switch_and_console(browser, live_server, world, lang):
    cake = merchant(world, "蛋糕坊", Category.DINING)
    cinema = merchant(world, "星河影城", Category.ENTERTAINMENT)
    me = member_register(mall=world.mall, phone="13912345678", channel="desk", actor=ACTOR)
    now = timeutil.now()
    rows = [(me, world.merchant, now - dt.timedelta(days=d)) for d in (1, 3, 5)]
    for i, o in enumerate(members(world, 10)):
        rows += [(o, world.merchant, now - dt.timedelta(days=6)), (o, cake, now - dt.timedelta(days=4))]
        if i % 2:
            rows.append((o, cinema, now - dt.timedelta(days=3)))
    sales(world, rows)
    services.model_train(mall_group_id=world.group.pk)
    services.model_evaluate(mall_group_id=world.group.pk)
    blocks = [
        {"id": "fy0001", "type": "section", "kind": "for_you", "title": "", "text": ""},
        {"id": "ent001", "type": "entries", "keys": ["coupons", "events"]},
    ]
    content_services.layout_draft_edit(mall_group_id=world.group.pk, revision=0, edit=lambda b: blocks, actor=ACTOR)
    content_services.layout_publish(mall_group_id=world.group.pk, revision=1, actor=ACTOR)

    violations: list[str] = []
    context, page = member_page(browser, live_server, me, lang)
    watch(page, violations)
    page.goto(live_server.url + "/app/")
    block = page.get_by_test_id("section-for-you")
    expect(block).to_be_visible()
    expect(block.get_by_test_id("for-you-merchant").first).to_contain_text("蛋糕坊")
    expect(block).to_contain_text("喜茶")  # the reason names the member's own merchant
    shot(page, f"app-home-{lang}")
    block.get_by_test_id("for-you-more").click()
    expect(page.get_by_test_id("for-you-pick").first).to_contain_text("蛋糕坊")
    shot(page, f"app-for-you-{lang}")
    page.get_by_test_id("for-you-off").click()
    expect(page.get_by_test_id("for-you-on")).to_be_visible()
    # popular content: the most popular merchant first, even one the member shops at (nothing from their history)
    expect(page.get_by_test_id("for-you-pick").first).to_contain_text("喜茶")
    shot(page, f"app-for-you-off-{lang}")
    context.close()

    context, page = staff_page(browser, live_server, world.users["marketing"].username, lang)
    watch(page, violations)
    page.goto(live_server.url + "/console/recommendations/")
    expect(page.get_by_test_id("rec-score-model")).to_be_visible()
    page.get_by_test_id("rec-member-q").fill("13912345678")
    page.get_by_test_id("rec-member-go").click()
    expect(page.get_by_test_id("rec-member")).to_contain_text("139****5678")
    expect(page.get_by_test_id("rec-member-off")).to_be_visible()  # the member switched off just now
    shot(page, f"console-{lang}")
    page.get_by_test_id("rec-switch-events").uncheck()
    page.get_by_test_id("rec-switches-save").click()
    expect(page.get_by_test_id("rec-switch-events")).not_to_be_checked()
    context.close()
    assert not violations, violations
