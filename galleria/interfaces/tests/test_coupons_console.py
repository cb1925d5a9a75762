"""Console coupon screens: who may see and do what, the template form and its live preview, status changes,
stats, grants (one member, a pasted list with per-row failures, progress), the XLSX export, promotions."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from galleria.audit.types import Actor
from galleria.coupons import services as coupon_services
from galleria.coupons.models import Coupon, CouponTemplate, GrantBatch, Promotion
from galleria.members.services import member_register
from galleria.testing import PASSWORD

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def client_for(world, role: str) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    assert client.login(username=world.users[role].username, password=PASSWORD)
    return client


def make_template(world, *, activate: bool = True, group=None, **values) -> CouponTemplate:
    now = timezone.now()
    base = {
        "name": "满200减30",
        "kind": "threshold",
        "value_fen": 3000,
        "threshold_fen": 20000,
        "validity_kind": "fixed",
        "valid_from": now - dt.timedelta(days=1),
        "valid_until": now + dt.timedelta(days=30),
    }
    base.update(values)
    group = group or world.group
    t = coupon_services.coupon_template_create(mall_group_id=group.pk, values=base, actor=ACTOR)
    if activate:
        t = coupon_services.coupon_template_activate(template_id=t.pk, mall_group_id=group.pk, actor=ACTOR)
    return t


def member(world, phone="13800138000", mall=None):
    return member_register(
        mall=mall or world.mall, phone=phone, channel="desk", actor=ACTOR, profile={"name": "王小明"}
    )


FORM = {
    "name": "周末满200减30",
    "kind": "threshold",
    "value_fen": "30",
    "threshold_fen": "200",
    "scope_kind": "all",
    "channel": "both",
    "validity_kind": "relative",
    "valid_days": "30",
    "new_member_days": "30",
    "funder": "mall",
    "max_per_sale": "1",
    "is_claimable": "on",
    "claim_method": "free",
    "trigger": "none",
    "on_threshold_loss": "deduct",
    "restore_on_refund": "on",
    "per_member_limit": "1",
    "min_tier_rank": "0",
    "trigger_tier_rank": "0",
}


# ---------------------------------------------------------------------------------------------- permissions

VIEWERS = ["group_admin", "marketing", "service", "finance", "readonly", "platform_admin"]
MANAGERS = ["group_admin", "marketing", "platform_admin"]


@pytest.mark.parametrize("role", [*VIEWERS, "merchant_owner", "merchant_clerk"])
def test_list_and_detail_need_coupons_view(world, role):
    t = make_template(world)
    client = client_for(world, role)
    for url in (reverse("console:coupon_templates"), reverse("console:coupon_template", args=[t.pk])):
        resp = client.get(url)
        assert resp.status_code == (200 if role in VIEWERS else 403), (role, url)
    if role in VIEWERS:
        assert "满200减30" in client.get(reverse("console:coupon_templates")).content.decode()


@pytest.mark.parametrize("role", VIEWERS)
def test_create_and_status_need_coupons_manage(world, role):
    t = make_template(world, activate=False)
    client = client_for(world, role)
    allowed = role in MANAGERS
    assert client.get(reverse("console:coupon_template_new")).status_code == (200 if allowed else 403)
    resp = client.post(reverse("console:coupon_template_status", args=[t.pk]), {"action": "activate"})
    assert resp.status_code == (302 if allowed else 403)
    t.refresh_from_db()
    assert t.status == ("active" if allowed else "draft")


def test_other_groups_objects_are_404(world):
    foreign = make_template(world, group=world.other_group)
    client = client_for(world, "foreign_admin")
    own = make_template(world)
    for name in ("console:coupon_template", "console:coupon_template_edit", "console:coupon_template_export"):
        assert client.get(reverse(name, args=[own.pk])).status_code == 404
    assert client.post(reverse("console:coupon_template_status", args=[own.pk]), {"action": "end"}).status_code == 404
    own.refresh_from_db()
    assert own.status == "active"
    assert client.get(reverse("console:coupon_template", args=[foreign.pk])).status_code == 200


def test_grant_one_needs_coupons_grant(world):
    t = make_template(world)
    m = member(world)
    for role, allowed in (("service", True), ("finance", False), ("readonly", False)):
        client = client_for(world, role)
        resp = client.post(
            reverse("console:coupon_template_grant", args=[t.pk]),
            {"member": "13800138000", "key": f"k-{role}"},
        )
        assert resp.status_code == (302 if allowed else 403)
    assert Coupon.objects.filter(template=t, member=m).count() == 1


# ---------------------------------------------------------------------------------------------- form, preview


def test_create_template_with_every_section(world):
    client = client_for(world, "marketing")
    data = {
        **FORM,
        "days_of_week": ["6", "7"],
        "hours_from": "10:00",
        "hours_until": "22:00",
        "total_quantity": "500",
        "excluded_line_categories": "tobacco, gift_card",
        "stacking_group": "weekend",
        "mall_id": str(world.mall.pk),
    }
    resp = client.post(reverse("console:coupon_template_new"), data)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    t = CouponTemplate.objects.get(name="周末满200减30")
    assert (t.value_fen, t.threshold_fen, t.valid_days, t.total_quantity) == (3000, 20000, 30, 500)
    assert t.days_of_week == [6, 7] and t.excluded_line_categories == ["tobacco", "gift_card"]
    assert t.status == "draft" and t.mall_id == world.mall.pk
    page = client.get(resp["Location"]).content.decode()
    assert "¥30 off when you spend ¥200" in page


def test_form_errors_are_inline(world):
    client = client_for(world, "marketing")
    resp = client.post(reverse("console:coupon_template_new"), {**FORM, "value_fen": "300", "threshold_fen": "200"})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "The amount off cannot be more than the minimum spend." in html
    resp = client.post(reverse("console:coupon_template_new"), {**FORM, "claim_method": "points", "claim_points": ""})
    assert resp.status_code == 400
    assert "Enter the points price." in resp.content.decode()
    resp = client.post(reverse("console:coupon_template_new"), {**FORM, "value_fen": "abc"})
    assert "Enter an amount in yuan" in resp.content.decode()
    assert not CouponTemplate.objects.exists()


def test_live_preview_renders_the_card(world):
    client = client_for(world, "marketing")
    resp = client.post(reverse("console:coupon_preview"), {**FORM, "per_member_limit": "2"}, HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "¥30 off when you spend ¥200" in html and "At most 2 per member" in html
    assert "Valid for 30 days after you get it" in html and "Ready to activate." in html
    resp = client.post(reverse("console:coupon_preview"), {**FORM, "kind": "percent", "percent_off_bp": "15"})
    assert "15% off" in resp.content.decode()
    resp = client.post(reverse("console:coupon_preview"), {**FORM, "threshold_fen": ""})
    assert "Enter the minimum spend." in resp.content.decode()
    zh = client_for(world, "marketing")
    zh.cookies["django_language"] = "zh-hans"
    assert client_for(world, "readonly").post(reverse("console:coupon_preview"), FORM).status_code == 403


def test_active_template_locks_value_fields(world):
    t = make_template(world, total_quantity=10)
    client = client_for(world, "marketing")
    data = {**FORM, "name": "改名", "value_fen": "99", "total_quantity": "20", "validity_kind": "fixed"}
    resp = client.post(reverse("console:coupon_template_edit", args=[t.pk]), data)
    assert resp.status_code == 302, [
        ln for ln in resp.content.decode().splitlines() if "errorlist" in ln or "alert" in ln
    ]
    t.refresh_from_db()
    assert (t.name, t.value_fen, t.total_quantity) == ("改名", 3000, 20)
    resp = client.post(reverse("console:coupon_template_edit", args=[t.pk]), {**data, "total_quantity": "5"})
    assert resp.status_code == 400


def test_status_flow_and_stats(world):
    t = make_template(world, activate=False, total_quantity=100)
    client = client_for(world, "marketing")
    client.post(reverse("console:coupon_template_status", args=[t.pk]), {"action": "activate"})
    m = member(world)
    coupon_services.coupon_claim(member_id=m.pk, template_id=t.pk, idempotency_key="c1")
    html = client.get(reverse("console:coupon_template", args=[t.pk])).content.decode()
    assert "1 claimed · 0 granted · 0 automatic" in html
    assert 'id="chart-funnel"' in html and "99" in html
    client.post(reverse("console:coupon_template_status", args=[t.pk]), {"action": "pause"})
    t.refresh_from_db()
    assert t.status == "paused"
    client.post(reverse("console:coupon_template_status", args=[t.pk]), {"action": "end"})
    t.refresh_from_db()
    assert t.status == "ended"
    resp = client.post(reverse("console:coupon_template_status", args=[t.pk]), {"action": "activate"}, follow=True)
    assert "This cannot be done in the template" in resp.content.decode()


def test_activating_an_incomplete_template_says_why(world):
    t = CouponTemplate.objects.create(mall_group=world.group, name="x", kind="threshold", value_fen=100)
    client = client_for(world, "marketing")
    resp = client.post(reverse("console:coupon_template_status", args=[t.pk]), {"action": "activate"}, follow=True)
    assert "Enter the minimum spend." in resp.content.decode()


def test_list_search_and_filters(world):
    make_template(world, name="喜茶满50减5", value_fen=500, threshold_fen=5000)
    make_template(world, name="停车券", kind="parking", parking_hours=2, value_fen=0, threshold_fen=0)
    client = client_for(world, "readonly")
    html = client.get(reverse("console:coupon_templates"), {"q": "喜茶"}).content.decode()
    assert "喜茶满50减5" in html and "停车券" not in html
    html = client.get(reverse("console:coupon_templates"), {"kind": "parking"}).content.decode()
    assert "停车券" in html and "喜茶满50减5" not in html
    html = client.get(reverse("console:coupon_templates"), {"status": "draft"}).content.decode()
    assert "No coupon matches this search." in html


# ---------------------------------------------------------------------------------------------- grants


def test_grant_batch_from_a_pasted_list_shows_progress_and_failures(world):
    t = make_template(world, total_quantity=10)
    a = member(world, "13800138001")
    b = member(world, "13800138002")
    client = client_for(world, "marketing")
    resp = client.post(
        reverse("console:coupon_grant_batch_new", args=[t.pk]),
        {"target": "list", "members": f"13800138001\n{b.card_no}\n13900000000\nnonsense", "key": "batch-1"},
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    batch = GrantBatch.objects.get()
    assert batch.status == "done" and batch.issued == 2
    assert set(Coupon.objects.filter(template=t).values_list("member_id", flat=True)) == {a.pk, b.pk}
    html = client.get(resp["Location"]).content.decode()
    assert "13900000000" in html and "nonsense" in html and "No active member found" in html
    fragment = client.get(resp["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="done"' in fragment and "hx-trigger" not in fragment
    again = client.post(
        reverse("console:coupon_grant_batch_new", args=[t.pk]),
        {"target": "list", "members": f"13800138001\n{b.card_no}", "key": "batch-1"},
    )
    assert again.status_code == 302 and GrantBatch.objects.count() == 1


def test_running_batch_page_polls(world):
    t = make_template(world)
    batch = GrantBatch.objects.create(mall_group=world.group, template=t, idempotency_key="x", total=4, processed=1)
    html = client_for(world, "readonly").get(reverse("console:coupon_grant_batch", args=[batch.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html and "25%" in html
    assert (
        client_for(world, "foreign_admin").get(reverse("console:coupon_grant_batch", args=[batch.pk])).status_code
        == 404
    )


def test_grant_batch_to_a_segment_and_validation(world):
    t = make_template(world)
    member(world, "13800138001")
    client = client_for(world, "marketing")
    resp = client.post(reverse("console:coupon_grant_batch_new", args=[t.pk]), {"target": "list", "key": "k"})
    assert resp.status_code == 400 and "Paste at least one phone or card number." in resp.content.decode()
    resp = client.post(reverse("console:coupon_grant_batch_new", args=[t.pk]), {"target": "segment", "key": "k2"})
    assert resp.status_code == 302
    assert GrantBatch.objects.get().issued == 1
    assert client_for(world, "service").get(reverse("console:coupon_grant_batch_new", args=[t.pk])).status_code == 403


def test_member_page_lists_and_grants(world):
    t = make_template(world)
    m = member(world)
    client = client_for(world, "service")
    page = client.get(reverse("console:member_coupons", args=[m.pk])).content.decode()
    assert "This member has no coupons." in page
    resp = client.post(reverse("console:member_coupons", args=[m.pk]), {"template": t.pk, "key": "g1"})
    assert resp.status_code == 302
    client.post(reverse("console:member_coupons", args=[m.pk]), {"template": t.pk, "key": "g1"})  # replay
    coupon = Coupon.objects.get(member=m)
    page = client.get(reverse("console:member_coupons", args=[m.pk])).content.decode()
    assert "满200减30" in page and coupon.code not in page  # codes are masked for staff
    assert (
        client_for(world, "readonly")
        .post(reverse("console:member_coupons", args=[m.pk]), {"template": t.pk, "key": "g2"})
        .status_code
        == 403
    )
    assert client_for(world, "foreign_admin").get(reverse("console:member_coupons", args=[m.pk])).status_code == 404


# ---------------------------------------------------------------------------------------------- export


def test_xlsx_export_neutralises_formulas(world):
    t = make_template(world, name='=HYPERLINK("http://evil","x")')
    m = member(world)
    coupon_services.coupon_claim(member_id=m.pk, template_id=t.pk, idempotency_key="c1")
    resp = client_for(world, "finance").get(reverse("console:coupon_template_export", args=[t.pk]))
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(resp.content))
    coupons = list(wb.worksheets[0].iter_rows(values_only=True))
    assert coupons[0][0].startswith("'=HYPERLINK")
    assert coupons[2][1] == m.card_no
    code = Coupon.objects.get().code
    assert coupons[2][0] != code and coupons[2][0].endswith(code[-4:])
    assert wb.worksheets[1].max_row == 1  # header only: nothing redeemed


# ---------------------------------------------------------------------------------------------- promotions


def test_promotions_create_and_activate(world):
    client = client_for(world, "marketing")
    now = timezone.localtime()
    data = {
        "name": "会员日满300减50",
        "kind": "spend_threshold",
        "value_fen": "50",
        "threshold_fen": "300",
        "members_only": "on",
        "min_tier_rank": "0",
        "scope_kind": "all",
        "channel": "both",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "days_of_month": "8, 18",
        "funder": "mall",
    }
    resp = client.post(reverse("console:promotion_new"), {**data, "ends_at": data["starts_at"]})
    assert resp.status_code == 400 and "The end must be after the start." in resp.content.decode()
    resp = client.post(reverse("console:promotion_new"), data)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    promo = Promotion.objects.get()
    assert promo.days_of_month == [8, 18] and promo.status == "draft"
    client.post(reverse("console:promotion_status", args=[promo.pk]), {"action": "activate"})
    promo.refresh_from_db()
    assert promo.status == "active"
    html = client_for(world, "readonly").get(reverse("console:promotions")).content.decode()
    assert "¥50 off when you spend ¥300" in html and "New promotion" not in html
    assert (
        client_for(world, "readonly")
        .post(reverse("console:promotion_status", args=[promo.pk]), {"action": "pause"})
        .status_code
        == 403
    )
    assert (
        client_for(world, "foreign_admin")
        .post(reverse("console:promotion_status", args=[promo.pk]), {"action": "pause"})
        .status_code
        == 404
    )
