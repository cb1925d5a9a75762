"""The online mall's catalogue screens in a real browser (step C3), on the demo's own seed
(galleria/demo/online_mall.py: 喜茶 and 优衣库 of the test world):

- 喜茶's owner, on a 390 px phone, creates a product with two options (杯型 × 甜度), prices the four kinds (a bad
  price first, refused next to its row), counts its stock at the store and puts it on sale;
- a member searches 奶茶, finds 芝士奶茶 among the results, opens it and picks 大杯 in the option picker (the price and
  the chosen kind follow); a search with no result and the empty search say so;
- the console's categories, shelves and a takedown (the merchant then sees the reason).

No CSP violation or page error on any page. Screenshots under var/screenshots/online-mall/ (and /tmp/c3shots/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from galleria.commerce.models import Product, Sku, SkuStock
from galleria.commerce.tests.helpers import member
from galleria.demo.online_mall import seed_online_mall
from galleria.testing import PASSWORD

from .screens import member_page, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = [Path(settings.BASE_DIR) / "var" / "screenshots" / "online-mall"]
if os.environ.get("C3_SHOTS"):
    SHOTS.append(Path(os.environ["C3_SHOTS"]))


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    for folder in SHOTS:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


def phone_staff(browser, live_server, username: str, violations: list[str]):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch(page, violations)
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page


def test_a_merchant_lists_a_product_with_two_options_on_a_phone(browser, live_server, world):
    seed_online_mall(mall_group_id=world.group.pk, seed=7)
    violations: list[str] = []
    context, page = phone_staff(browser, live_server, "heytea-owner", violations)
    url = live_server.url
    page.goto(url + "/merchant/shop/products/")
    expect(page.get_by_test_id("product-row").first).to_be_visible()
    shot(page, "portal-products")
    page.get_by_test_id("product-new").click()
    page.fill("#id_title", "杨枝甘露")
    page.fill("#id_subtitle", "芒果 · 西柚 · 椰浆")
    page.select_option("#id_category", label="— 果茶")
    page.get_by_test_id("product-save").click()
    expect(page.locator("#option-0-name")).to_be_visible()
    page.fill("#option-0-name", "杯型")
    page.fill("#option-0-values", "中杯，大杯")
    page.fill("#option-1-name", "甜度")
    page.fill("#option-1-values", "标准糖，少糖")
    page.get_by_test_id("options-apply").click()
    rows = page.get_by_test_id("sku-row")
    expect(rows).to_have_count(4)
    for i, price in enumerate(("26", "26", "29", "abc")):
        page.fill(f"#sku-{i}-price", price)
    page.get_by_test_id("options-save").click()
    expect(rows.nth(3).locator(".errorlist")).to_be_visible()  # the bad price, next to its row
    shot(page, "portal-options-error")
    page.fill("#sku-3-price", "29")
    page.fill("#sku-2-list_price", "32")
    page.get_by_test_id("options-save").click()
    expect(page.get_by_test_id("sku-summary")).to_contain_text("大杯 / 少糖")
    product = Product.objects.get(title="杨枝甘露")
    assert Sku.objects.filter(product=product, is_active=True).count() == 4
    shot(page, "portal-product")
    page.get_by_test_id("edit-stock").click()
    stock_rows = page.get_by_test_id("stock-row")
    expect(stock_rows).to_have_count(4)
    first = stock_rows.first
    first.get_by_test_id("stock-value").fill("30")
    first.get_by_test_id("stock-save").click()
    expect(page.get_by_test_id("stock-row").first.get_by_test_id("on-hand")).to_have_text("30")
    shot(page, "portal-stock")
    page.goto(url + f"/merchant/shop/products/{product.pk}/")
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("product-status")).to_be_visible()
    product.refresh_from_db()
    assert product.status == "on_sale"
    assert SkuStock.objects.filter(sku__product=product, on_hand=30).count() == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the product page is {width}px wide on a 390px phone"
    page.goto(url + "/merchant/shop/settings/")
    shot(page, "portal-settings")
    assert not violations, violations
    context.close()


def test_a_member_searches_milk_tea_and_picks_a_cup_size(browser, live_server, world):
    seed_online_mall(mall_group_id=world.group.pk, seed=7)
    m = member(world)
    violations: list[str] = []
    context, page = member_page(browser, live_server, m, "zh-hans")
    watch(page, violations)
    url = live_server.url
    page.goto(url + "/app/mall/")
    expect(page.get_by_test_id("mall-shelf").first).to_be_visible()
    shot(page, "app-mall-home")
    page.get_by_test_id("mall-search").fill("奶茶")
    page.get_by_test_id("mall-search").press("Enter")
    cards = page.get_by_test_id("mall-card")
    expect(cards.filter(has_text="芝士奶茶")).to_have_count(1)
    shot(page, "app-search-milk-tea")
    cards.filter(has_text="芝士奶茶").click()
    expect(page.get_by_test_id("option-picker")).to_be_visible()
    shot(page, "app-product")
    page.get_by_test_id("option-value").filter(has_text="大杯").click()
    expect(page.get_by_test_id("chosen-sku")).to_contain_text("大杯")
    expect(page.get_by_test_id("product-price")).to_have_text("¥23.00")
    expect(page.get_by_test_id("add-to-cart")).to_be_enabled()  # step O5: the cart is open
    shot(page, "app-product-large")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    for folder in SHOTS:
        page.screenshot(path=str(folder / "app-product-bottom.png"))  # the phone's screen: the buy bar above the tabs
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the product page is {width}px wide"
    page.goto(url + "/app/mall/search/?q=火锅底料")
    expect(page.get_by_test_id("search-none")).to_be_visible()
    shot(page, "app-search-none")
    page.goto(url + "/app/mall/search/")
    expect(page.get_by_test_id("search-empty")).to_be_visible()
    shot(page, "app-search-empty")
    page.get_by_test_id("mall-category").first.click()
    expect(page.get_by_test_id("mall-card").first).to_be_visible()
    shot(page, "app-category")
    assert not violations, violations
    context.close()


def test_the_console_curates_and_takes_a_product_down(browser, live_server, world):
    seed_online_mall(mall_group_id=world.group.pk, seed=7)
    violations: list[str] = []
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch(page, violations)
    url = live_server.url
    page.goto(url + "/console/login/")
    page.fill("#id_username", "marketing")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/console/")
    page.goto(url + "/console/online-mall/categories/")
    expect(page.get_by_test_id("category-row").first).to_be_visible()
    shot(page, "console-categories")
    page.goto(url + "/console/online-mall/shelves/")
    page.get_by_test_id("shelf-row").first.locator("a").click()
    expect(page.get_by_test_id("shelf-item").first).to_be_visible()
    page.get_by_test_id("shelf-search").fill("T恤")
    page.get_by_test_id("shelf-search").press("Enter")
    page.get_by_test_id("shelf-add-product").first.click()
    expect(page.get_by_test_id("shelf-item").filter(has_text="T恤").first).to_be_visible()
    shot(page, "console-shelf")
    tea = Product.objects.get(title="芝士奶茶")
    page.goto(url + f"/console/online-mall/products/{tea.pk}/")
    page.get_by_test_id("block").click()
    expect(page.locator(".errorlist")).to_be_visible()  # no reason: refused inline
    page.fill("#id_reason", "商品描述与实际不符，请修改后联系商场运营")
    page.get_by_test_id("block").click()
    expect(page.get_by_test_id("blocked-reason")).to_contain_text("商品描述与实际不符")
    shot(page, "console-takedown")
    page.goto(url + "/console/online-mall/products/")
    shot(page, "console-products")
    assert not violations, violations
    context.close()
    context, page = phone_staff(browser, live_server, "heytea-owner", violations)
    page.goto(url + f"/merchant/shop/products/{tea.pk}/")
    expect(page.get_by_test_id("blocked-reason")).to_contain_text("商品描述与实际不符")
    shot(page, "portal-taken-down")
    context.close()
