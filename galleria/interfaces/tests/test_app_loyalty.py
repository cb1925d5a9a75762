"""Member app loyalty pages and their JSON API: points (history, explanations, check-in), tier, wallet (top-up
through WeChat Pay / Alipay at the sandbox gateway process), purchases; the session gate and one member never
seeing another's data."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.members.services import member_register
from galleria.merchants.models import Store
from galleria.points.models import BehaviourAward, BehaviourRule, PointsCampaign, PointsPolicy
from galleria.points.services import points_adjust_request
from galleria.sales import services as sale_services
from galleria.sales.tests.helpers import sale_in
from galleria.sales.types import PaymentIn, SaleIn
from galleria.tiers.services import tier_ladder_ensure_default, tier_override
from galleria.wallet import services as wallet_services
from galleria.wallet.models import TopUp, TopUpBonusRule

ACTOR = Actor(user_id=None, label="test")
SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = "13812345678"
OTHER_PHONE = "13900001111"


@pytest.fixture
def client(client):
    """Every page in English whatever translations are compiled (the assertions read English words)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def member(world):
    return member_register(mall=world.mall, phone=PHONE, channel="desk", actor=ACTOR, profile={"name": "王小丽"})


@pytest.fixture
def other(world):
    return member_register(mall=world.mall, phone=OTHER_PHONE, channel="desk", actor=ACTOR, profile={"name": "李四"})


@pytest.fixture
def signed_in(client, member):
    sign_in_as(client, member)
    return client


@pytest.fixture
def bonus_rules(world):
    for minimum, bonus in ((100000, 5000), (300000, 20000)):
        TopUpBonusRule.objects.create(
            mall_group=world.group, name=f"充{minimum}", min_amount_fen=minimum, bonus_fen=bonus
        )


def sign_in_as(client, member) -> None:
    """A fresh member session (what signing in by SMS code leaves behind)."""
    client.cookies.pop(settings.SESSION_COOKIE_NAME, None)
    session = client.session
    session["member_id"] = member.pk
    session.save()


def sale(world, member, *, amounts=(12800,), merchant=None, store=None, **kwargs):
    data = sale_in(world, member_id=member.pk, amounts=amounts, **kwargs)
    if merchant is not None:
        data = SaleIn(**{**data.__dict__, "merchant_id": merchant.pk, "store_id": store.pk})
    return sale_services.sale_commit(data=data, actor=ACTOR)


def problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.content.decode()
    assert resp["Content-Type"].startswith("application/problem+json")
    body = resp.json()
    assert body["code"] == code, body
    return body


def text(resp) -> str:
    return re.sub(r"\s+", " ", resp.content.decode())


# ---------------------------------------------------------------- the session gate


PAGES = ["/app/points/", "/app/tier/", "/app/wallet/", "/app/bills/", "/app/bills/1/", "/app/wallet/topups/1/pay/"]
API_GETS = ["/api/v1/app/me/points", "/api/v1/app/me/tier", "/api/v1/app/me/wallet", "/api/v1/app/me/purchases"]


@pytest.mark.django_db
class TestSessionGate:
    @pytest.mark.parametrize("url", PAGES)
    def test_pages_redirect_to_login(self, client, world, url):
        resp = client.get(url)
        assert resp.status_code == 302 and resp.url == "/app/login/"

    def test_posts_redirect_to_login_and_write_nothing(self, client, world, member):
        BehaviourRule.objects.create(mall_group=world.group, event="checkin", points=5)
        assert client.post("/app/points/checkin/").url == "/app/login/"
        assert client.post("/app/wallet/topup/", {"amount": "1000", "key": "k" * 20}).url == "/app/login/"
        assert client.post("/app/wallet/topups/1/pay/").url == "/app/login/"
        resp = client.post("/app/points/checkin/", HTTP_HX_REQUEST="true")
        assert resp.headers["HX-Redirect"] == "/app/login/"
        assert not BehaviourAward.objects.exists() and not TopUp.objects.exists()

    @pytest.mark.parametrize("url", API_GETS)
    def test_api_reads_need_a_member_session(self, client, world, url):
        problem(client.get(url), 401, "auth.required")

    def test_api_writes_need_a_member_session(self, client, world):
        problem(client.post("/api/v1/app/me/checkin"), 401, "auth.required")
        resp = client.post(
            "/api/v1/app/me/wallet/topups",
            {"amount_fen": 100000},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="abc12345",
        )
        problem(resp, 401, "auth.required")
        problem(client.get("/api/v1/app/me/payments/some-key"), 401, "auth.required")
        assert not TopUp.objects.exists()


