"""Per-unit coupons in the screens: the console editor and its live preview, promotions, the merchant portal's
own coupons, the member app's card; and the searchable merchant checklists of the coupon editor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from galleria.coupons.models import CouponTemplate, Promotion
from galleria.interfaces import coupon_text

from .test_coupons_console import FORM, client_for, make_template, member
from .test_coupons_portal_app import app_client, grant

pytestmark = pytest.mark.django_db

PER_ITEM = {**FORM, "name": "T恤每件减5元", "kind": "per_item", "value_fen": "5", "threshold_fen": "200"}


def test_console_creates_an_amount_off_each_item_coupon_with_a_unit_limit(world):
    client = client_for(world, "marketing")
    data = {
        **PER_ITEM,
        "max_units": "3",
        "max_discount_fen": "50",  # not a field of this kind: dropped
        "scope_kind": "skus",
        "scope_skus": "TEE-01, TEE-02",
        "excluded_merchant_ids": [str(world.other_merchant.pk)],
    }
    resp = client.post(reverse("console:coupon_template_new"), data)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    t = CouponTemplate.objects.get(name="T恤每件减5元")
    assert (t.kind, t.value_fen, t.max_units, t.threshold_fen, t.max_discount_fen) == ("per_item", 500, 3, 0, None)
    assert t.scope_skus == ["TEE-01", "TEE-02"] and t.excluded_merchant_ids == [world.other_merchant.pk]
    page = client.get(resp["Location"]).content.decode()
    assert "¥5 off each item" in page and "Up to 3 items per purchase" in page
    # editing shows the ticked merchant first in its checklist
    edit = client.get(reverse("console:coupon_template_edit", args=[t.pk])).content.decode()
    assert f'value="{world.other_merchant.pk}" id="id_excluded_merchant_ids_' in edit
    assert "checked" in edit.split(f'value="{world.other_merchant.pk}" id="id_excluded_merchant_ids_')[1][:60]


def test_special_price_needs_its_price_and_a_sane_limit_inline(world):
    client = client_for(world, "marketing")
    resp = client.post(reverse("console:coupon_template_new"), {**PER_ITEM, "kind": "unit_price"})
    assert resp.status_code == 400
    assert "Enter the special price of one item." in resp.content.decode()
    resp = client.post(
        reverse("console:coupon_template_new"),
        {**PER_ITEM, "kind": "unit_price", "unit_price_fen": "79", "max_units": "0"},
    )
    assert resp.status_code == 400 and 'data-field="max_units"' in resp.content.decode()
    assert "has-error" in resp.content.decode().split('data-field="max_units"')[0][-200:]
    assert not CouponTemplate.objects.exists()
    resp = client.post(
        reverse("console:coupon_template_new"), {**PER_ITEM, "kind": "unit_price", "unit_price_fen": "79.9"}
    )
    assert resp.status_code == 302
    t = CouponTemplate.objects.get()
    assert (t.kind, t.unit_price_fen, t.value_fen, t.max_units) == ("unit_price", 7990, 0, None)


def test_live_preview_describes_per_unit_kinds(world):
    client = client_for(world, "marketing")
    html = client.post(reverse("console:coupon_preview"), {**PER_ITEM, "max_units": "2"}).content.decode()
    assert "¥5 off each item" in html and "Up to 2 items per purchase" in html
    assert "A refunded item takes its own discount back with it" in html and "Ready to activate." in html
    assert "minimum" not in html  # no threshold rule for a per-unit coupon
    html = client.post(
        reverse("console:coupon_preview"), {**PER_ITEM, "kind": "unit_price", "unit_price_fen": "79"}
    ).content.decode()
    assert "Special price ¥79 each" in html and "On every eligible item" in html
    assert "Items already priced at ¥79 or less are not discounted further" in html
    html = client.post(reverse("console:coupon_preview"), {**PER_ITEM, "kind": "unit_price"}).content.decode()
    assert "Enter the special price of one item." in html


def test_the_merchant_checklists_replace_the_multi_selects(world):
    html = client_for(world, "marketing").get(reverse("console:coupon_template_new")).content.decode()
    assert "<select" not in html.split('data-field="excluded_merchant_ids"')[1].split('data-field="excluded_skus"')[0]
    assert 'for="id_excluded_merchant_ids_filter"' in html and 'id="id_excluded_merchant_ids_filter"' in html
    assert 'type="checkbox" name="excluded_merchant_ids"' in html and "data-checklist-filter" in html
    assert 'type="checkbox" name="scope_merchant_ids"' in html
    promo = client_for(world, "marketing").get(reverse("console:promotion_new")).content.decode()
    assert 'type="checkbox" name="scope_merchant_ids"' in promo


def test_console_promotions_of_both_per_unit_kinds(world):
    client = client_for(world, "marketing")
    now = timezone.localtime()
    data = {
        "name": "T恤每件减10元",
        "kind": "per_item",
        "value_fen": "10",
        "max_units": "3",
        "max_discount_fen": "20",
        "members_only": "on",
        "min_tier_rank": "0",
        "scope_kind": "skus",
        "scope_skus": "TEE",
        "channel": "both",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "funder": "mall",
    }
    assert client.post(reverse("console:promotion_new"), data).status_code == 302
    resp = client.post(reverse("console:promotion_new"), {**data, "name": "爆款特价", "kind": "unit_price"})
    assert resp.status_code == 400 and "Enter the special price of one item." in resp.content.decode()
    special = {**data, "name": "爆款特价", "kind": "unit_price", "unit_price_fen": "79", "max_units": ""}
    assert client.post(reverse("console:promotion_new"), special).status_code == 302
    per_item, unit_price = Promotion.objects.order_by("pk")
    assert (per_item.value_fen, per_item.max_units, per_item.max_discount_fen) == (1000, 3, None)
    assert (unit_price.unit_price_fen, unit_price.max_units) == (7900, None)
    html = client.get(reverse("console:promotions")).content.decode()
    assert "¥10 off each item · Up to 3 items per purchase" in html and "Special price ¥79 each" in html


def test_merchant_portal_shares_the_editor(world):
    client = client_for(world, "merchant_owner")
    data = {k: v for k, v in PER_ITEM.items() if k not in ("funder", "trigger", "trigger_tier_rank")}
    data.update(name="招牌奶茶特价", kind="unit_price", unit_price_fen="12", scope_kind="skus", scope_skus="TEA-1")
    preview = client.post(reverse("merchant:coupon_preview"), data).content.decode()
    assert "Special price ¥12 each" in preview
    assert client.post(reverse("merchant:coupon_new"), data).status_code == 302
    t = CouponTemplate.objects.get(name="招牌奶茶特价")
    assert (t.kind, t.unit_price_fen, t.funder, t.merchant_id) == ("unit_price", 1200, "merchant", world.merchant.pk)


def test_member_app_card_reads_per_unit_coupons(world):
    t = make_template(world, name="T恤每件减5元", kind="per_item", value_fen=500, threshold_fen=0, max_units=2)
    m = member(world)
    issued = grant(world, t, m)
    client = app_client(m)
    assert "¥5 off each item" in client.get(reverse("app:coupons")).content.decode()
    detail = client.get(reverse("app:coupon_detail", args=[issued.coupon_id])).content.decode()
    assert "Up to 2 items per purchase" in detail
    with translation.override("en"):
        card = coupon_text.describe({"kind": "unit_price", "unit_price_fen": 7990, "max_units": None})
    assert (card.amount_prefix, card.amount, card.amount_unit) == ("¥", "79.9", "each")
    assert card.headline == "Special price ¥79.9 each" and card.condition == "On every eligible item"
