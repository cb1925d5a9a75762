"""Merchant portal in a real browser: an owner adds a till, creates its API key, copies the secret once, revokes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.audit.types import Actor
from galleria.merchants.models import PosKey, PosTerminal, Store
from galleria.merchants.rules import derive_secret
from galleria.merchants.services import pos_key_create, pos_terminal_create
from galleria.testing import PASSWORD

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def sign_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/merchant/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_owner_creates_a_terminal_and_a_key(page, live_server, world):
    # a second store with a till whose key was used and one that was revoked, so the list shows every state
    kiosk = Store.objects.create(merchant=world.merchant, name="喜茶 星河天地店", floor="B1", unit_no="B1-032")
    old = pos_terminal_create(actor=Actor.system(), store_id=kiosk.pk, name="自助点单机")
    used, _ = pos_key_create(actor=Actor.system(), terminal_id=old.pk, label="点单机 2025")
    revoked, _ = pos_key_create(actor=Actor.system(), terminal_id=old.pk, label="旧主板")
    PosKey.objects.filter(pk=used.pk).update(last_used_at=used.created_at)
    PosKey.objects.filter(pk=revoked.pk).update(revoked_at=revoked.created_at)

    sign_in(page, live_server, "heytea-owner")
    page.click("nav >> text=POS & API keys")
    page.wait_for_url("**/merchant/pos/")

    form = page.get_by_test_id("terminal-form")
    form.locator("select[name=store]").select_option(str(world.store.pk))
    form.locator("input[name=name]").fill("")
    form.locator("button[type=submit]").click()
    expect(form.locator(".errorlist")).to_contain_text("Give the terminal a name.")

    form.locator("input[name=name]").fill("前台收银 1")
    form.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("前台收银 1")
    terminal = PosTerminal.objects.get(name="前台收银 1")
    section = page.locator(f"#terminal-{terminal.pk}")
    expect(section).to_contain_text("No API key yet")

    section.locator("input[type=text]").fill("前台电脑")
    section.get_by_role("button", name="Create API key").click()
    expect(page.get_by_test_id("secret-warning")).to_contain_text("it will not be shown again")
    key_id = page.get_by_test_id("key-id").inner_text().strip()
    secret = page.get_by_test_id("pos-secret").inner_text().strip()
    key = PosKey.objects.get(key_id=key_id)
    assert key.terminal_id == terminal.pk and key.label == "前台电脑"
    assert secret == derive_secret(
        master=settings.GALLERIA_POS_KEY_SECRET or settings.SECRET_KEY, key_id=key_id, salt=key.salt
    )
    config = page.get_by_test_id("pos-config").inner_text()
    assert f"GALLERIA_API_BASE={live_server.url}/api/v1/pos/" in config
    assert f"GALLERIA_KEY_ID={key_id}" in config and f"GALLERIA_KEY_SECRET={secret}" in config
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    copy_all = page.locator("button[data-copy='#pos-config']")  # the copy buttons appear with JavaScript
    expect(copy_all).to_have_text("Copy all")
    copy_all.click()
    expect(copy_all).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == config
    shot(page, "merchant-pos-keys.png")

    page.get_by_test_id("done").click()
    page.wait_for_url(f"**/merchant/pos/#terminal-{terminal.pk}")
    expect(page.locator(f"[data-key-id='{key_id}']")).to_contain_text("前台电脑")
    assert secret not in page.content()
    shot(page, "merchant-pos-list.png")

    page.locator(f"[data-key-id='{key_id}']").get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.locator("[data-testid=revoke-form] .errorlist")).to_contain_text("Tick the box")
    shot(page, "merchant-pos-revoke.png")
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Key {key_id} was revoked.")
    expect(page.locator(f"[data-key-id='{key_id}']")).to_contain_text("Revoked")
    key.refresh_from_db()
    assert key.revoked_at is not None