# ---------------------------------------------------------------- points


@pytest.mark.django_db
class TestPoints:
    def test_earn_credit_is_explained_in_plain_words(self, signed_in, world, member):
        tier_ladder_ensure_default(mall_group_id=world.group.pk)
        today = timeutil.local_date(timezone.now(), world.mall.timezone)
        tier_override(
            member_id=member.pk, level_code="silver", until=today + dt.timedelta(days=30), reason="VIP", actor=ACTOR
        )
        PointsCampaign.objects.create(
            mall_group=world.group,
            name="会员日",
            multiplier_bp=20000,
            starts_on=today - dt.timedelta(days=1),
            ends_on=today + dt.timedelta(days=1),
        )
        result = sale(world, member, amounts=(12800,))
        assert result.points_earned == 307

        html = text(signed_in.get("/app/points/"))
        assert "Earned at 喜茶" in html and "+307" in html
        formula = "¥128.00 paid × 1 point per ¥1 × 1.2 (银卡) × 2 (会员日) = 307 points"
        assert formula in html
        assert "Points are rounded down to whole points." in html
        assert 'data-testid="points-balance" data-balance="307"' in html

        body = signed_in.get("/api/v1/app/me/points").json()
        assert body["balance"] == 307
        earn = body["history"][0]
        assert earn["kind"] == "earn" and earn["points"] == 307 and earn["merchant"] == "喜茶"
        exp = earn["explanation"]
        assert exp["formula"] == formula
        assert exp["base_fen"] == 12800 and exp["uncapped"] == 307 and exp["capped_by"] is None
        assert exp["tier"] == {"code": "silver", "multiplier_bp": 12000}
        assert exp["campaign"]["name"] == "会员日"
        assert exp["text"].startswith(formula + ".")

    def test_a_capped_earn_says_so(self, signed_in, world, member):
        PointsPolicy.objects.create(mall_group=world.group, per_sale_cap=100)
        sale(world, member, amounts=(50000,))
        html = text(signed_in.get("/app/points/"))
        assert "¥500.00 paid × 1 point per ¥1 = 500 points, capped at 100 points per purchase" in html

    def test_history_kinds_in_words(self, signed_in, world, member):
        BehaviourRule.objects.create(mall_group=world.group, event="first_purchase_at_merchant", points=20)
        sale(world, member, amounts=(50000,), pos_id="S1")  # +500 and +20 for the first purchase here
        sale(world, member, amounts=(10000,), points=100, pos_id="S2")  # 100 points pay ¥1
        sale_services.sale_refund(merchant_id=world.merchant.pk, pos_sale_id="S2", pos_refund_id="R1", lines=None)
        points_adjust_request(
            mall_group_id=world.group.pk,
            member_id=member.pk,
            points=30,
            reason="补录小票",
            actor=ACTOR,
            tz_name="Asia/Shanghai",
        )
        html = text(signed_in.get("/app/points/"))
        for words in (
            "Earned at 喜茶",
            "First purchase at 喜茶",
            "Used as payment at 喜茶",
            "Refund at 喜茶",
            "Points earned on the refunded goods were taken back.",
            "Points you paid with were given back.",
            "Adjustment by customer service",
            "补录小票",
        ):
            assert words in html, words
        kinds = [row["kind"] for row in signed_in.get("/api/v1/app/me/points").json()["history"]]
        assert kinds[0] == "adjust"  # newest first
        assert set(kinds) == {"earn", "behaviour", "spend", "refund", "adjust"}
        # only earn credits carry an explanation
        history = signed_in.get("/api/v1/app/me/points").json()["history"]
        assert all((row["explanation"] is not None) == (row["kind"] == "earn") for row in history)

    def test_expired_points_and_points_expiring_within_30_days(self, signed_in, world, member):
        PointsPolicy.objects.create(mall_group=world.group, expiry_policy="days_after_earn", expiry_days=10)
        points_adjust_request(
            mall_group_id=world.group.pk,
            member_id=member.pk,
            points=50,
            reason="goodwill",
            actor=ACTOR,
            tz_name="Asia/Shanghai",
        )
        today = timeutil.local_date(timezone.now(), "Asia/Shanghai")
        expires = today + dt.timedelta(days=10)
        html = text(signed_in.get("/app/points/"))
        assert f"50 points expire after {expires:%Y-%m-%d}" in html
        body = signed_in.get("/api/v1/app/me/points").json()
        assert body["expiring"]["points"] == 50 and body["expiring"]["within_days"] == 30
        assert body["expiring"]["lots"] == [{"expires_on": expires.isoformat(), "points": 50}]

        from galleria.points.services import points_expire

        points_expire(mall_group_id=world.group.pk, today=expires + dt.timedelta(days=1))
        html = text(signed_in.get("/app/points/"))
        assert "Expired" in html and "−50" in html
        assert 'data-balance="0"' in html and "expire after" not in html

    def test_history_is_paginated_newest_first(self, signed_in, world, member):
        for i in range(1, 26):
            points_adjust_request(
                mall_group_id=world.group.pk,
                member_id=member.pk,
                points=i,
                reason=f"reason-{i}",
                actor=ACTOR,
                tz_name="Asia/Shanghai",
            )
        page1 = text(signed_in.get("/app/points/"))
        assert page1.count('data-testid="points-row"') == 20
        assert page1.index("reason-25") < page1.index("reason-24")
        assert "· reason-5<" not in page1 and "· reason-6<" in page1 and "Page 1 of 2" in page1
        page2 = text(signed_in.get("/app/points/?page=2"))
        assert page2.count('data-testid="points-row"') == 5 and "· reason-1<" in page2
        assert signed_in.get("/app/points/?page=nope").status_code == 200
        body = signed_in.get("/api/v1/app/me/points?page=3&page_size=10").json()
        assert body["page"] == {"page": 3, "pages": 3, "count": 25, "page_size": 10}
        assert [row["detail"] for row in body["history"]] == [f"reason-{i}" for i in range(5, 0, -1)]
        problem(signed_in.get("/api/v1/app/me/points?page_size=1000"), 422, "request.invalid")

    def test_points_page_queries_do_not_grow_with_the_history(self, signed_in, world, member):
        sale(world, member, pos_id="Q1")
        with CaptureQueriesContext(connection) as one:
            signed_in.get("/app/points/")
        for i in range(2, 8):
            sale(world, member, pos_id=f"Q{i}")
        with CaptureQueriesContext(connection) as many:
            assert text(signed_in.get("/app/points/")).count('data-testid="points-row"') == 7
        assert len(many) == len(one)


