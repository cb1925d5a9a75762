"""The console in a real browser: a group admin adds a till for a merchant, creates its API key (the secret shown
once), revokes it; a finance user reads the Liabilities page.

Screenshots: var/screenshots/console-pos-keys.png (the merchant's POS section), console-pos-key-created.png,
console-api-keys.png and console-liabilities.png.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from galleria.audit.types import Actor
from galleria.core.money import format_cny
from galleria.merchants.models import Merchant, PosKey, PosTerminal, Store
from galleria.merchants.rules import derive_secret
from galleria.merchants.services import pos_key_create, pos_terminal_create
from galleria.points.models import EarnRule
from galleria.points.services import points_adjust_request
from galleria.sales.services import sale_commit
from galleria.sales.tests.helpers import member as make_member
from galleria.sales.tests.helpers import sale_in
from galleria.sales.types import PaymentIn
from galleria.testing import PASSWORD
from galleria.wallet import services as wallet_services
from galleria.wallet.models import TopUpBonusRule

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
ACTOR = Actor.system("seed")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / name), full_page=True)


def sign_in(page: Page, live_server, username: str) -> None:
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/console/")


def test_group_admin_creates_a_terminal_and_a_key_and_revokes_it(page: Page, live_server, world):
    # a kiosk store with a till whose key was used and one that was revoked, so the section shows every state
    kiosk = Store.objects.create(merchant=world.merchant, name="喜茶 星河天地店", floor="B1", unit_no="B1-032")
    old = pos_terminal_create(actor=ACTOR, store_id=kiosk.pk, name="自助点单机")
    used, _ = pos_key_create(actor=ACTOR, terminal_id=old.pk, label="点单机 2025")
    revoked, _ = pos_key_create(actor=ACTOR, terminal_id=old.pk, label="旧主板")
    PosKey.objects.filter(pk=used.pk).update(last_used_at=used.created_at)
    PosKey.objects.filter(pk=revoked.pk).update(revoked_at=revoked.created_at)

    sign_in(page, live_server, "admin")
    page.click("nav >> [data-nav=merchants]")
    page.get_by_role("link", name="喜茶", exact=True).click()
    page.wait_for_url(f"**/console/merchants/{world.merchant.pk}/")
    section = page.get_by_test_id("pos")
    expect(section.get_by_test_id("terminal")).to_have_count(1)

    form = page.get_by_test_id("terminal-form")
    form.locator("select[name=store]").select_option(str(world.store.pk))
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("terminal-form").locator(".errorlist")).to_contain_text("Give the terminal a name.")
    form = page.get_by_test_id("terminal-form")
    form.locator("input[name=name]").fill("前台收银 1")
    form.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("前台收银 1")
    terminal = PosTerminal.objects.get(name="前台收银 1")
    block = page.locator(f"#terminal-{terminal.pk}")
    expect(block).to_contain_text("No API key yet")

    block.locator("input[type=text]").fill("前台电脑")
    block.get_by_role("button", name="Create API key").click()
    expect(page.get_by_test_id("secret-warning")).to_contain_text("it will not be shown again")
    key_id = page.get_by_test_id("key-id").inner_text().strip()
    secret = page.get_by_test_id("pos-secret").inner_text().strip()
    key = PosKey.objects.get(key_id=key_id)
    assert key.terminal_id == terminal.pk and key.label == "前台电脑" and key.created_by == "admin"
    assert secret == derive_secret(
        master=settings.GALLERIA_POS_KEY_SECRET or settings.SECRET_KEY, key_id=key_id, salt=key.salt
    )
    config = page.get_by_test_id("pos-config").inner_text()
    assert f"GALLERIA_KEY_ID={key_id}" in config and f"GALLERIA_KEY_SECRET={secret}" in config
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    copy_all = page.locator("button[data-copy='#pos-config']")  # the copy buttons appear with JavaScript
    expect(copy_all).to_have_text("Copy all")
    copy_all.click()
    expect(copy_all).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == config
    shot(page, "console-pos-key-created.png")

    page.get_by_test_id("done").click()
    page.wait_for_url(f"**/console/merchants/{world.merchant.pk}/#terminal-{terminal.pk}")
    expect(page.locator(f"[data-key-id='{key_id}']")).to_contain_text("前台电脑")
    assert secret not in page.content()
    shot(page, "console-pos-keys.png")

    page.locator(f"[data-key-id='{key_id}']").get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.locator("[data-testid=revoke-form] .errorlist")).to_contain_text("Tick the box")
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Key {key_id} was revoked.")
    expect(page.locator(f"[data-key-id='{key_id}']")).to_contain_text("Revoked")
    key.refresh_from_db()
    assert key.revoked_at is not None

    # the group-wide list: every key with its merchant, store and terminal; filtered by status
    other_store = Store.objects.get(merchant=world.other_merchant)
    uniqlo = pos_terminal_create(actor=ACTOR, store_id=other_store.pk, name="优衣库收银 A")
    pos_key_create(actor=ACTOR, terminal_id=uniqlo.pk, label="收银机 A")
    page.click("nav >> [data-nav=pos_keys]")
    page.wait_for_url("**/console/pos/keys/")
    expect(page.get_by_test_id("key-row")).to_have_count(4)
    shot(page, "console-api-keys.png")
    page.locator("select[name=status]").select_option("revoked")
    expect(page.get_by_test_id("key-row")).to_have_count(2)
    expect(page.locator(f"[data-key-id='{key_id}']")).to_contain_text("Revoked")
    assert secret not in page.content()


def test_finance_reads_the_liabilities(page: Page, live_server, world):
    EarnRule.objects.create(
        mall_group=world.group, name="优衣库自担", scope="merchant", merchant=world.other_merchant, funder="merchant"
    )
    TopUpBonusRule.objects.create(mall_group=world.group, name="充500送30", min_amount_fen=50000, bonus_fen=3000)
    uniqlo_store = Store.objects.get(merchant=world.other_merchant)
    nayuki = Merchant.objects.create(mall=world.mall, name="奈雪的茶", category="dining")
    nayuki_store = Store.objects.create(merchant=nayuki, name="奈雪的茶 星河广场店", floor="L1", unit_no="L1-020")
    members = [make_member(world, f"1381234{n:04d}") for n in range(6)]
    for n, m in enumerate(members):
        sale_commit(data=sale_in(world, member_id=m.pk, amounts=(48000 + 7300 * n,)), actor=ACTOR)
        sale_commit(
            data=dataclasses.replace(
                sale_in(world, member_id=m.pk, amounts=(26000 + 3100 * n,)),
                merchant_id=world.other_merchant.pk,
                store_id=uniqlo_store.pk,
            ),
            actor=ACTOR,
        )
    for n, m in enumerate(members[:4]):
        paid_at = world.other_merchant if n % 2 else nayuki
        store = uniqlo_store if n % 2 else nayuki_store
        sale_commit(
            data=dataclasses.replace(
                sale_in(world, member_id=m.pk, amounts=(60000,), points=200 + 100 * n),
                merchant_id=paid_at.pk,
                store_id=store.pk,
            ),
            actor=ACTOR,
        )
    for m in members[:3]:
        intent = wallet_services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=50000)
        wallet_services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=50000)
        paid = sale_in(world, member_id=m.pk, amounts=(12800,), pay=0)
        sale_commit(data=dataclasses.replace(paid, payments=(PaymentIn("wallet", 12800),)), actor=ACTOR)
    points_adjust_request(
        mall_group_id=world.group.pk,
        member_id=members[0].pk,
        points=120,
        reason="补录",
        actor=ACTOR,
        tz_name="Asia/Shanghai",
    )

    sign_in(page, live_server, "finance")
    page.click("nav >> [data-nav=liabilities]")
    page.wait_for_url("**/console/finance/liabilities/")
    expect(page.get_by_test_id("points-check")).to_have_text("Reconciled with the ledger")
    expect(page.get_by_test_id("wallet-check")).to_have_text("Reconciled with the ledger")
    expect(page.get_by_test_id("funder-row")).to_have_count(2)
    expect(page.get_by_test_id("merchant-row")).to_have_count(3)
    expect(page.get_by_test_id("wallet-total")).to_have_text(format_cny(3 * (50000 + 3000 - 12800)))
    expect(page.get_by_test_id("chart-redeemed").locator("canvas")).to_have_count(1)
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    assert download.value.suggested_filename.startswith("liabilities-xinghe-")
    shot(page, "console-liabilities.png")
