"""Real threads on PostgreSQL: a gateway that delivers the same notification many times at once, or a member
whose payment page asks the gateway while the notification arrives, still gets one payment, one credit."""

from __future__ import annotations

import pytest

from galleria.ledger.models import Transaction
from galleria.ledger.selectors import ledger_check
from galleria.payments import services
from galleria.payments.models import AttemptState, NoticeOutcome, PaymentAttempt, PaymentNotice
from galleria.points.selectors import points_balance
from galleria.sales.models import Sale
from galleria.testing import run_parallel
from galleria.testing_points import give_points
from galleria.wallet.selectors import wallet_balance

from . import test_payment_flows as flows
from .test_payment_flows import _member

gateway, receiver, pay = flows.gateway, flows.receiver, flows.pay  # the same fixtures

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _captured(receiver):
    got = receiver.wait_for(1)[0]
    provider, credential_id = got.path.strip("/").split("/")[-2:]
    return provider, int(credential_id), got.headers, got.body


def test_the_same_notification_ten_times_at_once_pays_once(pay, gateway, receiver):
    m = _member(pay)
    give_points(pay, m, 1_000)
    started = services.store_pay_start(
        member_id=m.pk,
        mall_group_id=pay.group.pk,
        store_id=pay.store.pk,
        total_fen=30_000,
        points_to_use=1_000,
        coupon_ids=None,
        provider="wechat",
        kind="h5",
        idempotency_key="race",
        client_ip="10.0.0.8",
    )
    gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    provider, credential_id, headers, body = _captured(receiver)

    def deliver(i: int) -> int:
        if i == 9:  # and the member's payment page asking the gateway at the same moment
            services.attempt_sync(attempt_id=started.attempt_id)
            return 204
        ack = services.notice_receive(provider=provider, credential_id=credential_id, headers=headers, body=body)
        return ack.status

    statuses = run_parallel(10, deliver)
    assert all(s in (200, 204) for s in statuses), statuses
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert attempt.state == AttemptState.PAID
    sales = Sale.objects.filter(member=m)
    assert sales.count() == 1 and sales[0].pk == attempt.sale_id
    sale = sales[0]
    assert Transaction.objects.filter(source=f"sale:{sale.pk}", kind="earn").count() == 1
    assert points_balance(member_id=m.pk) == sale.points_earned  # 1,000 used, the earn credited once
    outcomes = list(PaymentNotice.objects.filter(verified=True).values_list("outcome", flat=True))
    assert outcomes.count(NoticeOutcome.APPLIED) == 1
    assert ledger_check().ok


def test_concurrent_topup_notifications_credit_once(pay, gateway, receiver):
    m = _member(pay)
    started = services.topup_pay_start(
        mall_id=pay.mall.pk,
        mall_group_id=pay.group.pk,
        member_id=m.pk,
        amount_fen=20_000,
        provider="wechat",
        kind="h5",
        idempotency_key="race",
        description="wallet",
        client_ip="10.0.0.8",
    )
    gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    provider, credential_id, headers, body = _captured(receiver)
    run_parallel(
        10,
        lambda i: services.notice_receive(provider=provider, credential_id=credential_id, headers=headers, body=body),
    )
    assert wallet_balance(member_id=m.pk).total_fen == 20_000
    assert Transaction.objects.filter(kind="topup").count() == 1
    assert ledger_check().ok
