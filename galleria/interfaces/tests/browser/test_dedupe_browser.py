"""Duplicates in a real browser: customer service opens the duplicates report, reviews a pair found by the same
phone (masked until "Show full phones", which is logged), chooses the survivor, merges, lands on the survivor's 360
page, then undoes the merge from its record.

Screenshots: var/screenshots/dedupe-*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from galleria.audit.types import Actor
from galleria.dedupe.models import MergeRecord, MergeStatus
from galleria.members.models import Member, MemberStatus
from galleria.members.services import member_register
from galleria.testing import PASSWORD

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
ACTOR = Actor.system("browser")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalogue():
    call_command("compile_translations", verbosity=0)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"dedupe-{name}.png"), full_page=True)


def test_report_review_merge_then_undo(browser, live_server, world):
    a = member_register(mall=world.mall, phone="13800138001", channel="desk", actor=ACTOR, profile={"name": "陈静"})
    b = member_register(mall=world.mall, phone="13900139002", channel="desk", actor=ACTOR, profile={"name": "陈静"})
    Member.objects.filter(pk=b.pk).update(phone="138 0013 8001")  # an imported display copy, formatted differently
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", "service")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")

    page.click("[data-nav=duplicates]")
    expect(page.get_by_test_id("duplicate-row")).to_have_count(1)
    shot(page, "report")
    page.get_by_test_id("review-pair").click()
    expect(page.get_by_test_id("merge-preview")).to_be_visible()
    page.get_by_test_id(f"keep-{b.pk}").click()
    expect(page.get_by_test_id(f"kept-{b.pk}")).to_be_visible()
    expect(page.get_by_test_id(f"side-phone-{a.pk}")).to_contain_text("138****8001")  # masked, as everywhere
    shot(page, "pair")
    page.get_by_test_id("reveal-phones").click()  # htmx swaps the two sides in place; the survivor stays chosen
    expect(page.get_by_test_id(f"side-phone-{a.pk}")).to_contain_text("13800138001")
    expect(page.get_by_test_id(f"kept-{b.pk}")).to_be_visible()
    expect(page.get_by_test_id("reveal-phones")).to_have_count(0)
    shot(page, "pair-phones")
    page.get_by_test_id("merge-submit").click()
    page.wait_for_url(f"**/console/members/{b.pk}/")
    assert Member.objects.get(pk=a.pk).status == MemberStatus.MERGED
    shot(page, "survivor")

    page.goto(live_server.url + "/console/duplicates/merges/")
    page.get_by_test_id("open-merge").click()
    page.get_by_test_id("undo-submit").click()
    expect(page.get_by_test_id("undo-form")).to_have_count(0)  # translated status text arrives with the PO merge
    shot(page, "undone")
    assert Member.objects.get(pk=a.pk).status == MemberStatus.ACTIVE
    assert MergeRecord.objects.get().status == MergeStatus.UNDONE
    context.close()
