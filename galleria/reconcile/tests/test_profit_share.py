"""WeChat Pay 分账 of pay-at-store payments against the sandbox gateway: the merchant's part after commission,
the gateway's limit respected and explained, one share per payment whatever fails in between, refunds after the
share, and frozen funds released when nothing is shared."""

from __future__ import annotations

import pytest
import stamina

from galleria.audit.models import AuditEvent
from galleria.ledger.models import Entry
from galleria.ledger.selectors import ledger_check
from galleria.payments import services as payment_services
from galleria.payments.gateways.base import GatewayUnavailableError
from galleria.payments.models import PaymentAttempt
from galleria.payments.testing import sandbox_start
from galleria.reconcile import selectors, services
from galleria.reconcile.exceptions import ShareStateError
from galleria.reconcile.models import ShareOrder, ShareReceiver
from galleria.reconcile.tasks import profit_share_task
from galleria.reconcile.types import CapReason, ShareState, SkipReason

from .conftest import ACTOR, install, store_payment

pytestmark = pytest.mark.django_db

RECEIVER = {
    "share_receiver_type": "MERCHANT_ID",
    "share_receiver_account": "1900012345",
    "share_receiver_name": "深圳喜茶餐饮管理有限公司",
}


@pytest.fixture
def shop(pay, sharing):
    """喜茶 (8 % commission) has a 分账 receiver; its pay-at-store payments are placed for profit sharing."""
    payment_services.merchant_profile_save(
        mall_group_id=pay.group.pk, merchant_id=pay.merchant.pk, values=RECEIVER, actor=ACTOR
    )
    return pay


@pytest.fixture(scope="module")
def wide_gateway():
    """A sandbox whose account may share everything (a mall granted a higher ratio)."""
    proc = sandbox_start(time_scale=0.001, share_max_bp=10_000)
    yield proc
    proc.stop()


def ledger_legs(*, source: str) -> list[tuple[str, int]]:
    return list(Entry.objects.filter(transaction__source=source).values_list("account__kind", "amount"))


def trade_at_gateway(gateway, attempt_id):
    attempt = PaymentAttempt.objects.get(pk=attempt_id)
    return gateway.control.trade(provider="wechat", out_trade_no=attempt.out_trade_no)


def finish(order_id):
    """Ask the gateway until the order is done (the sandbox settles a share 1 ms after accepting it)."""
    for _ in range(50):
        state = services.shares.advance(order_id=order_id)
        if state not in (ShareState.PENDING, ShareState.PROCESSING, "busy"):
            return state
    return ShareOrder.objects.get(pk=order_id).state


