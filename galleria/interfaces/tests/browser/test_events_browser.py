"""Events in a real browser (issue #19, "Events"): a member opens the events list, registers for an event and sees
the ticket's QR code; at the check-in desk a staff member types the code, finds the ticket and checks the member in;
the same code again is refused politely. On the way the console's event page and attendance are shown. No CSP
violation on any page. Screenshots under var/screenshots/events/<screen>-<lang>.png (looked at by a person)."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from galleria.core import timeutil
from galleria.events import services
from galleria.events.models import Registration
from galleria.events.tests.helpers import ACTOR, event, member, register

from .screens import member_page, staff_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "events"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def poster() -> bytes:
    image = Image.new("RGB", (960, 540), (138, 28, 63))
    draw = ImageDraw.Draw(image)
    draw.ellipse((380, 120, 580, 320), fill=(251, 241, 244))
    draw.rectangle((300, 360, 660, 400), fill=(201, 164, 92))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_member_registers_and_the_desk_checks_them_in_once(browser, live_server, world, lang):
    start = timeutil.now() + dt.timedelta(minutes=30)
    ev = event(
        world,
        title="周末亲子烘焙课",
        place="星河广场 L3 活动中庭",
        description="和孩子一起做小熊饼干，材料由商场提供。",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=12,
        cancel_hours_before=0,
    )
    services.event_poster_set(mall_group_id=world.group.pk, event_id=ev.pk, data=poster(), actor=ACTOR)
    for _ in range(3):
        register(world, member(world), ev)
    m = member(world)
    violations: list[str] = []
    app_ctx, app = member_page(browser, live_server, m, lang)
    watch(app, violations)
    try:
        app.goto(live_server.url + "/app/events/")
        expect(app.get_by_test_id("ev-link")).to_have_count(1)
        shot(app, f"app-list-{lang}")
        app.get_by_test_id("ev-link").first.click()
        app.wait_for_url(f"**/app/events/{ev.pk}/")
        expect(app.get_by_test_id("ev-seats-left")).to_have_text("9")
        shot(app, f"app-detail-{lang}")
        app.get_by_test_id("ev-register").click()
        app.wait_for_url(re.compile(r".*/app/events/tickets/\d+/$"))
        reg = Registration.objects.get(member=m)
        expect(app.get_by_test_id("ev-ticket-code")).to_have_attribute("data-code", reg.code)
        expect(app.get_by_test_id("ev-qr").locator("svg.qr")).to_be_visible()
        shot(app, f"app-ticket-{lang}")

        desk_ctx, desk = staff_page(browser, live_server, "service", lang)
        watch(desk, violations)
        try:
            desk.goto(live_server.url + "/console/events/check-in/")
            desk.fill("input[name=code]", "0000 0000" if reg.code != "00000000" else "1111 1111")
            desk.get_by_test_id("ev-code-find").click()
            expect(desk.get_by_test_id("ev-code-error")).to_be_visible()
            desk.fill("input[name=code]", f"{reg.code[:4]} {reg.code[4:]}")
            desk.get_by_test_id("ev-code-find").click()
            expect(desk.get_by_test_id("ev-desk-state")).to_be_visible()
            shot(desk, f"desk-found-{lang}")
            desk.get_by_test_id("ev-check-in").click()
            expect(desk.get_by_test_id("ev-checked-in")).to_be_visible()
            shot(desk, f"desk-checked-in-{lang}")
            # the same ticket scanned again: refused politely, with when it was checked in
            desk.fill("input[name=code]", reg.code)
            desk.get_by_test_id("ev-code-find").click()
            expect(desk.get_by_test_id("ev-desk-ticket")).to_have_attribute("data-state", "checked_in")
            expect(desk.get_by_test_id("ev-code-error")).to_contain_text(re.compile(r"已|already"))
            expect(desk.get_by_test_id("ev-check-in")).to_have_count(0)
            expect(desk.get_by_test_id("ev-desk-checked-in-at")).to_be_visible()
            shot(desk, f"desk-second-scan-{lang}")
            reg.refresh_from_db()
            assert reg.state == "checked_in"

            desk.goto(live_server.url + f"/console/events/{ev.pk}/")
            expect(desk.get_by_test_id("ev-stat-checked-in")).to_have_text("1")
            shot(desk, f"console-event-{lang}")
        finally:
            desk_ctx.close()

        app.reload()
        expect(app.get_by_test_id("ev-ticket")).to_have_attribute("data-state", "checked_in")
        shot(app, f"app-ticket-checked-in-{lang}")
    finally:
        app_ctx.close()
    assert violations == []
