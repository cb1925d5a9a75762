"""Plates verified once, in real browsers: a member finds their plate bound to someone else, sends a photo of the
vehicle licence from the phone (390×844); the service desk opens the queue in the console, sees the plate is held by
another member and that the plate was read from the photo, approves; the plate moves, the former holder is told, the
photo is gone; the member sees the plate verified and turns on the frictionless exit, which charges at the next exit.
A second photo is refused with the reason the member reads. No CSP violation. Screenshots in zh-Hans and English
under var/screenshots/plates/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from playwright.sync_api import Page, expect

from galleria.audit.types import Actor
from galleria.members.selectors import plate_binding
from galleria.members.services import member_identifier_add
from galleria.messaging.models import InboxMessage
from galleria.parking import services
from galleria.parking.models import ParkingProfile, PlateClaim
from galleria.parking.specimens import licence_photo
from galleria.parking.tests.helpers import car_park, fund_wallet, member
from galleria.receipts.ocr import ScriptedOcrEngine

from .screens import member_page, staff_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "plates"
ACTOR = Actor.system("browser-test")
PLATE = "粤B12345"


@pytest.fixture(autouse=True)
def _photos(settings, tmp_path):
    settings.GALLERIA_RECEIPT_OCR_ENGINE = "galleria.receipts.ocr.ScriptedOcrEngine"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    ScriptedOcrEngine.reset()
    ScriptedOcrEngine.lines = [("中华人民共和国机动车行驶证", 99), ("号牌号码 粤B·12345", 96)]
    yield
    ScriptedOcrEngine.reset()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_member_proves_a_plate_the_desk_approves_and_the_frictionless_exit_charges_it(
    browser, live_server, world, lang
):
    park = car_park(world)
    squatter, owner = member(world), member(world)
    member_identifier_add(member_id=squatter.pk, actor=ACTOR, kind="plate", value=PLATE)
    fund_wallet(world, owner, 20_000)
    violations: list[str] = []
    app_ctx, app = member_page(browser, live_server, owner, lang)
    console_ctx, console = staff_page(browser, live_server, "service", lang)
    watch(app, violations)
    watch(console, violations)
    try:
        # binding the plate is refused: it is someone else's binding; the app offers the proof
        app.goto(live_server.url + "/app/profile/")
        app.fill("#id_plate", "粤b 12345")
        app.locator("[data-testid=plate-form] button[type=submit]").click()
        expect(app.get_by_test_id("plate-error")).to_be_visible()
        app.get_by_test_id("plate-claim-link").click()
        app.wait_for_url("**/app/parking/plates/?plate=*")
        expect(app.get_by_test_id("claim-plate")).to_have_value(PLATE)
        app.get_by_test_id("claim-photo").set_input_files(
            files=[{"name": "licence.jpg", "mimeType": "image/jpeg", "buffer": licence_photo("粤B·12345")}]
        )
        shot(app, f"app-claim-form-{lang}")
        app.get_by_test_id("claim-send").click()
        app.wait_for_url("**/app/parking/plates/")
        expect(app.get_by_test_id("claim-row")).to_have_count(1)
        expect(app.get_by_test_id("claim-row")).to_have_attribute("data-status", "pending")
        shot(app, f"app-claim-sent-{lang}")
        claim = PlateClaim.objects.get(member=owner)
        photo_name = claim.image_name
        assert default_storage.exists(photo_name)

        # the service desk's queue: one waiting, the plate held by another member, the plate read from the photo
        console.goto(live_server.url + "/console/parking/plates/")
        expect(console.get_by_test_id("claims-pending")).to_have_text("1")
        expect(console.get_by_test_id("claims-conflicts")).to_have_text("1")
        shot(console, f"console-queue-{lang}")
        console.get_by_test_id(f"claim-{claim.pk}").get_by_role("link").click()
        console.wait_for_url(f"**/console/parking/plates/{claim.pk}/")
        expect(console.get_by_test_id("claim-photo")).to_be_visible()
        console.wait_for_function("document.querySelector('[data-testid=claim-photo]').naturalWidth > 0")
        expect(console.get_by_test_id("ocr-hint")).to_be_visible()
        expect(console.get_by_test_id("claim-holder").locator(".badge-danger")).to_be_visible()  # held by another
        shot(console, f"console-review-{lang}")
        console.get_by_test_id("approve").click()
        console.wait_for_url("**/console/parking/plates/")
        expect(console.get_by_test_id("claims-pending")).to_have_text("0")

        holder = plate_binding(mall_group_id=owner.mall_group_id, plate=PLATE)
        assert holder is not None and holder.member_id == owner.pk and holder.is_verified
        assert not default_storage.exists(photo_name)  # deleted once decided
        assert InboxMessage.objects.filter(member_id=squatter.pk).count() == 1  # the former holder is told

        # the member: verified; the frictionless exit can be turned on and charges at the exit
        app.goto(live_server.url + "/app/parking/")
        expect(app.get_by_test_id("my-plates").get_by_test_id("plate-verified")).to_have_count(1)
        app.get_by_test_id("auto-pay-toggle").click()
        app.wait_for_url("**/app/parking/#auto-pay")
        expect(app.get_by_test_id("auto-pay-state")).to_have_attribute("data-on", "1")
        shot(app, f"app-verified-auto-pay-{lang}")
        assert ParkingProfile.objects.get(member_id=owner.pk).auto_pay
        services.event_entry(
            car_park=park, event_id="in-1", plate=PLATE, at=timezone.now() - dt.timedelta(hours=2, minutes=5)
        )
        decision = services.exit_request(car_park=park, plate=PLATE)
        assert (decision.decision, decision.reason) == ("open", "auto_paid")

        # a second plate's photo is refused with a reason the member reads
        app.goto(live_server.url + "/app/parking/plates/")
        app.get_by_test_id("claim-plate").fill("粤B54321")
        app.get_by_test_id("claim-photo").set_input_files(
            files=[{"name": "blurred.jpg", "mimeType": "image/jpeg", "buffer": licence_photo("粤B·54321")}]
        )
        app.get_by_test_id("claim-send").click()
        app.wait_for_url("**/app/parking/plates/")
        second = PlateClaim.objects.get(member=owner, plate="粤B54321")
        console.goto(f"{live_server.url}/console/parking/plates/{second.pk}/")
        console.get_by_test_id("reject").click()  # no reason: refused inline
        expect(console.get_by_test_id("decide-error")).to_be_visible()
        console.select_option("#claim-template", index=1)
        console.get_by_test_id("reject").click()
        console.wait_for_url("**/console/parking/plates/")
        app.goto(live_server.url + "/app/parking/plates/")
        expect(app.locator("[data-testid=claim-row][data-status=rejected]")).to_have_count(1)
        expect(app.get_by_test_id("claim-reason")).to_be_visible()
        shot(app, f"app-claim-rejected-{lang}")
        assert violations == []
    finally:
        app_ctx.close()
        console_ctx.close()
