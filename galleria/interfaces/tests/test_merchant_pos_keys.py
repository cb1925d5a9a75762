"""Merchant portal: POS terminals and API keys — scope, the once-only secret, revocation against the signed API."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.merchants.models import PosKey, PosTerminal, Store
from galleria.merchants.services import pos_key_create, pos_terminal_create
from galleria.testing import PASSWORD
from galleria.testing_pos import PosSigner, PosTestClient

POS = "/merchant/pos/"
LOOKUP = "/api/v1/pos/members/lookup?code=13800000000"


def login(client, username: str) -> None:
    assert client.login(username=username, password=PASSWORD)


def english(client) -> None:
    """Django's own messages (e.g. max length) ship translated; read them in English."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def add_terminal(client, store: Store, name: str = "收银台1"):
    return client.post(f"{POS}terminals/", {"store": store.pk, "name": name})


def add_key(client, terminal: PosTerminal, label: str = "", request_id: str = ""):
    data = {f"t{terminal.pk}-label": label}
    if request_id:
        data[f"t{terminal.pk}-request_id"] = request_id
    return client.post(f"{POS}terminals/{terminal.pk}/keys/", data)


def parse_created(html: str) -> tuple[str, str]:
    """What an integrator copies off the creation page: the key id and the secret."""
    key_id = re.search(r'data-testid="key-id">([^<]+)<', html)
    secret = re.search(r'data-testid="pos-secret">([^<]+)<', html)
    assert key_id and secret, "key id and secret must be on the creation page"
    return key_id.group(1), secret.group(1)


def problem_code(resp) -> str:
    assert resp["Content-Type"] == "application/problem+json", resp.content
    return resp.json()["code"]


@pytest.fixture
def terminal(world) -> PosTerminal:
    return pos_terminal_create(actor=Actor.system(), store_id=world.store.pk, name="前台收银")


@pytest.fixture
def other_terminal(world) -> PosTerminal:
    other_store = Store.objects.get(merchant=world.other_merchant)
    return pos_terminal_create(actor=Actor.system(), store_id=other_store.pk, name="优衣库收银")


@pytest.mark.django_db
class TestAccess:
    @pytest.mark.parametrize("user", ["merchant_owner", "merchant_manager"])
    def test_owner_and_manager_see_the_page_and_the_nav_item(self, client, world, user, terminal):
        client.force_login(world.users[user])
        resp = client.get(POS)
        assert resp.status_code == 200
        html = resp.content.decode()
        assert "POS & API keys" in html and 'href="/merchant/pos/"' in html
        assert "前台收银" in html and "喜茶 星河广场店" in html
        assert 'href="/merchant/pos/"' in client.get("/merchant/").content.decode()

    def test_clerk_gets_403_everywhere_and_no_nav_item(self, client, world, terminal):
        key, _ = pos_key_create(actor=Actor.system(), terminal_id=terminal.pk)
        login(client, "heytea-clerk")
        assert client.get(POS).status_code == 403
        assert add_terminal(client, world.store).status_code == 403
        assert add_key(client, terminal).status_code == 403
        assert client.get(f"{POS}keys/{key.pk}/revoke/").status_code == 403
        assert client.post(f"{POS}keys/{key.pk}/revoke/", {"confirm": "on"}).status_code == 403
        assert 'href="/merchant/pos/"' not in client.get("/merchant/").content.decode()
        assert PosTerminal.objects.count() == 1 and PosKey.objects.count() == 1
        key.refresh_from_db()
        assert key.revoked_at is None

    @pytest.mark.parametrize("role", ["group_admin", "platform_admin"])
    def test_console_roles_get_403(self, client, world, role):
        client.force_login(world.users[role])
        assert client.get(POS).status_code == 403

    def test_anonymous_goes_to_login(self, client, world):
        resp = client.get(POS)
        assert resp.status_code == 302 and resp.url.startswith("/console/login/")

    def test_another_merchants_owner_gets_404_on_our_terminal_and_key(self, client, world, terminal):
        key, _ = pos_key_create(actor=Actor.system(), terminal_id=terminal.pk)
        login(client, "uniqlo-owner")
        html = client.get(POS).content.decode()
        assert "前台收银" not in html and key.key_id not in html and "喜茶 星河广场店" not in html
        assert add_key(client, terminal).status_code == 404
        assert client.get(f"{POS}keys/{key.pk}/revoke/").status_code == 404
        assert client.post(f"{POS}keys/{key.pk}/revoke/", {"confirm": "on"}).status_code == 404
        assert PosKey.objects.count() == 1
        key.refresh_from_db()
        assert key.revoked_at is None

    def test_cannot_add_a_terminal_to_another_merchants_store(self, client, world):
        other_store = Store.objects.get(merchant=world.other_merchant)
        login(client, "heytea-owner")
        resp = add_terminal(client, other_store)
        assert resp.status_code == 422
        assert "Choose one of your open stores." in resp.content.decode()
        assert not PosTerminal.objects.exists()

    def test_only_our_terminals_are_listed(self, client, world, terminal, other_terminal):
        pos_key_create(actor=Actor.system(), terminal_id=other_terminal.pk, label="UNIQLO-KEY")
        login(client, "heytea-owner")
        html = client.get(POS).content.decode()
        assert "前台收银" in html
        assert "优衣库收银" not in html and "UNIQLO-KEY" not in html


