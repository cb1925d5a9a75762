"""智慧商圈 (payment-linked points) end to end against the sandbox gateway process: a member who linked WeChat and
authorised 商圈 points pays at a participating shop with their own WeChat Pay; the MALL_* notifications travel the
real wire format (signed, AES-GCM encrypted), are caught by a small receiver standing in for our notify view and
handed to `notice_receive` exactly as the view does; the points report goes back to the sandbox over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
import stamina
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_identifier_add, member_register
from galleria.merchants.models import Merchant
from galleria.payments import services
from galleria.payments.models import (
    MallNoPoints,
    MallPointsAuth,
    MallRefund,
    MallRefundState,
    MallSyncState,
    MallTransaction,
    MallTxnState,
    NoticeOutcome,
    PaymentCredential,
    PaymentNotice,
)
from galleria.payments.services.mall_points_sync import mall_points_sync_due
from galleria.payments.services.wechat_link import mall_points_sandbox_install, mall_points_status
from galleria.payments.testing import NotifyReceiver, SandboxProcess, sandbox_start
from galleria.points.models import PointsPolicy
from galleria.points.selectors import points_balance
from galleria.sales.models import Refund, Sale

ACTOR = Actor.system("test")
MCHID = "1900000109"
SHOP = "HEYTEA-XH-001"


@pytest.fixture(scope="module")
def gateway():
    proc = sandbox_start(time_scale=0.001)
    yield proc
    proc.stop()


@pytest.fixture
def inbox():
    rec = NotifyReceiver()  # answers 204: the sandbox sends each notification once
    yield rec
    rec.close()


@dataclass
class Mall:
    world: Any
    gateway: SandboxProcess
    inbox: NotifyReceiver
    notify_url: str
    capture: Any

    def deliver(self, event_id: str) -> Any:
        """Hand the notification with this event id to notice_receive, as the notify view does (and run what it
        enqueues after commit: the points report)."""
        got = _find(self.inbox, event_id)
        provider, credential_id = got.path.strip("/").split("/")[-2:]
        with self.capture(execute=True):
            return services.notice_receive(
                provider=provider, credential_id=int(credential_id), headers=got.headers, body=got.body
            )

    def pay(self, openid: str, amount_fen: int, *, mchid: str = MCHID, shop: str = SHOP) -> dict[str, Any]:
        return self.gateway.control.mall_payment(
            mchid=mchid, shop_number=shop, openid=openid, amount_fen=amount_fen, notify_url=self.notify_url
        )

    def pay_and_deliver(self, openid: str, amount_fen: int, **kw: Any) -> MallTransaction:
        paid = self.pay(openid, amount_fen, **kw)
        assert paid["notified"], paid
        ack = self.deliver(paid["event_id"])
        assert ack.status == 204
        return MallTransaction.objects.get(transaction_id=paid["transaction_id"])

    def refund(self, transaction_id: str, refund_fen: int | None = None) -> dict[str, Any]:
        return self.gateway.control.mall_refund(transaction_id=transaction_id, refund_fen=refund_fen)

    def sandbox_txn(self, transaction_id: str) -> dict[str, Any]:
        return self.gateway.control._get("mall-txn", {"transaction_id": transaction_id})

    def member(self, phone: str = "13800138000", *, authorise: bool = True) -> tuple[Any, str]:
        member = member_register(mall=self.world.mall, phone=phone, channel="desk", actor=ACTOR)
        openid = _openid()
        member_identifier_add(member_id=member.pk, actor=ACTOR, kind="wechat_openid", value=openid)
        if authorise:
            self.authorise(openid)
        return member, openid

    def authorise(self, openid: str) -> None:
        event = self.gateway.control.mall_auth(openid=openid, notify_url=self.notify_url)["event_id"]
        assert self.deliver(event).status == 204


def _openid() -> str:
    """A fresh openid: the sandbox process outlives each test, and remembers who authorised."""
    return "oSbx" + secrets.token_hex(12)


def _find(inbox: NotifyReceiver, event_id: str, timeout_s: float = 10.0) -> Any:
    count = 1
    while True:
        for got in inbox.wait_for(count, timeout_s=timeout_s):
            if json.loads(got.body)["id"] == event_id:
                return got
        count = len(inbox.received) + 1


@pytest.fixture
def mall(world, gateway, inbox, settings, django_capture_on_commit_callbacks):
    settings.GALLERIA_PUBLIC_URL = inbox.url.removesuffix("/notify")
    services.sandbox_credentials_install(
        mall_group_id=world.group.pk, keys=gateway.keys, base_url=gateway.base_url, actor=ACTOR
    )
    mall_points_sandbox_install(mall_group_id=world.group.pk, keys=gateway.keys, base_url=gateway.base_url, actor=ACTOR)
    services.merchant_profile_save(
        mall_group_id=world.group.pk,
        merchant_id=world.merchant.pk,
        values={"wechat_mchid": MCHID, "wechat_shop_number": SHOP},
        actor=ACTOR,
    )
    credential = PaymentCredential.objects.get(mall_group=world.group, provider="wechat")
    return Mall(world, gateway, inbox, services.notify_url(credential), django_capture_on_commit_callbacks)


class TestCredit:
    def test_a_payment_at_a_participating_shop_credits_points_and_reports_them(self, mall):
        member, openid = mall.member()
        txn = mall.pay_and_deliver(openid, 12_800)
        assert txn.state == MallTxnState.CREDITED and txn.reason == ""
        assert (txn.member_id, txn.merchant_id, txn.amount_fen) == (member.pk, mall.world.merchant.pk, 12_800)
        sale = Sale.objects.get(pk=txn.sale_id)
        assert sale.channel == "payment_link" and sale.merchant_id == mall.world.merchant.pk
        assert sale.member_id == member.pk and sale.paid_fen == 12_800
        assert sale.points_earned == txn.points == 128  # 1 point per ¥1, the group's default
        assert sale.earn_explanation["points"] == 128  # the usual explanation of the credit
        assert points_balance(member_id=member.pk) == 128
        # reported back to WeChat: the sandbox now holds the points for this transaction
        assert txn.sync_state == MallSyncState.SYNCED and txn.synced_at is not None
        reported = mall.sandbox_txn(txn.transaction_id)
        assert reported["synced"] is True
        assert reported["points"]["earn_points"] is True and reported["points"]["increased_points"] == 128
        assert ledger_check().ok

    def test_the_same_payment_under_another_event_or_redelivered_credits_once(self, mall):
        member, openid = mall.member()
        paid = mall.pay(openid, 5_000)
        assert mall.deliver(paid["event_id"]).status == 204
        replay = mall.gateway.control.replay(paid["event_id"])  # WeChat sends the same event again
        assert replay["status"] == 204
        assert mall.deliver(paid["event_id"]).status == 204
        assert Sale.objects.filter(member=member).count() == 1
        assert points_balance(member_id=member.pk) == 50
        outcomes = list(
            PaymentNotice.objects.filter(verified=True, kind="mall_payment").values_list("outcome", flat=True)
        )
        assert outcomes == [NoticeOutcome.APPLIED]  # the redelivery hits the notice row: nothing else happens

    def test_the_authorisation_notice_is_recorded_once(self, mall):
        _member, openid = mall.member()
        assert MallPointsAuth.objects.filter(openid=openid, source="notice").count() == 1
        mall.authorise(openid)  # authorised again (another event): still one record
        assert MallPointsAuth.objects.filter(openid=openid).count() == 1

    def test_the_member_status_asks_wechat_and_records_what_it_says(self, mall):
        member, openid = mall.member(authorise=False)
        status = mall_points_status(mall_group_id=mall.world.group.pk, member_id=member.pk)
        assert (status.openid, status.authorised, status.asked_wechat) == (openid, False, True)
        mall.gateway.control.mall_auth(openid=openid, notify_url="")  # authorised in WeChat; the notice got lost
        status = mall_points_status(mall_group_id=mall.world.group.pk, member_id=member.pk)
        assert status.authorised is True and status.authorised_at is not None
        assert MallPointsAuth.objects.get(openid=openid).source == "query"
        txn = mall.pay_and_deliver(openid, 1_000)  # so the payment now earns
        assert txn.state == MallTxnState.CREDITED and txn.points == 10


class TestNoPoints:
    def _reported_no_points(self, mall, txn: MallTransaction) -> dict[str, Any]:
        assert txn.state == MallTxnState.NO_POINTS and txn.points == 0
        assert txn.sync_state == MallSyncState.SYNCED
        reported = mall.sandbox_txn(txn.transaction_id)
        assert reported["points"]["earn_points"] is False and reported["points"]["increased_points"] == 0
        return reported

    def test_an_unknown_wechat_user_earns_nothing_and_wechat_is_told_why(self, mall):
        openid = _openid()
        mall.authorise(openid)  # authorised 商圈 in WeChat, but never linked WeChat in the app
        txn = mall.pay_and_deliver(openid, 3_000)
        assert txn.reason == MallNoPoints.MEMBER_UNKNOWN and txn.member_id is None and txn.sale_id is None
        self._reported_no_points(mall, txn)
        assert not Sale.objects.filter(channel="payment_link").exists()

    def test_a_member_who_has_not_authorised_earns_nothing(self, mall):
        member, openid = mall.member(authorise=False)
        mall.gateway.control.mall_auth(openid=openid, notify_url="")  # WeChat knows; we were never told
        txn = mall.pay_and_deliver(openid, 3_000)
        assert txn.reason == MallNoPoints.NOT_AUTHORISED and txn.member_id == member.pk
        self._reported_no_points(mall, txn)
        assert points_balance(member_id=member.pk) == 0

    def test_a_shop_not_mapped_to_a_merchant_earns_nothing(self, mall):
        member, openid = mall.member()
        txn = mall.pay_and_deliver(openid, 3_000, shop="SOMEWHERE-ELSE", mchid="1900000999")
        assert txn.reason == MallNoPoints.SHOP_UNMAPPED and txn.merchant_id is None
        self._reported_no_points(mall, txn)
        assert points_balance(member_id=member.pk) == 0

    def test_a_suspended_merchant_does_not_take_part(self, mall):
        _member, openid = mall.member()
        Merchant.objects.filter(pk=mall.world.merchant.pk).update(status="suspended")
        txn = mall.pay_and_deliver(openid, 3_000)
        assert txn.reason == MallNoPoints.MERCHANT_INACTIVE and txn.sale_id is None
        self._reported_no_points(mall, txn)

    def test_the_daily_cap_reached_is_no_points_but_the_purchase_counts(self, mall):
        PointsPolicy.objects.update_or_create(mall_group=mall.world.group, defaults={"daily_cap": 100})
        member, openid = mall.member()
        first = mall.pay_and_deliver(openid, 12_000)
        assert first.state == MallTxnState.CREDITED and first.points == 100  # capped, still points
        second = mall.pay_and_deliver(openid, 5_000)
        assert second.reason == MallNoPoints.CAP_REACHED and second.sale_id is not None
        reported = self._reported_no_points(mall, second)
        assert reported["points"]["points_update_time"]
        assert points_balance(member_id=member.pk) == 100


class TestRefunds:
    def test_a_full_refund_reverses_the_points(self, mall):
        member, openid = mall.member()
        txn = mall.pay_and_deliver(openid, 10_000)
        refunded = mall.refund(txn.transaction_id)
        assert refunded["notified"] is True  # WeChat notifies refunds of reported transactions only
        assert mall.deliver(refunded["event_id"]).status == 204
        txn.refresh_from_db()
        assert (txn.refunded_fen, txn.points_reversed) == (10_000, 100)
        assert points_balance(member_id=member.pk) == 0
        sale = Sale.objects.get(pk=txn.sale_id)
        assert sale.status == "refunded" and sale.refunded_fen == 10_000
        assert MallRefund.objects.get(mall_txn=txn).state == MallRefundState.APPLIED
        assert ledger_check().ok

    def test_partial_refunds_reverse_in_proportion_and_add_up_to_the_whole(self, mall):
        member, openid = mall.member()
        txn = mall.pay_and_deliver(openid, 10_001)  # 100 points on ¥100.01
        assert txn.points == 100
        for part, balance_after in ((2_500, 75), (3_333, 42), (4_168, 0)):  # 25, 33 then the rest of the points
            refunded = mall.refund(txn.transaction_id, part)
            mall.deliver(refunded["event_id"])
            assert points_balance(member_id=member.pk) == balance_after
        txn.refresh_from_db()
        assert (txn.refunded_fen, txn.points_reversed) == (10_001, 100)
        assert Refund.objects.filter(sale_id=txn.sale_id).count() == 3
        assert Sale.objects.get(pk=txn.sale_id).status == "refunded"
        assert ledger_check().ok

    def test_a_refund_that_arrives_before_its_payment_is_applied_when_the_payment_comes(self, mall):
        member, openid = mall.member()
        paid = mall.pay(openid, 8_000)  # the payment notice is held up
        wx = mall.gateway.keys["wechat"]
        gateway = services.gateway_of(PaymentCredential.objects.get(mall_group=mall.world.group, provider="wechat"))
        assert gateway.config.app_id == wx["appid"]
        gateway.mall_points_notify(  # (another installation reported it: WeChat now notifies its refunds)
            transaction_id=paid["transaction_id"], openid=openid, earned=True, points=80, updated_at=timezone.now()
        )
        refunded = mall.refund(paid["transaction_id"], 2_000)
        assert mall.deliver(refunded["event_id"]).status == 204
        waiting = MallTransaction.objects.get(transaction_id=paid["transaction_id"])
        assert waiting.state == MallTxnState.AWAITING and waiting.sale_id is None
        assert MallRefund.objects.get(mall_txn=waiting).state == MallRefundState.PENDING
        assert points_balance(member_id=member.pk) == 0
        mall.deliver(paid["event_id"])  # the payment, at last
        txn = MallTransaction.objects.get(pk=waiting.pk)
        assert txn.state == MallTxnState.CREDITED and txn.points == 80
        assert MallRefund.objects.get(mall_txn=txn).state == MallRefundState.APPLIED
        assert (txn.refunded_fen, txn.points_reversed) == (2_000, 20)
        assert points_balance(member_id=member.pk) == 60
        assert ledger_check().ok

    def test_a_refund_of_a_payment_that_earned_nothing_reverses_nothing(self, mall):
        openid = _openid()
        mall.authorise(openid)
        txn = mall.pay_and_deliver(openid, 3_000)
        refunded = mall.refund(txn.transaction_id)
        assert refunded["notified"] is True  # reported (as no points), so WeChat tells us of the refund too
        assert mall.deliver(refunded["event_id"]).status == 204
        assert MallRefund.objects.get(mall_txn=txn).state == MallRefundState.NOTHING


class TestReportRetries:
    def test_a_report_the_gateway_could_not_take_is_sent_again_until_accepted(self, mall):
        member, openid = mall.member()
        mall.gateway.control.fail_next(count=4, status=503, prefix="/v3/businesscircle/points/notify")
        with stamina.set_testing(True, attempts=2):
            txn = mall.pay_and_deliver(openid, 2_000)
            assert txn.state == MallTxnState.CREDITED and points_balance(member_id=member.pk) == 20
            assert txn.sync_state == MallSyncState.PENDING and txn.sync_attempts == 1
            assert "unavailable" in txn.sync_error and txn.sync_next_at > timezone.now()
            assert mall_points_sync_due() == 0  # not due yet
            later = timezone.now() + dt.timedelta(minutes=5)
            assert mall_points_sync_due(now=later) == 0  # the second pair of 503s
            txn.refresh_from_db()
            assert txn.sync_attempts == 2 and txn.sync_state == MallSyncState.PENDING
            assert mall_points_sync_due(now=later + dt.timedelta(hours=1)) == 1
        txn.refresh_from_db()
        assert txn.sync_state == MallSyncState.SYNCED and txn.sync_error == ""
        assert mall.sandbox_txn(txn.transaction_id)["points"]["increased_points"] == 20

    def test_a_refused_report_is_kept_for_staff_and_not_retried(self, mall):
        _member, openid = mall.member()
        mall.gateway.control.fail_next(count=1, status=400, prefix="/v3/businesscircle/points/notify")
        txn = mall.pay_and_deliver(openid, 2_000)
        assert txn.sync_state == MallSyncState.REFUSED and txn.sync_error
        assert mall_points_sync_due(now=timezone.now() + dt.timedelta(days=1)) == 0
        from galleria.payments.services.mall_points_sync import mall_points_resync

        assert mall_points_resync(mall_group_id=mall.world.group.pk, txn_id=txn.pk, actor=ACTOR) == "synced"
