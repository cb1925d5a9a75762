"""The sandbox gateway as a separate process, driven over HTTP by the real adapters: payments, notifications with
retries on the (time-scaled) real schedules, replays, forgeries, refunds, bills, 商圈 and 分账, cashier pages."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import stamina
from wechatpayv3 import utils as wx_utils

from galleria.payments.gateways import gateway_for
from galleria.payments.gateways.base import (
    ForgedNoticeError,
    GatewayRefusedError,
    NoticeKind,
    PayKind,
    ProfitShareReceiver,
    RefundState,
    TradeState,
)
from galleria.payments.sandbox.dispatch import ALIPAY_SCHEDULE, WECHAT_SCHEDULE
from galleria.payments.testing import SandboxControlError, sandbox_start, wechat_config

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def expires(minutes=15):
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


class Catcher:
    """A receiver's brain: parse every notification with the adapter, remember the result, answer as told."""

    def __init__(self, fail_first=0, provider="wechat"):
        self.gateway = None
        self.notices = []
        self.forged = []
        self.fail_first = fail_first
        self.provider = provider

    def __call__(self, received):
        try:
            notice = self.gateway.notice_parse(
                headers=received.headers, body=received.body, now=dt.datetime.now(dt.UTC)
            )
        except ForgedNoticeError as exc:
            self.forged.append(exc.code)
            ack = self.gateway.notice_ack(ok=False)
            return (401 if self.provider == "wechat" else 200), ack.content_type, ack.body
        self.notices.append(notice)
        ok = len(self.notices) > self.fail_first
        ack = self.gateway.notice_ack(ok=ok)
        return ack.status, ack.content_type, ack.body


@pytest.fixture
def wx(receiver, wechat_keys_config):
    """(gateway, catcher, receiver) for the sandbox's WeChat account, notifications to a fresh receiver."""

    def make(fail_first=0):
        catcher = Catcher(fail_first)
        rec = receiver(catcher)
        catcher.gateway = gateway_for(wechat_keys_config(rec.url))
        return catcher.gateway, catcher, rec

    return make


@pytest.fixture
def ali(receiver, alipay_keys_config):
    def make(fail_first=0):
        catcher = Catcher(fail_first, provider="alipay")
        rec = receiver(catcher)
        catcher.gateway = gateway_for(alipay_keys_config(rec.url))
        return catcher.gateway, catcher, rec

    return make


def native(gateway, no, fen=27000, **kw):
    return gateway.pay_start(
        kind=PayKind.NATIVE, out_trade_no=no, amount_fen=fen, description="Shop 1F-01", expires_at=expires(), **kw
    )


# --- the process -----------------------------------------------------------------------------------------------------


def test_the_sandbox_is_a_separate_party_without_django():
    code = "import sys, galleria.payments.sandbox.server, galleria.payments.sandbox.__main__; "
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_requests_must_carry_a_fresh_merchant_signature(sandbox, unique_no):
    wx = sandbox.keys["wechat"]
    path = f"/v3/pay/transactions/out-trade-no/{unique_no('GA')}?mchid={wx['mchid']}"
    assert requests.get(sandbox.base_url + path, timeout=5).json()["code"] == "SIGN_ERROR"
    key = gateway_for(wechat_config(sandbox.keys, sandbox.base_url, notify_url="http://n/")).sdk._core._private_key

    def auth(stamp):
        signature = wx_utils.rsa_sign(key, f"GET\n{path}\n{stamp}\nNONCE42\n\n")
        fields = f'mchid="{wx["mchid"]}",nonce_str="NONCE42",signature="{signature}",timestamp="{stamp}"'
        return {"Authorization": f'WECHATPAY2-SHA256-RSA2048 {fields},serial_no="{wx["merchant_serial_no"]}"'}

    now = int(time.time())
    assert requests.get(sandbox.base_url + path, headers=auth(now), timeout=5).json()["code"] == "ORDER_NOT_EXIST"
    stale = requests.get(sandbox.base_url + path, headers=auth(now - 400), timeout=5)
    assert (stale.status_code, stale.json()["code"]) == (401, "SIGN_ERROR")