@pytest.mark.django_db
class TestTerminals:
    def test_owner_adds_a_terminal(self, client, world):
        login(client, "heytea-owner")
        resp = add_terminal(client, world.store, "  收银台1  ")
        terminal = PosTerminal.objects.get()
        assert resp.status_code == 302 and resp.url == f"/merchant/pos/#terminal-{terminal.pk}"
        assert (terminal.store_id, terminal.name, terminal.is_active) == (world.store.pk, "收银台1", True)
        event = AuditEvent.objects.get(action="pos_terminal.create")
        assert event.actor_id == world.users["merchant_owner"].pk and event.mall_group_id == world.group.pk
        html = client.get(POS).content.decode()
        assert "收银台1" in html and "No API key yet" in html

    def test_errors_are_inline(self, client, world, terminal):
        login(client, "heytea-manager")
        english(client)
        for data, message in [
            ({"store": world.store.pk, "name": ""}, "Give the terminal a name."),
            ({"store": world.store.pk, "name": "x" * 61}, "at most 60 characters"),
            ({"store": world.store.pk, "name": "前台收银"}, "This store already has a terminal with this name."),
            ({"store": "999999", "name": "A"}, "Choose one of your open stores."),
            ({"store": "not-a-number", "name": "A"}, "Choose one of your open stores."),
            ({}, "This field is required."),
        ]:
            resp = client.post(f"{POS}terminals/", data)
            assert resp.status_code == 422, data
            html = resp.content.decode()
            assert message in html and "has-error" in html, data
        assert PosTerminal.objects.count() == 1

    def test_closed_store_cannot_get_a_terminal(self, client, world):
        Store.objects.filter(pk=world.store.pk).update(is_active=False)
        login(client, "heytea-owner")
        assert add_terminal(client, world.store).status_code == 422
        assert "You have no open store" in client.get(POS).content.decode()
        assert not PosTerminal.objects.exists()

    def test_get_on_post_only_urls_is_405(self, client, world, terminal):
        login(client, "heytea-owner")
        assert client.get(f"{POS}terminals/").status_code == 405
        assert client.get(f"{POS}terminals/{terminal.pk}/keys/").status_code == 405


@pytest.mark.django_db
class TestKeys:
    @pytest.mark.parametrize("username", ["heytea-owner", "heytea-manager"])
    def test_secret_is_shown_once_and_works(self, client, world, terminal, username):
        login(client, username)
        resp = add_key(client, terminal, label="前台电脑")
        assert resp.status_code == 200
        assert "no-store" in resp["Cache-Control"]
        html = resp.content.decode()
        key_id, secret = parse_created(html)
        key = PosKey.objects.get()
        assert (key.key_id, key.label, key.created_by) == (key_id, "前台电脑", username)
        assert "Copy the secret now: it will not be shown again." in html
        assert f"GALLERIA_API_BASE=http://testserver/api/v1/pos/\nGALLERIA_KEY_ID={key_id}\n" in html
        assert f"GALLERIA_KEY_SECRET={secret}" in html
        # the secret is nowhere else: not on the list, not in the session or its messages, not in the audit trail
        listing = client.get(POS).content.decode()
        assert key_id in listing and "前台电脑" in listing and username in listing
        assert secret not in listing
        assert secret not in client.get(f"{POS}keys/{key.pk}/revoke/").content.decode()
        assert secret not in str(dict(client.session.items()))
        assert all(secret not in morsel.value for morsel in client.cookies.values())
        assert not any(secret in str(e.changes) or secret in e.target_label for e in AuditEvent.objects.all())
        # and it is the real thing: a signed API call is authenticated (404: no such member, but not a 401)
        pos = PosTestClient(client, PosSigner(key_id, secret))
        resp = pos.get(LOOKUP)
        assert resp.status_code == 404 and problem_code(resp) != "auth.key_unknown"
        key.refresh_from_db()
        assert key.last_used_at is not None

    def test_sending_the_same_form_twice_does_not_mint_a_second_key(self, client, world, terminal):
        login(client, "heytea-owner")
        first = add_key(client, terminal, request_id="a" * 32)
        assert first.status_code == 200
        _, secret = parse_created(first.content.decode())
        again = add_key(client, terminal, request_id="a" * 32)
        assert again.status_code == 302 and again.url == f"/merchant/pos/#terminal-{terminal.pk}"
        assert PosKey.objects.count() == 1
        listing = client.get(POS).content.decode()
        assert "its secret is not shown again" in listing and secret not in listing
        assert add_key(client, terminal, request_id="b" * 32).status_code == 200
        assert PosKey.objects.count() == 2

    def test_each_rendered_form_carries_its_own_request_id(self, client, world, terminal):
        login(client, "heytea-owner")
        html = client.get(POS).content.decode()
        ids = re.findall(rf'name="t{terminal.pk}-request_id" value="([0-9a-f]{{32}})"', html)
        assert len(ids) == 1

    def test_overlong_label_is_an_inline_error(self, client, world, terminal):
        login(client, "heytea-owner")
        english(client)
        resp = add_key(client, terminal, label="x" * 61)
        assert resp.status_code == 422
        html = resp.content.decode()
        assert "at most 60 characters" in html and 'data-testid="pos-secret"' not in html
        assert not PosKey.objects.exists()

    def test_switched_off_terminal_gets_no_key(self, client, world, terminal):
        PosTerminal.objects.filter(pk=terminal.pk).update(is_active=False)
        login(client, "heytea-owner")
        resp = add_key(client, terminal)
        assert resp.status_code == 422
        assert "switched off" in resp.content.decode()
        assert not PosKey.objects.exists()

    def test_unknown_terminal_is_404(self, client, world):
        login(client, "heytea-owner")
        assert client.post(f"{POS}terminals/999999/keys/", {}).status_code == 404


