"""WeChat Pay v3 adapter, offline: notifications signed and encrypted exactly as the gateway does (with locally
generated keys), the requests it builds, its retries and its bill check. The SDK's HTTP layer is replaced by a
recorder where a test needs no server; the end-to-end journeys over HTTP are in test_sandbox.py."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import threading
import uuid
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
import requests
import stamina
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from wechatpayv3 import core as wx_core

from galleria.payments.gateways.base import (
    ForgedNoticeError,
    GatewayError,
    GatewayRefusedError,
    GatewayUnavailableError,
    NoticeKind,
    PayKind,
    ProfitShareReceiver,
    RefundState,
    TradeState,
)
from galleria.payments.gateways.wechat import WechatGateway
from galleria.payments.sandbox import keys as sandbox_keys
from galleria.payments.sandbox import signing
from galleria.payments.sandbox.keys import rand_ascii
from galleria.payments.testing import wechat_config

NOW = dt.datetime.now(dt.UTC)
EXPIRES = NOW + dt.timedelta(hours=12)  # far enough for a test that runs late in a long session


@pytest.fixture(scope="module")
def keys():
    return sandbox_keys.generate()


@pytest.fixture(scope="module")
def gk(keys):
    return sandbox_keys.GatewayKeys.from_raw(keys)


@pytest.fixture
def gateway(keys):
    return WechatGateway(wechat_config(keys, "http://127.0.0.1:9", notify_url="https://mall.example/pay/wx"))


class Recorder:
    """Stands in for the SDK's `Core.request`: records each call and plays back the given answers."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, path, method=None, data=None, **kw):
        self.calls.append(
            {"path": path, "method": getattr(method, "value", "GET"), "data": json.loads(json.dumps(data)), **kw}
        )
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def transaction(keys, **over):
    wx = keys["wechat"]
    txn = {
        "appid": wx["appid"],
        "mchid": wx["mchid"],
        "out_trade_no": "GA20240101000001",
        "transaction_id": "4200000000202401010000000001",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "attach": "",
        "success_time": "2024-01-01T10:00:00+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 27001, "payer_total": 27001, "currency": "CNY", "payer_currency": "CNY"},
    }
    txn.update(over)
    return txn