# --- payments and notifications --------------------------------------------------------------------------------------


def test_payment_notification_reaches_the_receiver_and_is_acknowledged(sandbox, wx, unique_no):
    gateway, catcher, _rec = wx()
    no = unique_no("GA")
    native(gateway, no)
    assert gateway.trade_query(out_trade_no=no).state == TradeState.NOTPAY
    paid = sandbox.control.pay(provider="wechat", out_trade_no=no)
    delivery = sandbox.control.wait_delivered(paid["event_id"])
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [204]
    (notice,) = catcher.notices
    assert (notice.kind, notice.out_trade_no, notice.amount_fen, notice.event_id) == (
        NoticeKind.PAYMENT,
        no,
        27000,
        paid["event_id"],
    )
    trade = gateway.trade_query(out_trade_no=no)
    assert (trade.state, trade.paid_fen, trade.transaction_id) == (TradeState.SUCCESS, 27000, paid["transaction_id"])


def test_a_receiver_answering_500_gets_retries_on_the_scaled_schedule(sandbox, wx, unique_no):
    gateway, catcher, rec = wx(fail_first=3)
    no = unique_no("GA")
    native(gateway, no)
    paid = sandbox.control.pay(provider="wechat", out_trade_no=no)
    delivery = sandbox.control.wait_delivered(paid["event_id"])
    attempts = delivery["attempts"]
    assert [a["status"] for a in attempts] == [500, 500, 500, 204]
    assert [a["planned_gap_s"] for a in attempts] == pytest.approx([0] + [g * 0.001 for g in WECHAT_SCHEDULE[:3]])
    for before, after in itertools.pairwise(attempts):
        assert after["at_ts"] - before["at_ts"] >= after["planned_gap_s"]
    assert {n.event_id for n in catcher.notices} == {paid["event_id"]}  # one event, four verified attempts
    assert len({r.headers["Wechatpay-Nonce"] for r in rec.received}) == 4  # re-signed every time
    assert len({r.body for r in rec.received}) == 1


def test_replay_sends_the_same_event_again(sandbox, wx, unique_no):
    gateway, catcher, _rec = wx()
    no = unique_no("GA")
    native(gateway, no)
    paid = sandbox.control.pay(provider="wechat", out_trade_no=no)
    sandbox.control.wait_delivered(paid["event_id"])
    again = sandbox.control.replay(paid["event_id"])
    assert again["status"] == 204
    assert [n.event_id for n in catcher.notices] == [paid["event_id"]] * 2


@pytest.mark.parametrize(
    ("how", "code"),
    [
        ("wrong_key", "signature"),
        ("wrong_serial", "serial"),
        ("stale", "timestamp"),
        ("wrong_apiv3", "decrypt"),
        ("tampered_amount", "signature"),
        ("wrong_app", "app"),
        ("no_signature_type", "signature"),
    ],
)
def test_wechat_forgeries_are_refused_by_notice_parse(sandbox, wx, unique_no, how, code):
    gateway, catcher, _rec = wx()
    no = unique_no("GA")
    native(gateway, no)
    answer = sandbox.control.forge(how=how, out_trade_no=no)
    assert answer["status"] == 401
    assert catcher.forged == [code] and catcher.notices == []


@pytest.mark.parametrize(
    ("how", "code"),
    [
        ("wrong_key", "signature"),
        ("tampered_amount", "signature"),
        ("sign_type_rsa", "signature"),
        ("unsigned", "signature"),
        ("wrong_app", "app"),
    ],
)
def test_alipay_forgeries_are_refused_by_notice_parse(sandbox, ali, unique_no, how, code):
    gateway, catcher, _rec = ali()
    no = unique_no("GA")
    gateway.pay_start(kind=PayKind.PRECREATE, out_trade_no=no, amount_fen=100, description="d", expires_at=expires())
    answer = sandbox.control.forge(provider="alipay", how=how, out_trade_no=no)
    assert answer["answer"] == "fail"
    assert catcher.forged == [code]


