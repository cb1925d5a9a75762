"""Member services in a real browser (issue #19, "Member services"): at the desk screen (tablet-sized) a staff
member types the member's phone, lends an umbrella against a points deposit; the member sees it in the app with the
time it is free until; the umbrella comes back late: the desk shows the fee with its explanation and the points are
charged once; the member sees the charge. Then a gold member books a lounge visit (their tier's benefit) and staff
confirm it in the bookings list; the member sees it confirmed. No CSP violation on any page. Screenshots under
var/screenshots/amenities/<screen>-<lang>.png (looked at by a person)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.amenities import services_config
from galleria.amenities.models import Booking, Rental
from galleria.amenities.tests.helpers import ACTOR, desk, member
from galleria.amenities.types import OfferingIn, WeeklyHours
from galleria.core import timeutil
from galleria.ledger.selectors import member_balance
from galleria.messaging.models import InboxMessage

from .screens import member_page, staff_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "amenities"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_an_umbrella_lent_returned_late_and_a_lounge_visit_confirmed(browser, live_server, world, lang):
    d = desk(world, umbrellas=3, name="L1 北门服务台")
    m = member(world, points=5000, tier="gold")
    lounge = services_config.offering_save(
        mall_group_id=world.group.pk,
        offering_id=None,
        data=OfferingIn(mall_id=world.mall.pk, kind="lounge", name="金卡贵宾室", place="L5", access="lounge_access"),
        actor=ACTOR,
    )
    services_config.hours_save(
        mall_group_id=world.group.pk,
        offering_id=lounge.pk,
        rows=[WeeklyHours(day, dt.time(10), dt.time(22), 4) for day in range(7)],
        actor=ACTOR,
    )
    violations: list[str] = []
    staff_ctx, staff = staff_page(browser, live_server, "service", lang)
    staff.set_viewport_size({"width": 1180, "height": 820})  # the desk's tablet, landscape
    watch(staff, violations)
    app_ctx, app = member_page(browser, live_server, m, lang)
    watch(app, violations)
    try:
        desk_url = live_server.url + f"/console/amenities/desk/{d.pk}/"
        staff.goto(desk_url)
        staff.fill("input[name=q]", m.phone)
        staff.get_by_test_id("am-lookup-go").click()
        expect(staff.get_by_test_id("am-member")).to_be_visible()
        expect(staff.get_by_test_id("am-tier")).to_have_text("金卡")
        staff.select_option("select[name=deposit_kind]", "points")
        shot(staff, f"desk-member-{lang}")
        staff.get_by_test_id("am-lend").click()
        expect(staff.get_by_test_id("am-lent")).to_be_visible()
        expect(staff.get_by_test_id("am-rental")).to_have_count(1)
        shot(staff, f"desk-lent-{lang}")
        rental = Rental.objects.get(member=m)
        assert rental.deposit_kind == "points" and member_balance(member_id=m.pk, kind="member_points") == 5000

        app.goto(live_server.url + "/app/services/")
        expect(app.get_by_test_id("am-app-rental")).to_have_count(1)
        expect(app.get_by_test_id("am-app-fee")).to_contain_text("¥0.00")
        shot(app, f"app-rental-{lang}")

        # 5 h 55 min later (gold: free for 4 h): 2 started hours at ¥2
        lent_at = timeutil.now() - dt.timedelta(hours=5, minutes=55)
        Rental.objects.filter(pk=rental.pk).update(lent_at=lent_at, due_at=lent_at + dt.timedelta(hours=4))
        staff.goto(desk_url)
        staff.fill("input[name=q]", m.phone)
        staff.get_by_test_id("am-lookup-go").click()
        expect(staff.get_by_test_id("am-fee-now")).to_contain_text("¥4.00")
        staff.get_by_test_id("am-return").click()
        expect(staff.get_by_test_id("am-closed")).to_have_attribute("data-state", "returned")
        expect(staff.get_by_test_id("am-fee-charged")).to_contain_text("¥4.00")
        expect(staff.get_by_test_id("am-fee-lines").locator("li")).to_have_count(4)
        expect(staff.get_by_test_id("am-no-rentals")).to_be_visible()
        shot(staff, f"desk-returned-late-{lang}")
        assert member_balance(member_id=m.pk, kind="member_points") == 4600

        app.reload()
        expect(app.get_by_test_id("am-app-none")).to_be_visible()
        app.locator("details summary").click()
        expect(app.get_by_test_id("am-app-past")).to_contain_text("¥4.00")
        shot(app, f"app-returned-{lang}")

        # the lounge: the gold member's benefit, confirmed by staff
        app.get_by_test_id("am-app-offering").click()
        app.get_by_test_id("am-slot").first.check()
        shot(app, f"app-lounge-{lang}")
        app.get_by_test_id("am-book").click()
        app.wait_for_url("**/app/services/")
        expect(app.get_by_test_id("am-app-booking-state")).to_have_count(1)
        booking = Booking.objects.get(member=m)
        assert booking.state == "requested"

        staff.goto(live_server.url + "/console/amenities/bookings/")
        row = staff.locator(f'[data-testid="am-booking-row"][data-id="{booking.pk}"]')
        row.get_by_test_id("am-confirm").click()
        expect(staff.locator(f'[data-testid="am-booking-row"][data-id="{booking.pk}"]')).to_have_attribute(
            "data-state", "confirmed"
        )
        shot(staff, f"console-bookings-{lang}")
        app.reload()
        expect(app.get_by_test_id("am-app-booking")).to_have_attribute("data-state", "confirmed")
        shot(app, f"app-booking-confirmed-{lang}")
        assert InboxMessage.objects.filter(member_id=m.pk).exists()

        staff.goto(live_server.url + "/console/amenities/report/")
        expect(staff.get_by_test_id("am-kpi-fees")).to_contain_text("4.00")
        shot(staff, f"console-report-{lang}")
    finally:
        staff_ctx.close()
        app_ctx.close()
    assert violations == []
