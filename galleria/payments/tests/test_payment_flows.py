"""Payments end to end against the sandbox gateway process: what a member and a merchant rely on.

The sandbox is a separate process speaking WeChat Pay v3 / Alipay over HTTP; its notifications are caught by a
small receiver (standing in for our web server) and handed to `notice_receive` exactly as the notify view does,
so signatures, encryption and amounts travel the real wire format."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core.errors import ConflictError, ValidationError
from galleria.core.money import format_cny
from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger import services as ledger
from galleria.ledger.models import AccountKind
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_register
from galleria.payments import selectors, services
from galleria.payments.exceptions import RefundNotAllowedError
from galleria.payments.models import (
    AttemptState,
    Fulfilment,
    NoticeOutcome,
    PaymentAttempt,
    PaymentNotice,
    PaymentRefund,
    RefundState,
)
from galleria.payments.testing import NotifyReceiver, sandbox_start
from galleria.points import services as points_services
from galleria.points.selectors import points_balance
from galleria.sales.models import Refund, Sale
from galleria.sales.rules import cumulative_share
from galleria.testing_points import give_points
from galleria.wallet.selectors import wallet_balance

ACTOR = Actor.system("test")


@pytest.fixture(scope="module")
def gateway():
    proc = sandbox_start(time_scale=0.001)
    yield proc
    proc.stop()


@pytest.fixture
def receiver():
    rec = NotifyReceiver(answer=lambda r: (500, "application/json", b'{"code":"FAIL","message":"held"}'))
    yield rec
    rec.close()


@pytest.fixture
def pay(world, gateway, receiver, settings):
    """The world's group with sandbox credentials whose notifications go to the receiver."""
    settings.GALLERIA_PUBLIC_URL = receiver.url.removesuffix("/notify")
    services.sandbox_credentials_install(
        mall_group_id=world.group.pk, keys=gateway.keys, base_url=gateway.base_url, actor=ACTOR
    )
    return world


def _points_account(world, member):
    accounts = ledger.lock_member_accounts(
        mall_group_id=world.group.pk, member_id=member.pk, kinds=[AccountKind.MEMBER_POINTS]
    )
    return accounts[AccountKind.MEMBER_POINTS]


def spend_points(world, member, points):
    with transaction.atomic():
        points_services.points_spend_in_tx(
            mall_group_id=world.group.pk,
            member_id=member.pk,
            points_account=_points_account(world, member),
            points=points,
            merchant_id=world.other_merchant.pk,
            occurred_at=timezone.now(),
            source="test",
            explanation={},
        )


def _member(world, phone="13800138000"):
    return member_register(mall=world.mall, phone=phone, channel="desk", actor=ACTOR)


def _deliver(receiver, *, count=1):
    """Hand the `count`-th notification the receiver got to notice_receive, as the notify view does."""
    got = receiver.wait_for(count)[count - 1]
    provider, credential_id = got.path.strip("/").split("/")[-2:]
    return services.notice_receive(
        provider=provider, credential_id=int(credential_id), headers=got.headers, body=got.body
    )