def test_the_same_out_trade_no_with_another_body_is_refused(wx, unique_no):
    gateway, _, _ = wx()
    no = unique_no("GA")
    at = expires()
    first = gateway.pay_start(kind=PayKind.NATIVE, out_trade_no=no, amount_fen=100, description="d", expires_at=at)
    assert (
        gateway.pay_start(kind=PayKind.NATIVE, out_trade_no=no, amount_fen=100, description="d", expires_at=at) == first
    )
    with pytest.raises(GatewayRefusedError) as err:
        gateway.pay_start(kind=PayKind.NATIVE, out_trade_no=no, amount_fen=101, description="d", expires_at=at)
    assert err.value.code == "INVALID_REQUEST"


def test_refunds_are_idempotent_bounded_and_notified(sandbox, wx, unique_no):
    gateway, catcher, rec = wx()
    no = unique_no("GA")
    native(gateway, no, fen=10000)
    sandbox.control.pay(provider="wechat", out_trade_no=no)
    first = gateway.refund_start(out_trade_no=no, out_refund_no=no + "R1", refund_fen=6000, total_fen=10000)
    again = gateway.refund_start(out_trade_no=no, out_refund_no=no + "R1", refund_fen=6000, total_fen=10000)
    assert first.refund_id == again.refund_id and first.refund_fen == 6000
    with pytest.raises(GatewayRefusedError) as err:
        gateway.refund_start(out_trade_no=no, out_refund_no=no + "R2", refund_fen=4001, total_fen=10000)
    assert err.value.code == "INVALID_REQUEST"
    rec.wait_for(2)
    refund_notice = next(n for n in catcher.notices if n.kind == NoticeKind.REFUND)
    assert (refund_notice.out_refund_no, refund_notice.refund_fen, refund_notice.refund_state) == (
        no + "R1",
        6000,
        RefundState.SUCCESS,
    )
    assert gateway.refund_query(out_trade_no=no, out_refund_no=no + "R1").state == RefundState.SUCCESS
    assert gateway.refund_query(out_trade_no=no, out_refund_no=no + "R9") is None
    assert gateway.trade_query(out_trade_no=no).state == TradeState.REFUND


def test_close_and_expiry(sandbox, wx, unique_no):
    gateway, _, _ = wx()
    no = unique_no("GA")
    native(gateway, no)
    gateway.trade_close(out_trade_no=no)
    gateway.trade_close(out_trade_no=no)  # closing again is fine
    assert gateway.trade_query(out_trade_no=no).state == TradeState.CLOSED
    with pytest.raises(SandboxControlError):
        sandbox.control.pay(provider="wechat", out_trade_no=no)
    late = unique_no("GA")
    gateway.pay_start(kind=PayKind.NATIVE, out_trade_no=late, amount_fen=1, description="d", expires_at=expires(1))
    try:
        sandbox.control.clock(offset_s=120)
        assert gateway.trade_query(out_trade_no=late).state == TradeState.CLOSED
    finally:
        sandbox.control.clock(offset_s=0)


def test_5xx_then_success_over_http(sandbox, wx, unique_no):
    gateway, _, _ = wx()
    no = unique_no("GA")
    native(gateway, no)
    sandbox.control.fail_next(count=2, status=503, prefix="/v3/pay/transactions/out-trade-no/")
    with stamina.set_testing(True, attempts=3):
        assert gateway.trade_query(out_trade_no=no).state == TradeState.NOTPAY


# --- bills -----------------------------------------------------------------------------------------------------------


