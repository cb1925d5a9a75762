"""Member bearer tokens (docs/api.md, "Tokens"): sign a device in with an SMS code, call /api/v1/app/ with the
access token and no cookie or CSRF token, refresh with rotation (a reused refresh token signs the device out),
expiry, the member's device list and signing a device out; the OpenAPI document shows both schemes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from galleria.apiauth.models import MemberDevice
from galleria.apiauth.services import device_sign_in
from galleria.messaging.models import SmsMessage

pytestmark = pytest.mark.django_db
PHONE = "+8613812345678"


def _code() -> str:
    found = re.search(r"\d{6}", SmsMessage.objects.latest("id").body)
    assert found is not None
    return found.group(0)


def _sign_in(client: Client, name: str = "iPhone 15") -> dict:
    client.post("/api/v1/app/otp/request", {"phone": "13812345678"}, content_type="application/json")
    resp = client.post(
        "/api/v1/app/auth/token",
        {"phone": "13812345678", "code": _code(), "accept_terms": True, "device_name": name},
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.content
    return resp.json()


def _bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_device_signs_in_and_uses_the_api_with_the_bearer_token_without_csrf(world):
    api = Client(enforce_csrf_checks=True)
    tokens = _sign_in(Client())
    assert tokens["token_type"] == "Bearer" and tokens["access_token"].startswith("gat_")
    assert 800 < tokens["expires_in"] <= 900 and tokens["is_new"] is True
    me = api.get("/api/v1/app/me", **_bearer(tokens["access_token"]))
    assert me.status_code == 200 and me.json()["phone"] == PHONE
    # a write with the bearer token needs no CSRF token (there is no cookie to ride on)
    resp = api.patch(
        "/api/v1/app/me", {"name": "王小明"}, content_type="application/json", **_bearer(tokens["access_token"])
    )
    assert resp.status_code == 200, resp.content
    # an unknown token is not a member
    assert api.get("/api/v1/app/me", **_bearer("gat_nope")).status_code == 401
    row = MemberDevice.objects.get()
    assert row.name == "iPhone 15"
    assert tokens["access_token"] not in (row.access_hash, row.refresh_hash)  # stored hashed


def test_refresh_rotates_and_a_reused_refresh_token_signs_the_device_out(world):
    tokens = _sign_in(Client())
    api = Client()
    resp = api.post(
        "/api/v1/app/auth/refresh", {"refresh_token": tokens["refresh_token"]}, content_type="application/json"
    )
    assert resp.status_code == 200, resp.content
    fresh = resp.json()
    assert fresh["refresh_token"] != tokens["refresh_token"] and fresh["device_id"] == tokens["device_id"]
    assert api.get("/api/v1/app/me", **_bearer(tokens["access_token"])).status_code == 401  # the old one is gone
    assert api.get("/api/v1/app/me", **_bearer(fresh["access_token"])).status_code == 200
    again = api.post(
        "/api/v1/app/auth/refresh", {"refresh_token": tokens["refresh_token"]}, content_type="application/json"
    )
    assert again.status_code == 400 and again.json()["code"] == "auth.refresh_reused"
    assert api.get("/api/v1/app/me", **_bearer(fresh["access_token"])).status_code == 401  # signed out
    assert MemberDevice.objects.get().revoked_reason == "refresh_reused"


def test_the_access_token_expires_after_15_minutes(world):
    start = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        tokens = _sign_in(Client())
        clock.shift(dt.timedelta(minutes=14))
        assert Client().get("/api/v1/app/me", **_bearer(tokens["access_token"])).status_code == 200
        clock.shift(dt.timedelta(minutes=2))
        assert Client().get("/api/v1/app/me", **_bearer(tokens["access_token"])).status_code == 401


def test_the_member_lists_devices_and_signs_one_out(world):
    phone_a = _sign_in(Client(), "iPhone")
    second = device_sign_in(member_id=phone_a["member_id"], mall_group_id=world.group.pk, name="小程序", via="wechat")
    phone_b = {
        "device_id": second.device_id,
        "access_token": second.access_token,
        "refresh_token": second.refresh_token,
    }
    api = Client()
    listed = api.get("/api/v1/app/me/devices", **_bearer(phone_a["access_token"])).json()
    assert {(d["name"], d["current"]) for d in listed} == {("iPhone", True), ("小程序", False)}
    gone = api.delete(f"/api/v1/app/me/devices/{phone_b['device_id']}", **_bearer(phone_a["access_token"]))
    assert gone.status_code == 204
    assert api.get("/api/v1/app/me", **_bearer(phone_b["access_token"])).status_code == 401
    refused = api.post(
        "/api/v1/app/auth/refresh", {"refresh_token": phone_b["refresh_token"]}, content_type="application/json"
    )
    assert refused.status_code == 400 and refused.json()["code"] == "auth.token_invalid"


def test_the_openapi_document_shows_bearer_and_cookie_for_member_operations(world):
    doc = Client().get("/api/v1/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["MemberBearer"]["scheme"] == "bearer" and schemes["MemberSession"]["in"] == "cookie"
    security = doc["paths"]["/api/v1/app/me"]["get"]["security"]
    assert {"MemberBearer": []} in security and {"MemberSession": []} in security