class TestTheShare:
    def test_capped_by_the_gateway_limit_and_the_rest_explained(self, shop, gateway):
        attempt_id = store_payment(shop, gateway, total=30_000)
        order_id = services.profit_share_for_attempt(attempt_id=attempt_id)
        assert finish(order_id) == ShareState.FINISHED
        order = ShareOrder.objects.get(pk=order_id)
        assert (order.paid_fen, order.commission_bp, order.commission_fen, order.part_fen) == (
            30_000,
            800,
            2_400,
            27_600,
        )
        assert (order.limit_bp, order.limit_fen, order.amount_fen) == (3000, 9_000, 9_000)
        assert (order.capped_fen, order.cap_reason) == (18_600, CapReason.LIMIT)
        assert order.receiver_result == "SUCCESS" and order.unfrozen_at is not None
        trade = trade_at_gateway(gateway, attempt_id)
        assert trade["shared_fen"] == 9_000 and trade["unfrozen"] is True  # the rest went back to the mall
        # the share is in the ledger, once: the merchant's collected money goes down by what WeChat paid it
        legs = ledger_legs(source=f"profit_share:{order_id}")
        assert sorted((kind, amount) for kind, amount in legs) == [
            ("gateway_clearing", 9_000),
            ("merchant_collected", -9_000),
        ]
        assert ledger_check().ok
        # calling again changes nothing: one order per payment, nothing shared twice
        assert services.profit_share_for_attempt(attempt_id=attempt_id) == order_id
        assert trade_at_gateway(gateway, attempt_id)["shared_fen"] == 9_000
        assert len(ledger_legs(source=f"profit_share:{order_id}")) == 2
        assert ShareReceiver.objects.filter(mall_group=shop.group).count() == 1

    def test_the_receiver_is_added_once_for_every_payment(self, shop, gateway):
        for total in (10_000, 20_000):
            order_id = services.profit_share_for_attempt(attempt_id=store_payment(shop, gateway, total=total))
            assert finish(order_id) == ShareState.FINISHED
        assert (
            ShareReceiver.objects.filter(mall_group=shop.group, account=RECEIVER["share_receiver_account"]).count() == 1
        )

    def test_within_a_higher_limit_the_whole_part_is_shared(self, world, wide_gateway, receiver, settings, sharing):
        install(world, wide_gateway, receiver, settings)
        settings.GALLERIA_PROFIT_SHARE_MAX_BP = 10_000
        payment_services.merchant_profile_save(
            mall_group_id=world.group.pk, merchant_id=world.merchant.pk, values=RECEIVER, actor=ACTOR
        )
        attempt_id = store_payment(world, wide_gateway, total=30_000)
        order_id = services.profit_share_for_attempt(attempt_id=attempt_id)
        assert finish(order_id) == ShareState.FINISHED
        order = ShareOrder.objects.get(pk=order_id)
        assert (order.amount_fen, order.capped_fen, order.cap_reason) == (27_600, 0, CapReason.NONE)
        assert trade_at_gateway(wide_gateway, attempt_id)["shared_fen"] == 27_600

    def test_a_limit_set_above_the_gateway_s_is_refused_with_its_explanation(self, shop, gateway, settings):
        settings.GALLERIA_PROFIT_SHARE_MAX_BP = 5000  # the account was never granted 50 %
        attempt_id = store_payment(shop, gateway, total=30_000)
        order_id = services.profit_share_for_attempt(attempt_id=attempt_id)
        order = ShareOrder.objects.get(pk=order_id)
        assert order.state == ShareState.REFUSED and order.amount_fen == 15_000
        assert "INVALID_REQUEST" in order.refusal and "30%" in order.refusal and "15000" in order.refusal
        assert trade_at_gateway(gateway, attempt_id)["shared_fen"] == 0
        # the setting corrected, a manager plans it again: a new order number, within the limit
        settings.GALLERIA_PROFIT_SHARE_MAX_BP = 3000
        services.share_action(order_id=order_id, mall_group_id=shop.group.pk, action="retry", actor=ACTOR)
        assert finish(order_id) == ShareState.FINISHED
        order.refresh_from_db()
        assert order.out_order_no.endswith("-2") and order.amount_fen == 9_000 and order.refusal == ""
        assert trade_at_gateway(gateway, attempt_id)["shared_fen"] == 9_000
        assert AuditEvent.objects.filter(action="reconcile.share_action", target_id=str(order_id)).count() == 1
        with pytest.raises(ShareStateError):
            services.share_action(order_id=order_id, mall_group_id=shop.group.pk, action="retry", actor=ACTOR)

    def test_a_payment_not_placed_for_profit_sharing_is_refused_and_says_so(self, pay, gateway):
        # paid before the merchant had a receiver: the order did not ask WeChat Pay to hold the money for 分账
        attempt_id = store_payment(pay, gateway, total=10_000)
        payment_services.merchant_profile_save(
            mall_group_id=pay.group.pk, merchant_id=pay.merchant.pk, values=RECEIVER, actor=ACTOR
        )
        order = ShareOrder.objects.get(pk=services.profit_share_for_attempt(attempt_id=attempt_id))
        assert order.state == ShareState.REFUSED and "profit_sharing" in order.refusal