def test_the_wechat_bill_lists_what_was_paid_and_refunded(sandbox, wx, unique_no):
    gateway, _, _ = wx()
    a, b = unique_no("GA"), unique_no("GA")
    native(gateway, a, fen=27001)
    native(gateway, b, fen=500)
    sandbox.control.pay(provider="wechat", out_trade_no=a)
    sandbox.control.pay(provider="wechat", out_trade_no=b)
    gateway.refund_start(out_trade_no=a, out_refund_no=a + "R", refund_fen=1001, total_fen=27001)
    time.sleep(0.05)  # the refund settles after 1 s × time scale
    day = dt.datetime.fromisoformat(sandbox.control.trade(provider="wechat", out_trade_no=a)["success_time"]).date()
    extra = sandbox.control.bill_extra(provider="wechat", amount_fen=777, bill_date=day.isoformat())
    rows = [r for r in gateway.bill_rows(bill_date=day) if r.out_trade_no in (a, b, extra["out_trade_no"])]
    assert sorted((r.out_trade_no, r.kind, r.amount_fen) for r in rows) == sorted(
        [(a, "payment", 27001), (b, "payment", 500), (a, "refund", 1001), (extra["out_trade_no"], "payment", 777)]
    )
    assert next(r for r in rows if r.kind == "refund").out_refund_no == a + "R"
    assert gateway.bill_rows(bill_date=dt.date(2020, 1, 1)) == []


def test_the_alipay_bill_lists_what_was_paid_and_refunded(sandbox, ali, unique_no):
    gateway, _, _ = ali()
    no = unique_no("GA")
    gateway.pay_start(
        kind=PayKind.PRECREATE, out_trade_no=no, amount_fen=12345, description="Shop, 一楼", expires_at=expires()
    )
    sandbox.control.pay(provider="alipay", out_trade_no=no)
    gateway.refund_start(out_trade_no=no, out_refund_no=no + "R", refund_fen=45, total_fen=12345)
    day = dt.datetime.strptime(
        sandbox.control.trade(provider="alipay", out_trade_no=no)["gmt_payment"], "%Y-%m-%d %H:%M:%S"
    ).date()
    rows = [r for r in gateway.bill_rows(bill_date=day) if r.out_trade_no == no]
    assert sorted((r.kind, r.amount_fen, r.out_refund_no) for r in rows) == [
        ("payment", 12345, ""),
        ("refund", 45, no + "R"),
    ]
    assert gateway.bill_rows(bill_date=dt.date(2020, 1, 1)) == []


# --- 商圈 and 分账 ------------------------------------------------------------------------------------------------


def test_business_circle_payment_points_and_refund(sandbox, wx, unique_no):
    gateway, catcher, rec = wx()
    openid = "o" + unique_no("M")
    assert gateway.mall_user_authorized(openid=openid) is False
    auth = sandbox.control.mall_auth(openid=openid, notify_url=rec.url)
    sandbox.control.wait_delivered(auth["event_id"])
    assert gateway.mall_user_authorized(openid=openid) is True
    shop = {"mchid": "1900000777", "shop_number": "1F-01", "openid": openid, "notify_url": rec.url}
    first = sandbox.control.mall_payment(amount_fen=30000, **shop)
    sandbox.control.wait_delivered(first["event_id"])
    paid = next(n for n in catcher.notices if n.kind == NoticeKind.MALL_PAYMENT)
    assert (paid.transaction_id, paid.amount_fen, paid.mch_id, paid.shop_number, paid.payer) == (
        first["transaction_id"],
        30000,
        "1900000777",
        "1F-01",
        openid,
    )
    assert (
        sandbox.control.mall_refund(transaction_id=first["transaction_id"])["notified"] is False
    )  # points never synced
    second = sandbox.control.mall_payment(amount_fen=8000, **shop)
    gateway.mall_points_notify(
        transaction_id=second["transaction_id"],
        openid=openid,
        earned=True,
        points=80,
        updated_at=dt.datetime.now(dt.UTC),
    )
    gateway.mall_points_notify(
        transaction_id=first["transaction_id"],
        openid=openid,
        earned=False,
        points=0,
        updated_at=dt.datetime.now(dt.UTC),
    )
    refunded = sandbox.control.mall_refund(transaction_id=second["transaction_id"], refund_fen=3000)
    sandbox.control.wait_delivered(refunded["event_id"])
    notice = next(n for n in catcher.notices if n.kind == NoticeKind.MALL_REFUND)
    assert (notice.transaction_id, notice.refund_fen, notice.amount_fen) == (second["transaction_id"], 3000, 8000)
    assert [n.kind for n in catcher.notices].count(NoticeKind.MALL_AUTH) == 1
    with pytest.raises(GatewayRefusedError):
        gateway.mall_points_notify(
            transaction_id="4200000000000000000000000000",
            openid=openid,
            earned=True,
            points=1,
            updated_at=dt.datetime.now(dt.UTC),
        )


