"""Merchant portal coupons (own templates, verify and redeem) and member app coupons (my coupons, detail with QR,
claim centre with its refusals)."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from galleria.coupons import services as coupon_services
from galleria.coupons.models import Coupon, CouponTemplate

from .test_coupons_console import ACTOR, FORM, client_for, make_template, member

pytestmark = pytest.mark.django_db


def app_client(m) -> Client:
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["member_id"] = m.pk
    session.create()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    client.cookies["django_language"] = "en"
    return client


def grant(world, t, m, key="g"):
    return coupon_services.coupon_grant(
        mall_group_id=world.group.pk, template_id=t.pk, member_id=m.pk, idempotency_key=key, actor=ACTOR
    )


# ---------------------------------------------------------------------------------------------- merchant portal


def test_portal_coupon_permissions(world):
    for role, allowed in (("merchant_owner", True), ("merchant_manager", True), ("merchant_clerk", False)):
        assert client_for(world, role).get(reverse("merchant:coupons")).status_code == (200 if allowed else 403)
    for role in ("merchant_owner", "merchant_clerk"):
        assert client_for(world, role).get(reverse("merchant:coupon_verify")).status_code == 200
    for role in ("group_admin", "marketing"):
        assert client_for(world, role).get(reverse("merchant:coupon_verify")).status_code == 403


def test_merchant_creates_its_own_merchant_funded_coupon(world):
    client = client_for(world, "merchant_owner")
    data = {k: v for k, v in FORM.items() if k not in ("funder", "trigger", "trigger_tier_rank")}
    resp = client.post(
        reverse("merchant:coupon_new"), {**data, "name": "喜茶满50减8", "value_fen": "8", "threshold_fen": "50"}
    )
    assert resp.status_code == 302, resp.content.decode()[-3000:]
    t = CouponTemplate.objects.get(name="喜茶满50减8")
    assert (t.merchant_id, t.funder, t.mall_id, t.status) == (world.merchant.pk, "merchant", world.mall.pk, "draft")
    preview = client.post(reverse("merchant:coupon_preview"), {**data, "value_fen": "8", "threshold_fen": "50"})
    assert "At 喜茶 only" in preview.content.decode()
    client.post(reverse("merchant:coupon_status", args=[t.pk]), {"action": "activate"})
    t.refresh_from_db()
    assert t.status == "active"
    assert "喜茶满50减8" in client.get(reverse("merchant:coupons")).content.decode()
    other = client_for(world, "other_owner")
    assert "喜茶满50减8" not in other.get(reverse("merchant:coupons")).content.decode()
    assert other.get(reverse("merchant:coupon_edit", args=[t.pk])).status_code == 404
    assert other.post(reverse("merchant:coupon_status", args=[t.pk]), {"action": "end"}).status_code == 404
    mall_coupon = make_template(world)
    assert client.get(reverse("merchant:coupon_edit", args=[mall_coupon.pk])).status_code == 404


def test_verify_and_redeem_an_exchange_coupon(world):
    t = make_template(
        world,
        name="免费奶茶",
        kind="exchange",
        exchange_item="多肉葡萄一杯",
        value_fen=1900,
        threshold_fen=0,
        merchant_id=world.merchant.pk,
        funder="merchant",
    )
    m = member(world)
    issued = grant(world, t, m)
    client = client_for(world, "merchant_clerk")
    resp = client.post(reverse("merchant:coupon_verify"), {"code": issued.code.lower(), "action": "check"})
    html = resp.content.decode()
    assert "Valid here, now" in html and "多肉葡萄一杯" in html
    assert "138****8000" in html and "13800138000" not in html and "王小明" not in html
    resp = client.post(
        reverse("merchant:coupon_verify"),
        {"code": issued.code, "action": "redeem", "key": "r1"},
        HTTP_HX_REQUEST="true",
    )
    assert "Redeemed" in resp.content.decode()
    assert Coupon.objects.get(pk=issued.coupon_id).status == "used"
    again = client.post(reverse("merchant:coupon_verify"), {"code": issued.code, "action": "redeem", "key": "r2"})
    assert "This coupon has already been used." in again.content.decode()
    other = client_for(world, "other_owner")
    issued2 = grant(world, t, member(world, "13800138009"), key="g2")
    resp = other.post(reverse("merchant:coupon_verify"), {"code": issued2.code, "action": "redeem", "key": "x"})
    assert "This coupon cannot be used for this purchase." in resp.content.decode()
    assert Coupon.objects.get(pk=issued2.coupon_id).status == "available"
    resp = client.post(reverse("merchant:coupon_verify"), {"code": "ZZZZZZZZZZZZZZZZ", "action": "check"})
    assert "No such coupon." in resp.content.decode()


def test_verify_expired_and_basket_coupons(world):
    now = timezone.now()
    t = make_template(world, valid_from=now - dt.timedelta(days=3), valid_until=now + dt.timedelta(days=3))
    m = member(world)
    issued = grant(world, t, m)
    client = client_for(world, "merchant_clerk")
    html = client.post(reverse("merchant:coupon_verify"), {"code": issued.code, "action": "check"}).content.decode()
    assert "the POS applies it" in html and "verify-redeem" not in html
    Coupon.objects.filter(pk=issued.coupon_id).update(
        valid_until=now - dt.timedelta(minutes=1), valid_from=now - dt.timedelta(days=2)
    )
    html = client.post(reverse("merchant:coupon_verify"), {"code": issued.code, "action": "check"}).content.decode()
    assert "This coupon has expired." in html


# ---------------------------------------------------------------------------------------------- member app


def test_my_coupons_by_status_and_detail(world):
    t = make_template(world)
    m = member(world)
    issued = grant(world, t, m)
    client = app_client(m)
    html = client.get(reverse("app:coupons")).content.decode()
    assert "满200减30" in html and "¥30 off when you spend ¥200" in html
    assert "No used coupons." in client.get(reverse("app:coupons") + "?status=used").content.decode()
    detail = client.get(reverse("app:coupon_detail", args=[issued.coupon_id])).content.decode()
    assert issued.code in detail and "<svg" in detail and "At every merchant in the mall" in detail
    Coupon.objects.filter(pk=issued.coupon_id).update(status="used", used_at=timezone.now())
    assert "满200减30" in client.get(reverse("app:coupons") + "?status=used").content.decode()
    detail = client.get(reverse("app:coupon_detail", args=[issued.coupon_id])).content.decode()
    assert "Used on" in detail and issued.code not in detail
    other = app_client(member(world, "13800138002"))
    resp = other.get(reverse("app:coupon_detail", args=[issued.coupon_id]))
    assert resp.status_code == 302 and resp["Location"] == reverse("app:coupons")
    assert Client().get(reverse("app:coupons")).status_code == 302


def test_claim_centre_free_points_and_refusals(world):
    free = make_template(world, name="免费券", total_quantity=1, per_member_limit=1)
    points = make_template(world, name="积分券", claim_method="points", claim_points=500)
    m = member(world)
    client = app_client(m)
    html = client.get(reverse("app:claim_centre")).content.decode()
    assert "免费券" in html and "500 points" in html
    resp = client.post(reverse("app:coupon_claim", args=[free.pk]), {"key": "k1"})
    assert resp.status_code == 302 and "/app/coupons/" in resp["Location"]
    assert Coupon.objects.filter(template=free, member=m).count() == 1
    resp = client.post(reverse("app:coupon_claim", args=[free.pk]), {"key": "k2"}, follow=True)
    assert "You already have as many of these coupons as allowed." in resp.content.decode()
    resp = client.post(reverse("app:coupon_claim", args=[points.pk]), {"key": "k3"}, follow=True)
    assert "You do not have enough points for this coupon." in resp.content.decode()
    other = app_client(member(world, "13800138002"))
    html = other.get(reverse("app:claim_centre")).content.decode()
    assert "All coupons of this kind have been claimed." in html
    resp = other.post(reverse("app:coupon_claim", args=[free.pk]), {"key": "k4"}, follow=True)
    assert "All coupons of this kind have been claimed." in resp.content.decode()


def test_home_links_to_coupons(world):
    m = member(world)
    html = app_client(m).get(reverse("app:home")).content.decode()
    assert reverse("app:coupons") in html and reverse("app:claim_centre") in html
