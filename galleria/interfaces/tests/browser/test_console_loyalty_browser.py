"""The console's loyalty screens in a real browser (zh-Hans): a marketing user creates a double-points campaign and
sees the earn preview double; customer service adjusts points and finance approves; the tiers page.

Screenshots: var/screenshots/console-points-rules.png, console-tiers.png, console-member-loyalty.png,
console-adjustments.png.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from galleria.audit.types import Actor
from galleria.members.models import JoinChannel, Member
from galleria.members.services import member_register
from galleria.merchants.models import Store
from galleria.points.models import BehaviourRule, EarnRule, PointsAdjustment, PointsCampaign, PointsPolicy
from galleria.points.selectors import points_balance
from galleria.points.services import points_adjust_request, points_checkin
from galleria.sales.models import Sale
from galleria.sales.services import sale_commit, sale_refund
from galleria.sales.types import LineIn, PaymentIn, RefundLineIn, SaleIn
from galleria.testing import PASSWORD
from galleria.tiers.models import MemberTier, TierLevel
from galleria.tiers.services import tier_ladder_ensure_default

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
ACTOR = Actor.system("seed")
TZ = "Asia/Shanghai"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_receipts = itertools.count(1001)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / name), full_page=True)


def number(n: int, sign: str = "") -> re.Pattern[str]:
    """A whole number however the locale groups its digits (zh-Hans groups by 4: 8428, 12,3456)."""
    digits = str(n)
    return re.compile("^" + re.escape(sign) + ",?".join(digits) + "$")


def sign_in(page: Page, live_server, username: str) -> None:
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/console/")


def sign_out(page: Page) -> None:
    page.locator("form[action='/console/logout/'] button").click()
    page.wait_for_url("**/console/login/**")


def sell(world, member: Member, lines: list[tuple[str, str, str, int]], *, days_ago: float = 0, store=None):
    """lines: (sku, name, item category, amount in fen); paid by WeChat Pay."""
    store = store or world.store
    items = tuple(
        LineIn(sku=sku, name=name, quantity=1, unit_price_fen=amount, amount_fen=amount, category=category)
        for sku, name, category, amount in lines
    )
    total = sum(amount for *_rest, amount in lines)
    return sale_commit(
        data=SaleIn(
            merchant_id=store.merchant_id,
            store_id=store.pk,
            terminal_id=None,
            pos_sale_id=f"XH{next(_receipts)}",
            occurred_at=timezone.now() - dt.timedelta(days=days_ago, minutes=5),
            lines=items,
            payments=(PaymentIn("wechat", total),),
            member_id=member.pk,
        ),
        actor=ACTOR,
    )


def seed_loyalty(world) -> Member:
    """A group with a policy, an earn rule, a campaign, behaviour points, the default ladder and a member with a
    year of purchases (one of them refunded, some points about to expire)."""
    PointsPolicy.objects.create(
        mall_group=world.group,
        excluded_categories=["gift_card"],
        expiry_policy="days_after_earn",
        expiry_days=365,
        adjustment_approval_threshold=1000,
        daily_cap=20000,
    )
    EarnRule.objects.create(
        mall_group=world.group,
        name="优衣库 2 倍积分",
        scope="merchant",
        merchant=world.other_merchant,
        earn_points=2,
        funder="split",
        merchant_share_bp=5000,
    )
    EarnRule.objects.create(
        mall_group=world.group, name="影院 3 倍", scope="category", category="cinema", earn_points=3, is_active=False
    )
    today = timezone.localdate()
    PointsCampaign.objects.create(
        mall_group=world.group,
        name="每月 18 日会员日",
        multiplier_bp=15000,
        starts_on=today.replace(month=1, day=1),
        ends_on=today.replace(month=12, day=31),
        month_days=[18],
    )
    BehaviourRule.objects.create(mall_group=world.group, event="signup", points=100)
    BehaviourRule.objects.create(mall_group=world.group, event="checkin", points=5, max_per_month=20)
    BehaviourRule.objects.create(mall_group=world.group, event="first_purchase_at_merchant", points=20)
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    TierLevel.objects.filter(mall_group=world.group, code="gold").update(birthday_gift="生日蛋糕券")
    TierLevel.objects.filter(mall_group=world.group, code="black").update(
        birthday_gift="米其林双人晚餐", priority_registration=True
    )
    member = member_register(
        mall=world.mall,
        phone="13812345678",
        channel=JoinChannel.APP,
        actor=ACTOR,
        profile={"name": "张小明", "gender": "male"},
        joined_at=timezone.now() - dt.timedelta(days=360),
    )
    uniqlo = Store.objects.get(merchant=world.other_merchant)
    sell(world, member, [("HT-001", "多肉葡萄", "drinks", 2900)], days_ago=345)
    sell(
        world,
        member,
        [("UQ-DJ-01", "羽绒服", "apparel", 59900), ("UQ-T-02", "T恤", "apparel", 9900)],
        days_ago=120,
        store=uniqlo,
    )
    sell(world, member, [("UQ-JK-03", "夹克", "apparel", 329900)], days_ago=40, store=uniqlo)
    big = sell(
        world,
        member,
        [("UQ-CT-04", "羊绒大衣", "apparel", 189900), ("GC-500", "礼品卡", "gift_card", 50000)],
        days_ago=12,
        store=uniqlo,
    )
    refunded = Sale.objects.get(pk=big.sale_id)
    sale_refund(
        merchant_id=refunded.merchant_id,
        pos_sale_id=refunded.pos_sale_id,
        pos_refund_id="RF-1",
        lines=[RefundLineIn(line_no=1, quantity=1)],
        occurred_at=timezone.now() - dt.timedelta(days=10),
    )
    sell(world, member, [("HT-002", "芝芝莓莓", "drinks", 3200), ("HT-003", "软欧包", "bakery", 1800)], days_ago=2)
    points_checkin(member_id=member.pk, mall_group_id=world.group.pk, tz_name=TZ)
    points_adjust_request(
        mall_group_id=world.group.pk,
        member_id=member.pk,
        points=200,
        reason="停车积分补录",
        actor=Actor(user_id=world.users["service"].pk, label="service"),
        tz_name=TZ,
    )
    return member


def test_marketing_creates_a_double_points_campaign_and_the_preview_doubles(page: Page, live_server, world):
    member = seed_loyalty(world)
    sign_in(page, live_server, "marketing")
    page.click("nav >> [data-nav=points]")
    page.wait_for_url("**/console/loyalty/points/")
    expect(page.get_by_test_id("rule-row")).to_have_count(2)

    # preview a ¥128.00 basket at 喜茶 for the member (by phone): 128 points at the base rate
    form = page.get_by_test_id("simulator-form")
    form.locator("select[name=merchant]").select_option(str(world.merchant.pk))
    form.locator("input[name=member]").fill("13812345678")
    rows = form.get_by_test_id("basket-row")
    rows.nth(0).locator("input[name=sku]").fill("HT-010")
    rows.nth(0).locator("input[name=category]").fill("drinks")
    rows.nth(0).locator("input[name=amount]").fill("128.00")
    form.get_by_test_id("simulate").click()
    tier = MemberTier.objects.select_related("level").get(member=member).level
    base = 128 * tier.points_multiplier_bp // 10000
    expect(page.get_by_test_id("sim-points")).to_have_text(str(base))

    # a gift card line is excluded; an empty amount is refused inline
    page.get_by_test_id("add-line").click()
    rows = page.get_by_test_id("simulator-form").get_by_test_id("basket-row")
    rows.nth(1).locator("input[name=sku]").fill("GC-100")
    rows.nth(1).locator("input[name=category]").fill("gift_card")
    rows.nth(1).locator("input[name=amount]").fill("abc")
    page.get_by_test_id("simulate").click()
    expect(page.get_by_test_id("simulator-form").locator(".basket-row.has-error")).to_have_count(1)
    page.get_by_test_id("simulator-form").get_by_test_id("basket-row").nth(1).locator("input[name=amount]").fill("100")
    page.get_by_test_id("simulate").click()
    expect(page.get_by_test_id("sim-points")).to_have_text(str(base))
    expect(page.get_by_test_id("explain").locator("[data-row=excluded]")).to_contain_text("GC-100")

    # create a double-points campaign; a wrong end date is refused inline first
    page.get_by_test_id("new-campaign").click()
    page.wait_for_url("**/console/loyalty/points/campaigns/new/")
    page.fill("#id_name", "双倍积分周")
    page.fill("#id_multiplier_bp", "2.0")
    today = timezone.localdate()
    page.fill("#id_starts_on", today.isoformat())
    page.fill("#id_ends_on", (today - dt.timedelta(days=1)).isoformat())
    page.get_by_test_id("campaign-form").locator("button[type=submit]").click()
    expect(page.locator("[data-field=ends_on] .errorlist")).to_be_visible()
    page.fill("#id_ends_on", (today + dt.timedelta(days=30)).isoformat())
    page.get_by_test_id("campaign-form").locator("button[type=submit]").click()
    page.wait_for_url("**/console/loyalty/points/#campaigns")
    expect(page.locator(".alert-success")).to_contain_text("双倍积分周")
    expect(page.get_by_test_id("campaign-row").filter(has_text="双倍积分周")).to_contain_text("×2.0")

    # the same basket now earns double
    form = page.get_by_test_id("simulator-form")
    form.locator("select[name=merchant]").select_option(str(world.merchant.pk))
    form.locator("input[name=member]").fill(member.card_no)
    form.get_by_test_id("basket-row").nth(0).locator("input[name=amount]").fill("128.00")
    form.get_by_test_id("simulate").click()
    expect(page.get_by_test_id("sim-points")).to_have_text(str(128 * tier.points_multiplier_bp * 2 // 10000))
    expect(page.get_by_test_id("explain").locator("[data-row=campaign]")).to_contain_text("×2.0")
    expect(page.get_by_test_id("explain").locator("[data-row=campaign]")).to_contain_text("双倍积分周")
    assert PointsCampaign.objects.get(name="双倍积分周").multiplier_bp == 20000
    page.wait_for_timeout(200)
    shot(page, "console-points-rules.png")


def test_service_adjusts_points_and_finance_approves(page: Page, live_server, world):
    member = seed_loyalty(world)
    balance = points_balance(member_id=member.pk)

    sign_in(page, live_server, "service")
    page.goto(live_server.url + f"/console/members/{member.pk}/")
    expect(page.get_by_test_id("kpi-points").locator(".value")).to_have_text(number(balance))
    adjust = page.get_by_test_id("points-adjust")
    adjust.locator("input[name=points]").fill("0")
    adjust.locator("input[name=reason]").fill("活动补偿")
    adjust.locator("button[type=submit]").click()
    expect(page.get_by_test_id("points-adjust").locator("[data-field=points] .errorlist")).to_be_visible()
    adjust = page.get_by_test_id("points-adjust")
    adjust.locator("input[name=points]").fill("3000")
    adjust.locator("input[name=reason]").fill("会员日活动漏发积分补偿")
    adjust.locator("button[type=submit]").click()
    expect(page.locator(".alert-warning")).to_be_visible()
    expect(page.get_by_test_id("member-adjustment").first).to_contain_text("3000")
    expect(page.get_by_test_id("member-adjustment").first.locator(".badge-warn")).to_be_visible()
    assert points_balance(member_id=member.pk) == balance
    # customer service has no approval queue
    expect(page.locator("nav [data-nav=adjustments]")).to_have_count(0)
    sign_out(page)

    sign_in(page, live_server, "finance")
    page.click("nav >> [data-nav=adjustments]")
    page.wait_for_url("**/console/loyalty/adjustments/")
    expect(page.get_by_test_id("pending-row")).to_have_count(1)
    expect(page.get_by_test_id("decided-row")).to_have_count(1)  # the 200 points applied at once
    page.get_by_test_id("pending-row").locator("input[name=note]").fill("已核对活动名单")
    shot(page, "console-adjustments.png")
    page.get_by_test_id("pending-row").get_by_test_id("approve").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.get_by_test_id("pending-row")).to_have_count(0)
    expect(page.get_by_test_id("decided-row")).to_have_count(2)
    adj = PointsAdjustment.objects.get(points=3000)
    assert adj.status == "applied" and adj.decided_by == world.users["finance"]
    assert points_balance(member_id=member.pk) == balance + 3000

    page.goto(live_server.url + f"/console/members/{member.pk}/")
    expect(page.get_by_test_id("kpi-points").locator(".value")).to_have_text(number(balance + 3000))
    expect(page.get_by_test_id("points-row").first.locator("td.num").first).to_have_text(number(3000, sign="+"))
    # an earn credit explains itself; its source links to the receipt
    earn = page.locator("[data-testid=points-row][data-kind=earn]").first
    earn.locator("details summary").click()
    expect(earn.get_by_test_id("explain")).to_be_visible()
    shot(page, "console-member-loyalty.png")
    earn.get_by_test_id("points-source").click()
    expect(page.get_by_test_id("sale-receipt")).to_be_visible()


def test_self_approval_is_refused_inline(page: Page, live_server, world):
    member = seed_loyalty(world)
    sign_in(page, live_server, "admin")
    page.goto(live_server.url + f"/console/members/{member.pk}/")
    adjust = page.get_by_test_id("points-adjust")
    adjust.locator("input[name=points]").fill("-1500")
    adjust.locator("input[name=reason]").fill("重复发放冲正")
    adjust.locator("button[type=submit]").click()
    expect(page.locator(".alert-warning")).to_be_visible()
    page.click("nav >> [data-nav=adjustments]")
    page.get_by_test_id("pending-row").get_by_test_id("approve").click()
    expect(page.get_by_test_id("decide-error")).to_be_visible()
    assert PointsAdjustment.objects.get(points=-1500).status == "pending"


def test_tiers_page_with_ladder_settings_and_mix(page: Page, live_server, world):
    rng = random.Random(7)
    members = [
        member_register(mall=world.mall, phone=f"1350000{i:04d}", channel=JoinChannel.APP, actor=ACTOR)
        for i in range(40)
    ]
    sign_in(page, live_server, "admin")
    page.click("nav >> [data-nav=tiers]")
    page.wait_for_url("**/console/loyalty/tiers/")
    expect(page.get_by_test_id("no-ladder")).to_be_visible()
    page.get_by_test_id("create-default-ladder").click()
    expect(page.get_by_test_id("tier-row")).to_have_count(4)
    levels = list(TierLevel.objects.filter(mall_group=world.group).order_by("rank"))
    for m in members:
        level = rng.choices(levels, weights=[60, 25, 10, 5])[0]
        if level.rank:
            MemberTier.objects.update_or_create(member=m, defaults={"level": level, "since": timezone.now()})

    gold = levels[2]
    page.goto(live_server.url + f"/console/loyalty/tiers/{gold.pk}/edit/")
    page.fill("#id_threshold", "3000")  # below silver
    page.get_by_test_id("tier-form").locator("button[type=submit]").click()
    expect(page.locator("[data-field=threshold] .errorlist")).to_be_visible()
    page.fill("#id_threshold", "20000")
    page.fill("#id_birthday_gift", "生日蛋糕券")
    page.check("#id_priority_registration")
    page.get_by_test_id("tier-form").locator("button[type=submit]").click()
    page.wait_for_url("**/console/loyalty/tiers/#ladder")
    expect(page.get_by_test_id("tier-row").nth(2)).to_contain_text("生日蛋糕券")

    settings_form = page.get_by_test_id("tier-settings-form")
    settings_form.locator("input[name=grace_months]").fill("6")
    settings_form.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.get_by_test_id("chart-tier-mix").locator("canvas")).to_have_count(1)
    page.wait_for_timeout(300)
    shot(page, "console-tiers.png")
