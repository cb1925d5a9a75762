"""Staff API tokens (docs/api.md, "Tokens"): an admin creates one in the console (shown once, stored hashed, audited)
with chosen permissions; a back-office system calls the console API with `Authorization: Bearer gst_…` and no
session or CSRF token, gets only what the scopes allow, stamps last-used; revoked or expired, it stops working."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from galleria.apiauth.models import StaffApiToken
from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.members.services import member_register
from galleria.testing import PASSWORD

pytestmark = pytest.mark.django_db


def _admin(client: Client, world) -> None:
    user = world.users["group_admin"]
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _create(client: Client, world, scopes: list[str], days: int = 30) -> str:
    _admin(client, world)
    res = client.post(reverse("console:api_tokens"), {"name": "ERP", "scopes": scopes, "days": days})
    assert res.status_code == 200, res.content
    assert res["Cache-Control"] == "no-store"
    found = re.search(r'data-testid="tok-secret">(gst_[\w-]+)<', res.content.decode())
    assert found is not None
    return found.group(1)


def test_a_token_reads_what_its_scopes_allow_and_nothing_more(client, world):
    token = _create(client, world, ["members.view"])
    row = StaffApiToken.objects.get()
    assert token.startswith("gst_") and token not in row.token_hash and row.prefix == token[:10]
    assert token not in client.get(reverse("console:api_tokens")).content.decode()  # shown once
    member = member_register(mall=world.mall, phone="13900001111", channel="desk", actor=Actor.system())
    api = Client(enforce_csrf_checks=True)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    got = api.get(f"/api/v1/console/members/{member.pk}", **auth)
    assert got.status_code == 200, got.content
    assert got.json()["phone"] != "+8613900001111"  # members.view_pii was not given: masked
    write = api.post(
        "/api/v1/console/members",
        {"phone": "13600004444", "mall_id": world.mall.pk, "name": "新会员"},
        content_type="application/json",
        **auth,
    )
    assert write.status_code == 403 and write.json()["code"] == "auth.forbidden"  # members.edit not in scope
    assert StaffApiToken.objects.get().last_used_at is not None
    assert AuditEvent.objects.filter(action="api_token.create").count() == 1


def test_scopes_must_be_the_admins_own_and_bad_input_is_inline(client, world):
    _admin(client, world)
    res = client.post(reverse("console:api_tokens"), {"name": "", "scopes": ["platform.admin"], "days": 999})
    assert res.status_code == 422 and not StaffApiToken.objects.exists()


def test_revoked_and_expired_tokens_stop_working(client, world):
    token = _create(client, world, ["members.view"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    member = member_register(mall=world.mall, phone="13900002222", channel="desk", actor=Actor.system())
    url = f"/api/v1/console/members/{member.pk}"
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=31)):
        assert Client().get(url, **auth).status_code == 401
    assert Client().get(url, **auth).status_code == 200
    row = StaffApiToken.objects.get()
    res = client.post(reverse("console:api_token_revoke", args=[row.pk]))
    assert res.status_code == 302
    assert Client().get(url, **auth).status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1
