"""The receipt journey in a real browser: a member uploads a generated receipt photo in the app (390×844), the
background read pre-fills the form, the member submits; a reviewer approves it in the console (1440×900); the
member sees the points. Runs with the real OCR engine (rapidocr). Screenshots, zh-Hans and English:
var/shots/receipts/*.png.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from galleria.receipts.generator import ReceiptSpec, render_receipt
from galleria.receipts.models import Receipt
from galleria.testing import PASSWORD

from .helpers import SH, new_member

SHOTS = Path(settings.BASE_DIR) / "var" / "shots" / "receipts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _real_ocr_and_catalogue(settings, scripted_ocr):
    settings.GALLERIA_RECEIPT_OCR_ENGINE = "galleria.receipts.ocr.RapidOcrEngine"
    call_command("compile_translations", verbosity=0)


def _context(browser, live_server, *, lang, mobile):
    size = {"width": 390, "height": 844} if mobile else {"width": 1440, "height": 900}
    context = browser.new_context(viewport=size, locale="zh-CN" if lang == "zh" else "en-US")
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans" if lang == "zh" else "en", "url": live_server.url}]
    )
    return context


def shot(page, name, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{lang}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_member_snaps_a_receipt_and_staff_approves(browser, live_server, world, lang, tmp_path):
    member = new_member(world)
    when = timezone.localtime(timezone.now() - dt.timedelta(hours=3), SH).replace(tzinfo=None, microsecond=0)
    spec = ReceiptSpec(
        shop="喜茶",
        tax_no="91440300MA5F000018",
        receipt_no=f"2026{member.pk:05d}88",
        occurred_at=when,
        items=(("多肉葡萄", 2, 2900), ("芝芝莓莓", 1, 3200)),
        layout="supermarket",
        rotation=3.0,
        noise=0.5,
        seed=11,
    )
    photo = tmp_path / "receipt.jpg"
    photo.write_bytes(render_receipt(spec))

    app = _context(browser, live_server, lang=lang, mobile=True)
    session = SessionStore()
    session["member_id"] = member.pk
    session.save()
    app.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url}])
    page = app.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server.url + "/app/")
    page.locator("a[href='/app/receipts/']").first.click()
    page.wait_for_url("**/app/receipts/")
    shot(page, "app-list-empty", lang)
    page.get_by_test_id("receipt-photo").set_input_files(str(photo))  # the page uploads at once
    page.wait_for_url("**/app/receipts/*/")
    expect(page.get_by_test_id("receipt-form")).to_be_visible()
    expect(page.locator("#id_amount")).to_have_value("90.00")  # 2 × 29 + 32, read by the OCR
    expect(page.locator("#id_receipt_no")).to_have_value(spec.receipt_no)
    expect(page.locator("#id_merchant")).to_have_value(str(world.merchant.pk))
    expect(page.locator("#id_occurred_at")).to_have_value(when.strftime("%Y-%m-%dT%H:%M"))
    shot(page, "app-prefilled", lang)
    page.get_by_test_id("receipt-submit").click()
    page.wait_for_url("**/app/receipts/")
    expect(page.get_by_test_id("receipt-status").first).to_have_attribute("data-status", "pending")
    shot(page, "app-submitted", lang)

    console = _context(browser, live_server, lang=lang, mobile=False)
    staff = console.new_page()
    staff.set_default_timeout(15_000)
    staff.goto(live_server.url + "/console/login/")
    staff.fill("#id_username", world.users["service"].username)
    staff.fill("#id_password", PASSWORD)
    staff.click("button[type=submit]")
    staff.wait_for_load_state("networkidle")
    staff.goto(live_server.url + "/console/receipts/")
    expect(staff.get_by_test_id("count-waiting")).to_have_text("1")
    shot(staff, "console-queue", lang)
    staff.get_by_test_id("review-link").first.click()
    expect(staff.get_by_test_id("review-image")).to_be_visible()
    shot(staff, "console-review", lang)
    staff.keyboard.press("a")  # the keyboard shortcut approves
    staff.wait_for_url("**/console/receipts/")
    receipt = Receipt.objects.get(member=member)
    assert receipt.status == "approved" and receipt.points_earned > 0

    page.reload()
    expect(page.get_by_test_id("receipt-status").first).to_have_attribute("data-status", "approved")
    expect(page.get_by_test_id("receipt-status").first).to_contain_text(str(receipt.points_earned))
    shot(page, "app-approved", lang)
    page.goto(live_server.url + "/app/points/")
    expect(page.get_by_test_id("points-balance")).to_have_attribute("data-balance", str(receipt.points_earned))
    staff.goto(live_server.url + "/console/receipts/settings/")
    shot(staff, "console-settings", lang)
    app.close()
    console.close()