class TestRetries:
    def test_a_503_when_sending_is_retried_with_the_same_number_and_shares_once(self, shop, gateway, monkeypatch):
        attempt_id = store_payment(shop, gateway, total=30_000)
        gw = payment_services.gateway_of(
            payment_services.credential_for(mall_group_id=shop.group.pk, provider="wechat")
        )
        real = gw.profit_share
        sent = []

        def down_once(**kwargs):  # the gateway answers 503 to every retry of this first send
            sent.append(kwargs["out_order_no"])
            if len(sent) == 1:
                gateway.control.fail_next(count=2, status=503, prefix="/v3/profitsharing/orders")
            return real(**kwargs)

        monkeypatch.setattr(gw, "profit_share", down_once)
        with stamina.set_testing(True, attempts=2):
            order_id = services.profit_share_for_attempt(attempt_id=attempt_id)
            order = ShareOrder.objects.get(pk=order_id)
            assert order.state == ShareState.PENDING and "unavailable" in order.last_error
            assert trade_at_gateway(gateway, attempt_id)["shared_fen"] == 0
            swept = services.profit_share_sweep()  # the periodic sweep sends it again
        assert swept.created == 0
        assert finish(order_id) == ShareState.FINISHED
        assert sent == [order.out_order_no, order.out_order_no]
        assert trade_at_gateway(gateway, attempt_id)["shared_fen"] == 9_000

    def test_a_lost_answer_is_found_again_and_not_shared_twice(self, shop, gateway, monkeypatch):
        attempt_id = store_payment(shop, gateway, total=30_000)
        gw = payment_services.gateway_of(
            payment_services.credential_for(mall_group_id=shop.group.pk, provider="wechat")
        )
        real = gw.profit_share
        calls = []

        def lost(**kwargs):  # the gateway did it, the answer never came back
            calls.append(kwargs["out_order_no"])
            real(**kwargs)
            raise GatewayUnavailableError("read timeout", code="unavailable")

        monkeypatch.setattr(gw, "profit_share", lost)
        order_id = services.profit_share_for_attempt(attempt_id=attempt_id)
        assert ShareOrder.objects.get(pk=order_id).state == ShareState.PENDING
        assert finish(order_id) == ShareState.FINISHED  # asked first: the gateway has it
        assert len(calls) == 1
        assert trade_at_gateway(gateway, attempt_id)["shared_fen"] == 9_000
        assert "found" in [step["action"] for step in ShareOrder.objects.get(pk=order_id).history]


class TestSweepAndTask:
    def test_the_sweep_shares_paid_store_payments_without_an_order(self, shop, gateway):
        ids = [store_payment(shop, gateway, total=t) for t in (10_000, 20_000)]
        topup_like = store_payment(shop, gateway, total=5_000, provider="alipay")  # Alipay: no 分账 here
        result = services.profit_share_sweep()
        assert result.created == 2
        for attempt_id in ids:
            order = selectors.share_for_attempt(attempt_id=attempt_id)
            assert order is not None and finish(order.pk) == ShareState.FINISHED
        assert selectors.share_for_attempt(attempt_id=topup_like) is None
        assert services.profit_share_sweep().created == 0

    def test_the_task_runs_after_the_payment_s_transaction_commits(
        self, shop, gateway, django_capture_on_commit_callbacks
    ):
        attempt_id = store_payment(shop, gateway, total=10_000)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            profit_share_task.enqueue(attempt_id=attempt_id)
            assert not ShareOrder.objects.exists()  # nothing inside the caller's transaction
        for callback in callbacks:
            callback()
        assert ShareOrder.objects.filter(attempt_id=attempt_id).exists()

    def test_nothing_to_share_releases_the_frozen_funds(self, pay, gateway, sharing):
        attempt_id = store_payment(pay, gateway, total=10_000)  # 喜茶 has no receiver
        order = ShareOrder.objects.get(pk=services.profit_share_for_attempt(attempt_id=attempt_id))
        assert (order.state, order.skip_reason, order.amount_fen) == (ShareState.SKIPPED, SkipReason.NO_RECEIVER, 0)
        assert order.unfrozen_at is not None
        assert trade_at_gateway(gateway, attempt_id)["unfrozen"] is True

    def test_a_refund_after_the_share_is_recorded_for_recovery(self, shop, gateway, day):
        attempt_id = store_payment(shop, gateway, total=30_000)
        order_id = services.profit_share_for_attempt(attempt_id=attempt_id)
        assert finish(order_id) == ShareState.FINISHED
        payment_services.store_payment_refund(
            attempt_id=attempt_id, merchant_id=shop.merchant.pk, actor=ACTOR, idempotency_key="after-share"
        )
        services.reconcile_day(mall_group_id=shop.group.pk, provider="wechat", bill_date=day, actor=ACTOR)
        order = ShareOrder.objects.get(pk=order_id)
        assert order.recover_fen == 9_000 and order.refund_seen_fen == 30_000
        totals = selectors.share_summary(mall_group_id=shop.group.pk)[ShareState.FINISHED]
        assert totals == {"n": 1, "amount_fen": 9_000, "capped_fen": 18_600, "recover_fen": 9_000}
