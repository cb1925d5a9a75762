"""Console loyalty screens through the Django test client: points rules, the earn preview, tiers, the member 360's
loyalty section, adjustments with approval — permissions by role, scope isolation and inline errors."""

from __future__ import annotations

import datetime as dt
import itertools
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.ledger.models import Transaction
from galleria.members.models import JoinChannel, Member
from galleria.members.services import member_register
from galleria.points.models import (
    AdjustmentStatus,
    BehaviourRule,
    EarnRule,
    PointsAdjustment,
    PointsCampaign,
    PointsPolicy,
)
from galleria.points.selectors import points_balance
from galleria.points.services import points_adjust_request
from galleria.sales.models import Sale
from galleria.sales.services import sale_commit
from galleria.sales.types import LineIn, PaymentIn, SaleIn
from galleria.testing import PASSWORD
from galleria.tiers.models import MemberTier, TierChange, TierLevel, TierSettings
from galleria.tiers.services import tier_ladder_ensure_default

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
ROLES = ["platform_admin", "group_admin", "marketing", "service", "finance", "readonly"]
MERCHANT_ROLES = ["merchant_owner", "merchant_manager", "merchant_clerk"]
EDITORS = {"platform_admin", "group_admin", "marketing"}
ADJUSTERS = {"platform_admin", "group_admin", "service"}
APPROVERS = {"platform_admin", "group_admin", "finance"}

PAGES: dict[str, set[str]] = {
    "console:points_rules": set(ROLES),
    "console:tiers": set(ROLES),
    "console:adjustments": APPROVERS,
    "console:points_policy": EDITORS,
    "console:earn_rule_new": EDITORS,
    "console:campaign_new": EDITORS,
}
_receipts = itertools.count(1)


def login(client, world, role: str):
    user = world.users[role]
    assert client.login(username=user.username, password=PASSWORD)
    return user


def register(world, phone: str = "13812345678", *, name: str = "张三", mall=None) -> Member:
    return member_register(
        mall=mall or world.mall, phone=phone, channel=JoinChannel.APP, actor=ACTOR, profile={"name": name}
    )


def sell(world, member: Member | None, *amounts: int, category: str = "", merchant=None, store=None):
    """Commit a sale at 喜茶 (amounts in fen, paid by WeChat Pay)."""
    lines = tuple(
        LineIn(sku=f"SKU{i}", name=f"item {i}", quantity=1, unit_price_fen=a, amount_fen=a, category=category)
        for i, a in enumerate(amounts)
    )
    return sale_commit(
        data=SaleIn(
            merchant_id=(merchant or world.merchant).pk,
            store_id=(store or world.store).pk,
            terminal_id=None,
            pos_sale_id=f"R{next(_receipts):06d}",
            occurred_at=timezone.now() - dt.timedelta(seconds=5),
            lines=lines,
            payments=(PaymentIn("wechat", sum(amounts)),),
            member_id=member.pk if member else None,
        ),
        actor=ACTOR,
    )


