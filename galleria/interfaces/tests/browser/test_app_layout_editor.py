"""The console's home layout editor in a browser: marketing uploads a banner, adds it and a notice, moves the notice
up, sees the draft in the phone-frame preview (an iframe under the CSP), publishes, and the member's home shows it.
Screenshots: var/screenshots/app/console-layout-*.png and the member's home after publishing."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from galleria.audit.types import Actor
from galleria.content.models import HomeLayoutVersion
from galleria.content.tests.test_rules import png
from galleria.members.services import member_register
from galleria.testing import PASSWORD

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "app"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalogue():
    call_command("compile_translations", verbosity=0)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_marketing_arranges_previews_and_publishes(browser, live_server, world, tmp_path):
    url = live_server.url
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(url + "/console/login/")
    page.fill("#id_username", "marketing")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(url + "/console/content/home/")
    image = tmp_path / "spring.png"
    image.write_bytes(png(1000, 400))
    page.set_input_files("#upload", str(image))
    page.get_by_test_id("upload").click()
    page.fill("#nb-alt", "Spring sale: 30 off 200")
    page.select_option("#nb-lk", "page")
    page.fill("#nb-lt", "claim_centre")
    page.get_by_test_id("add-banner-submit").click()
    expect(page.locator("[data-testid=block]")).to_have_count(4)
    page.fill("#new-notice", "Car park B2 is closed on Monday")
    page.get_by_test_id("add-section-notice").click()
    notice = page.locator("[data-testid=block]").last
    notice.get_by_test_id("move-up").click()
    expect(page.locator("[data-testid=block]").nth(3)).to_contain_text("Notice")
    frame = page.frame_locator("[data-testid=preview-frame]")
    expect(frame.get_by_text("Car park B2 is closed on Monday")).to_be_visible()
    expect(frame.locator("img[alt='Spring sale: 30 off 200']")).to_be_visible()
    expect(page.get_by_test_id("draft-changed")).to_be_visible()
    shot(page, "console-layout-editor-en")
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("versions")).to_contain_text("v1")
    assert HomeLayoutVersion.objects.filter(mall_group=world.group).count() == 1
    assert not violations, violations

    member = member_register(mall=world.mall, phone="13800138000", channel="desk", actor=Actor.system("t"))
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["member_id"] = member.pk
    store.create()
    app_context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    app_context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": url}])
    app = app_context.new_page()
    app.goto(url + "/app/")
    expect(app.get_by_test_id("banners").locator("img")).to_have_attribute("alt", "Spring sale: 30 off 200")
    expect(app.get_by_test_id("section-notice")).to_contain_text("Car park B2")
    shot(app, "home-published-zh")
    app_context.close()
    context.close()