@pytest.mark.django_db
class TestRevoke:
    def test_revoke_then_signed_calls_are_refused(self, client, world, terminal):
        login(client, "heytea-owner")
        key_id, secret = parse_created(add_key(client, terminal, label="旧收银机").content.decode())
        key = PosKey.objects.get(key_id=key_id)
        pos = PosTestClient(client, PosSigner(key_id, secret))
        before = pos.get(LOOKUP)
        assert before.status_code != 401, before.content

        confirm = client.get(f"{POS}keys/{key.pk}/revoke/")
        assert confirm.status_code == 200
        assert key_id in confirm.content.decode() and 'data-testid="revoke-form"' in confirm.content.decode()
        unconfirmed = client.post(f"{POS}keys/{key.pk}/revoke/", {})
        assert unconfirmed.status_code == 422
        assert "Tick the box to confirm" in unconfirmed.content.decode()
        key.refresh_from_db()
        assert key.revoked_at is None

        resp = client.post(f"{POS}keys/{key.pk}/revoke/", {"confirm": "on"})
        assert resp.status_code == 302 and resp.url == f"/merchant/pos/#terminal-{terminal.pk}"
        key.refresh_from_db()
        assert key.revoked_at is not None
        event = AuditEvent.objects.get(action="pos_key.revoke")
        assert event.target_label == key_id and event.actor_id == world.users["merchant_owner"].pk

        after = pos.get(LOOKUP)
        assert after.status_code == 401 and problem_code(after) == "auth.key_unknown"

        listing = client.get(POS).content.decode()
        assert f"Key {key_id} was revoked." in listing
        row = re.search(rf'data-key-id="{key_id}".*?</tr>', listing, re.S)
        assert row and "Revoked" in row.group(0) and "/revoke/" not in row.group(0)
        # revoking again is harmless and shows that it is already revoked
        again = client.post(f"{POS}keys/{key.pk}/revoke/", {"confirm": "on"})
        assert again.status_code == 200 and "This key was revoked on" in again.content.decode()
        assert AuditEvent.objects.filter(action="pos_key.revoke").count() == 1

    def test_revoking_one_key_leaves_the_others_working(self, client, world, terminal):
        login(client, "heytea-manager")
        old_id, old_secret = parse_created(add_key(client, terminal, label="old").content.decode())
        new_id, new_secret = parse_created(add_key(client, terminal, label="new").content.decode())
        client.post(f"{POS}keys/{PosKey.objects.get(key_id=old_id).pk}/revoke/", {"confirm": "on"})
        old = PosTestClient(client, PosSigner(old_id, old_secret)).get(LOOKUP)
        assert old.status_code == 401 and problem_code(old) == "auth.key_unknown"
        assert PosTestClient(client, PosSigner(new_id, new_secret)).get(LOOKUP).status_code == 404


@pytest.mark.django_db
def test_list_page_query_count_does_not_grow_with_keys(client, world, django_assert_max_num_queries):
    for n in range(3):
        t = pos_terminal_create(actor=Actor.system(), store_id=world.store.pk, name=f"T{n}")
        for _ in range(3):
            pos_key_create(actor=Actor.system(), terminal_id=t.pk)
    login(client, "heytea-owner")
    with django_assert_max_num_queries(10):
        assert client.get(POS).status_code == 200


@pytest.mark.django_db
def test_english_and_chinese_pages_render(client, world, terminal):
    login(client, "heytea-owner")
    for lang in ("en", "zh-hans"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        resp = client.get(POS)
        assert resp.status_code == 200 and f'<html lang="{lang}">' in resp.content.decode()
