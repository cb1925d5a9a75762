"""The main screens of each audience in zh-Hans (the default) and in English, switched with the header's
language switch: text is really translated, nothing is left in the other language's key phrases, and the
screenshots (var/screenshots/i18n-*.png) are there to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from galleria.audit.types import Actor
from galleria.members.selectors import member_code_current
from galleria.members.services import member_identifier_add, member_register
from galleria.sales import services as sale_services
from galleria.sales.tests.helpers import sale_in
from galleria.testing import PASSWORD
from galleria.tiers.services import tier_ladder_ensure_default

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _compiled_catalogue():
    call_command("compile_translations", verbosity=0)


@pytest.fixture
def zh_page(browser, live_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"i18n-{name}.png"), full_page=True)


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_console_and_portal_in_both_languages(zh_page, live_server, world):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    member = member_register(
        mall=world.mall, phone="13812345678", channel="desk", actor=Actor.system(), profile={"name": "王小明"}
    )
    member_identifier_add(member_id=member.pk, actor=Actor.system(), kind="plate", value="粤B12345")
    sale_services.sale_commit(data=sale_in(world, member_id=member.pk, amounts=(12800,)), actor=Actor.system())
    page = zh_page
    sign_in(page, live_server.url, "admin")
    expect(page.locator("nav")).to_contain_text("会员")
    expect(page.locator("h1")).to_contain_text("数据看板")
    shot(page, "console-dashboard-zh")
    page.goto(f"{live_server.url}/console/members/{member.pk}/")
    expect(page.locator("body")).to_contain_text("车牌")
    shot(page, "console-member-zh")
    page.goto(f"{live_server.url}/console/loyalty/points/")
    shot(page, "console-points-rules-zh")
    page.click("[data-testid=lang-switch] button[value=en]")
    expect(page.locator("nav")).to_contain_text("Members")
    page.goto(f"{live_server.url}/console/members/{member.pk}/")
    expect(page.locator("body")).to_contain_text("Licence plate")
    shot(page, "console-member-en")
    page.goto(f"{live_server.url}/console/")
    shot(page, "console-dashboard-en")

    page.context.clear_cookies()
    sign_in(page, live_server.url, "heytea-clerk")
    page.wait_for_url(live_server.url + "/merchant/")
    page.goto(live_server.url + "/merchant/lookup/")
    box = page.locator("#lookup-form input[name=q]")
    box.fill(member_code_current(member=member).code)
    box.press("Enter")
    expect(page.get_by_test_id("masked-phone")).to_have_text("138****5678")
    expect(page.locator("body")).not_to_contain_text("13812345678")
    expect(page.locator("body")).to_contain_text("会员")
    shot(page, "merchant-lookup-zh")
