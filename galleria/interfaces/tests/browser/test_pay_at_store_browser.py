"""Pay at store (聚合支付) in real browsers, end to end (issue #15's journey): the clerk keeps the "received" screen
open at the till; the member scans the shop's printed QR (the URL it encodes), types ¥300, sees the ¥30 coupon and
1,000 points applied by the checkout's own quote, pays the rest with WeChat Pay at the sandbox gateway's cashier,
lands on the e-receipt with the points earned — and the clerk's screen shows the money the moment it is confirmed.
Then finance generates the statement of the month that payment fell in and reads the split on 喜茶's statement
(docs/settlement.md's figures, each computed here from the formula), opens the legs behind the money collected, and
喜茶's owner reads the same statement in the merchant portal.
Screenshots in zh-Hans and English under var/screenshots/pay/ (looked at by a person)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from playwright.sync_api import expect

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_register
from galleria.payments.models import PaymentAttempt
from galleria.points.models import EarnRule
from galleria.points.selectors import points_balance, policy_get
from galleria.sales.models import Sale
from galleria.sales.rules import cumulative_share
from galleria.settlement.types import StatementStatus
from galleria.testing import PASSWORD
from galleria.testing_points import give_points

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "pay"
ACTOR = Actor.system("test")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def member_page(browser, live_server, member, lang: str):
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["member_id"] = member.pk
    store.create()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.add_cookies(
        [
            {"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": live_server.url},
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def staff_page(browser, live_server, lang: str, username: str, landing: str, *, width: int = 1280):
    """A staff member signed in (console and merchant portal share the sign-in page) in their language."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + landing)
    return context, page


def clerk_page(browser, live_server, lang: str):
    return staff_page(browser, live_server, lang, "heytea-clerk", "/merchant/")


def yuan(fen: int) -> str:
    """How the statement writes an amount: ¥1,234.50."""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