class TestTopUp:
    @pytest.mark.parametrize(("provider", "kind"), [("wechat", "h5"), ("alipay", "wap")])
    def test_paid_topup_reaches_the_wallet_once(self, pay, gateway, receiver, provider, kind):
        m = _member(pay)
        started = services.topup_pay_start(
            mall_id=pay.mall.pk,
            mall_group_id=pay.group.pk,
            member_id=m.pk,
            amount_fen=50_000,
            provider=provider,
            kind=kind,
            idempotency_key="form-1",
            description="wallet",
            client_ip="10.0.0.8",
            return_url="http://app/return",
        )
        attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
        assert attempt.state == AttemptState.PAYING and attempt.amount_fen == 50_000
        assert started.payload  # where the member's browser goes to pay
        assert wallet_balance(member_id=m.pk).total_fen == 0
        # the same form again: the same attempt, nothing new at the gateway
        again = services.topup_pay_start(
            mall_id=pay.mall.pk,
            mall_group_id=pay.group.pk,
            member_id=m.pk,
            amount_fen=50_000,
            provider=provider,
            kind=kind,
            idempotency_key="form-1",
            description="wallet",
        )
        assert again.out_trade_no == started.out_trade_no
        gateway.control.pay(provider=provider, out_trade_no=started.out_trade_no, url=started.payload.get("url", ""))
        ack = _deliver(receiver)
        assert ack.status in (200, 204) or ack.body == b"success"
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.PAID and attempt.fulfilment == Fulfilment.DONE
        assert wallet_balance(member_id=m.pk).total_fen == 50_000
        # the gateway's retries of the same notification change nothing
        _deliver(receiver, count=2)
        assert wallet_balance(member_id=m.pk).total_fen == 50_000
        assert ledger_check().ok

    def test_a_late_notification_is_not_waited_for(self, pay, gateway):
        """The member is back from the cashier first: the payment page asks the gateway and credits at once."""
        m = _member(pay)
        started = services.topup_pay_start(
            mall_id=pay.mall.pk,
            mall_group_id=pay.group.pk,
            member_id=m.pk,
            amount_fen=10_000,
            provider="wechat",
            kind="h5",
            idempotency_key="k",
            description="wallet",
            client_ip="10.0.0.8",
        )
        assert services.attempt_sync(attempt_id=started.attempt_id) == AttemptState.PAYING  # not paid yet
        gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
        assert services.attempt_sync(attempt_id=started.attempt_id) == AttemptState.PAID
        assert wallet_balance(member_id=m.pk).total_fen == 10_000

    def test_forged_notifications_change_nothing_and_are_logged(self, pay, gateway, receiver):
        m = _member(pay)
        started = services.topup_pay_start(
            mall_id=pay.mall.pk,
            mall_group_id=pay.group.pk,
            member_id=m.pk,
            amount_fen=10_000,
            provider="wechat",
            kind="h5",
            idempotency_key="k",
            description="wallet",
            client_ip="10.0.0.8",
        )
        hows = ["wrong_key", "wrong_serial", "stale", "wrong_apiv3", "tampered_amount"]
        for n, how in enumerate(hows, start=1):
            gateway.control.forge(how=how, out_trade_no=started.out_trade_no)
            ack = _deliver(receiver, count=n)
            assert ack.status not in (200, 204), how
        attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
        assert attempt.state == AttemptState.PAYING
        assert wallet_balance(member_id=m.pk).total_fen == 0
        assert PaymentNotice.objects.filter(outcome=NoticeOutcome.FORGED).count() == len(hows)

    def test_refund_of_a_topup_goes_back_through_its_gateway(self, pay, gateway, receiver):
        from galleria.wallet.services import wallet_topup_refund

        m = _member(pay)
        started = services.topup_pay_start(
            mall_id=pay.mall.pk,
            mall_group_id=pay.group.pk,
            member_id=m.pk,
            amount_fen=30_000,
            provider="wechat",
            kind="h5",
            idempotency_key="k",
            description="wallet",
            client_ip="10.0.0.8",
        )
        gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
        services.attempt_sync(attempt_id=started.attempt_id)
        attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
        wallet_topup_refund(topup_id=attempt.topup_id, amount_fen=10_000, idempotency_key="r1")
        refund = PaymentRefund.objects.get(attempt=attempt)
        assert refund.amount_fen == 10_000 and refund.state in (RefundState.PROCESSING, RefundState.SUCCEEDED)
        trade = gateway.control.trade(provider="wechat", out_trade_no=started.out_trade_no)
        assert trade["refunded_fen"] == 10_000
        assert wallet_balance(member_id=m.pk).total_fen == 20_000


