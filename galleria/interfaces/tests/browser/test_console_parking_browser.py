"""The console's parking pages in a real browser: a group admin creates a car park (an inline error first), adds a
zone and a gate, previews a new tariff version's fee before saving it, watches live occupancy refresh by itself when
a car enters, finds a stay by part of its plate (masked in the list, in full on its page), closes a stale stay from
the exceptions queue, and reads the reports' charts. Then the same screens in Chinese.

Screenshots: var/screenshots/parking-console/<screen>-en.png and <screen>-zh.png.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.members.services import member_identifier_add
from galleria.merchants.models import Category, Merchant
from galleria.parking import services
from galleria.parking.models import CarPark, ParkingGrant, ParkingSession, TariffVersion, Zone
from galleria.parking.tests.helpers import SHANGHAI, car_park, member, spend
from galleria.testing import PASSWORD
from galleria.testing_points import give_points

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "parking-console"
ACTOR = Actor.system("seed")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, live_server, username: str) -> None:
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/console/")


def at(h: int, mi: int = 0, *, days: int = 1) -> dt.datetime:
    day = timeutil.local_date(timeutil.now(), "Asia/Shanghai") - dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(h, mi), tzinfo=SHANGHAI)


def seed(world) -> CarPark:
    """The issue's car park with a day of traffic: a Gold member who paid with points, visitors who paid at the
    booth or left unpaid, a merchant grant, a car parked for days, cars parked now."""
    park = car_park(world)
    park.spend_steps = [[20000, 2], [50000, 4]]
    park.save()
    gold = member(world, tier="gold")
    member_identifier_add(member_id=gold.pk, actor=ACTOR, kind="plate", value="粤B12345")
    give_points(world, gold, 3_000)
    spend(world, gold, 25_000, at=at(11))
    sid = services.event_entry(car_park=park, event_id="g-in", plate="粤B12345", at=at(10), zone="B1").session_id
    assert sid is not None
    services.parking_pay(session_id=sid, member_id=gold.pk, points=500, key="g-pay", actor=ACTOR, at=at(16))
    services.event_exit(car_park=park, event_id="g-out", plate="粤B12345", at=at(16, 5))
    cinema = Merchant.objects.create(mall=world.mall, name="星河影城", category=Category.ENTERTAINMENT)
    ParkingGrant.objects.create(
        mall=world.mall,
        merchant=cinema,
        plate="粤B33333",
        hours=2,
        granted_at=at(9, 30),
        valid_until=at(23),
        key="grant-1",
    )
    visits = [("粤B33333", 9, 12, 1000), ("粤A52011", 8, 11, 2000), ("京N8F601", 13, 15, 0), ("粤BD10086", 12, 19, 0)]
    for n, (plate, came, went, paid) in enumerate(visits):
        services.event_entry(car_park=park, event_id=f"v-in-{n}", plate=plate, at=at(came, 10 * n), zone="B1")
        services.event_exit(car_park=park, event_id=f"v-out-{n}", plate=plate, at=at(went, 5 + 10 * n))
        if paid:
            services.event_payment(
                car_park=park, event_id=f"v-pay-{n}", plate=plate, amount_fen=paid, at=at(went, 10 + 10 * n)
            )
    services.event_exit(car_park=park, event_id="ghost", plate="沪C77777", at=at(18))  # an exit without an entry
    services.event_entry(car_park=park, event_id="old", plate="苏E20230", at=at(9, days=4))  # parked for days
    now = timeutil.now()
    Zone.objects.filter(car_park=park, code="B1").update(
        free_reported=393, free_reported_at=now - dt.timedelta(minutes=2)
    )
    for n, plate in enumerate(["粤B66666", "粤S12121", "湘A34567"]):
        services.event_entry(
            car_park=park, event_id=f"now-{n}", plate=plate, at=now - dt.timedelta(minutes=20 + 15 * n), zone="B1"
        )
    return park


def test_an_admin_runs_the_car_parks_from_the_console(page: Page, live_server, world):
    park = seed(world)
    sign_in(page, live_server, "admin")
    page.click("nav >> [data-nav=parking]")
    page.wait_for_url("**/console/parking/")
    row = page.locator("[data-testid=car-park-row][data-code=p1]")
    expect(row.get_by_test_id("parked")).to_have_text("4")
    shot(page, "car-parks-en")

    # a new car park: an inline error first, then saved
    page.get_by_test_id("car-park-new").click()
    form = page.get_by_test_id("car-park-form")
    form.locator("select[name=mall]").select_option(str(world.mall2.pk))
    form.locator("input[name=code]").fill("p2")
    form.locator("input[name=name]").fill("星河天地停车场")
    form.locator("input[name=capacity]").fill("300")
    form.locator("input[name=opens_at]").fill("07:00")
    form.locator("input[name=step1_threshold]").fill("300")
    form.locator("input[name=step1_hours]").fill("3")
    form.get_by_test_id("save").click()
    expect(page.locator("[data-field=closes_at] .errorlist")).to_contain_text("Give both opening times")
    shot(page, "car-park-form-error-en")
    page.locator("input[name=closes_at]").fill("23:30")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("car-park-name")).to_have_text("星河天地停车场")
    new_park = CarPark.objects.get(code="p2")
    assert (new_park.mall_id, new_park.spend_steps) == (world.mall2.pk, [[30000, 3]])

    page.get_by_test_id("zone-new").click()
    page.fill("input[name=code]", "P1")
    page.fill("input[name=name]", "地面停车区")
    page.fill("input[name=capacity]", "300")
    page.get_by_test_id("save").click()
    expect(page.locator("[data-testid=zone-row][data-code=P1]")).to_contain_text("地面停车区")
    page.get_by_test_id("gate-new").click()
    page.fill("input[name=code]", "N1")
    page.fill("input[name=name]", "北门")
    page.select_option("select[name=direction]", "both")
    page.get_by_test_id("save").click()
    expect(page.locator("[data-testid=gate-row][data-code=N1]")).to_contain_text("北门")

    # a new tariff version for p1, previewed before it is saved
    page.goto(f"{live_server.url}/console/parking/{park.pk}/")
    shot(page, "car-park-en")
    page.get_by_test_id("tariff-new").first.click()
    form = page.get_by_test_id("tariff-form")
    form.locator("input[name=code]").fill("P1-2027")
    form.locator("input[name=night_starts]").fill("22:00")
    form.locator("input[name=night_ends]").fill("07:00")
    form.locator("input[name=night_price_fen]").fill("1")
    form.locator("input[name=night_cap_fen]").fill("8")
    form.locator("input[name=h1_dates]").fill("2026-10-01~2026-10-07")
    form.locator("input[name=h1_day_price]").fill("8")
    form.locator("input[name=p-entry_at]").fill("2026-06-01T10:00")
    form.locator("input[name=p-exit_at]").fill("2026-06-01T16:00")
    form.locator("input[name=p-tier_hours]").fill("3")
    form.locator("input[name=p-spend_today_fen]").fill("250")
    form.get_by_test_id("preview").click()
    expect(page.get_by_test_id("fee-gross")).to_have_text("¥30.00")
    expect(page.get_by_test_id("fee-net")).to_have_text("¥5.00")
    expect(page.get_by_test_id("fee-benefit")).to_have_count(2)
    assert TariffVersion.objects.filter(car_park=park).count() == 1
    page.get_by_test_id("fee-explained").scroll_into_view_if_needed()
    shot(page, "tariff-preview-en")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("tariff-status")).to_have_text("In force")
    assert TariffVersion.objects.get(code="P1-2027").holidays[0]["day_price_fen"] == 800
    page.fill("input[name=p-entry_at]", "2026-10-02T20:00")
    page.fill("input[name=p-exit_at]", "2026-10-03T09:00")
    page.get_by_test_id("preview").click()
    expect(page.get_by_test_id("fee-segment")).to_have_count(4)  # day, night to midnight, night after, day
    shot(page, "tariff-en")

    # live occupancy refreshes by itself
    page.click("nav >> [data-nav=parking_live]")
    live = page.locator("[data-testid=live-car-park][data-code=p1]")
    expect(live.get_by_test_id("live-parked")).to_have_text("4")
    services.event_entry(car_park=park, event_id="live-1", plate="粤B55555", at=timeutil.now(), zone="B1")
    expect(live.get_by_test_id("live-parked")).to_have_text("5", timeout=15_000)
    shot(page, "live-en")

    # stays: part of a plate; masked in the list, in full on the stay's page
    page.click("nav >> [data-nav=parking_stays]")
    page.fill("input[name=plate]", "12345")
    page.get_by_test_id("stay-search").click()
    expect(page.get_by_test_id("stay-row")).to_have_count(1)
    expect(page.get_by_test_id("stay-plate")).to_have_text("粤B·****5")
    page.fill("input[name=plate]", "")
    page.get_by_test_id("stay-search").click()
    shot(page, "stays-en")
    gold_stay = ParkingSession.objects.get(plate="粤B12345")
    page.goto(f"{live_server.url}/console/parking/stays/{gold_stay.pk}/")
    expect(page.locator("h1").get_by_test_id("stay-plate")).to_have_text("粤B·12345")
    expect(page.get_by_test_id("stay-event")).to_have_count(2)
    shot(page, "stay-en")

    # the exceptions queue: close the car parked for days
    page.click("nav >> [data-nav=parking_exceptions]")
    expect(page.get_by_test_id("count-stale")).to_have_text("1")
    shot(page, "exceptions-en")
    page.get_by_test_id("stay-open").click()
    page.get_by_test_id("stay-close-submit").click()
    expect(page.locator("[data-field=reason] .errorlist")).to_be_visible()
    page.fill("input[name=reason]", "towed away, confirmed with security")
    page.get_by_test_id("stay-close-submit").click()
    expect(page.get_by_test_id("stay-state")).to_have_text("Closed as an exception")
    assert ParkingSession.objects.get(plate="苏E20230").state == "closed"

    # reports: ECharts draws each chart (a canvas), the numbers are in tables too
    page.click("nav >> [data-nav=parking_reports]")
    for chart in ("chart-hours", "chart-days", "chart-revenue", "chart-benefits"):
        expect(page.get_by_test_id(chart).locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("benefit-row")).to_have_count(3)  # tier, spend, the cinema's grant
    shot(page, "reports-en")


def test_the_parking_screens_in_chinese(browser, live_server, world):
    park = seed(world)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server, "admin")
        expect(page.locator("nav")).to_contain_text("停车场")
        gold_stay = ParkingSession.objects.get(plate="粤B12345")
        unpaid = ParkingSession.objects.get(plate="粤BD10086")
        version = TariffVersion.objects.get(car_park=park)
        screens = [
            ("car-parks", "/console/parking/"),
            ("car-park", f"/console/parking/{park.pk}/"),
            ("car-park-form", f"/console/parking/{park.pk}/edit/"),
            ("tariffs", f"/console/parking/{park.pk}/tariffs/"),
            (
                "tariff",
                f"/console/parking/{park.pk}/tariffs/{version.pk}/?p-entry_at=2026-06-01T10:00"
                "&p-exit_at=2026-06-01T16:00&p-tier_hours=3&p-spend_today_fen=250&p-grant_hours=0",
            ),
            ("tariff-new", f"/console/parking/{park.pk}/tariffs/new/"),
            ("live", "/console/parking/live/"),
            ("stays", "/console/parking/stays/"),
            ("stay", f"/console/parking/stays/{gold_stay.pk}/"),
            ("stay-unpaid", f"/console/parking/stays/{unpaid.pk}/"),
            ("exceptions", "/console/parking/exceptions/?kind=unpaid_exit"),
            ("reports", "/console/parking/reports/"),
        ]
        for name, path in screens:
            page.goto(live_server.url + path)
            expect(page.locator("h1")).to_be_visible()
            if name == "reports":
                expect(page.get_by_test_id("chart-hours").locator("canvas")).to_have_count(1)
            shot(page, f"{name}-zh")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    finally:
        context.close()