def test_profit_sharing_respects_and_explains_the_limit(sandbox, wx, unique_no):
    gateway, _, _ = wx()
    no = unique_no("GA")
    native(gateway, no, fen=10000, profit_sharing=True)
    txn = sandbox.control.pay(provider="wechat", out_trade_no=no)["transaction_id"]
    shop = ProfitShareReceiver(
        type="MERCHANT_ID", account="1900000888", amount_fen=2000, description="分给商户", name="一楼咖啡有限公司"
    )
    with pytest.raises(GatewayRefusedError) as err:
        gateway.profit_share(transaction_id=txn, out_order_no=no + "P0", receivers=[shop], unfreeze_unsplit=False)
    assert err.value.code == "RECEIVER_INVALID"
    gateway.profit_share_add_receiver(receiver=shop)
    result = gateway.profit_share(transaction_id=txn, out_order_no=no + "P1", receivers=[shop], unfreeze_unsplit=False)
    assert result.state in ("PROCESSING", "FINISHED") and result.receivers[0]["amount"] == 2000
    assert (
        gateway.profit_share(
            transaction_id=txn, out_order_no=no + "P1", receivers=[shop], unfreeze_unsplit=False
        ).order_id
        == result.order_id
    )
    assert gateway.profit_share_unsplit(transaction_id=txn) == 8000
    too_much = ProfitShareReceiver(
        type="MERCHANT_ID", account="1900000888", amount_fen=1001, description="再分", name="一楼咖啡有限公司"
    )
    with pytest.raises(GatewayRefusedError) as err:
        gateway.profit_share(transaction_id=txn, out_order_no=no + "P2", receivers=[too_much], unfreeze_unsplit=False)
    assert "30%" in str(err.value) and "3000" in str(err.value)
    time.sleep(0.05)
    assert gateway.profit_share_query(transaction_id=txn, out_order_no=no + "P1").state == "FINISHED"
    assert gateway.profit_share_query(transaction_id=txn, out_order_no=no + "P9") is None
    rest = gateway.profit_share_unfreeze(transaction_id=txn, out_order_no=no + "U1", description="解冻剩余资金")
    assert (rest.state, rest.receivers[0]["amount"]) == ("FINISHED", 8000)
    assert gateway.profit_share_unsplit(transaction_id=txn) == 0
    plain = unique_no("GA")
    native(gateway, plain, fen=10000)
    other = sandbox.control.pay(provider="wechat", out_trade_no=plain)["transaction_id"]
    with pytest.raises(GatewayRefusedError):
        gateway.profit_share(transaction_id=other, out_order_no=plain + "P1", receivers=[shop], unfreeze_unsplit=True)


# --- cashier pages -------------------------------------------------------------------------------------------------


