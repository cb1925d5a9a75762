"""The coupon editor in a real browser with the per-unit kinds and the searchable merchant checklist, in zh-Hans
and English: marketing makes a "¥5 off each shirt" coupon for up to 3 shirts, excludes two of ~40 merchants by
typing in the filter box, and saves it.

Screenshots: var/screenshots/coupons-per-unit-*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from galleria.coupons.models import CouponTemplate
from galleria.merchants.models import Category, Merchant
from galleria.testing import PASSWORD

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
BRANDS = [
    "海底捞", "太二酸菜鱼", "西贝莜面村", "鼎泰丰", "星巴克臻选", "瑞幸咖啡", "奈雪的茶", "必胜客", "肯德基", "麦当劳",
    "ZARA", "H&M", "无印良品", "优衣库童装", "耐克", "阿迪达斯", "李宁", "安踏", "迪卡侬", "始祖鸟",
    "丝芙兰", "屈臣氏", "完美日记", "兰蔻", "雅诗兰黛", "周大福", "老凤祥", "周生生", "施华洛世奇", "潘多拉",
    "苹果授权店", "华为体验店", "小米之家", "大疆", "索尼", "乐高", "泡泡玛特", "西西弗书店", "万达影城", "超级猩猩",
]  # fmt: skip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _catalogue():
    call_command("compile_translations", verbosity=0)


def open_page(browser, locale: str) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/console/login/")
    page.fill("#id_username", "marketing")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"coupons-per-unit-{name}.png"), full_page=True)


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_per_item_coupon_with_a_filtered_merchant_checklist(browser, live_server, world, locale):
    categories = list(Category.values)
    for i, name in enumerate(BRANDS):
        Merchant.objects.create(mall=world.mall, name=name, category=categories[i % len(categories)])
    page = open_page(browser, locale)
    sign_in(page, live_server.url)
    page.goto(live_server.url + "/console/coupons/new/")
    page.fill("#id_name", "T恤每件减5元")
    page.select_option("#id_kind", "per_item")
    expect(page.locator("#id_threshold_fen")).to_be_hidden()  # no minimum spend for a per-unit coupon
    expect(page.locator("#id_max_units")).to_be_visible()
    page.fill("#id_value_fen", "5")
    page.fill("#id_max_units", "3")
    page.select_option("#id_scope_kind", "skus")
    page.fill("#id_scope_skus", "TEE-01, TEE-02")
    headline = page.locator("#coupon-preview-body [data-testid=coupon-headline]")
    expect(headline).to_contain_text("5")
    if locale == "en-US":
        expect(headline).to_have_text("¥5 off each item")
        expect(page.locator("#coupon-preview-body")).to_contain_text("Up to 3 items per purchase")

    checklist = page.get_by_test_id("checklist-excluded_merchant_ids")
    rows = checklist.locator("[data-checklist-option]")
    expect(rows).to_have_count(Merchant.objects.filter(mall__group=world.group).count())  # 40 + the world's
    search = page.locator("#id_excluded_merchant_ids_filter")
    search.fill("优衣库")
    expect(rows.filter(has_text="优衣库")).to_have_count(2)
    expect(checklist.locator("[data-checklist-option]:visible")).to_have_count(2)
    search.press("Enter")  # filters, never submits the form
    assert page.url.endswith("/console/coupons/new/")
    checklist.locator("label", has_text="优衣库童装").click()
    search.fill("海底")
    expect(checklist.locator("[data-checklist-option]:visible")).to_have_count(1)
    checklist.locator("label", has_text="海底捞").click()
    search.fill("不存在的店")
    expect(checklist.locator("[data-checklist-empty]")).to_be_visible()
    search.fill("")
    checklist.locator("[data-checklist-only]").check()
    expect(checklist.locator("[data-checklist-option]:visible")).to_have_count(2)
    expect(checklist.locator("[data-checklist-count]")).to_have_text("2")
    expect(page.locator("#coupon-preview-body")).to_contain_text("海底捞")  # the preview names the exclusions
    checklist.locator("[data-checklist-only]").uncheck()
    search.fill("海")
    page.locator("#id_excluded_merchant_ids_filter").scroll_into_view_if_needed()
    shot(page, f"editor-{locale[:2]}")
    page.get_by_test_id("save-coupon").click()
    page.wait_for_load_state("networkidle")
    t = CouponTemplate.objects.get(name="T恤每件减5元")
    excluded = set(Merchant.objects.filter(name__in=["优衣库童装", "海底捞"]).values_list("pk", flat=True))
    assert (t.kind, t.value_fen, t.max_units, set(t.excluded_merchant_ids)) == ("per_item", 500, 3, excluded)
    shot(page, f"detail-{locale[:2]}")
    page.goto(live_server.url + f"/console/coupons/{t.pk}/edit/")
    first = page.get_by_test_id("checklist-excluded_merchant_ids").locator("[data-checklist-option]").first
    expect(first.locator("input")).to_be_checked()  # ticked merchants are listed first when editing
    page.goto(live_server.url + "/console/promotions/new/")
    page.select_option("#id_kind", "unit_price")
    expect(page.locator("#id_unit_price_fen")).to_be_visible()
    expect(page.locator("#id_max_discount_fen")).to_be_hidden()
    page.fill("#id_name", "爆款T恤特价")
    page.fill("#id_unit_price_fen", "79")
    page.fill("#id_max_units", "2")
    page.select_option("#id_scope_kind", "merchants")
    page.locator("#id_scope_merchant_ids_filter").fill("优衣库")
    shot(page, f"promotion-{locale[:2]}")
    page.context.close()
