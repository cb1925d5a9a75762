"""The mall console in a real browser: sign in, dashboard, member search and 360, merchants and stores.

Screenshots of the key screens go to var/screenshots/console-*.png (zh-Hans, plus the dashboard in English).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.members.models import ConsentPurpose, IdentifierKind, JoinChannel, Member
from galleria.members.services import member_identifier_add, member_register, member_touch
from galleria.merchants.models import Merchant
from galleria.testing import PASSWORD

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
ACTOR = Actor.system("seed")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "黄敏", "赵强", "周婷", "吴杰", "徐丽", "孙浩"]
CHANNELS = [JoinChannel.APP, JoinChannel.APP, JoinChannel.POS, JoinChannel.DESK, JoinChannel.PARKING, JoinChannel.APP]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / name), full_page=True)


def sign_in(page: Page, live_server, username: str = "admin") -> None:
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/console/")


def seed_members(world, count: int = 48) -> Member:
    """Members spread over the last 30 days (more at weekends), channels and both malls; returns a known one."""
    rng = random.Random(20260101)
    now = timezone.now()
    for i in range(count):
        days_ago = min(int(rng.expovariate(1 / 11)), 29)
        member = member_register(
            mall=world.mall if rng.random() < 0.68 else world.mall2,
            phone=f"1350000{i:04d}",
            channel=rng.choice(CHANNELS),
            actor=ACTOR,
            profile={"name": NAMES[i % len(NAMES)]},
            joined_at=now - dt.timedelta(days=days_ago, minutes=rng.randrange(0, 600)),
        )
        if rng.random() < 0.3:
            member_touch(member_id=member.pk)
    known = member_register(
        mall=world.mall,
        phone="13812345678",
        channel=JoinChannel.DESK,
        actor=ACTOR,
        profile={"name": "张小明", "gender": "male", "birthday": dt.date(1991, 3, 14), "email": "xiaoming@example.com"},
        consents=[ConsentPurpose.PRIVACY_POLICY, ConsentPurpose.MARKETING_SMS, ConsentPurpose.PERSONALISATION],
    )
    member_identifier_add(member_id=known.pk, actor=ACTOR, kind=IdentifierKind.PLATE, value="粤B12345")
    member_identifier_add(
        member_id=known.pk, actor=ACTOR, kind=IdentifierKind.WECHAT_OPENID, value="oXh7-5kq2mWm3x9Qa1"
    )
    return known


def test_sign_in_dashboard_and_language_switch(page: Page, live_server, world):
    seed_members(world)
    sign_in(page, live_server)
    expect(page.get_by_test_id("kpi-total")).to_contain_text("49")
    expect(page.get_by_test_id("scope-name")).to_have_text("星河商业集团")
    # the three charts are drawn by ECharts (a canvas each)
    for chart in ("chart-daily", "chart-channel", "chart-mall"):
        expect(page.get_by_test_id(chart).locator("canvas")).to_have_count(1)
    page.wait_for_timeout(600)  # let the chart animation finish
    shot(page, "console-dashboard.png")

    page.get_by_test_id("lang-switch").get_by_role("button", name="EN").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_test_id("chart-daily").locator("canvas")).to_have_count(1)
    page.wait_for_timeout(600)
    shot(page, "console-dashboard-en.png")


def test_member_search_finds_by_phone_and_plate_and_opens_the_360(page: Page, live_server, world):
    known = seed_members(world, count=30)
    sign_in(page, live_server, "service")
    page.click("nav >> [data-nav=members]")
    page.wait_for_url("**/console/members/")
    expect(page.get_by_test_id("member-row")).to_have_count(25)  # first page of 31

    search = page.locator("[data-testid=member-search] input[name=q]")
    search.fill("13812345678")  # live search (htmx), no submit
    expect(page.get_by_test_id("member-row")).to_have_count(1)
    expect(page.get_by_test_id("member-row")).to_contain_text(known.card_no)
    expect(page.get_by_test_id("member-row")).to_contain_text("138****5678")
    expect(page).to_have_url(re.compile(r"q=13812345678"))

    search.fill("")
    expect(page.get_by_test_id("member-row")).to_have_count(25)
    shot(page, "console-members.png")

    search.fill("粤b 12345")
    search.press("Enter")
    expect(page.get_by_test_id("member-row")).to_have_count(1)
    expect(page.get_by_test_id("member-row")).to_contain_text("张小明")

    page.get_by_test_id("member-row").get_by_role("link", name=known.card_no).click()
    page.wait_for_url(f"**/console/members/{known.pk}/")
    expect(page.get_by_test_id("member-name")).to_have_text("张小明")
    identifiers = page.get_by_test_id("identifiers")
    expect(identifiers).to_contain_text("粤B12345")
    expect(identifiers).to_contain_text("oXh7-5kq2mWm3x9Qa1")
    expect(identifiers).to_contain_text(known.card_no)
    consents = page.get_by_test_id("consents")
    expect(consents.locator(".badge-ok")).to_have_count(3)

    # the full phone is one audited click away
    expect(page.get_by_test_id("phone-cell")).to_contain_text("138****5678")
    page.get_by_test_id("reveal-phone").click()
    expect(page.get_by_test_id("full-phone")).to_have_text("13812345678")
    assert AuditEvent.objects.filter(action="member.view_pii", target_id=str(known.pk)).count() == 1
    assert AuditEvent.objects.filter(action="member.view", target_id=str(known.pk)).exists()

    # bind a second plate; a bad one is refused inline
    form = page.get_by_test_id("identifier-add")
    form.locator("select[name=kind]").select_option("plate")
    form.locator("input[name=value]").fill("not-a-plate")
    form.get_by_role("button").click()
    expect(page.get_by_test_id("identifier-add").locator(".errorlist")).to_be_visible()
    form = page.get_by_test_id("identifier-add")
    form.locator("select[name=kind]").select_option("plate")
    form.locator("input[name=value]").fill("粤BD12345")
    form.get_by_role("button").click()
    expect(page.get_by_test_id("identifiers")).to_contain_text("粤BD12345")
    expect(page.locator(".alert-success")).to_be_visible()
    shot(page, "console-member-360.png")


def test_register_a_member_at_the_desk(page: Page, live_server, world):
    existing = member_register(mall=world.mall, phone="13900001111", channel=JoinChannel.APP, actor=ACTOR)
    sign_in(page, live_server, "service")
    page.goto(live_server.url + "/console/members/new/")
    page.fill("#id_phone", "13900001111")
    page.select_option("#id_join_mall", str(world.mall2.pk))
    page.check("#id_accepts_policy")
    page.click("[data-testid=member-new] button[type=submit]")
    expect(page.locator("[data-field=phone] .errorlist")).to_be_visible()
    expect(page.get_by_test_id("existing-member")).to_have_attribute("href", f"/console/members/{existing.pk}/")
    shot(page, "console-member-new.png")

    page.fill("#id_phone", "13900002222")
    page.fill("#id_name", "林晓")
    page.check("#id_accepts_policy")
    page.click("[data-testid=member-new] button[type=submit]")
    expect(page.get_by_test_id("member-name")).to_have_text("林晓")
    member = Member.objects.get(phone="+8613900002222")
    assert member.join_channel == JoinChannel.DESK and member.join_mall_id == world.mall2.pk


def test_merchant_create_edit_and_add_a_store(page: Page, live_server, world):
    sign_in(page, live_server)
    page.click("nav >> [data-nav=merchants]")
    expect(page.get_by_test_id("merchant-row")).to_have_count(2)
    shot(page, "console-merchants.png")
    page.get_by_test_id("new-merchant").click()

    form = page.get_by_test_id("merchant-form")
    page.select_option("#id_mall", str(world.mall.pk))
    page.fill("#id_name", "喜茶")  # taken in this mall
    page.select_option("#id_category", "dining")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-field=name] .errorlist")).to_contain_text("already exists")
    shot(page, "console-merchant-form.png")

    page.fill("#id_name", "奈雪的茶")
    page.fill("#id_legal_name", "深圳市品道餐饮管理有限公司")
    page.fill("#id_credit_code", "91440300MA5DC1234X")
    page.fill("#id_contact_name", "陈经理")
    page.fill("#id_contact_phone", "0755-88886666")
    page.fill("#id_contract_no", "XH-2026-031")
    page.fill("#id_contract_starts_on", "2026-01-01")
    page.fill("#id_contract_ends_on", "2028-12-31")
    page.fill("#id_commission_bp", "650")
    page.fill("#id_area_m2", "120")
    page.get_by_test_id("merchant-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("merchant-name")).to_have_text("奈雪的茶")
    merchant = Merchant.objects.get(name="奈雪的茶")

    page.get_by_test_id("edit-merchant").click()
    page.wait_for_url(f"**/console/merchants/{merchant.pk}/edit/")
    page.fill("#id_area_m2", "160")
    page.fill("#id_commission_bp", "700")
    page.get_by_test_id("merchant-form").locator("button[type=submit]").click()
    page.wait_for_url(f"**/console/merchants/{merchant.pk}/")
    expect(page.locator("body")).to_contain_text("7.00%")

    store_form = page.get_by_test_id("store-add")
    store_form.locator("input[name=name]").fill("奈雪的茶 星河广场店")
    store_form.locator("input[name=floor]").fill("L1")
    store_form.locator("input[name=unit_no]").fill("L1-020")
    store_form.locator("input[name=phone]").fill("0755-86660020")
    store_form.get_by_role("button").click()
    expect(page.get_by_test_id("store-row")).to_have_count(1)
    expect(page.get_by_test_id("store-row")).to_contain_text("L1-020")
    store_form = page.get_by_test_id("store-add")
    store_form.locator("input[name=name]").fill("奈雪的茶 星河广场二店")
    store_form.locator("input[name=floor]").fill("B1")
    store_form.locator("input[name=unit_no]").fill("B1-105")
    store_form.get_by_role("button").click()
    expect(page.get_by_test_id("store-row")).to_have_count(2)
    merchant.refresh_from_db()
    assert merchant.area_m2 == 160 and merchant.commission_bp == 700 and merchant.stores.count() == 2
    shot(page, "console-merchant-detail.png")


def test_staff_accounts_and_the_audit_log(page: Page, live_server, world):
    known = seed_members(world, count=3)
    sign_in(page, live_server)
    page.goto(live_server.url + f"/console/members/{known.pk}/")
    page.click("nav >> [data-nav=staff]")
    expect(page.get_by_test_id("staff-row")).to_have_count(9)  # the group's staff, merchants' included
    page.get_by_test_id("new-staff").click()
    merchant_field = page.locator("[data-field=merchant]")
    expect(merchant_field).to_be_hidden()
    page.fill("#id_username", "heytea-clerk-2")
    page.fill("#id_display_name", "喜茶 店员 2")
    page.fill("#id_password", "Galleria-Clerk-2026")
    page.select_option("#id_role", "merchant_clerk")
    expect(merchant_field).to_be_visible()  # the picker appears for merchant roles
    shot(page, "console-staff-form.png")
    page.click("[data-testid=staff-form] button[type=submit]")
    expect(merchant_field.locator(".errorlist")).to_be_visible()
    page.fill("#id_password", "Galleria-Clerk-2026")
    page.select_option("#id_merchant", str(world.merchant.pk))
    page.click("[data-testid=staff-form] button[type=submit]")
    page.wait_for_url("**/console/staff/")
    expect(page.get_by_test_id("staff-row")).to_have_count(10)
    shot(page, "console-staff.png")

    page.click("nav >> [data-nav=audit]")
    expect(page.get_by_test_id("audit-action").first).to_have_attribute("title", "staff.create")  # labelled
    page.select_option("#id_action", "member.view")
    page.click("form.filters button[type=submit]")
    expect(page.get_by_test_id("audit-row")).to_have_count(1)
    page.select_option("#id_action", "")
    page.click("form.filters button[type=submit]")
    shot(page, "console-audit.png")
