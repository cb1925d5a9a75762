"""Parking for customers in a real browser: a cinema clerk grants 3 hours to a visitor's plate (a wrong plate first,
refused next to the field); the car's stay has the grant in its fee (after the member's own benefits), the member
pays the rest in the app and leaves, and the clerk's list shows the grant used and what it cost the cinema. The
console shows the cinema's month. Screenshots in English and Chinese: var/screenshots/parking-grants/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from playwright.sync_api import Page, expect

from galleria.accounts.models import Role
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.members.services import member_identifier_add, member_register
from galleria.merchants.models import Category, Merchant
from galleria.parking import selectors as parking_selectors
from galleria.parking import services as parking_services
from galleria.parking import services_grants as grants
from galleria.parking.tests.helpers import car_park
from galleria.testing import PASSWORD, make_user
from galleria.wallet.tests.helpers import top_up

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "parking-grants"
ACTOR = Actor.system("test")
PLATE = "粤B12345"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(settings, tmp_path):
    """The zh-Hans catalogue with the PO fragments not merged yet (var/po/*.po), compiled into a temporary
    LOCALE_PATHS: the Chinese screenshots show this change's translations before the lead merges them."""
    base = Path(settings.BASE_DIR)
    with (base / "galleria" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").open("rb") as fh:
        merged = read_po(fh, locale="zh_Hans")
    for fragment in sorted((base / "var" / "po").glob("*.po")):
        with fragment.open("rb") as fh:
            for message in read_po(fh, locale="zh_Hans"):
                if message.id and message.string:
                    merged.delete(message.id, context=message.context)  # a fuzzy guess of makemessages goes
                    merged[message.id] = message
    target = tmp_path / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "django.mo").open("wb") as fh:
        write_mo(fh, merged)
    settings.LOCALE_PATHS = [str(tmp_path)]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, url: str, username: str, landing: str) -> None:
    page.goto(url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + landing)


def test_a_cinema_clerk_grants_three_hours_and_the_cars_fee_shows_them(browser, live_server, world, catalogue):
    park = car_park(world)
    cinema = Merchant.objects.create(mall=world.mall, name="星河影城", category=Category.CINEMA)
    make_user("cinema-clerk", Role.MERCHANT_CLERK, group=world.group, merchant=cinema)
    grants.allowance_save(merchant_id=cinema.pk, monthly_hours=40, max_hours_per_grant=3, actor=ACTOR)
    member = member_register(mall=world.mall, phone="13812345678", channel="desk", actor=ACTOR)
    member_identifier_add(member_id=member.pk, actor=ACTOR, kind="plate", value=PLATE)
    top_up(world, member, 10_000)
    entered = timeutil.now() - dt.timedelta(hours=3, minutes=50)  # 4 units at ¥5 when it pays in a few minutes
    stay_id = parking_services.event_entry(car_park=park, event_id="cam-1", plate=PLATE, at=entered).session_id
    assert stay_id is not None

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server.url, "cinema-clerk", "/merchant/")
    page.click("nav >> [data-nav=parking]")
    page.wait_for_url("**/merchant/parking/")
    expect(page.get_by_test_id("grants-empty")).to_contain_text("No grants today yet.")
    expect(page.get_by_test_id("hours-left")).to_contain_text("40 hours left to grant")

    form = page.get_by_test_id("grant-form")
    form.locator("input[name=plate]").fill("粤B1234")
    form.locator("select[name=hours]").select_option("3")
    form.get_by_test_id("grant-submit").click()
    expect(form.locator("[data-field=plate] .errorlist, .field.has-error .errorlist").first).to_contain_text(
        "Not a valid plate"
    )
    shot(page, "portal-grant-error-en")

    form = page.get_by_test_id("grant-form")
    form.locator("input[name=plate]").fill("粤b·12345")
    form.locator("select[name=hours]").select_option("3")
    form.locator("input[name=note]").fill("IMAX 19:30《流浪地球》")
    form.get_by_test_id("grant-submit").click()
    expect(page.locator(".alert-success")).to_contain_text("Granted 3 h to 粤B·12345")
    row = page.get_by_test_id("grant-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("grant-state")).to_have_text("Waiting for the car")
    expect(page.get_by_test_id("hours-left")).to_contain_text("37 hours left to grant")
    shot(page, "portal-granted-en")

    # the car's stay: the cinema's 3 hours are in its fee (no tier or spend hours for this member)
    stay = parking_selectors.session_get(session_id=stay_id)
    assert stay is not None
    view, _result = parking_selectors.session_fee(stay)
    assert [(b["kind"], b["minutes_used"], b["fen"]) for b in view.benefits] == [("merchant_grant", 180, 1500)]
    assert (view.gross_fen, view.due_fen) == (2000, 500)
    parking_services.parking_pay(session_id=stay_id, member_id=member.pk, points=0, key="app-pay-1", actor=ACTOR)
    parking_services.event_exit(car_park=park, event_id="cam-2", plate=PLATE, at=timeutil.now())

    page.reload()
    expect(row.get_by_test_id("grant-state")).to_have_text("Used")
    expect(row.get_by_test_id("grant-detail")).to_contain_text("3 h, covering ¥15.00")
    expect(page.get_by_test_id("grant-cost")).to_have_text("¥15.00")
    expect(row.get_by_test_id("grant-revoke")).to_have_count(0)
    shot(page, "portal-used-en")
    context.close()

    # the same page in Chinese
    zh = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = zh.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server.url, "cinema-clerk", "/merchant/")
    page.goto(live_server.url + "/merchant/parking/")
    expect(page.locator("h1")).to_have_text("顾客停车赠送")
    expect(page.get_by_test_id("grant-row").get_by_test_id("grant-state")).to_have_text("已使用")
    shot(page, "portal-used-zh")
    form = page.get_by_test_id("grant-form")
    form.locator("input[name=plate]").fill("沪A")
    form.get_by_test_id("grant-submit").click()
    expect(page.locator(".field.has-error .errorlist").first).to_contain_text("车牌号无效")
    shot(page, "portal-grant-error-zh")

    # the console: the cinema's month and its allowance
    page.context.clear_cookies()
    sign_in(page, live_server.url, "admin", "/console/")
    page.goto(live_server.url + "/console/parking/grants/")
    expect(page.locator(f"[data-testid=grant-merchant-row][data-merchant='{cinema.pk}']")).to_contain_text("¥15.00")
    shot(page, "console-grants-zh")
    page.goto(live_server.url + f"/console/parking/grants/merchants/{cinema.pk}/")
    expect(page.get_by_test_id("allowance-cost")).to_have_text("¥15.00")
    shot(page, "console-allowance-zh")
    page.click("[data-testid=lang-switch] button[value=en]")
    page.goto(live_server.url + "/console/parking/grants/")
    expect(page.locator("h1")).to_have_text("Merchant parking grants")
    shot(page, "console-grants-en")
    page.goto(live_server.url + f"/console/parking/grants/merchants/{cinema.pk}/")
    page.fill("#id_max_hours_per_grant", "30")
    page.click("[data-testid=allowance-save]")
    expect(page.locator("[data-field=max_hours_per_grant] .errorlist")).to_be_visible()
    shot(page, "console-allowance-error-en")
    zh.close()
