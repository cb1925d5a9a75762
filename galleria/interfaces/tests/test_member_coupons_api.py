"""Member API — coupons: lists by status, detail with code and QR, claim centre, claim with Idempotency-Key,
problem+json errors with stable codes, and the OpenAPI document."""

from __future__ import annotations

import pytest
from django.test import Client

from galleria.coupons.models import Coupon

from .test_coupons_console import make_template, member
from .test_coupons_portal_app import app_client, grant

pytestmark = pytest.mark.django_db
BASE = "/api/v1/app"


def claim(client: Client, template_id: int, key: str | None = "k1"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(f"{BASE}/coupon-centre/{template_id}/claim", content_type="application/json", headers=headers)


def test_requires_a_member_session(world):
    resp = Client().get(f"{BASE}/me/coupons")
    assert resp.status_code == 401 and resp["Content-Type"] == "application/problem+json"
    assert resp.json()["code"] == "auth.required"


def test_my_coupons_and_detail(world):
    t = make_template(world)
    m = member(world)
    issued = grant(world, t, m)
    client = app_client(m)
    body = client.get(f"{BASE}/me/coupons").json()
    assert [c["id"] for c in body["results"]] == [issued.coupon_id]
    row = body["results"][0]
    assert row["status"] == "available" and row["card"]["headline"] == "¥30 off when you spend ¥200"
    assert "code" not in row
    assert client.get(f"{BASE}/me/coupons?status=used").json()["results"] == []
    assert client.get(f"{BASE}/me/coupons?status=bogus").status_code == 422
    detail = client.get(f"{BASE}/me/coupons/{issued.coupon_id}").json()
    assert detail["code"] == issued.code and detail["qr_svg"].startswith("<svg")
    other = app_client(member(world, "13800138002"))
    resp = other.get(f"{BASE}/me/coupons/{issued.coupon_id}")
    assert resp.status_code == 404 and resp.json()["code"] == "coupon.not_found"
    assert other.get(f"{BASE}/me/coupons/{2**63}").status_code == 422


def test_claim_centre_and_claim_with_idempotency(world):
    t = make_template(world, total_quantity=1, per_member_limit=1)
    points = make_template(world, name="积分券", claim_method="points", claim_points=100)
    m = member(world)
    client = app_client(m)
    offers = {o["template_id"]: o for o in client.get(f"{BASE}/coupon-centre").json()["results"]}
    assert offers[t.pk]["can_claim"] and offers[t.pk]["remaining"] == 1
    resp = claim(client, t.pk, key=None)
    assert resp.status_code == 422 and resp.json()["code"] == "idempotency.key_required"
    first = claim(client, t.pk)
    assert first.status_code == 200, first.content
    assert first.json()["created"] is True and len(first.json()["code"]) == 16
    replay = claim(client, t.pk)
    assert replay.json()["created"] is False and replay.json()["id"] == first.json()["id"]
    conflict = claim(client, points.pk)
    assert conflict.status_code == 409 and conflict.json()["code"] == "coupon.idempotency_conflict"
    limit = claim(client, t.pk, key="k2")
    assert limit.status_code == 409 and limit.json()["code"] == "coupon.limit_reached"
    poor = claim(client, points.pk, key="k3")
    assert poor.status_code == 422 and poor.json()["code"] == "coupon.points_insufficient"
    assert poor["Content-Type"] == "application/problem+json" and poor.json()["title"]
    other = app_client(member(world, "13800138002"))
    sold = claim(other, t.pk, key="o1")
    assert sold.status_code == 409 and sold.json()["code"] == "coupon.sold_out"
    offers = {o["template_id"]: o for o in other.get(f"{BASE}/coupon-centre").json()["results"]}
    assert offers[t.pk]["reason_code"] == "coupon.sold_out" and not offers[t.pk]["can_claim"]
    assert Coupon.objects.filter(template=t).count() == 1


def test_other_groups_template_is_not_found(world):
    foreign = make_template(world, group=world.other_group)
    client = app_client(member(world))
    resp = claim(client, foreign.pk)
    assert resp.status_code == 404 and resp.json()["code"] == "coupon_template.not_found"


def test_claim_needs_the_csrf_token(world):
    t = make_template(world)
    m = member(world)
    client = app_client(m)
    client.handler.enforce_csrf_checks = True
    resp = claim(client, t.pk)
    assert resp.status_code == 403 and not Coupon.objects.exists()


def test_openapi_documents_the_coupon_operations(world):
    schema = Client().get("/api/v1/openapi.json").json()
    op = schema["paths"]["/api/v1/app/coupon-centre/{template_id}/claim"]["post"]
    assert {"200", "401", "404", "409", "422"} <= set(op["responses"])
    assert "application/problem+json" in op["responses"]["409"]["content"]
    assert "Idempotency-Key" in op["description"]
    assert "/api/v1/app/me/coupons/{coupon_id}" in schema["paths"]