@pytest.mark.django_db
class TestCheckin:
    def test_once_per_mall_local_day_across_midnight(self, client, world, member):
        BehaviourRule.objects.create(mall_group=world.group, event="checkin", points=5)
        late = dt.datetime(2026, 3, 10, 23, 59, 30, tzinfo=SHANGHAI)
        with time_machine.travel(late, tick=False) as traveller:
            sign_in_as(client, member)
            html = text(client.get("/app/points/"))
            assert "Daily check-in" in html and "+5 points every day you check in" in html
            resp = client.post("/app/points/checkin/", HTTP_HX_REQUEST="true")
            html = text(resp)
            assert resp.status_code == 200 and "<html" not in html
            assert "Checked in: +5 points." in html and 'hx-swap-oob="true"' in html and 'data-balance="5"' in html
            resp = client.post("/app/points/checkin/", HTTP_HX_REQUEST="true")
            assert "You have already checked in today." in text(resp)
            problem(client.post("/api/v1/app/me/checkin"), 409, "points.checkin_already")
            state = client.get("/api/v1/app/me/points").json()["checkin"]
            assert state == {"available": True, "points": 5, "checked_in_today": True, "today": "2026-03-10"}

            traveller.move_to(dt.datetime(2026, 3, 11, 0, 0, 30, tzinfo=SHANGHAI))  # a minute later: a new day
            assert "Checked in today" not in text(client.get("/app/points/"))
            body = client.post("/api/v1/app/me/checkin").json()
            assert body["points"] == 5 and body["balance"] == 10 and body["date"] == "2026-03-11"
            resp = client.post("/app/points/checkin/", follow=True)  # without htmx: a message on the page
            assert "You have already checked in today." in text(resp)
        assert list(BehaviourAward.objects.order_by("pk").values_list("occasion", flat=True)) == [
            "2026-03-10",
            "2026-03-11",
        ]

    def test_no_checkin_without_an_active_rule(self, signed_in, world, member):
        BehaviourRule.objects.create(mall_group=world.group, event="checkin", points=5, is_active=False)
        assert 'data-testid="checkin"' not in signed_in.get("/app/points/").content.decode()
        problem(signed_in.post("/api/v1/app/me/checkin"), 404, "points.checkin_unavailable")
        resp = signed_in.post("/app/points/checkin/", follow=True)
        assert "Daily check-in is not available" in text(resp)
        assert not BehaviourAward.objects.exists()

    def test_monthly_limit(self, client, world, member):
        BehaviourRule.objects.create(mall_group=world.group, event="checkin", points=5, max_per_month=1)
        with time_machine.travel(dt.datetime(2026, 3, 10, 12, tzinfo=SHANGHAI), tick=False) as traveller:
            sign_in_as(client, member)
            assert client.post("/api/v1/app/me/checkin").status_code == 200
            traveller.move_to(dt.datetime(2026, 3, 11, 12, tzinfo=SHANGHAI))
            sign_in_as(client, member)  # sessions last 8 hours
            problem(client.post("/api/v1/app/me/checkin"), 409, "points.checkin_limit")
            traveller.move_to(dt.datetime(2026, 4, 1, 12, tzinfo=SHANGHAI))
            sign_in_as(client, member)
            assert client.post("/api/v1/app/me/checkin").status_code == 200