@dataclass(frozen=True)
class Split:
    """docs/settlement.md's statement of a period holding one pay-at-store sale paid by WeChat Pay, with a
    mall-funded coupon and points, nothing refunded, no wallet, no merchant-funded points or discounts."""

    collected_fen: int  # 1: what the mall took by WeChat Pay for the merchant
    points_value_fen: int  # 3: points accepted as payment, at their value
    coupon_mall_fen: int  # 4: the mall-funded coupon
    commission_base_fen: int
    commission_fen: int  # 6
    net_fen: int  # 7 = 1 + 2 + 3 + 4 − 5 − 6

    @classmethod
    def of(cls, *, amount_fen: int, coupon_fen: int, points: int, points_per_yuan: int, commission_bp: int) -> Split:
        assert points * 100 % points_per_yuan == 0  # whole fen: nothing for the checkout to round
        points_value = points * 100 // points_per_yuan
        collected = amount_fen - coupon_fen - points_value
        wallet = merchant_points = merchant_discounts = refunds = 0
        base = amount_fen - refunds - merchant_discounts  # 实际销售额: line amounts − refunds − 5′
        commission = int((Decimal(base) * commission_bp / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        net = collected + wallet + points_value + coupon_fen - merchant_points - commission
        return cls(collected, points_value, coupon_fen, base, commission, net)


def expect_split(page, split: Split) -> None:
    """The statement page shows every figure of the split (the same template in the console and the portal)."""
    for figure, fen in (
        ("collected", split.collected_fen),
        ("wallet", 0),
        ("points_value", split.points_value_fen),
        ("coupon_mall", split.coupon_mall_fen),
        ("merchant_points", 0),
        ("coupon_merchant", 0),
        ("commission", split.commission_fen),
        ("net", split.net_fen),
    ):
        expect(page.get_by_test_id(f"amount-{figure}")).to_have_text(yuan(fen))
    expect(page.get_by_test_id("commission-base")).to_have_text(yuan(split.commission_base_fen))
    expect(page.get_by_test_id("net").locator(".value")).to_have_text(yuan(split.net_fen))


def statement_shot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_member_pays_at_the_shop_the_clerk_sees_it_and_the_statement_splits_it(
    browser, live_server, world, gateways, settings, lang
):
    if connection.vendor == "postgresql":  # notifications reach this server; on in-memory SQLite the live server's
        settings.GALLERIA_PUBLIC_URL = live_server.url  # threads share one connection: the page's query completes it
    member = member_register(
        mall=world.mall, phone="13812345678", channel="desk", actor=ACTOR, profile={"name": "王小丽"}
    )
    give_points(world, member, 1_000)
    coupon = template(world)  # ¥30 off ¥200
    claim(member, coupon)
    policy = policy_get(mall_group_id=world.group.pk)
    # who pays for what: the coupon and every point earned are the mall's (no merchant earn rule), so the
    # statement has no merchant-funded points (5) or discounts (5′)
    assert (coupon.funder, policy.funder, EarnRule.objects.exists()) == ("mall", "mall", False)
    split = Split.of(
        amount_fen=30000,
        coupon_fen=coupon.value_fen,
        points=1_000,
        points_per_yuan=policy.redeem_points_per_yuan,
        commission_bp=world.merchant.commission_bp,
    )

    clerk_ctx, clerk = clerk_page(browser, live_server, lang)
    mem_ctx, app = member_page(browser, live_server, member, lang)
    staff_ctxs = []
    try:
        # the clerk's till: the printed QR, and the "received" screen left open
        clerk.goto(live_server.url + "/merchant/payments/qr/")
        qr_url = clerk.get_by_test_id("store-qr").first.locator(".qr-card-url").inner_text().strip()
        assert qr_url.endswith(f"/app/pay/s/{world.store.pk}/")
        shot(clerk, f"qr-{lang}")
        clerk.goto(live_server.url + "/merchant/payments/live/")
        expect(clerk.get_by_test_id("live-latest")).to_be_visible()

        # the member scans it (the phone's camera opens the URL it encodes), types ¥300, uses the points
        app.goto(qr_url)
        expect(app.get_by_test_id("pay-shop")).to_contain_text("喜茶")
        app.get_by_test_id("pay-amount").fill("300")
        app.get_by_test_id("pay-use-points").check()
        expect(app.get_by_test_id("quote-pay")).to_have_text("¥260.00")  # ¥300 − ¥30 coupon − ¥10 (1,000 points)
        expect(app.get_by_test_id("quote-discount")).to_have_text("−¥30.00")
        expect(app.get_by_test_id("quote-points")).to_have_text("−¥10.00")
        earn = app.get_by_test_id("quote-earn").inner_text()
        shot(app, f"app-pay-{lang}")
        app.get_by_test_id("pay-method-wechat").check()
        app.get_by_test_id("pay-submit").click()

        # WeChat Pay's cashier (the sandbox gateway process), then back to the app's e-receipt
        app.wait_for_url(gateways.base_url + "/sandbox/wechat/h5**")
        expect(app.locator(".amount")).to_contain_text("260.00")
        shot(app, f"cashier-{lang}")
        app.locator("button[value=pay]").click()
        app.wait_for_url(re.compile(r".*/app/bills/\d+/$"), timeout=20_000)
        shot(app, f"app-receipt-{lang}")

        attempt = PaymentAttempt.objects.get(member=member)
        sale = Sale.objects.get(pk=attempt.sale_id)
        assert (sale.channel, sale.total_fen, sale.discount_fen, sale.paid_fen) == ("pay_at_store", 30000, 3000, 26000)
        assert (sale.points_used, f"+{sale.points_earned}") == (1000, earn)
        assert points_balance(member_id=member.pk) == sale.points_earned
        expect(app.locator("body")).to_contain_text(str(sale.points_earned))

        # the clerk's screen has it without anyone touching it
        expect(clerk.get_by_test_id("live-amount")).to_have_text("¥260.00", timeout=10_000)
        expect(clerk.get_by_test_id("live-row")).to_have_count(1)
        shot(clerk, f"clerk-received-{lang}")
        assert ledger_check().ok
        assert timezone.now() >= attempt.paid_at

        # finance generates the statements of the month the payment fell in (mall-local) and opens 喜茶's
        period = f"{timeutil.local_date(sale.occurred_at, world.mall.timezone):%Y-%m}"
        finance_ctx, finance = staff_page(browser, live_server, lang, "finance", "/console/", width=1440)
        staff_ctxs.append(finance_ctx)
        finance.click("nav >> [data-nav=settlement]")
        finance.wait_for_url("**/console/settlement/")
        finance.get_by_test_id("generate-period").fill(period)
        finance.get_by_test_id("generate").click()
        finance.wait_for_url(f"**/console/settlement/?period={period}")
        expect(finance.get_by_test_id("statement-row")).to_have_count(1)  # nothing was sold at 优衣库
        finance.locator("[data-testid=statement-row][data-merchant='喜茶'] >> [data-testid=open-statement]").click()
        finance.wait_for_url(re.compile(r".*/console/settlement/\d+/$"))
        statement_url = finance.url
        expect(finance.get_by_test_id("statement-title")).to_contain_text("喜茶")
        expect(finance.get_by_test_id("statement-title")).to_contain_text(period)
        with translation.override(lang):
            draft = str(StatementStatus.DRAFT.label)
        expect(finance.get_by_test_id("statement-status")).to_have_text(draft)
        expect_split(finance, split)
        bp = world.merchant.commission_bp
        expect(finance.get_by_test_id("figure-commission")).to_contain_text(f"{bp // 100}.{bp % 100:02d}%")
        statement_shot(finance, f"statement-console-{lang}")

        # the money collected is this payment's leg, and the commission base is this sale
        finance.get_by_test_id("drill-collected").click()
        finance.wait_for_url("**/console/settlement/*/?figure=collected#legs")
        legs = finance.get_by_test_id("leg-row")
        expect(legs).to_have_count(1)
        expect(legs.locator("td.mono")).to_have_text(f"sale:{sale.pk}")  # the source: this sale's settlement legs
        expect(legs.locator("td.money")).to_have_text(yuan(split.collected_fen))
        expect(finance.get_by_test_id("legs-total")).to_contain_text(yuan(split.collected_fen))
        statement_shot(finance, f"statement-collected-legs-{lang}")
        finance.get_by_test_id("drill-sales").click()
        finance.wait_for_url("**/console/settlement/*/?figure=sales#legs")
        expect(legs).to_have_count(1)
        expect(legs.locator("td.mono")).to_have_text(f"sale:{sale.pk}")
        expect(legs.locator("td.money")).to_have_text(yuan(split.commission_base_fen))
        expect(finance.get_by_test_id("legs-total")).to_contain_text(yuan(split.commission_base_fen))

        # 喜茶's owner reads the same statement in the merchant portal
        owner_ctx, owner = staff_page(browser, live_server, lang, "heytea-owner", "/merchant/", width=1440)
        staff_ctxs.append(owner_ctx)
        owner.click("nav >> [data-nav=settlement]")
        owner.wait_for_url("**/merchant/settlement/")
        expect(owner.get_by_test_id("statement-row")).to_have_count(1)
        expect(owner.get_by_test_id("drafts-waiting")).to_be_visible()
        owner.get_by_test_id("open-statement").click()
        owner.wait_for_url(re.compile(r".*/merchant/settlement/\d+/$"))
        assert owner.url.rsplit("/", 2)[-2] == statement_url.rsplit("/", 2)[-2]  # the same statement
        expect(owner.get_by_test_id("statement-status")).to_have_text(draft)
        expect_split(owner, split)
        expect(owner.get_by_test_id("merchant-actions")).to_be_visible()
        statement_shot(owner, f"statement-portal-{lang}")

        # a ¥50 cup comes back: the owner opens the payment, previews the partial refund and books it
        owner.goto(live_server.url + "/merchant/payments/")
        owner.get_by_test_id("merchant-payment-open").first.click()
        owner.wait_for_url(re.compile(r".*/merchant/payments/\d+/$"))
        owner.get_by_test_id("refund-amount").fill("50.00")
        owner.get_by_test_id("refund-preview").click()
        back = cumulative_share(split.collected_fen, 5000, 30000)
        expect(owner.get_by_test_id("preview-bill")).to_have_text("¥50.00")
        expect(owner.get_by_test_id("preview-money")).to_have_text(yuan(back))
        expect(owner.get_by_test_id("preview-points-returned")).to_have_text(str(cumulative_share(1_000, 5000, 30000)))
        shot(owner, f"refund-preview-{lang}")
        owner.get_by_test_id("refund-reason").fill("退一杯")
        owner.once("dialog", lambda dialog: dialog.accept())
        owner.get_by_test_id("refund-confirm").click()
        expect(owner.get_by_test_id("bill-refunded")).to_have_text("¥50.00")
        expect(owner.get_by_test_id("bill-left")).to_have_text("¥250.00")
        expect(owner.get_by_test_id("payment-refund-row")).to_have_count(1)
        shot(owner, f"refund-done-{lang}")
        assert ledger_check().ok
    finally:
        for ctx in staff_ctxs:
            ctx.close()
        mem_ctx.close()
        clerk_ctx.close()