class TestPayAtStore:
    def _start(self, world, member, *, total=30_000, points=0, coupons=None, key="pay-1", provider="wechat"):
        return services.store_pay_start(
            member_id=member.pk,
            mall_group_id=world.group.pk,
            store_id=world.store.pk,
            total_fen=total,
            points_to_use=points,
            coupon_ids=coupons,
            provider=provider,
            kind="h5" if provider == "wechat" else "wap",
            idempotency_key=key,
            client_ip="10.0.0.8",
        )

    def test_paid_at_the_shop_with_a_coupon_and_points(self, pay, gateway, receiver):
        m = _member(pay)
        give_points(pay, m, 5_000)
        coupon = claim(m, template(pay))  # ¥30 off ¥200
        quote = services.store_pay_quote(
            member_id=m.pk,
            mall_group_id=pay.group.pk,
            store_id=pay.store.pk,
            total_fen=30_000,
            points_to_use=1_000,
            coupon_ids=None,
        )
        assert quote.discount_fen == 3_000 and quote.points_value_fen > 0
        started = self._start(pay, m, points=1_000)
        assert started.amount_fen == quote.paid_fen == 30_000 - 3_000 - quote.points_value_fen
        gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
        _deliver(receiver)
        attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
        assert attempt.fulfilment == Fulfilment.DONE
        sale = Sale.objects.get(pk=attempt.sale_id)
        assert sale.channel == "pay_at_store" and sale.merchant_id == pay.merchant.pk
        assert (sale.total_fen, sale.discount_fen, sale.paid_fen) == (30_000, 3_000, started.amount_fen)
        assert sale.points_used == 1_000 and sale.points_earned == quote.points_to_earn > 0
        assert points_balance(member_id=m.pk) == 5_000 - 1_000 + sale.points_earned
        assert Coupon.objects.get(pk=coupon.coupon_id).status == "used"
        assert [a.pk for a in selectors.merchant_live(merchant_id=pay.merchant.pk, since=attempt.paid_at)] == [
            attempt.pk
        ]
        assert ledger_check().ok

    def test_a_basket_that_changed_meanwhile_is_refunded_in_full(self, pay, gateway, receiver):
        m = _member(pay)
        give_points(pay, m, 1_000)
        started = self._start(pay, m, points=1_000)
        spend_points(pay, m, 1_000)  # spent elsewhere while the member was paying
        gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
        _deliver(receiver)
        attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
        assert attempt.state == AttemptState.PAID and attempt.fulfilment == Fulfilment.REFUNDED
        assert attempt.sale_id is None and not Sale.objects.filter(member=m).exists()
        refund = PaymentRefund.objects.get(attempt=attempt)
        assert refund.amount_fen == attempt.amount_fen and refund.state != RefundState.REQUESTED
        trade = gateway.control.trade(provider="wechat", out_trade_no=started.out_trade_no)
        assert trade["refunded_fen"] == attempt.amount_fen

    def test_amount_mismatch_records_nothing_and_flags_review(self, pay, gateway, receiver):
        m = _member(pay)
        started = self._start(pay, m)
        gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no, amount_fen=1)
        _deliver(receiver)
        attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
        assert attempt.fulfilment == Fulfilment.REVIEW and attempt.sale_id is None
        assert PaymentNotice.objects.get(out_trade_no=started.out_trade_no, verified=True).outcome == "mismatch"

    def test_the_merchant_refunds_a_payment(self, pay, gateway, receiver):
        m = _member(pay)
        give_points(pay, m, 2_000)
        started = self._start(pay, m, points=1_000)
        gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
        _deliver(receiver)
        attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
        earned = Sale.objects.get(pk=attempt.sale_id).points_earned
        assert points_balance(member_id=m.pk) == 1_000 + earned
        result = services.store_payment_refund(
            attempt_id=attempt.pk, merchant_id=pay.merchant.pk, actor=ACTOR, idempotency_key="r1"
        )
        assert result.payments == {"wechat": attempt.amount_fen}
        assert points_balance(member_id=m.pk) == 2_000  # points used come back, points earned go
        for key in ("r1", "r2"):  # a double tap, or a second clerk: refunded once
            with pytest.raises(RefundNotAllowedError):
                services.store_payment_refund(
                    attempt_id=attempt.pk, merchant_id=pay.merchant.pk, actor=ACTOR, idempotency_key=key
                )
        assert PaymentRefund.objects.filter(attempt=attempt).count() == 1
        trade = gateway.control.trade(provider="wechat", out_trade_no=started.out_trade_no)
        assert trade["refunded_fen"] == attempt.amount_fen

    def test_the_merchant_refunds_part_of_the_bill_then_the_rest(self, pay, gateway, receiver):
        """A ¥300 bill paid with a ¥30 coupon (¥200 threshold) and 1,000 points: ¥50 of goods come back, then the
        rest. The preview is the refund's own figures and changes nothing; money, points and the coupon follow the
        bill in proportion and the two refunds add up exactly to the whole payment."""
        m = _member(pay)
        give_points(pay, m, 5_000)
        claim(m, template(pay))  # ¥30 off ¥200
        started = self._start(pay, m, points=1_000)
        gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
        _deliver(receiver)
        attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
        sale = Sale.objects.get(pk=attempt.sale_id)
        after_sale = points_balance(member_id=m.pk)
        args = {"attempt_id": attempt.pk, "merchant_id": pay.merchant.pk}

        preview = services.store_payment_refund_preview(**args, amount_fen=5_000)
        assert points_balance(member_id=m.pk) == after_sale and not Refund.objects.filter(sale=sale).exists()
        part = services.store_payment_refund(**args, actor=ACTOR, idempotency_key="p1", amount_fen=5_000)
        assert (part.amount_fen, part.money_fen, part.points_returned, part.points_clawed_back) == (
            preview.amount_fen,
            preview.money_fen,
            preview.points_returned,
            preview.points_clawed_back,
        )
        assert part.amount_fen == 5_000 and part.coupon_deduct_fen == 0  # ¥250 kept still reaches the threshold
        assert part.money_fen == cumulative_share(sale.paid_fen, 5_000, 30_000)
        assert part.points_returned == cumulative_share(1_000, 5_000, 30_000)
        assert part.points_clawed_back == cumulative_share(sale.points_earned, 5_000, 30_000)
        assert part.payments == {"wechat": part.money_fen}

        with pytest.raises(ValidationError) as over:
            services.store_payment_refund(**args, actor=ACTOR, idempotency_key="p2", amount_fen=25_001)
        assert over.value.code == "refund.over_amount"
        with pytest.raises(ConflictError):  # the same form sent twice
            services.store_payment_refund(**args, actor=ACTOR, idempotency_key="p1", amount_fen=5_000)

        rest = services.store_payment_refund(**args, actor=ACTOR, idempotency_key="p3")
        assert part.amount_fen + rest.amount_fen == 30_000
        assert part.money_fen + rest.money_fen == sale.paid_fen == attempt.amount_fen
        assert points_balance(member_id=m.pk) == 5_000  # every point spent came back, every point earned went
        sale.refresh_from_db()
        assert sale.status == "refunded" and sale.refunded_fen == 30_000
        with pytest.raises(RefundNotAllowedError):
            services.store_payment_refund(**args, actor=ACTOR, idempotency_key="p4", amount_fen=100)
        _deliver(receiver)
        trade = gateway.control.trade(provider="wechat", out_trade_no=started.out_trade_no)
        assert trade["refunded_fen"] == attempt.amount_fen
        assert sorted(PaymentRefund.objects.filter(attempt=attempt).values_list("amount_fen", flat=True)) == sorted(
            [part.money_fen, rest.money_fen]
        )
        assert ledger_check().ok

    def test_the_owner_previews_and_refunds_part_in_the_portal_and_a_clerk_cannot(self, pay, gateway, receiver, client):
        m = _member(pay)
        give_points(pay, m, 5_000)
        claim(m, template(pay))
        started = self._start(pay, m, points=1_000)
        gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
        _deliver(receiver)
        attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
        sale = Sale.objects.get(pk=attempt.sale_id)
        detail = reverse("merchant:payment_detail", args=[attempt.pk])

        client.force_login(pay.users["merchant_clerk"])
        page = client.get(detail)
        assert page.status_code == 200 and b'data-testid="refund-card"' not in page.content
        assert client.post(reverse("merchant:payment_refund", args=[attempt.pk]), {"key": "k"}).status_code == 403

        client.force_login(pay.users["merchant_owner"])
        assert detail.encode() in client.get(reverse("merchant:payments")).content
        bad = client.get(detail, {"amount": "12.345", "preview": "1"})
        assert bad.status_code == 422 and b'data-testid="refund-error"' in bad.content
        over = client.get(detail, {"amount": "300.01", "preview": "1"})
        assert over.status_code == 422 and b'data-testid="refund-preview-figures"' not in over.content
        shown = client.get(detail, {"amount": "50.00", "preview": "1"})
        money = cumulative_share(sale.paid_fen, 5_000, 30_000)
        assert shown.status_code == 200 and format_cny(money).encode() in shown.content
        assert not Refund.objects.filter(sale=sale).exists()  # a preview books nothing
        key = shown.context["key"]
        form = {"key": key, "amount": "50.00", "reason": "one cup returned"}
        done = client.post(reverse("merchant:payment_refund", args=[attempt.pk]), form, follow=True)
        assert b'data-testid="bill-refunded"' in done.content and b"one cup returned" in done.content
        again = client.post(reverse("merchant:payment_refund", args=[attempt.pk]), form, follow=True)
        assert [m.level_tag for m in again.context["messages"]] == ["error"]  # the same form again: told, no more
        sale.refresh_from_db()
        assert sale.refunded_fen == 5_000 and PaymentRefund.objects.filter(attempt=attempt).get().amount_fen == money

    def test_unknown_orders_are_acknowledged_without_effect(self, pay, gateway, receiver):
        m = _member(pay)
        started = self._start(pay, m)
        PaymentAttempt.objects.filter(pk=started.attempt_id).update(out_trade_no="SOMETHING-ELSE")
        gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
        ack = _deliver(receiver)
        assert ack.status in (200, 204)
        assert PaymentNotice.objects.get(verified=True).outcome == NoticeOutcome.UNKNOWN

    def test_unpaid_attempts_close_after_expiry(self, pay, gateway):
        m = _member(pay)
        started = self._start(pay, m)
        later = timezone.now() + dt.timedelta(hours=1)
        assert services.attempts_expire(now=later)["closed"] == 1
        assert PaymentAttempt.objects.get(pk=started.attempt_id).state == AttemptState.CLOSED
        trade = gateway.control.trade(provider="wechat", out_trade_no=started.out_trade_no)
        assert trade["state"] == "CLOSED"