# ---------------------------------------------------------------- tier


@pytest.mark.django_db
class TestTier:
    def test_progress_to_the_next_tier(self, signed_in, world, member):
        tier_ladder_ensure_default(mall_group_id=world.group.pk)
        sale(world, member, amounts=(100000,))  # ¥1,000 of the ¥5,000 silver needs
        html = text(signed_in.get("/app/tier/"))
        assert 'data-testid="tier-name">普卡<' in html
        assert "Spend ¥4,000.00 more to reach 银卡." in html
        assert "Road to 银卡" in html and "20%" in html
        today = timeutil.local_date(timezone.now(), "Asia/Shanghai")
        assert f"to {today:%Y-%m-%d}" in html and "last 12 months" in html
        for words in (
            "What 银卡 brings",
            "1.2× points on every purchase",
            "2% member discount",
            "2 hours of free parking a day",
        ):
            assert words in html, words
        body = signed_in.get("/api/v1/app/me/tier").json()
        assert body["has_tiers"] and body["current"]["code"] == "classic" and body["next"]["code"] == "silver"
        assert body["qualify_by"] == "spend" and body["qualifying_amount"] == 100000
        assert body["amount_needed"] == 400000 and body["progress_pct"] == 20
        assert body["window_end"] == today.isoformat()
        assert {b["key"] for b in body["next"]["benefits"]} >= {"points_multiplier_bp", "discount_bp"}
        assert all(b["is_new"] for b in body["next"]["benefits"])
        assert [h["reason"] for h in body["history"]] == ["join"]

    def test_upgrade_shows_in_the_history_and_home_card_links_to_the_tier(self, signed_in, world, member):
        tier_ladder_ensure_default(mall_group_id=world.group.pk)
        sale(world, member, amounts=(600000,))
        html = text(signed_in.get("/app/tier/"))
        assert 'data-testid="tier-name">银卡<' in html and "Road to 金卡" in html
        assert "普卡 → <b>银卡</b>" in html and "Qualified for a higher tier" in html
        assert "VIP lounge access" in html  # what gold brings
        home = text(signed_in.get("/app/"))
        assert 'href="/app/tier/" data-testid="home-tier">银卡 ›' in home
        body = signed_in.get("/api/v1/app/me/tier").json()
        assert [h["reason"] for h in body["history"]] == ["upgrade", "join"]
        assert body["history"][0]["reason_label"] == "Qualified for a higher tier"

    def test_top_of_the_ladder_and_no_ladder(self, signed_in, world, member):
        assert "This mall has no membership tiers yet." in text(signed_in.get("/app/tier/"))
        assert signed_in.get("/api/v1/app/me/tier").json()["has_tiers"] is False
        tier_ladder_ensure_default(mall_group_id=world.group.pk)
        today = timeutil.local_date(timezone.now(), "Asia/Shanghai")
        tier_override(
            member_id=member.pk, level_code="black", until=today + dt.timedelta(days=9), reason="VIP", actor=ACTOR
        )
        html = text(signed_in.get("/app/tier/"))
        assert "You are at the top tier." in html and "Manual override" in html
        assert "Granted by the service desk until" in html