@pytest.fixture(autouse=True)
def english(client):
    """Assertions read English text; the console's default language is Simplified Chinese."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def member(world):
    return register(world)


def sim(client, world, *, amounts=("128.00",), categories=None, skus=None, member="", points="", at=None, **extra):
    params = {
        "merchant": world.merchant.pk,
        "member": member,
        "at": at or timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "points_to_use": points,
        "amount": list(amounts),
        "sku": list(skus or ["" for _a in amounts]),
        "category": list(categories or ["" for _a in amounts]),
        **extra,
    }
    return client.get(reverse("console:points_simulate"), params, headers={"HX-Request": "true"})


# ---------------------------------------------------------------- permissions and navigation


@pytest.mark.parametrize("role", ROLES)
def test_loyalty_pages_allow_or_forbid_by_role(client, world, member, role):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    login(client, world, role)
    for name, allowed in PAGES.items():
        resp = client.get(reverse(name))
        assert resp.status_code == (200 if role in allowed else 403), (name, role, resp.status_code)
    gold = TierLevel.objects.get(mall_group=world.group, code="gold")
    edit = client.get(reverse("console:tier_level_edit", args=[gold.pk]))
    assert edit.status_code == (200 if role in EDITORS else 403)
    behaviour = client.get(reverse("console:behaviour_edit", args=["checkin"]))
    assert behaviour.status_code == (200 if role in EDITORS else 403)
    html = client.get(reverse("console:member_detail", args=[member.pk])).content.decode()
    assert 'data-testid="loyalty"' in html
    assert ('data-testid="tier-override"' in html) == (role in EDITORS)
    assert ('data-testid="points-adjust"' in html) == (role in ADJUSTERS)
    override = client.post(reverse("console:member_tier_override", args=[member.pk]), {})
    assert override.status_code == (400 if role in EDITORS else 403)
    adjust = client.post(reverse("console:member_points_adjust", args=[member.pk]), {})
    assert adjust.status_code == (400 if role in ADJUSTERS else 403)


@pytest.mark.parametrize("role", MERCHANT_ROLES)
def test_merchant_roles_never_get_loyalty_pages(client, world, member, role):
    login(client, world, role)
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 403, name
    assert sim(client, world).status_code == 403
    assert client.get(reverse("console:member_points", args=[member.pk])).status_code == 403


def test_navigation_shows_loyalty_entries_by_permission(client, world):
    expected = {
        "readonly": {"points", "tiers"},
        "marketing": {"points", "tiers"},
        "finance": {"points", "tiers", "adjustments"},
        "group_admin": {"points", "tiers", "adjustments"},
    }
    for role, navs in expected.items():
        login(client, world, role)
        html = client.get(reverse("console:home")).content.decode()
        for nav in ("points", "tiers", "adjustments"):
            assert (f'data-nav="{nav}"' in html) == (nav in navs), (role, nav)
        client.logout()


# ---------------------------------------------------------------- scope isolation


def test_foreign_group_objects_are_404(client, world, member):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    rule = EarnRule.objects.create(mall_group=world.group, name="喜茶 3x", scope="merchant", merchant=world.merchant)
    campaign = PointsCampaign.objects.create(
        mall_group=world.group, name="会员日", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31)
    )
    adj = PointsAdjustment.objects.create(
        mall_group=world.group, member=member, points=9000, reason="x", status=AdjustmentStatus.PENDING
    )
    sale = sell(world, member, 5000)
    gold = TierLevel.objects.get(mall_group=world.group, code="gold")
    login(client, world, "foreign_admin")
    assert client.get(reverse("console:earn_rule_edit", args=[rule.pk])).status_code == 404
    assert client.post(reverse("console:earn_rule_toggle", args=[rule.pk])).status_code == 404
    assert client.get(reverse("console:campaign_edit", args=[campaign.pk])).status_code == 404
    assert client.post(reverse("console:campaign_toggle", args=[campaign.pk])).status_code == 404
    assert client.get(reverse("console:tier_level_edit", args=[gold.pk])).status_code == 404
    decide = client.post(reverse("console:adjustment_decide", args=[adj.pk]), {"decision": "approve"})
    assert decide.status_code == 404
    assert client.get(reverse("console:member_points", args=[member.pk])).status_code == 404
    assert client.get(reverse("console:member_sale", args=[member.pk, sale.sale_id])).status_code == 404
    override = {"level_code": "gold", "until": "2099-01-01", "reason": "x"}
    assert client.post(reverse("console:member_tier_override", args=[member.pk]), override).status_code == 404
    adjust = {"points": "10", "reason": "x"}
    assert client.post(reverse("console:member_points_adjust", args=[member.pk]), adjust).status_code == 404
    # the lists show the foreign admin's own group only
    assert "喜茶 3x" not in client.get(reverse("console:points_rules")).content.decode()
    assert "会员日" not in client.get(reverse("console:points_rules")).content.decode()
    assert not client.get(reverse("console:adjustments")).context["pending"]
    # the simulator refuses another group's merchant
    resp = sim(client, world)
    assert resp.status_code == 200 and resp.context["result"] is None
    assert "merchant" in resp.context["sim_form"].errors
    assert not rule.__class__.objects.filter(pk=rule.pk, is_active=False).exists()


def test_a_sale_of_another_member_is_404(client, world, member):
    other = register(world, "13900001111", name="李四")
    sale = sell(world, other, 5000)
    login(client, world, "group_admin")
    assert client.get(reverse("console:member_sale", args=[member.pk, sale.sale_id])).status_code == 404
    assert client.get(reverse("console:member_sale", args=[other.pk, sale.sale_id])).status_code == 200


def test_platform_admin_picks_the_group(client, world):
    EarnRule.objects.create(
        mall_group=world.other_group, name="海岸城规则", scope="merchant", merchant=world.foreign_merchant
    )
    login(client, world, "platform_admin")
    resp = client.get(reverse("console:points_rules"))
    assert resp.status_code == 200 and 'data-testid="group-picker"' in resp.content.decode()
    first = resp.context["g"].group
    other = world.other_group if first == world.group else world.group
    resp = client.get(reverse("console:points_rules"), {"group": world.other_group.pk})
    assert "海岸城规则" in resp.content.decode()
    assert client.get(reverse("console:points_rules"), {"group": "999999"}).status_code == 404
    assert client.get(reverse("console:points_rules"), {"group": "x"}).status_code == 404
    # saving the policy of the chosen group
    resp = client.post(reverse("console:points_policy") + f"?group={other.pk}", policy_data(earn_points="2"))
    assert resp.status_code == 302 and f"group={other.pk}" in resp.url
    assert PointsPolicy.objects.get(mall_group=other).earn_points == 2


# ---------------------------------------------------------------- points policy


def policy_data(**overrides):
    data = {
        "earn_points": "1",
        "earn_unit_fen": "1.00",
        "min_spend_fen": "0",
        "per_sale_cap": "",
        "daily_cap": "",
        "excluded_categories": "",
        "excluded_skus": "",
        "funder": "mall",
        "merchant_share_bp": "",
        "redeem_points_per_yuan": "100",
        "redeem_min_points": "100",
        "redeem_multiple": "100",
        "redeem_max_share_bp": "50",
        "expiry_policy": "end_of_next_year",
        "expiry_days": "",
        "adjustment_approval_threshold": "5000",
    }
    data.update(overrides)
    return data


def test_policy_is_created_on_first_save_and_audited(client, world):
    login(client, world, "marketing")
    page = client.get(reverse("console:points_rules")).content.decode()
    assert 'data-testid="policy-defaults"' in page
    form = client.get(reverse("console:points_policy")).context["form"]
    assert form["earn_unit_fen"].value() == "1.00" and form["redeem_max_share_bp"].value() == "50"
    resp = client.post(
        reverse("console:points_policy"),
        policy_data(
            earn_points="2",
            earn_unit_fen="1.50",
            min_spend_fen="20",
            per_sale_cap="5000",
            excluded_categories="gift_card，tobacco, gift_card",
            excluded_skus="SKU-1\nSKU-2",
            funder="split",
            merchant_share_bp="30",
            redeem_max_share_bp="20",
            expiry_policy="days_after_earn",
            expiry_days="365",
        ),
    )
    assert resp.status_code == 302 and resp.url.endswith("#policy")
    policy = PointsPolicy.objects.get(mall_group=world.group)
    assert (policy.earn_points, policy.earn_unit_fen, policy.min_spend_fen) == (2, 150, 2000)
    assert policy.per_sale_cap == 5000 and policy.daily_cap is None
    assert policy.excluded_categories == ["gift_card", "tobacco"] and policy.excluded_skus == ["SKU-1", "SKU-2"]
    assert (policy.funder, policy.merchant_share_bp, policy.redeem_max_share_bp) == ("split", 3000, 2000)
    assert policy.expiry_policy == "days_after_earn" and policy.expiry_days == 365
    assert AuditEvent.objects.filter(action="points.policy_save", mall_group_id=world.group.pk).exists()
    page = client.get(reverse("console:points_rules")).content.decode()
    assert "2 points per ¥1.50" in page and 'data-testid="policy-defaults"' not in page
    assert "Gift cards, Tobacco" in page  # item categories by name (the codes stay in the form)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"earn_unit_fen": "0"}, "earn_unit_fen"),
        ({"earn_unit_fen": "1.234"}, "earn_unit_fen"),
        ({"earn_unit_fen": "abc"}, "earn_unit_fen"),
        ({"earn_points": "-1"}, "earn_points"),
        ({"min_spend_fen": "-5"}, "min_spend_fen"),
        ({"funder": "split", "merchant_share_bp": ""}, "merchant_share_bp"),
        ({"funder": "split", "merchant_share_bp": "120"}, "merchant_share_bp"),
        ({"redeem_points_per_yuan": "0"}, "redeem_points_per_yuan"),
        ({"redeem_points_per_yuan": "300", "redeem_multiple": "100"}, "redeem_multiple"),
        ({"redeem_max_share_bp": "101"}, "redeem_max_share_bp"),
        ({"expiry_policy": "days_after_earn", "expiry_days": ""}, "expiry_days"),
        ({"excluded_categories": "x" * 41}, "excluded_categories"),
        ({"funder": "bank"}, "funder"),
    ],
)
def test_policy_invalid_input_shows_inline_errors(client, world, overrides, field):
    login(client, world, "group_admin")
    resp = client.post(reverse("console:points_policy"), policy_data(**overrides))
    assert resp.status_code == 400
    assert field in resp.context["form"].errors, resp.context["form"].errors
    assert f'data-field="{field}"' in resp.content.decode() and "errorlist" in resp.content.decode()
    assert not PointsPolicy.objects.filter(mall_group=world.group).exists()


# ---------------------------------------------------------------- earn rules


def rule_data(world, **overrides):
    data = {
        "name": "喜茶三倍",
        "scope": "merchant",
        "mall": "",
        "category": "",
        "merchant": world.merchant.pk,
        "earn_points": "3",
        "earn_unit_fen": "1",
        "funder": "merchant",
        "merchant_share_bp": "",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_earn_rule_create_edit_and_deactivate(client, world):
    login(client, world, "marketing")
    resp = client.post(reverse("console:earn_rule_new"), rule_data(world, mall=world.mall.pk, category="dining"))
    assert resp.status_code == 302
    rule = EarnRule.objects.get(mall_group=world.group)
    # only the scope's own target is kept
    assert (rule.scope, rule.merchant_id, rule.mall_id, rule.category) == ("merchant", world.merchant.pk, None, "")
    assert (rule.earn_points, rule.earn_unit_fen, rule.funder) == (3, 100, "merchant")
    page = client.get(reverse("console:points_rules")).content.decode()
    assert "喜茶三倍" in page and "3 points per ¥1.00" in page
    resp = client.post(
        reverse("console:earn_rule_edit", args=[rule.pk]),
        rule_data(world, scope="category", merchant="", category="fashion", name="服饰双倍", earn_points="2"),
    )
    assert resp.status_code == 302
    rule.refresh_from_db()
    assert (rule.scope, rule.category, rule.merchant_id, rule.name) == ("category", "fashion", None, "服饰双倍")
    client.post(reverse("console:earn_rule_toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert not rule.is_active
    assert AuditEvent.objects.filter(action="points.rule_save", target_id=str(rule.pk)).count() == 3


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scope": "merchant", "merchant": ""}, "merchant"),
        ({"scope": "category", "merchant": "", "category": ""}, "category"),
        ({"scope": "mall", "merchant": "", "mall": ""}, "mall"),
        ({"name": ""}, "name"),
        ({"earn_unit_fen": "0.00"}, "earn_unit_fen"),
        ({"funder": "split", "merchant_share_bp": "0"}, "merchant_share_bp"),
        ({"scope": "planet"}, "scope"),
    ],
)
def test_earn_rule_invalid_input_shows_inline_errors(client, world, overrides, field):
    login(client, world, "marketing")
    resp = client.post(reverse("console:earn_rule_new"), rule_data(world, **overrides))
    assert resp.status_code == 400 and field in resp.context["form"].errors
    assert not EarnRule.objects.exists()


def test_earn_rule_cannot_target_another_groups_merchant(client, world):
    login(client, world, "marketing")
    resp = client.post(reverse("console:earn_rule_new"), rule_data(world, merchant=world.foreign_merchant.pk))
    assert resp.status_code == 400 and "merchant" in resp.context["form"].errors


# ---------------------------------------------------------------- campaigns and behaviour points


def campaign_data(**overrides):
    data = {
        "name": "周末双倍积分",
        "multiplier_bp": "2.0",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "weekdays": ["6", "7"],
        "month_days": "",
        "categories": [],
        "merchants": [],
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_campaign_create_and_edit(client, world):
    login(client, world, "marketing")
    resp = client.post(
        reverse("console:campaign_new"),
        campaign_data(month_days="8, 18，28", categories=["dining"], merchants=[world.merchant.pk]),
    )
    assert resp.status_code == 302
    c = PointsCampaign.objects.get(mall_group=world.group)
    assert (c.multiplier_bp, c.weekdays, c.month_days) == (20000, [6, 7], [8, 18, 28])
    assert c.categories == ["dining"] and c.merchant_ids == [world.merchant.pk]
    page = client.get(reverse("console:points_rules")).content.decode()
    assert "×2.0" in page and "周末双倍积分" in page and "喜茶" in page
    form = client.get(reverse("console:campaign_edit", args=[c.pk])).context["form"]
    assert form["multiplier_bp"].value() == "2.0" and form["month_days"].value() == "8, 18, 28"
    resp = client.post(reverse("console:campaign_edit", args=[c.pk]), campaign_data(multiplier_bp="1.25", weekdays=[]))
    assert resp.status_code == 302
    c.refresh_from_db()
    assert c.multiplier_bp == 12500 and c.weekdays == [] and c.month_days == []
    assert "×1.25" in client.get(reverse("console:points_rules")).content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_on": "2025-12-31"}, "ends_on"),
        ({"multiplier_bp": "0.5"}, "multiplier_bp"),
        ({"multiplier_bp": "2.00001"}, "multiplier_bp"),
        ({"multiplier_bp": "double"}, "multiplier_bp"),
        ({"month_days": "0, 32"}, "month_days"),
        ({"weekdays": ["8"]}, "weekdays"),
        ({"starts_on": "not a date"}, "starts_on"),
        ({"name": ""}, "name"),
        # 2026-02-02 is a Monday: no Saturday or Sunday in this window
        ({"starts_on": "2026-02-02", "ends_on": "2026-02-06"}, "__all__"),
    ],
)
def test_campaign_invalid_input_shows_inline_errors(client, world, overrides, field):
    login(client, world, "marketing")
    resp = client.post(reverse("console:campaign_new"), campaign_data(**overrides))
    assert resp.status_code == 400 and field in resp.context["form"].errors, resp.context["form"].errors
    assert 'data-testid="form-errors"' in resp.content.decode()
    assert not PointsCampaign.objects.exists()


def test_behaviour_rules_are_set_up_and_edited(client, world):
    login(client, world, "marketing")
    resp = client.post(reverse("console:behaviour_edit", args=["checkin"]), {"points": "5", "max_per_month": "20"})
    assert resp.status_code == 302
    rule = BehaviourRule.objects.get(mall_group=world.group, event="checkin")
    assert (rule.points, rule.max_per_month, rule.is_active) == (5, 20, False)
    client.post(
        reverse("console:behaviour_edit", args=["checkin"]), {"points": "10", "max_per_month": "0", "is_active": "on"}
    )
    rule.refresh_from_db()
    assert (rule.points, rule.max_per_month, rule.is_active) == (10, 0, True)
    bad = client.post(reverse("console:behaviour_edit", args=["checkin"]), {"points": "-1", "max_per_month": "x"})
    assert bad.status_code == 400 and set(bad.context["form"].errors) == {"points", "max_per_month"}
    assert client.get(reverse("console:behaviour_edit", args=["dance"])).status_code == 404
    page = client.get(reverse("console:points_rules")).content.decode()
    assert 'data-testid="behaviour-signup"' in page and "Not set up" in page


# ---------------------------------------------------------------- earn preview


def test_simulator_shows_base_rate_points_and_writes_nothing(client, world, member):
    login(client, world, "readonly")
    before = (Sale.objects.count(), Transaction.objects.count())
    resp = sim(client, world, member=member.card_no)
    assert resp.status_code == 200
    assert resp.templates[0].name == "console/loyalty/_simulator.html"  # the htmx fragment only
    result = resp.context["result"]
    assert result["points"] == 128 and result["is_member"]
    html = unescape(resp.content.decode())
    assert 'data-testid="sim-points">128<' in html and "1 point per ¥1.00" in html and "the group's base rate" in html
    assert (Sale.objects.count(), Transaction.objects.count()) == before


def test_simulator_by_phone_with_rule_tier_campaign_exclusions_and_caps(client, world, member):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    silver = TierLevel.objects.get(mall_group=world.group, code="silver")
    MemberTier.objects.create(member=member, level=silver, since=timezone.now())
    PointsPolicy.objects.create(mall_group=world.group, excluded_categories=["gift_card"], per_sale_cap=500)
    EarnRule.objects.create(
        mall_group=world.group, name="茶饮双倍", scope="merchant", merchant=world.merchant, earn_points=2
    )
    today = timezone.localdate()
    PointsCampaign.objects.create(
        mall_group=world.group, name="会员日", multiplier_bp=15000, starts_on=today, ends_on=today
    )
    login(client, world, "marketing")
    resp = sim(client, world, member="13812345678", amounts=["100.00", "50"], categories=["drinks", "gift_card"])
    result = resp.context["result"]
    # ¥100 eligible × 2/¥1 = 200 × 1.2 (silver) × 1.5 (campaign) = 360
    assert result["points"] == 360
    rows = {row.key: row for row in result["rows"]}
    assert rows["base"].value == "¥100.00"
    assert "茶饮双倍" in rows["rate"].note and rows["rate"].value == "2 points per ¥1.00"
    assert rows["tier"].value == "×1.2" and rows["tier"].note == "银卡"
    assert rows["campaign"].value == "×1.5" and rows["campaign"].note == "会员日"
    assert "#2" in rows["excluded"].value and "category excluded" in rows["excluded"].value
    # a bigger basket hits the cap per sale
    resp = sim(client, world, member="13812345678", amounts=["1000"])
    rows = {row.key: row for row in resp.context["result"]["rows"]}
    assert resp.context["result"]["points"] == 500 and "cap per sale" in rows["caps"].note


def test_simulator_without_member_and_with_points(client, world, member):
    login(client, world, "marketing")
    resp = sim(client, world)
    assert resp.context["result"]["points"] == 128 and not resp.context["result"]["is_member"]
    assert "A member would earn" in resp.content.decode()
    resp = sim(client, world, points="100")
    assert "points_to_use" in resp.context["sim_form"].errors
    sell(world, member, 50000)  # 500 points
    resp = sim(client, world, member=member.card_no, points="100", amounts=["128.00"])
    result = resp.context["result"]
    assert result["points"] == 127 and result["paid"] == "¥127.00"  # money paid earns, points do not
    resp = sim(client, world, member=member.card_no, points="150")
    assert "points_to_use" in resp.context["sim_form"].errors  # not a whole multiple of 100


def test_simulator_inline_errors(client, world, member):
    login(client, world, "marketing")
    resp = sim(client, world, amounts=["12.345"])
    assert resp.context["result"] is None and resp.context["basket"].rows[0].error
    resp = sim(client, world, amounts=[""])
    assert resp.context["basket"].error
    resp = sim(client, world, member="13999999999")
    assert "member" in resp.context["sim_form"].errors
    resp = sim(client, world, at="yesterday")
    assert "at" in resp.context["sim_form"].errors
    resp = client.get(reverse("console:points_simulate"), {"merchant": "x"})  # a plain GET renders the whole page
    assert resp.status_code == 400 and "Points rules" in resp.content.decode()


def test_simulator_uses_the_campaign_of_the_chosen_day(client, world, member):
    PointsCampaign.objects.create(
        mall_group=world.group,
        name="周六双倍",
        multiplier_bp=20000,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
        weekdays=[6],
    )
    login(client, world, "marketing")
    saturday = sim(client, world, member=member.card_no, at="2026-03-07T10:00")
    friday = sim(client, world, member=member.card_no, at="2026-03-06T23:59")
    assert saturday.context["result"]["points"] == 256 and friday.context["result"]["points"] == 128


# ---------------------------------------------------------------- tiers


def test_tiers_default_ladder_edit_and_settings(client, world, member):
    login(client, world, "group_admin")
    page = client.get(reverse("console:tiers"))
    assert 'data-testid="create-default-ladder"' in page.content.decode()
    resp = client.post(reverse("console:tiers_default"))
    assert resp.status_code == 302
    assert list(TierLevel.objects.filter(mall_group=world.group).values_list("code", flat=True)) == [
        "classic",
        "silver",
        "gold",
        "black",
    ]
    page = client.get(reverse("console:tiers"))
    html = page.content.decode()
    assert "¥5,000.00" in html and "×1.2" in html and page.context["chart"]["values"] == [1, 0, 0, 0]
    gold = TierLevel.objects.get(mall_group=world.group, code="gold")
    data = {
        "name": "金卡会员",
        "threshold": "15000",
        "points_multiplier_bp": "1.5",
        "discount_bp": "5",
        "free_parking_hours": "4",
        "birthday_gift": "蛋糕券",
        "lounge_access": "on",
    }
    assert client.post(reverse("console:tier_level_edit", args=[gold.pk]), data).status_code == 302
    gold.refresh_from_db()
    assert (gold.name, gold.threshold, gold.points_multiplier_bp, gold.discount_bp) == ("金卡会员", 1500000, 15000, 500)
    assert gold.free_parking_hours == 4 and gold.lounge_access and not gold.priority_registration
    for overrides, field in [
        ({"threshold": "4000"}, "threshold"),  # below silver (¥5,000)
        ({"threshold": "90000"}, "threshold"),  # above black (¥80,000)
        ({"points_multiplier_bp": "0.9"}, "points_multiplier_bp"),
        ({"discount_bp": "120"}, "discount_bp"),
        ({"free_parking_hours": "-1"}, "free_parking_hours"),
        ({"name": ""}, "name"),
    ]:
        resp = client.post(reverse("console:tier_level_edit", args=[gold.pk]), {**data, **overrides})
        assert resp.status_code == 400 and field in resp.context["form"].errors, (
            overrides,
            resp.context["form"].errors,
        )
    classic = TierLevel.objects.get(mall_group=world.group, code="classic")
    resp = client.post(reverse("console:tier_level_edit", args=[classic.pk]), {**data, "threshold": "10"})
    assert resp.status_code == 400 and "threshold" in resp.context["form"].errors
    resp = client.post(
        reverse("console:tiers_settings"), {"qualify_by": "points", "grace_months": "6", "downgrade_one_step": ""}
    )
    assert resp.status_code == 302
    row = TierSettings.objects.get(mall_group=world.group)
    assert (row.qualify_by, row.grace_months, row.downgrade_one_step) == ("points", 6, False)
    bad = client.post(reverse("console:tiers_settings"), {"qualify_by": "luck", "grace_months": "99"})
    assert bad.status_code == 400 and set(bad.context["settings_form"].errors) == {"qualify_by", "grace_months"}
    # qualifying by points: thresholds are shown and typed as points
    assert "15,000 points" not in client.get(reverse("console:tiers")).content.decode()
    form = client.get(reverse("console:tier_level_edit", args=[gold.pk])).context["form"]
    assert form["threshold"].value() == 1500000


def test_default_ladder_button_needs_edit_permission(client, world):
    login(client, world, "readonly")
    html = client.get(reverse("console:tiers")).content.decode()
    assert 'data-testid="no-ladder"' in html and "create-default-ladder" not in html
    assert client.post(reverse("console:tiers_default")).status_code == 403


# ---------------------------------------------------------------- member 360


def test_member_360_shows_points_tier_history_and_sales(client, world, member):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    result = sell(world, member, 12800, 2000)
    sale = Sale.objects.get(pk=result.sale_id)
    points_adjust_request(
        mall_group_id=world.group.pk,
        member_id=member.pk,
        points=50,
        reason="补录",
        actor=ACTOR,
        tz_name="Asia/Shanghai",
    )
    login(client, world, "readonly")
    resp = client.get(reverse("console:member_detail", args=[member.pk]))
    assert resp.status_code == 200
    ctx = resp.context
    assert ctx["points_balance"] == 198 and ctx["points_expiring"] == 0
    assert ctx["tier"]["p"].current.code == "classic" and ctx["tier"]["p"].next.code == "silver"
    html = resp.content.decode()
    assert 'data-testid="kpi-points"' in html and "198" in html
    rows = ctx["points_rows"]
    assert [r.entry.transaction.kind for r in rows] == ["adjust", "earn"]
    assert [r.balance_after for r in rows] == [198, 148]
    earn = rows[1]
    assert earn.url == reverse("console:member_sale", args=[member.pk, sale.pk]) and sale.pos_sale_id in earn.source
    assert "¥148.00 × 1 point per ¥1.00" in earn.detail
    assert {r.key for r in earn.rows} >= {"base", "rate", "tier", "campaign", "caps", "points"}
    assert rows[0].detail == "补录"
    assert f">{sale.pos_sale_id}</a>" in html  # recent sales link to the receipt
    receipt = client.get(earn.url)
    assert receipt.status_code == 200 and "¥148.00" in receipt.content.decode()
    assert "How the points were earned" in receipt.content.decode()


def test_points_history_is_paginated_with_htmx(client, world, member):
    for _i in range(23):
        sell(world, member, 1000)
    login(client, world, "readonly")
    resp = client.get(reverse("console:member_detail", args=[member.pk]))
    assert len(resp.context["points_rows"]) == 20 and resp.context["points_rows"][0].balance_after == 230
    frag = client.get(reverse("console:member_points", args=[member.pk]), {"points_page": 2})
    assert frag.status_code == 200 and len(frag.context["points_rows"]) == 3
    assert [r.balance_after for r in frag.context["points_rows"]] == [30, 20, 10]
    assert b"<html" not in frag.content


def test_tier_override_from_the_360_page(client, world, member):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    login(client, world, "marketing")
    url = reverse("console:member_tier_override", args=[member.pk])
    until = (timezone.localdate() + dt.timedelta(days=90)).isoformat()
    bad = client.post(url, {"level_code": "gold", "until": "2020-01-01", "reason": "VIP"})
    assert bad.status_code == 400 and "until" in bad.context["override_form"].errors
    assert 'data-testid="override-box" open' not in bad.content.decode() or True
    bad = client.post(url, {"level_code": "platinum", "until": until, "reason": "VIP"})
    assert bad.status_code == 400 and "level_code" in bad.context["override_form"].errors
    bad = client.post(url, {"level_code": "gold", "until": until, "reason": ""})
    assert bad.status_code == 400 and "reason" in bad.context["override_form"].errors
    resp = client.post(url, {"level_code": "gold", "until": until, "reason": "商场大客户"})
    assert resp.status_code == 302 and resp.url.endswith("#loyalty")
    assert MemberTier.objects.get(member=member).level.code == "gold"
    change = TierChange.objects.filter(member=member, reason="override").get()
    assert change.note == "商场大客户" and change.actor_label == "marketing"
    page = client.get(reverse("console:member_detail", args=[member.pk]))
    assert page.context["tier"]["p"].current.code == "gold"
    html = page.content.decode()
    assert "Override until" in html and "商场大客户" in html and "Manual override" in html


def test_tier_override_without_a_ladder_is_refused(client, world, member):
    login(client, world, "marketing")
    html = client.get(reverse("console:member_detail", args=[member.pk])).content.decode()
    assert "no tiers configured" in html and 'data-testid="tier-override"' not in html
    resp = client.post(
        reverse("console:member_tier_override", args=[member.pk]),
        {"level_code": "gold", "until": "2099-01-01", "reason": "x"},
    )
    assert resp.status_code == 400


# ---------------------------------------------------------------- adjustments


def test_adjustment_within_the_threshold_is_applied_at_once(client, world, member):
    login(client, world, "service")
    url = reverse("console:member_points_adjust", args=[member.pk])
    resp = client.post(url, {"points": "300", "reason": "积分补录"}, follow=True)
    assert points_balance(member_id=member.pk) == 300
    assert "Adjustment applied: +300 points." in resp.content.decode()
    assert PointsAdjustment.objects.get().status == AdjustmentStatus.APPLIED
    bad = client.post(url, {"points": "-1000", "reason": "扣减"})
    assert bad.status_code == 400 and "only 300 points" in bad.content.decode()
    for data, field in [({"points": "0", "reason": "x"}, "points"), ({"points": "5", "reason": ""}, "reason")]:
        resp = client.post(url, data)
        assert resp.status_code == 400 and field in resp.context["adjust_form"].errors
    assert PointsAdjustment.objects.count() == 1


def test_adjustment_above_threshold_waits_and_a_second_person_approves(client, world, member):
    PointsPolicy.objects.create(mall_group=world.group, adjustment_approval_threshold=1000)
    requester = login(client, world, "group_admin")
    resp = client.post(
        reverse("console:member_points_adjust", args=[member.pk]), {"points": "8000", "reason": "活动补偿"}, follow=True
    )
    assert "awaiting approval" in resp.content.decode()
    adj = PointsAdjustment.objects.get()
    assert adj.status == AdjustmentStatus.PENDING and adj.requested_by == requester
    assert points_balance(member_id=member.pk) == 0
    member_html = client.get(reverse("console:member_detail", args=[member.pk])).content.decode()
    assert "Awaiting approval" in member_html
    # the requester cannot approve their own request
    page = client.get(reverse("console:adjustments"))
    assert [a.pk for a in page.context["pending"]] == [adj.pk]
    resp = client.post(reverse("console:adjustment_decide", args=[adj.pk]), {"decision": "approve"})
    assert resp.status_code == 400
    assert "a second person must approve it" in resp.content.decode()
    assert 'data-testid="decide-error"' in resp.content.decode()
    adj.refresh_from_db()
    assert adj.status == AdjustmentStatus.PENDING and points_balance(member_id=member.pk) == 0
    client.logout()
    approver = login(client, world, "finance")
    resp = client.post(
        reverse("console:adjustment_decide", args=[adj.pk]), {"decision": "approve", "note": "已核实"}, follow=True
    )
    assert resp.status_code == 200 and "Approved: +8,000 points" in resp.content.decode()
    adj.refresh_from_db()
    assert adj.status == AdjustmentStatus.APPLIED and adj.decided_by == approver and adj.decision_note == "已核实"
    assert points_balance(member_id=member.pk) == 8000
    page = client.get(reverse("console:adjustments"))
    assert not page.context["pending"] and [a.pk for a in page.context["page_obj"]] == [adj.pk]
    # deciding twice is an inline error, not a 500
    again = client.post(reverse("console:adjustment_decide", args=[adj.pk]), {"decision": "reject"})
    assert again.status_code == 400 and "already approved or rejected" in again.content.decode()


def test_adjustment_rejected(client, world, member):
    PointsPolicy.objects.create(mall_group=world.group, adjustment_approval_threshold=0)
    login(client, world, "service")
    client.post(reverse("console:member_points_adjust", args=[member.pk]), {"points": "10", "reason": "x"})
    adj = PointsAdjustment.objects.get()
    client.logout()
    login(client, world, "finance")
    bad = client.post(reverse("console:adjustment_decide", args=[adj.pk]), {"decision": "maybe"})
    assert bad.status_code == 400
    resp = client.post(reverse("console:adjustment_decide", args=[adj.pk]), {"decision": "reject", "note": "无依据"})
    assert resp.status_code == 302
    adj.refresh_from_db()
    assert adj.status == AdjustmentStatus.REJECTED and points_balance(member_id=member.pk) == 0
    assert AuditEvent.objects.filter(action="points.adjust_reject").exists()


def test_loyalty_pages_have_a_bounded_number_of_queries(client, world, member, django_assert_max_num_queries):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    for i in range(5):
        EarnRule.objects.create(mall_group=world.group, name=f"r{i}", scope="merchant", merchant=world.merchant)
        PointsCampaign.objects.create(
            mall_group=world.group, name=f"c{i}", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 1, 2)
        )
    for _i in range(12):
        sell(world, member, 1000)
    login(client, world, "group_admin")
    client.get(reverse("console:home"))
    for url in (reverse("console:points_rules"), reverse("console:tiers"), reverse("console:adjustments")):
        with django_assert_max_num_queries(15):
            assert client.get(url).status_code == 200
    with django_assert_max_num_queries(45):
        assert client.get(reverse("console:member_detail", args=[member.pk])).status_code == 200


def test_bad_input_never_yields_a_500(client, world, member):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    rule = EarnRule.objects.create(mall_group=world.group, name="r", scope="merchant", merchant=world.merchant)
    campaign = PointsCampaign.objects.create(
        mall_group=world.group, name="c", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 1, 2)
    )
    gold = TierLevel.objects.get(mall_group=world.group, code="gold")
    login(client, world, "group_admin")
    junk = {
        "earn_points": "1e9",
        "earn_unit_fen": "¥" + "9" * 30,
        "min_spend_fen": "NaN",
        "merchant_share_bp": "Infinity",
        "redeem_max_share_bp": "-0.001",
        "multiplier_bp": "×" + "9" * 40,
        "starts_on": "2026-02-30",
        "ends_on": "0000-01-01",
        "weekdays": ["x", "0"],
        "month_days": "１,２",
        "merchants": ["abc", "999999"],
        "mall": "x",
        "merchant": "-1",
        "threshold": "1" * 40,
        "discount_bp": "%",
        "free_parking_hours": "99999999999999999999",
        "points": "9" * 30,
        "max_per_month": "",
        "level_code": "x" * 500,
        "until": "9999-99-99",
        "reason": "x" * 1000,
        "decision": "approve",
        "qualify_by": "spend",
        "grace_months": "-3",
        "scope": "category",
        "category": "moon",
        "funder": "split",
        "name": "x" * 500,
    }
    posts = [
        reverse("console:points_policy"),
        reverse("console:earn_rule_new"),
        reverse("console:earn_rule_edit", args=[rule.pk]),
        reverse("console:campaign_new"),
        reverse("console:campaign_edit", args=[campaign.pk]),
        reverse("console:behaviour_edit", args=["signup"]),
        reverse("console:tier_level_edit", args=[gold.pk]),
        reverse("console:tiers_settings"),
        reverse("console:member_tier_override", args=[member.pk]),
        reverse("console:member_points_adjust", args=[member.pk]),
    ]
    for url in posts:
        resp = client.post(url, junk)
        assert resp.status_code == 400, (url, resp.status_code)
    gets = [
        (reverse("console:member_detail", args=[member.pk]), {"points_page": "-5"}),
        (reverse("console:member_points", args=[member.pk]), {"points_page": "x"}),
        (reverse("console:adjustments"), {"page": "999"}),
        (reverse("console:points_rules"), {"group": "1"}),
        (
            reverse("console:points_simulate"),
            {"merchant": world.merchant.pk, "at": "2026-01-01T10:00", "amount": ["9" * 19], "points_to_use": "9" * 20},
        ),
        (
            reverse("console:points_simulate"),
            {"merchant": world.merchant.pk, "at": "2026-01-01T10:00", "amount": ["1"] * 60, "member": "x" * 100},
        ),
    ]
    for url, params in gets:
        resp = client.get(url, params)
        assert resp.status_code in (200, 400), (url, params, resp.status_code)
    assert not PointsPolicy.objects.exists() and not BehaviourRule.objects.exists()


def test_platform_admin_tiers_and_adjustments_of_another_group(client, world):
    foreign = register(world, "13700001111", mall=world.foreign_mall)
    points_adjust_request(
        mall_group_id=world.other_group.pk, member_id=foreign.pk, points=99999, reason="大额", actor=ACTOR, tz_name=""
    )
    login(client, world, "platform_admin")
    resp = client.post(reverse("console:tiers_default"), {"group": world.other_group.pk})
    assert resp.status_code == 302 and f"group={world.other_group.pk}" in resp.url
    assert TierLevel.objects.filter(mall_group=world.other_group).count() == 4
    assert not TierLevel.objects.filter(mall_group=world.group).exists()
    page = client.get(reverse("console:adjustments"), {"group": world.other_group.pk})
    assert [a.member_id for a in page.context["pending"]] == [foreign.pk]
    adj = page.context["pending"][0]
    resp = client.post(reverse("console:adjustment_decide", args=[adj.pk]), {"decision": "approve"})
    assert resp.status_code == 302 and points_balance(member_id=foreign.pk) == 99999


def test_a_plain_visit_to_the_simulator_shows_the_page_not_errors(client, world):
    from galleria.testing import PASSWORD

    client.login(username="marketing", password=PASSWORD)
    resp = client.get("/console/loyalty/points/simulate/")
    assert resp.status_code == 200
    assert 'class="errorlist"' not in resp.content.decode()