def notification(
    keys,
    gk,
    plaintext,
    *,
    event_type="TRANSACTION.SUCCESS",
    ad="transaction",
    key=None,
    ts=None,
    serial=None,
    apiv3=None,
):
    """Headers and body as WeChat Pay posts them."""
    body = json.dumps(
        {
            "id": str(uuid.uuid4()),
            "create_time": "2024-01-01T10:00:05+08:00",
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": "支付成功",
            "resource": signing.wechat_resource(apiv3 or keys["wechat"]["apiv3_key"], plaintext, ad),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    headers = signing.wechat_headers(
        key or gk.platform_private, serial or keys["wechat"]["platform_public_key_id"], body, ts=ts
    )
    return headers, body.encode()


def parse(gateway, headers, body, now=None):
    return gateway.notice_parse(headers=headers, body=body, now=now or dt.datetime.now(dt.UTC))


# --- notifications ---------------------------------------------------------------------------------------------------


def test_a_payment_notice_verifies_decrypts_and_maps_to_fen_and_aware_times(keys, gk, gateway):
    headers, body = notification(keys, gk, transaction(keys))
    notice = parse(gateway, headers, body)
    assert notice.kind == NoticeKind.PAYMENT
    assert notice.event_id == json.loads(body)["id"]
    assert (notice.out_trade_no, notice.transaction_id) == ("GA20240101000001", "4200000000202401010000000001")
    assert notice.trade_state == TradeState.SUCCESS
    assert notice.amount_fen == 27001
    assert notice.paid_at == dt.datetime(2024, 1, 1, 2, 0, tzinfo=dt.UTC)
    assert notice.payer == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    assert notice.raw["amount"]["total"] == 27001


@pytest.mark.parametrize("style", ["lower", "upper", "meta", "canonical"])
def test_headers_in_any_case_are_accepted(keys, gk, gateway, style):
    headers, body = notification(keys, gk, transaction(keys))
    if style == "lower":
        headers = {k.lower(): v for k, v in headers.items()}
    elif style == "upper":
        headers = {k.upper(): v for k, v in headers.items()}
    elif style == "meta":
        headers = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    assert parse(gateway, headers, body).amount_fen == 27001


def test_a_tampered_body_is_forged(keys, gk, gateway):
    headers, body = notification(keys, gk, transaction(keys))
    tampered = body.replace(b'"summary":"\xe6\x94\xaf\xe4\xbb\x98\xe6\x88\x90\xe5\x8a\x9f"', b'"summary":"paid"')
    assert tampered != body
    with pytest.raises(ForgedNoticeError) as err:
        parse(gateway, headers, tampered)
    assert err.value.code == "signature"


def test_a_notice_signed_with_another_platform_key_is_forged(keys, gk, gateway):
    other = sandbox_keys.GatewayKeys.from_raw(sandbox_keys.generate()).platform_private
    headers, body = notification(keys, gk, transaction(keys), key=other)
    with pytest.raises(ForgedNoticeError) as err:
        parse(gateway, headers, body)
    assert err.value.code == "signature"


def test_an_unknown_serial_is_refused_without_touching_the_network(keys, gk, gateway, monkeypatch):
    calls = []
    monkeypatch.setattr(wx_core.requests, "get", lambda *a, **k: calls.append(a) or pytest.fail("network call"))
    monkeypatch.setattr(wx_core.Core, "_update_certificates", lambda self: calls.append("certificates"))
    headers, body = notification(keys, gk, transaction(keys), serial="5157F09EFDC096DE15EBE81A47057A7232F1B8E1")
    with pytest.raises(ForgedNoticeError) as err:
        parse(gateway, headers, body)
    assert err.value.code == "serial"
    assert calls == []


@pytest.mark.parametrize(
    ("age_s", "accepted"), [(299, True), (-299, True), (301, False), (-301, False), (86400 * 30, False)]
)
def test_the_timestamp_must_be_within_five_minutes(keys, gk, gateway, age_s, accepted):
    now = dt.datetime.now(dt.UTC)
    headers, body = notification(keys, gk, transaction(keys), ts=int(now.timestamp()) - age_s)
    if accepted:
        assert parse(gateway, headers, body, now=now).amount_fen == 27001
    else:
        with pytest.raises(ForgedNoticeError) as err:
            parse(gateway, headers, body, now=now)
        assert err.value.code == "timestamp"


def test_a_resource_encrypted_with_another_apiv3_key_is_forged(keys, gk, gateway):
    headers, body = notification(keys, gk, transaction(keys), apiv3=rand_ascii(32))
    with pytest.raises(ForgedNoticeError) as err:
        parse(gateway, headers, body)
    assert err.value.code == "decrypt"


def test_a_missing_signature_type_is_forged_before_the_sdk_sees_it(keys, gk, gateway, monkeypatch):
    monkeypatch.setattr(gateway.sdk, "callback", lambda *a: pytest.fail("the SDK must not be called"))
    headers, body = notification(keys, gk, transaction(keys))
    del headers["Wechatpay-Signature-Type"]
    with pytest.raises(ForgedNoticeError) as err:
        parse(gateway, headers, body)
    assert err.value.code == "signature"


@pytest.mark.parametrize("field", ["appid", "mchid"])
def test_a_valid_notice_for_another_account_is_refused(keys, gk, gateway, field):
    headers, body = notification(keys, gk, transaction(keys, **{field: "someone-else"}))
    with pytest.raises(ForgedNoticeError) as err:
        parse(gateway, headers, body)
    assert err.value.code == "app"


@pytest.mark.parametrize(
    ("event", "state"), [("REFUND.SUCCESS", RefundState.SUCCESS), ("REFUND.ABNORMAL", RefundState.ABNORMAL)]
)
def test_refund_notices(keys, gk, gateway, event, state):
    plain = {
        "mchid": keys["wechat"]["mchid"],
        "out_trade_no": "GA1",
        "transaction_id": "42",
        "out_refund_no": "RF1",
        "refund_id": "50000000382019052709732678859",
        "refund_status": event.split(".")[1],
        "success_time": "2024-01-01T11:00:00+08:00",
        "user_received_account": "支付用户零钱",
        "amount": {"total": 27000, "refund": 10000, "payer_total": 27000, "payer_refund": 10000},
    }
    notice = parse(gateway, *notification(keys, gk, plain, event_type=event, ad="refund"))
    assert notice.kind == NoticeKind.REFUND
    assert (notice.refund_state, notice.refund_fen, notice.amount_fen) == (state, 10000, 27000)
    assert (notice.out_refund_no, notice.refund_id) == ("RF1", "50000000382019052709732678859")
    assert notice.refunded_at == dt.datetime(2024, 1, 1, 3, 0, tzinfo=dt.UTC)


def test_mall_notices_map_to_their_kinds_and_accept_other_shops_merchant_numbers(keys, gk, gateway):
    appid = keys["wechat"]["appid"]
    shop = {
        "mchid": "1900000999",
        "merchant_name": "Shop",
        "shop_name": "1F-01",
        "shop_number": "1F-01",
        "appid": appid,
        "openid": "oM1",
        "transaction_id": "4200000000000000000000000002",
    }
    pay = dict(shop, amount=30000, time_end="2024-01-01T10:00:00+08:00", commit_tag="", auth_type="REAL_TIME", code="")
    notice = parse(gateway, *notification(keys, gk, pay, event_type="MALL_TRANSACTION.SUCCESS", ad="mall_transaction"))
    assert (notice.kind, notice.amount_fen, notice.mch_id, notice.shop_number, notice.payer) == (
        NoticeKind.MALL_PAYMENT,
        30000,
        "1900000999",
        "1F-01",
        "oM1",
    )
    refund = dict(shop, refund_id="R1", pay_amount=30000, refund_amount=10000, refund_time="2024-01-02T10:00:00+08:00")
    notice = parse(gateway, *notification(keys, gk, refund, event_type="MALL_REFUND.SUCCESS", ad="mall_refund"))
    assert (notice.kind, notice.refund_fen, notice.amount_fen, notice.refund_id) == (
        NoticeKind.MALL_REFUND,
        10000,
        30000,
        "R1",
    )
    auth = {"mchid": "1900000999", "openid": "oM1", "code": "C1", "auth_type": "REAL_TIME"}
    notice = parse(gateway, *notification(keys, gk, auth, event_type="MALL_AUTH.ACTIVATE_CARD", ad="mall_auth"))
    assert (notice.kind, notice.payer) == (NoticeKind.MALL_AUTH, "oM1")
    with pytest.raises(ForgedNoticeError) as err:
        parse(
            gateway,
            *notification(
                keys, gk, dict(pay, appid="wxother"), event_type="MALL_TRANSACTION.SUCCESS", ad="mall_transaction"
            ),
        )
    assert err.value.code == "app"


def test_an_unknown_event_type_is_not_accepted(keys, gk, gateway):
    with pytest.raises(ForgedNoticeError) as err:
        parse(gateway, *notification(keys, gk, transaction(keys), event_type="SOMETHING.NEW"))
    assert err.value.code == "unsupported"


def test_the_acknowledgements(gateway):
    ok, fail = gateway.notice_ack(ok=True), gateway.notice_ack(ok=False)
    assert (ok.status, ok.body) == (204, b"")
    assert fail.status == 500 and json.loads(fail.body)["code"] == "FAIL"


# --- requests --------------------------------------------------------------------------------------------------------


def test_jsapi_pay_start_builds_the_order_and_a_paysign_the_merchant_key_verifies(keys, gk, gateway):
    recorder = Recorder((200, '{"prepay_id":"wx201410272009395522657a690389285100"}'))
    gateway.sdk._core.request = recorder
    start = gateway.pay_start(
        kind=PayKind.JSAPI,
        out_trade_no="GA1",
        amount_fen=27000,
        description="商" * 100,
        expires_at=dt.datetime(2024, 1, 1, 2, 30, tzinfo=dt.UTC),
        payer="oUser",
        profit_sharing=True,
        attach="sale:9",
    )
    sent = recorder.calls[0]
    assert sent["path"] == "/v3/pay/transactions/jsapi"
    data = sent["data"]
    assert data["amount"] == {"total": 27000, "currency": "CNY"}
    assert data["time_expire"] == "2024-01-01T10:30:00+08:00"
    assert data["settle_info"] == {"profit_sharing": True}
    assert data["payer"] == {"openid": "oUser"} and data["attach"] == "sale:9"
    assert data["notify_url"] == "https://mall.example/pay/wx"
    assert len(data["description"].encode()) <= 127 and data["description"] == "商" * 42
    p = start.payload
    assert (p["appId"], p["package"], p["signType"]) == (
        keys["wechat"]["appid"],
        "prepay_id=wx201410272009395522657a690389285100",
        "RSA",
    )
    message = f"{p['appId']}\n{p['timeStamp']}\n{p['nonceStr']}\n{p['package']}\n".encode()
    gk.merchant_public.verify(base64.b64decode(p["paySign"]), message, padding.PKCS1v15(), hashes.SHA256())


def test_h5_appends_the_return_url_encoded_as_redirect_url(gateway):
    gateway.sdk._core.request = Recorder(
        (200, '{"h5_url":"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=2"}')
    )
    back = "https://mall.example/app/paid?attempt=7&x=中"
    start = gateway.pay_start(
        kind=PayKind.H5,
        out_trade_no="GA2",
        amount_fen=1,
        description="d",
        expires_at=EXPIRES,
        client_ip="203.0.113.9",
        return_url=back,
    )
    assert start.payload["h5_url"].endswith("&redirect_url=" + quote(back, safe=""))
    assert gateway.sdk._core.request.calls[0]["data"]["scene_info"] == {
        "payer_client_ip": "203.0.113.9",
        "h5_info": {"type": "Wap"},
    }


def test_missing_payer_or_client_ip_is_refused_before_any_call(gateway):
    gateway.sdk._core.request = Recorder(AssertionError("no call expected"))
    with pytest.raises(ValueError):
        gateway.pay_start(kind=PayKind.JSAPI, out_trade_no="GA3", amount_fen=1, description="d", expires_at=EXPIRES)
    with pytest.raises(ValueError):
        gateway.pay_start(kind=PayKind.H5, out_trade_no="GA3", amount_fen=1, description="d", expires_at=EXPIRES)
    with pytest.raises(ValueError):
        gateway.pay_start(kind=PayKind.WAP, out_trade_no="GA3", amount_fen=1, description="d", expires_at=EXPIRES)


def test_close_answers_204_and_an_unknown_trade_is_none(gateway):
    gateway.sdk._core.request = Recorder((204, ""))
    assert gateway.trade_close(out_trade_no="GA4") is None
    assert gateway.sdk._core.request.calls[0]["path"] == "/v3/pay/transactions/out-trade-no/GA4/close"
    gateway.sdk._core.request = Recorder((404, '{"code":"ORDER_NOT_EXIST","message":"订单不存在"}'))
    assert gateway.trade_query(out_trade_no="GA4") is None


# --- retries ---------------------------------------------------------------------------------------------------------


def test_a_5xx_is_retried_then_succeeds(gateway):
    gateway.sdk._core.request = Recorder(
        (503, '{"code":"SYSTEM_ERROR"}'), (200, '{"code_url":"weixin://wxpay/bizpayurl?pr=abc"}')
    )
    with stamina.set_testing(True, attempts=3):
        start = gateway.pay_start(
            kind=PayKind.NATIVE, out_trade_no="GA5", amount_fen=1, description="d", expires_at=EXPIRES
        )
    assert start.payload == {"code_url": "weixin://wxpay/bizpayurl?pr=abc"}
    assert len(gateway.sdk._core.request.calls) == 2


def test_a_refusal_is_not_retried(gateway):
    gateway.sdk._core.request = Recorder((400, '{"code":"INVALID_REQUEST","message":"201 商户订单号重复"}'))
    with stamina.set_testing(True, attempts=3), pytest.raises(GatewayRefusedError) as err:
        gateway.pay_start(kind=PayKind.NATIVE, out_trade_no="GA6", amount_fen=1, description="d", expires_at=EXPIRES)
    assert err.value.code == "INVALID_REQUEST"
    assert len(gateway.sdk._core.request.calls) == 1


def test_network_errors_are_retried_then_reported_unavailable(gateway):
    gateway.sdk._core.request = Recorder(requests.ConnectionError("down"))
    with stamina.set_testing(True, attempts=3), pytest.raises(GatewayUnavailableError):
        gateway.trade_query(out_trade_no="GA7")
    assert len(gateway.sdk._core.request.calls) == 3


def test_profit_share_retries_with_a_fresh_receivers_list(gk, gateway):
    recorder = Recorder(
        requests.Timeout("slow"), (200, '{"out_order_no":"P1","order_id":"3008","state":"PROCESSING","receivers":[]}')
    )
    gateway.sdk._core.request = recorder
    receivers = [
        ProfitShareReceiver(
            type="MERCHANT_ID", account="1900000001", amount_fen=500, description="分给商户", name="商户甲有限公司"
        )
    ]
    with stamina.set_testing(True, attempts=3):
        result = gateway.profit_share(
            transaction_id="42", out_order_no="P1", receivers=receivers, unfreeze_unsplit=True
        )
    assert result.state == "PROCESSING" and result.order_id == "3008"
    assert len(recorder.calls) == 2
    for call in recorder.calls:  # each attempt carries the name encrypted once, never the ciphertext encrypted again
        assert signing.oaep_decrypt(gk.platform_private, call["data"]["receivers"][0]["name"]) == "商户甲有限公司"
        assert call["cipher_data"] is True
    assert receivers[0].name == "商户甲有限公司"


def test_a_forged_answer_is_reported_as_unavailable_not_trusted(keys, gateway):
    attacker = sandbox_keys.GatewayKeys.from_raw(sandbox_keys.generate()).platform_private

    class Forger(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = json.dumps({"out_trade_no": "GA8", "trade_state": "SUCCESS", "amount": {"total": 1}})
            self.send_response(200)
            for name, value in signing.wechat_headers(attacker, keys["wechat"]["platform_public_key_id"], body).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forger)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gateway.sdk._core._gate_way = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(GatewayUnavailableError) as err:
            gateway.trade_query(out_trade_no="GA8")
        assert err.value.code == "answer_signature"
    finally:
        server.shutdown()
        server.server_close()


# --- bills -----------------------------------------------------------------------------------------------------------

_HEAD = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,"
    "代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,"
    "申请退款金额,费率备注"
)
_PAID = "2024-01-01 10:00:00,wx1,19,0,,4201,GA1,o1,JSAPI,SUCCESS,OTHERS,CNY,270.01,0.00,0,0,0.00,0.00,,,Shop,"
_PAID += ",1.62000,0.60%,270.01,0.00,"
_REFUNDED = "2024-01-01 11:00:00,wx1,19,0,,4201,GA1,o1,JSAPI,REFUND,OTHERS,CNY,0.00,0.00,5001,RF1,0.07,0.00,"
_REFUNDED += "ORIGINAL,SUCCESS,Shop,,-0.00000,0.60%,0.00,0.07,"
_SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


def _ticked(line):
    return "`" + line.replace(",", ",`")


BILL = (
    "\n".join([_HEAD, _ticked(_PAID), _ticked(_REFUNDED), _SUMMARY, _ticked("2,270.01,0.07,0.00,1.62000,270.01,0.07")])
    + "\n"
)


def _bill_gateway(gateway, text, hash_value):
    gz = gzip.compress(text.encode())
    base = gateway.sdk._core._gate_way
    info = json.dumps(
        {"hash_type": "SHA1", "hash_value": hash_value, "download_url": f"{base}/v3/billdownload/file?token=t"}
    )
    gateway.sdk._core.request = Recorder((200, info), (200, gz))


def test_the_bill_is_parsed_exactly_in_fen_after_its_sha1_is_checked(gateway):
    _bill_gateway(gateway, BILL, hashlib.sha1(BILL.encode()).hexdigest())
    rows = gateway.bill_rows(bill_date=dt.date(2024, 1, 1))
    assert [(r.kind, r.out_trade_no, r.amount_fen, r.fee_fen) for r in rows] == [
        ("payment", "GA1", 27001, 162),
        ("refund", "GA1", 7, 0),
    ]
    assert rows[1].out_refund_no == "RF1" and rows[1].refund_id == "5001"
    assert rows[0].occurred_at == dt.datetime(2024, 1, 1, 2, 0, tzinfo=dt.UTC)
    assert (
        gateway.sdk._core.request.calls[0]["path"]
        == "/v3/bill/tradebill?bill_date=2024-01-01&bill_type=ALL&tar_type=GZIP"
    )


def test_a_bill_that_does_not_match_its_hash_is_refused(gateway):
    _bill_gateway(gateway, BILL, hashlib.sha1(BILL.replace("270.01", "270.02").encode()).hexdigest())
    with pytest.raises(GatewayError) as err:
        gateway.bill_rows(bill_date=dt.date(2024, 1, 1))
    assert err.value.code == "bill.hash"


def test_the_hash_is_of_the_uncompressed_bill(gateway):
    _bill_gateway(gateway, BILL, hashlib.sha1(gzip.compress(BILL.encode())).hexdigest())
    with pytest.raises(GatewayError):
        gateway.bill_rows(bill_date=dt.date(2024, 1, 1))


def test_no_bill_for_a_day_is_an_empty_list(gateway):
    gateway.sdk._core.request = Recorder((400, '{"code":"NO_STATEMENT_EXIST","message":"账单文件不存在"}'))
    assert gateway.bill_rows(bill_date=dt.date(2024, 1, 2)) == []


def test_construction_without_the_platform_public_key_is_refused(keys):
    config = wechat_config(keys, "http://127.0.0.1:9", notify_url="http://n/")
    with pytest.raises(ValueError):
        WechatGateway(replace(config, platform_public_key="", platform_public_key_id=""))
