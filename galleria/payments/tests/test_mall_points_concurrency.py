"""Real threads on PostgreSQL: WeChat delivering the same 商圈 payment many times at once — as one event or as
several — still makes one sale and one credit, and a refund racing its payment is applied exactly once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from galleria.ledger.models import Transaction
from galleria.ledger.selectors import ledger_check
from galleria.payments import services
from galleria.payments.gateways.base import Notice, NoticeKind, Provider, RefundState, TradeState
from galleria.payments.models import (
    MallRefund,
    MallRefundState,
    MallSyncState,
    MallTransaction,
    MallTxnState,
    NoticeOutcome,
    PaymentNotice,
)
from galleria.points.selectors import points_balance
from galleria.sales.models import Sale
from galleria.testing import run_parallel

from . import test_mall_points as flows
from .test_mall_points import MCHID, SHOP, _find

gateway, inbox, mall = flows.gateway, flows.inbox, flows.mall  # the same fixtures

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_same_payment_notification_ten_times_at_once_credits_once(mall):
    member, openid = mall.member()
    paid = mall.pay(openid, 20_000)
    got = _find(mall.inbox, paid["event_id"])
    provider, credential_id = got.path.strip("/").split("/")[-2:]

    def deliver(i: int) -> int:
        ack = services.notice_receive(
            provider=provider, credential_id=int(credential_id), headers=got.headers, body=got.body
        )
        return ack.status

    statuses = run_parallel(10, deliver)
    assert statuses == [204] * 10  # every copy is acknowledged
    txn = MallTransaction.objects.get(transaction_id=paid["transaction_id"])
    assert txn.state == MallTxnState.CREDITED and txn.points == 200
    sales = Sale.objects.filter(member=member)
    assert sales.count() == 1 and sales[0].pk == txn.sale_id
    assert Transaction.objects.filter(source=f"sale:{txn.sale_id}", kind="earn").count() == 1
    assert points_balance(member_id=member.pk) == 200
    outcomes = list(PaymentNotice.objects.filter(verified=True, kind="mall_payment").values_list("outcome", flat=True))
    assert outcomes == [NoticeOutcome.APPLIED]
    txn.refresh_from_db()
    assert txn.sync_state == MallSyncState.SYNCED  # reported once the credit committed
    assert ledger_check().ok


def _payment(transaction_id: str, openid: str, *, event: str, amount_fen: int) -> Notice:
    return Notice(
        provider=Provider.WECHAT,
        kind=NoticeKind.MALL_PAYMENT,
        event_id=event,
        transaction_id=transaction_id,
        trade_state=TradeState.SUCCESS,
        amount_fen=amount_fen,
        paid_at=timezone.now(),
        payer=openid,
        mch_id=MCHID,
        shop_number=SHOP,
        raw={"shop_name": "喜茶 星河广场店"},
    )


def _refund(transaction_id: str, openid: str, *, event: str, amount_fen: int, refund_fen: int) -> Notice:
    return Notice(
        provider=Provider.WECHAT,
        kind=NoticeKind.MALL_REFUND,
        event_id=event,
        transaction_id=transaction_id,
        amount_fen=amount_fen,
        payer=openid,
        refund_id=f"50{transaction_id[-20:]}",
        refund_state=RefundState.SUCCESS,
        refund_fen=refund_fen,
        refunded_at=timezone.now(),
        mch_id=MCHID,
        shop_number=SHOP,
    )


@pytest.mark.parametrize("refund_first", [True, False])
def test_one_payment_under_many_events_and_its_refund_racing_it(mall, refund_first):
    """Nine deliveries of one payment under different event ids and its refund, all at once (the refund released
    first or last): one sale, one credit, the refund applied once — never lost, whatever came first."""
    member, openid = mall.member()
    paid = mall.pay(openid, 10_000)
    tid = paid["transaction_id"]
    group_id = mall.world.group.pk
    refund_at = 0 if refund_first else 9

    def deliver(i: int) -> str:
        if i == refund_at:
            notice = _refund(tid, openid, event=f"EVR-{tid}", amount_fen=10_000, refund_fen=4_000)
        else:
            notice = _payment(tid, openid, event=f"EVP-{tid}-{i}", amount_fen=10_000)
        return services.notice_apply(notice=notice, mall_group_id=group_id)

    outcomes = run_parallel(10, deliver)
    assert outcomes.count(NoticeOutcome.APPLIED) == 2, outcomes  # the payment once, the refund once
    txn = MallTransaction.objects.get(transaction_id=tid)
    assert txn.state == MallTxnState.CREDITED and txn.points == 100
    assert Sale.objects.filter(member=member).count() == 1
    refund = MallRefund.objects.get(mall_txn=txn)
    assert refund.state == MallRefundState.APPLIED and refund.points_reversed == 40
    assert (txn.refunded_fen, txn.points_reversed) == (4_000, 40)
    assert points_balance(member_id=member.pk) == 60
    assert ledger_check().ok
