"""Privacy in a real browser (zh-Hans, the default; phone viewport 390×844 for the app):

- a member withdraws a marketing consent, prepares and downloads their data, asks to delete the account and
  cancels during the cooling-off window;
- a group admin opens a member's page (unmasked email and birthday: logged), then searches the access log.

Screenshots: var/screenshots/privacy-*.png.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from galleria.audit.models import PiiAccess
from galleria.audit.types import Actor
from galleria.members.selectors import marketing_allowed
from galleria.members.services import member_register
from galleria.privacy.models import PrivacyRequest
from galleria.testing import PASSWORD

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
ACTOR = Actor.system("browser")
PHONE = "13800138123"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalogue():
    call_command("compile_translations", verbosity=0)


def context_page(browser, *, locale: str = "zh-CN", mobile: bool = False) -> Page:
    viewport = {"width": 390, "height": 844} if mobile else {"width": 1440, "height": 900}
    context = browser.new_context(viewport=viewport, locale=locale, is_mobile=mobile, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"privacy-{name}.png"), full_page=True)


def member_cookie(page: Page, url: str, member) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["member_id"] = member.pk
    store.create()
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": url}])


def test_member_withdraws_exports_and_cancels_deletion(browser, live_server, world):
    member = member_register(
        mall=world.mall,
        phone=PHONE,
        channel="app",
        actor=ACTOR,
        profile={"name": "王小明"},
        consents=("privacy_policy", "marketing_sms", "marketing_wechat"),
    )
    page = context_page(browser, mobile=True)
    member_cookie(page, live_server.url, member)

    page.goto(live_server.url + "/app/profile/")
    page.get_by_test_id("link-consents").click()
    expect(page.get_by_test_id("consents")).to_be_visible()
    sms = page.get_by_test_id("consent-marketing_sms")
    sms.get_by_test_id("consent-toggle").click()
    state = page.get_by_test_id("consent-marketing_sms").get_by_test_id("consent-state")
    expect(state).to_have_attribute("data-state", "off")
    assert marketing_allowed(member_id=member.pk, channel="sms") is False
    assert marketing_allowed(member_id=member.pk, channel="wechat") is True
    shot(page, "app-consents")

    page.get_by_test_id("export-create").click()
    expect(page.get_by_test_id("export-summary")).to_be_visible()
    expect(page.get_by_test_id("export-profile")).to_contain_text("王小明")
    shot(page, "app-export")
    with page.expect_download() as info:
        page.get_by_test_id("export-json").click()
    doc = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert doc["profile"]["member_id"] == member.pk and doc["profile"]["phone"] == "+86" + PHONE
    assert doc["consents"][-1]["purpose"] == "marketing_sms" and doc["consents"][-1]["granted"] is False

    page.goto(live_server.url + "/app/profile/privacy/#delete")
    page.fill("#id_last4", "0000")
    page.check("#id_understand")
    page.get_by_test_id("delete-submit").click()
    expect(page.get_by_test_id("delete-error")).to_be_visible()  # wrong digits: a friendly error, nothing asked
    assert not PrivacyRequest.objects.filter(member=member, kind="erasure").exists()
    page.fill("#id_last4", PHONE[-4:])
    page.check("#id_understand")
    page.get_by_test_id("delete-submit").click()
    expect(page.get_by_test_id("erasure-pending")).to_be_visible()
    request = PrivacyRequest.objects.get(member=member, kind="erasure")
    assert request.status == "pending" and request.due_at - request.requested_at == dt.timedelta(days=15)
    shot(page, "app-deletion-pending")
    page.get_by_test_id("erasure-cancel").click()
    expect(page.get_by_test_id("erasure-pending")).to_have_count(0)
    request.refresh_from_db()
    assert request.status == "cancelled"
    page.context.close()


def test_staff_searches_the_access_log(browser, live_server, world):
    member = member_register(
        mall=world.mall,
        phone=PHONE,
        channel="desk",
        actor=ACTOR,
        profile={"name": "王小明", "email": "xm@example.com", "birthday": dt.date(1990, 3, 8)},
    )
    page = context_page(browser)
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", world.users["group_admin"].username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.goto(live_server.url + f"/console/members/{member.pk}/")
    expect(page.get_by_test_id("member-privacy")).to_be_visible()
    page.get_by_test_id("member-privacy").screenshot(path=str(SHOTS / "privacy-console-member.png"))
    page.get_by_test_id("reveal-phone").click()
    expect(page.get_by_test_id("phone-cell")).to_contain_text(PHONE)
    assert PiiAccess.objects.filter(member_id=member.pk).count() == 2  # the page (email, birthday), the phone

    page.locator('.sidebar [data-nav="privacy_access_log"]').click()
    expect(page.get_by_test_id("access-log")).to_be_visible()
    page.fill("#id_actor", world.users["group_admin"].username)
    page.fill("#id_member", str(member.pk))
    page.get_by_test_id("access-log-search").click()
    rows = page.get_by_test_id("access-row")
    expect(rows).to_have_count(2)
    expect(rows.first.get_by_test_id("access-source")).to_have_attribute("title", "console:member_phone")  # named
    shot(page, "console-access-log")
    page.fill("#id_actor", "nobody-like-this")
    page.get_by_test_id("access-log-search").click()
    expect(page.get_by_test_id("access-row")).to_have_count(0)
    page.goto(live_server.url + "/console/privacy/requests/")
    expect(page.get_by_test_id("privacy-requests")).to_be_visible()
    page.context.close()