def test_the_wechat_h5_cashier_pays_and_returns(sandbox, wx, unique_no):
    gateway, catcher, rec = wx()
    no = unique_no("GA")
    start = gateway.pay_start(
        kind=PayKind.H5,
        out_trade_no=no,
        amount_fen=27000,
        description="一楼咖啡 Latte",
        expires_at=expires(),
        client_ip="127.0.0.1",
        return_url="http://shop.example/back?a=1",
    )
    page = requests.get(start.payload["h5_url"], timeout=5)
    for text in ("Galleria", "一楼咖啡 Latte", "270.00", "确认支付", "Pay", "取消", "Cancel"):
        assert text in page.text
    form = {"out_trade_no": no, "back": "http://shop.example/back?a=1", "action": "pay"}
    answer = requests.post(sandbox.base_url + "/sandbox/wechat/pay", data=form, allow_redirects=False, timeout=5)
    assert (answer.status_code, answer.headers["Location"]) == (302, "http://shop.example/back?a=1")
    rec.wait_for(1)
    assert catcher.notices[0].out_trade_no == no
    assert "已支付" in requests.get(start.payload["h5_url"], timeout=5).text


def test_the_jsapi_page_checks_the_pay_sign(sandbox, wx, unique_no):
    gateway, _, _ = wx()
    no = unique_no("GA")
    start = gateway.pay_start(
        kind=PayKind.JSAPI, out_trade_no=no, amount_fen=100, description="d", expires_at=expires(), payer="oJ"
    )
    url = sandbox.base_url + "/sandbox/wechat/jsapi"
    assert requests.get(url, params={**start.payload, "return_url": "http://x/"}, timeout=5).status_code == 200
    forged = dict(start.payload, nonceStr="changed")
    assert requests.get(url, params=forged, timeout=5).status_code == 400
    native_start = native(gateway, unique_no("GA"), fen=4321)
    assert (
        "43.21"
        in requests.get(sandbox.base_url + "/sandbox/wechat/native", params=native_start.payload, timeout=5).text
    )


def test_the_alipay_wap_cashier_pays_notifies_and_returns_signed(sandbox, ali, unique_no):
    gateway, catcher, _rec = ali(fail_first=1)
    no = unique_no("GA")
    start = gateway.pay_start(
        kind=PayKind.WAP,
        out_trade_no=no,
        amount_fen=27000,
        description="Shop 1F",
        expires_at=expires(),
        return_url="http://shop.example/back",
    )
    assert gateway.trade_query(out_trade_no=no) is None  # Alipay creates the trade when the buyer opens the cashier
    page = requests.get(start.payload["url"], timeout=5)
    assert "270.00" in page.text and "支付宝" in page.text
    answer = requests.post(
        sandbox.base_url + "/sandbox/alipay/pay",
        data={"out_trade_no": no, "action": "pay"},
        allow_redirects=False,
        timeout=5,
    )
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == "http://shop.example/back"
    params = dict(parse_qsl(back.query))
    signature = params.pop("sign")
    assert gateway.sdk.verify(params, signature) and params["out_trade_no"] == no
    delivery = sandbox.control.wait_delivered(catcher_event(sandbox, no))
    assert [a["answer"] for a in delivery["attempts"]] == ["fail", "success"]
    assert delivery["attempts"][1]["planned_gap_s"] == pytest.approx(ALIPAY_SCHEDULE[0] * 0.001)
    assert catcher.notices[-1].amount_fen == 27000 and gateway.trade_query(out_trade_no=no).state == TradeState.SUCCESS


def catcher_event(sandbox, out_trade_no):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for row in sandbox.control.deliveries():
            if row["ref"].get("out_trade_no") == out_trade_no:
                return row["event_id"]
        time.sleep(0.02)
    raise AssertionError("no delivery")


def test_closing_an_unopened_alipay_order_stops_its_cashier(sandbox, ali, unique_no):
    gateway, _, _ = ali()
    no = unique_no("GA")
    start = gateway.pay_start(kind=PayKind.PAGE, out_trade_no=no, amount_fen=100, description="d", expires_at=expires())
    gateway.trade_close(out_trade_no=no)
    assert "交易已关闭" in requests.get(start.payload["url"], timeout=5).text
    with pytest.raises(SandboxControlError):
        sandbox.control.pay(provider="alipay", out_trade_no=no, url=start.payload["url"])


