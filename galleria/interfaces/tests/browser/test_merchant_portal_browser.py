"""Merchant portal in a real browser: a clerk scans a member's dynamic code and sees a masked member."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.members.selectors import member_code_current
from galleria.members.services import member_register
from galleria.merchants.models import Merchant
from galleria.testing import PASSWORD

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def sign_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/merchant/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_clerk_looks_up_a_member_by_dynamic_code(page, live_server, world):
    import datetime as dt

    Merchant.objects.filter(pk=world.merchant.pk).update(
        contract_no="XH-2024-0018",
        contract_starts_on=dt.date(2024, 7, 1),
        contract_ends_on=dt.date(2027, 6, 30),
        contact_name="陈经理",
        contact_phone="0755-26660018",
    )
    member = member_register(
        mall=world.mall,
        phone="13812345678",
        channel="desk",
        actor=Actor.system(),
        profile={"name": "张小明", "email": "xiaoming@example.com"},
    )
    sign_in(page, live_server, "heytea-clerk")
    expect(page.get_by_test_id("overview")).to_contain_text("星河广场")
    shot(page, "merchant-overview.png")

    page.click("nav >> text=Member lookup")
    page.wait_for_url("**/merchant/lookup/")
    box = page.locator("#lookup-form input[name=q]")
    expect(box).to_be_focused()
    box.fill(member_code_current(member=member).code)
    box.press("Enter")  # a scanner types the code and presses Enter
    expect(page.get_by_test_id("masked-phone")).to_have_text("138****5678")
    expect(page.get_by_test_id("card-no")).to_have_text(member.card_no)
    assert page.url.endswith("/merchant/lookup/")  # swapped in place by htmx
    html = page.content()
    assert "13812345678" not in html and "xiaoming@example.com" not in html and "张小明" not in html
    assert AuditEvent.objects.filter(action="member.lookup", target_id=str(member.pk)).count() == 1
    shot(page, "merchant-lookup.png")

    box.fill("661234567890123456")  # looks like a dynamic code, but not a current one
    box.press("Enter")
    expect(page.get_by_test_id("lookup-error")).to_contain_text("Ask the member to refresh it")
    shot(page, "merchant-lookup-stale.png")

    page.click("nav >> text=Shop profile")
    expect(page.get_by_test_id("stores")).to_contain_text("L1-018")
    shot(page, "merchant-profile.png")
    expect(page.locator("nav")).not_to_contain_text("Staff")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_owner_adds_a_clerk(page, live_server, world):
    sign_in(page, live_server, "heytea-owner")
    page.click("nav >> text=Staff")
    page.fill("#id_username", "heytea-clerk2")
    page.fill("#id_display_name", "小王")
    page.select_option("#id_role", "merchant_clerk")
    page.fill("#id_password", "short")
    page.click("[data-testid=staff-form] button[type=submit]")
    expect(page.locator("[data-testid=staff-form] .errorlist")).to_be_visible()
    page.fill("#id_password", "Tea-Time-2026!")
    page.click("[data-testid=staff-form] button[type=submit]")
    expect(page.get_by_test_id("staff-table")).to_contain_text("heytea-clerk2")
    expect(page.locator(".alert-success")).to_be_visible()
    shot(page, "merchant-staff.png")