# ---------------------------------------------------------------- wallet


def form_key(html: str) -> str:
    match = re.search(r'name="key" value="([^"]+)"', html)
    assert match, "no idempotency key in the form"
    return match.group(1)


@pytest.mark.django_db
class TestWallet:
    def test_top_up_through_wechat_pay(self, signed_in, world, member, bonus_rules, gateways):
        html = text(signed_in.get("/app/wallet/"))
        assert 'aria-label="Top up ¥1,000, get ¥50 free"' in html and "<b>¥3,000</b><span>+¥200 bonus</span>" in html
        assert 'data-testid="topup-method-wechat"' in html and 'data-testid="topup-method-alipay"' in html
        key = form_key(html)
        resp = signed_in.post("/app/wallet/topup/", {"amount": "1,000", "key": key, "method": "wechat"})
        topup = TopUp.objects.get()
        # to our payment page, which sends the browser on to WeChat Pay's H5 cashier (the sandbox gateway); the
        # cashier sends the member back to it
        assert resp.status_code == 302 and resp.url == f"/app/payments/{key}/?go=1"
        going = text(signed_in.get(resp.url))
        cashier = re.search(r'href="([^"]+)" data-testid="payment-continue" data-autogo', going)
        assert cashier and cashier.group(1).startswith(gateways.base_url + "/sandbox/wechat/h5?")
        assert "redirect_url=" in cashier.group(1)
        assert (topup.amount_fen, topup.bonus_fen, topup.gateway, topup.status) == (100000, 5000, "wechat", "pending")
        assert "waiting for payment" in text(signed_in.get("/app/wallet/"))
        waiting = text(signed_in.get(f"/app/payments/{key}/"))
        assert "Waiting for the payment" in waiting and "Continue paying" in waiting

        gateways.control.pay(provider="wechat", out_trade_no=topup.gateway_ref)
        html = text(signed_in.get(f"/app/payments/{key}/"))  # the page asks the gateway: paid
        assert 'data-testid="payment-done"' in html and "The money is in your wallet, plus a ¥50.00 bonus." in html
        html = text(signed_in.get("/app/wallet/"))
        assert 'data-testid="wallet-total" data-fen="105000">¥1,050.00<' in html
        assert 'data-testid="wallet-principal" data-fen="100000">¥1,000.00<' in html
        assert 'data-testid="wallet-bonus" data-fen="5000">¥50.00<' in html
        assert "Top-up" in html and "Including ¥50.00 bonus" in html and "+¥1,050.00" in html
        assert "waiting for payment" not in html

        # the pending top-up's "Pay now" after payment, or the payment page again: nothing more is credited
        resp = signed_in.get(f"/app/wallet/topups/{topup.pk}/pay/", follow=True)
        assert "This top-up has already been paid." in text(resp)
        body = signed_in.get("/api/v1/app/me/wallet").json()
        assert body["balance"] == {"principal_fen": 100000, "bonus_fen": 5000, "total_fen": 105000}
        assert [(h["kind"], h["total_fen"]) for h in body["history"]] == [("topup", 105000)]
        assert body["bonus_offers"][0] == {
            "min_amount_fen": 100000,
            "bonus_fen": 5000,
            "label": "Top up ¥1,000, get ¥50 free",
        }
        assert body["providers"] == ["wechat", "alipay"]

    def test_method_is_required(self, signed_in, world, member, gateways):
        resp = signed_in.post("/app/wallet/topup/", {"amount": "100", "key": "form-key-123456"})
        assert resp.status_code == 422 and "Choose how to pay." in text(resp)
        assert not TopUp.objects.exists()

    def test_double_submit_with_the_same_key_creates_one_top_up(self, signed_in, world, member, bonus_rules, gateways):
        key = form_key(signed_in.get("/app/wallet/").content.decode())
        first = signed_in.post("/app/wallet/topup/", {"amount": "1000", "key": key, "method": "alipay"})
        second = signed_in.post("/app/wallet/topup/", {"amount": "1000", "key": key, "method": "alipay"})
        assert first.status_code == second.status_code == 302
        assert TopUp.objects.count() == 1
        other_key = form_key(signed_in.get("/app/wallet/").content.decode())
        assert other_key != key
        signed_in.post("/app/wallet/topup/", {"amount": "1000", "key": other_key, "method": "alipay"})
        assert TopUp.objects.count() == 2

    def test_same_form_with_another_amount_gets_a_new_key(self, signed_in, world, member, gateways):
        key = form_key(signed_in.get("/app/wallet/").content.decode())
        signed_in.post("/app/wallet/topup/", {"amount": "1000", "key": key, "method": "wechat"})
        resp = signed_in.post("/app/wallet/topup/", {"amount": "2000", "key": key, "method": "wechat"})
        html = text(resp)
        assert resp.status_code == 422 and "already used for another amount" in html
        assert form_key(html) != key and TopUp.objects.count() == 1

    @pytest.mark.parametrize(
        ("amount", "error"),
        [
            ("", "Enter an amount to top up."),
            ("abc", "Enter an amount in yuan, e.g. 1000 or 99.50."),
            ("10.123", "Amounts have at most two decimals"),
            ("0.50", "Top up between ¥1.00 and ¥50,000.00."),
            ("50000.01", "Top up between ¥1.00 and ¥50,000.00."),
            ("-5", "Top up between ¥1.00 and ¥50,000.00."),
        ],
    )
    def test_amount_errors_are_inline_and_keep_the_key(self, signed_in, world, member, amount, error):
        resp = signed_in.post("/app/wallet/topup/", {"amount": amount, "key": "form-key-123456", "method": "wechat"})
        html = text(resp)
        assert resp.status_code == 422 and error in html and 'data-testid="amount-error"' in html
        assert form_key(html) == "form-key-123456"
        assert not TopUp.objects.exists()

    def test_missing_key_is_an_error_with_a_fresh_key(self, signed_in, world, member):
        resp = signed_in.post("/app/wallet/topup/", {"amount": "1000", "method": "wechat"})
        html = text(resp)
        assert resp.status_code == 422 and "This form has expired. Please try again." in html
        assert len(form_key(html)) >= 20 and not TopUp.objects.exists()

    def test_api_top_up_with_idempotency_key(self, signed_in, world, member, bonus_rules, gateways):
        url = "/api/v1/app/me/wallet/topups"
        body = {"amount_fen": 100000, "provider": "alipay"}
        problem(signed_in.post(url, body, content_type="application/json"), 422, "idempotency.key_required")
        resp = signed_in.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert resp.status_code == 200, resp.content
        intent = resp.json()
        assert intent["amount_fen"] == 100000 and intent["bonus_fen"] == 5000 and intent["status"] == "pending"
        assert intent["gateway"] == "alipay" and intent["pay_kind"] == "wap"
        assert intent["payload"]["url"].startswith(gateways.base_url + "/gateway.do?")
        again = signed_in.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1").json()
        assert again["topup_id"] == intent["topup_id"] and TopUp.objects.count() == 1
        problem(
            signed_in.post(
                url, {**body, "amount_fen": 200000}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
            ),
            409,
            "wallet.idempotency_conflict",
        )
        problem(
            signed_in.post(
                url, {**body, "amount_fen": 50}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-2"
            ),
            422,
            "wallet.amount_invalid",
        )
        problem(
            signed_in.post(
                url, {**body, "amount_fen": "x"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-3"
            ),
            422,
            "request.invalid",
        )
        problem(
            signed_in.post(
                url, {**body, "provider": "paypal"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-4"
            ),
            422,
            "request.invalid",
        )
        problem(
            signed_in.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k" * 65),
            422,
            "idempotency.key_required",
        )

        status_url = "/api/v1/app/me/payments/k-1"
        assert signed_in.get(status_url).json()["state"] == "paying"
        gateways.control.pay(provider="alipay", out_trade_no=intent["gateway_ref"], url=intent["payload"]["url"])
        paid = signed_in.get(status_url).json()
        assert (paid["state"], paid["fulfilment"], paid["topup_id"]) == ("paid", "done", intent["topup_id"])
        assert signed_in.get("/api/v1/app/me/wallet").json()["balance"]["total_fen"] == 105000
        assert signed_in.get(status_url).json() == paid  # asking again changes nothing
        problem(signed_in.get("/api/v1/app/me/payments/unknown"), 404, "payments.not_found")

    def test_without_a_gateway_the_app_says_so(self, signed_in, world, member):
        html = text(signed_in.get("/app/wallet/"))
        assert 'data-testid="topup-unavailable"' in html
        resp = signed_in.post("/app/wallet/topup/", {"amount": "1000", "key": "form-key-123456", "method": "wechat"})
        assert resp.status_code == 422 and "This payment method is not available here." in text(resp)
        resp = signed_in.post(
            "/api/v1/app/me/wallet/topups",
            {"amount_fen": 100000, "provider": "wechat"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="k-1",
        )
        problem(resp, 422, "payments.provider_not_configured")

    def test_wallet_payment_and_refund_in_the_history(self, signed_in, world, member):
        intent = wallet_services.wallet_topup_start(mall_id=world.mall.pk, member_id=member.pk, amount_fen=20000)
        wallet_services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=20000)
        data = sale_in(world, member_id=member.pk, amounts=(9900,), pos_id="W1")
        sale_services.sale_commit(
            data=SaleIn(**{**data.__dict__, "payments": (PaymentIn("wallet", 9900),)}), actor=ACTOR
        )
        sale_services.sale_refund(merchant_id=world.merchant.pk, pos_sale_id="W1", pos_refund_id="R1", lines=None)
        html = text(signed_in.get("/app/wallet/"))
        assert "Paid at 喜茶" in html and "−¥99.00" in html
        assert "Refund from 喜茶" in html and "+¥99.00" in html
        assert 'data-testid="wallet-total" data-fen="20000"' in html


# ---------------------------------------------------------------- purchases and home


@pytest.mark.django_db
class TestPurchases:
    def test_purchases_page_home_and_api(self, signed_in, world, member):
        sale(world, member, amounts=(12800,), pos_id="P1")
        sale(world, member, amounts=(20000,), points=100, pos_id="P2")
        sale_services.sale_refund(merchant_id=world.merchant.pk, pos_sale_id="P1", pos_refund_id="R1", lines=None)
        html = text(signed_in.get("/app/purchases/", follow=True))  # the old address now shows the bills
        assert html.count('data-testid="purchase"') == 2
        assert "喜茶" in html and "¥128.00" in html and "¥200.00" in html
        assert "+199 points earned" in html  # ¥199 paid after ¥1 of points
        assert "100 points used (¥1.00)" in html and "Refunded" in html and "¥128.00 refunded" in html
        home = text(signed_in.get("/app/"))
        assert "Recent bills" in home and home.count('data-testid="purchase"') == 2
        assert 'href="/app/bills/"' in home
        body = signed_in.get("/api/v1/app/me/purchases").json()
        assert body["page"]["count"] == 2
        latest = body["results"][0]
        assert latest["receipt"] == "P2" and latest["merchant"] == "喜茶" and latest["points_used"] == 100
        assert latest["points_earned"] == 199 and latest["status"] == "completed"
        assert body["results"][1]["status"] == "refunded"

    def test_home_shows_points_wallet_and_tabs(self, signed_in, world, member):
        sale(world, member, amounts=(12800,))
        html = text(signed_in.get("/app/"))
        assert 'data-testid="home-points"><b>128</b>' in html
        assert 'data-testid="home-wallet"><b>¥0.00</b>' in html
        for href in ('href="/app/points/"', 'href="/app/wallet/"', 'href="/app/profile/"'):
            assert href in html
        assert "No purchases yet" not in html


# ---------------------------------------------------------------- isolation


@pytest.mark.django_db
def test_another_members_data_is_never_visible(signed_in, world, member, other, bonus_rules, gateways):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    uniqlo_store = Store.objects.get(merchant=world.other_merchant)
    sale(world, other, amounts=(777700,), merchant=world.other_merchant, store=uniqlo_store, pos_id="OTHER-1")
    points_adjust_request(
        mall_group_id=world.group.pk,
        member_id=other.pk,
        points=4321,
        reason="secret-reason",
        actor=ACTOR,
        tz_name="Asia/Shanghai",
    )
    intent = wallet_services.wallet_topup_start(
        mall_id=world.mall.pk, member_id=other.pk, amount_fen=250000, idempotency_key="same-key"
    )
    wallet_services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=250000)
    pending = wallet_services.wallet_topup_start(mall_id=world.mall.pk, member_id=other.pk, amount_fen=123400)

    secrets_ = (
        "优衣库",
        "OTHER-1",
        "¥7,777.00",
        "4,321",
        "4321",
        "secret-reason",
        "¥2,500.00",
        "¥2,550.00",
        "¥1,234.00",
        "李四",
        "银卡 →",
    )
    for url in ("/app/", "/app/points/", "/app/tier/", "/app/wallet/", "/app/bills/", "/app/inbox/"):
        html = signed_in.get(url).content.decode()
        for word in secrets_:
            assert word not in html, (url, word)
    for url in API_GETS:
        body = signed_in.get(url).content.decode()
        for word in ("优衣库", "OTHER-1", "777700", "4321", "secret-reason", "250000", "255000", "123400"):
            assert word not in body, (url, word)

    # the other's top-ups cannot be paid or even seen by this member
    resp = signed_in.get(f"/app/wallet/topups/{pending.topup_id}/pay/", follow=True)
    assert "No such top-up." in text(resp)
    resp = signed_in.post(f"/app/wallet/topups/{pending.topup_id}/pay/", follow=True)
    assert "No such top-up." in text(resp)
    problem(signed_in.get("/api/v1/app/me/payments/same-key"), 404, "payments.not_found")
    assert TopUp.objects.get(pk=pending.topup_id).status == "pending"
    # the same idempotency key as another member starts this member's own top-up
    resp = signed_in.post(
        "/api/v1/app/me/wallet/topups",
        {"amount_fen": 250000, "provider": "wechat"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="same-key",
    )
    assert resp.json()["topup_id"] != intent.topup_id
    assert TopUp.objects.filter(member=member).count() == 1