# --- other ways to run it ------------------------------------------------------------------------------------------


def test_time_scale_zero_delivers_only_on_demand(sandbox, receiver, tmp_path, unique_no):
    manual = sandbox_start(workdir=tmp_path, keys_path=sandbox.keys_path, time_scale=0)
    try:
        statuses = iter([500, 204])
        rec = receiver(lambda r: (next(statuses), "application/json", b""))
        gateway = gateway_for(wechat_config(manual.keys, manual.base_url, notify_url=rec.url))
        no = unique_no("GA")
        native(gateway, no)
        event = manual.control.pay(provider="wechat", out_trade_no=no)["event_id"]
        time.sleep(0.2)
        assert manual.control.deliveries(event)[0]["attempts"] == []
        assert [a["status"] for a in manual.control.deliver_due()] == [500]
        assert [a["status"] for a in manual.control.deliver_due()] == [204]
        assert manual.control.deliver_due() == []
        assert manual.control.deliveries(event)[0]["state"] == "delivered"
        statuses = iter([500] * 100)
        doomed = unique_no("GA")
        native(gateway, doomed)
        event = manual.control.pay(provider="wechat", out_trade_no=doomed)["event_id"]
        for _ in range(len(WECHAT_SCHEDULE) + 1):
            manual.control.deliver_due()
        (delivery,) = manual.control.deliveries(event)
        assert (delivery["state"], len(delivery["attempts"])) == ("failed", 16)
        assert manual.control.deliver_due() == []
    finally:
        manual.stop()


def test_the_state_file_keeps_trades_across_restarts(sandbox, tmp_path, unique_no):
    state = tmp_path / "state.json"
    no = unique_no("GA")
    first = sandbox_start(workdir=tmp_path, keys_path=sandbox.keys_path, state_path=state)
    try:
        native(gateway_for(wechat_config(first.keys, first.base_url, notify_url="http://n/")), no, fen=555)
    finally:
        first.stop()
    assert no in json.loads(state.read_text())["wx_trades"]
    second = sandbox_start(workdir=tmp_path, keys_path=sandbox.keys_path, state_path=state)
    try:
        trade = gateway_for(wechat_config(second.keys, second.base_url, notify_url="http://n/")).trade_query(
            out_trade_no=no
        )
        assert (trade.state, trade.amount_fen) == (TradeState.NOTPAY, 555)
    finally:
        second.stop()


def test_cancel_leaves_the_trade_unpaid_and_the_alipay_qr_page_shows_the_order(sandbox, wx, ali, unique_no):
    gateway, _catcher, _rec = wx()
    no = unique_no("GA")
    start = gateway.pay_start(
        kind=PayKind.H5, out_trade_no=no, amount_fen=100, description="d", expires_at=expires(), client_ip="127.0.0.1"
    )
    requests.get(start.payload["h5_url"], timeout=5)
    form = {"out_trade_no": no, "back": "http://shop.example/back", "action": "cancel"}
    answer = requests.post(sandbox.base_url + "/sandbox/wechat/pay", data=form, allow_redirects=False, timeout=5)
    assert (answer.status_code, answer.headers["Location"]) == (302, "http://shop.example/back")
    assert gateway.trade_query(out_trade_no=no).state == TradeState.NOTPAY
    alipay, _, _ = ali()
    qr = alipay.pay_start(
        kind=PayKind.PRECREATE, out_trade_no=no, amount_fen=6789, description="扫码", expires_at=expires()
    )
    page = requests.get(sandbox.base_url + "/sandbox/alipay/qr", params=qr.payload, timeout=5)
    assert "67.89" in page.text and "扫码" in page.text
