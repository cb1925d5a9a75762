"""Alipay adapter: RSA2 notifications as Alipay posts them (form body, locally generated keys), the signed
redirect it builds, and its sync calls against the sandbox process (business failures, retries, forged answers)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
import stamina

from galleria.payments.gateways.alipay import AlipayGateway
from galleria.payments.gateways.base import (
    ForgedNoticeError,
    GatewayRefusedError,
    GatewayUnavailableError,
    NoticeKind,
    PayKind,
    TradeState,
)
from galleria.payments.sandbox import keys as sandbox_keys
from galleria.payments.sandbox import signing
from galleria.payments.testing import alipay_config

SHANGHAI = ZoneInfo("Asia/Shanghai")
# far enough that a test run late in a long session still starts payable orders (the sandbox closes expired ones)
EXPIRES = dt.datetime.now(dt.UTC) + dt.timedelta(hours=12)


@pytest.fixture(scope="module")
def keys():
    return sandbox_keys.generate()


@pytest.fixture(scope="module")
def gk(keys):
    return sandbox_keys.GatewayKeys.from_raw(keys)


@pytest.fixture
def gateway(keys):
    return AlipayGateway(alipay_config(keys, "http://127.0.0.1:9", notify_url="https://mall.example/pay/ali"))


def fields(keys, **over):
    app_id = keys["alipay"]["app_id"]
    data = {
        "gmt_create": "2024-01-01 10:00:00",
        "charset": "utf-8",
        "gmt_payment": "2024-01-01 10:00:05",
        "notify_time": "2024-01-01 10:00:06",
        "subject": "Shop 1F-01 消费",
        "buyer_id": "2088102177846880",
        "invoice_amount": "270.01",
        "version": "1.0",
        "notify_id": "2024010100222100005000000000000000",
        "fund_bill_list": json.dumps([{"amount": "270.01", "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")),
        "notify_type": "trade_status_sync",
        "out_trade_no": "GA1",
        "total_amount": "270.01",
        "trade_status": "TRADE_SUCCESS",
        "trade_no": "2024010122001400000000000001",
        "auth_app_id": app_id,
        "receipt_amount": "270.01",
        "point_amount": "0.00",
        "buyer_pay_amount": "270.01",
        "app_id": app_id,
        "seller_id": "2088102177649450",
    }
    data.update(over)
    return data


def form(gk, data, *, key=None, encoding="utf-8"):
    return urlencode(signing.alipay_sign_params(data, key or gk.alipay_private), encoding=encoding).encode()


def parse(gateway, body):
    return gateway.notice_parse(
        headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body, now=dt.datetime.now(dt.UTC)
    )


# --- notifications ---------------------------------------------------------------------------------------------------


def test_a_paid_notice_verifies_with_amounts_in_exact_fen(keys, gk, gateway):
    notice = parse(gateway, form(gk, fields(keys)))
    assert notice.kind == NoticeKind.PAYMENT
    assert (notice.event_id, notice.out_trade_no, notice.transaction_id) == (
        "2024010100222100005000000000000000",
        "GA1",
        "2024010122001400000000000001",
    )
    assert notice.amount_fen == 27001
    assert notice.trade_state == TradeState.SUCCESS
    assert notice.paid_at == dt.datetime(2024, 1, 1, 2, 0, 5, tzinfo=dt.UTC)
    assert notice.payer == "2088102177846880"


def test_the_sdk_fails_silently_when_sign_is_not_popped_and_the_adapter_pops_it(keys, gk, gateway):
    body = form(gk, fields(keys))
    received = dict(parse_qsl(body.decode()))
    assert gateway.sdk.verify(dict(received), received["sign"]) is False  # the SDK's trap
    popped = dict(received)
    signature = popped.pop("sign")
    assert gateway.sdk.verify(popped, signature) is True
    assert parse(gateway, body).amount_fen == 27001


def test_sign_type_rsa_is_forged(keys, gk, gateway):
    signed = signing.alipay_sign_params(fields(keys), gk.alipay_private)
    signed["sign_type"] = "RSA"
    with pytest.raises(ForgedNoticeError) as err:
        parse(gateway, urlencode(signed).encode())
    assert err.value.code == "signature"


def test_a_tampered_amount_is_forged(keys, gk, gateway):
    signed = signing.alipay_sign_params(fields(keys), gk.alipay_private)
    signed["total_amount"] = "2.70"
    with pytest.raises(ForgedNoticeError) as err:
        parse(gateway, urlencode(signed).encode())
    assert err.value.code == "signature"


def test_a_notice_signed_with_another_key_or_unsigned_is_forged(keys, gk, gateway):
    other = sandbox_keys.GatewayKeys.from_raw(sandbox_keys.generate()).alipay_private
    with pytest.raises(ForgedNoticeError):
        parse(gateway, form(gk, fields(keys), key=other))
    unsigned = signing.alipay_sign_params(fields(keys), gk.alipay_private)
    del unsigned["sign"]
    with pytest.raises(ForgedNoticeError):
        parse(gateway, urlencode(unsigned).encode())


def test_a_valid_notice_for_another_app_is_refused(keys, gk, gateway):
    with pytest.raises(ForgedNoticeError) as err:
        parse(gateway, form(gk, fields(keys, app_id="2021000000009999")))
    assert err.value.code == "app"


def test_an_amount_with_a_fraction_of_a_fen_is_refused_not_rounded(keys, gk, gateway):
    with pytest.raises(ForgedNoticeError) as err:
        parse(gateway, form(gk, fields(keys, total_amount="270.005")))
    assert err.value.code == "parse"


@pytest.mark.parametrize(
    ("status", "over", "state"),
    [
        ("TRADE_FINISHED", {}, TradeState.SUCCESS),
        ("TRADE_CLOSED", {"gmt_payment": ""}, TradeState.CLOSED),
        ("WAIT_BUYER_PAY", {"gmt_payment": ""}, TradeState.NOTPAY),
        (
            "TRADE_CLOSED",
            {"refund_fee": "270.01", "gmt_refund": "2024-01-02 09:00:00", "out_biz_no": "RF1"},
            TradeState.REFUND,
        ),
    ],
)
def test_trade_statuses_map(keys, gk, gateway, status, over, state):
    data = {k: v for k, v in fields(keys, trade_status=status, **over).items() if v != ""}
    notice = parse(gateway, form(gk, data))
    assert notice.trade_state == state
    if state == TradeState.REFUND:
        assert notice.out_refund_no == "RF1"
        assert notice.refunded_at == dt.datetime(2024, 1, 2, 1, 0, tzinfo=dt.UTC)


def test_a_gbk_notice_is_decoded_with_its_charset(keys, gk, gateway):
    notice = parse(gateway, form(gk, fields(keys, charset="gbk", subject="一楼 咖啡"), encoding="gbk"))
    assert notice.raw["subject"] == "一楼 咖啡"


def test_the_acknowledgements(gateway):
    assert gateway.notice_ack(ok=True).body == b"success"
    assert gateway.notice_ack(ok=False).body == b"fail"


# --- requests --------------------------------------------------------------------------------------------------------


def test_wap_pay_start_is_a_signed_redirect_in_beijing_time(keys, gk, gateway):
    expires = dt.datetime(2024, 1, 1, 2, 30, tzinfo=dt.UTC)
    start = gateway.pay_start(
        kind=PayKind.WAP,
        out_trade_no="GA2",
        amount_fen=27005,
        description="Shop",
        expires_at=expires,
        return_url="https://mall.example/back",
        attach="sale:1",
    )
    url = urlsplit(start.payload["url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "http://127.0.0.1:9/gateway.do"
    params = dict(parse_qsl(url.query, keep_blank_values=True))
    assert signing.alipay_check_request(params, gk.app_public)  # what the gateway checks
    assert params["method"] == "alipay.trade.wap.pay" and params["sign_type"] == "RSA2"
    assert (params["return_url"], params["notify_url"]) == ("https://mall.example/back", "https://mall.example/pay/ali")
    biz = json.loads(params["biz_content"])
    assert (biz["total_amount"], biz["time_expire"], biz["product_code"]) == (
        "270.05",
        "2024-01-01 10:30:00",
        "QUICK_WAP_PAY",
    )
    sent = dt.datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    assert abs((dt.datetime.now(dt.UTC) - sent).total_seconds()) < 60


def test_page_pay_and_unsupported_kinds(gateway):
    start = gateway.pay_start(kind=PayKind.PAGE, out_trade_no="GA3", amount_fen=1, description="d", expires_at=EXPIRES)
    assert dict(parse_qsl(urlsplit(start.payload["url"]).query))["method"] == "alipay.trade.page.pay"
    with pytest.raises(ValueError):
        gateway.pay_start(kind=PayKind.JSAPI, out_trade_no="GA3", amount_fen=1, description="d", expires_at=EXPIRES)


def test_unreachable_gateway_is_retried_then_unavailable(gateway):
    with stamina.set_testing(True, attempts=2), pytest.raises(GatewayUnavailableError):
        gateway.trade_query(out_trade_no="GA4")


def test_a_forged_sync_answer_is_unavailable_not_trusted(keys, gateway):
    attacker = sandbox_keys.GatewayKeys.from_raw(sandbox_keys.generate()).alipay_private

    class Forger(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            inner = {
                "code": "10000",
                "msg": "Success",
                "out_trade_no": "GA5",
                "trade_status": "TRADE_SUCCESS",
                "total_amount": "1.00",
            }
            body = signing.alipay_sync_body("alipay.trade.query", inner, attacker)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forger)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gateway.sdk._gateway = f"http://127.0.0.1:{server.server_address[1]}/gateway.do"
        with pytest.raises(GatewayUnavailableError) as err:
            gateway.trade_query(out_trade_no="GA5")
        assert err.value.code == "answer_signature"
    finally:
        server.shutdown()
        server.server_close()


# --- against the sandbox ---------------------------------------------------------------------------------------------


@pytest.fixture
def live(alipay_keys_config):
    return AlipayGateway(alipay_keys_config("http://127.0.0.1:9/unused"))


def test_a_business_failure_is_a_refusal_with_the_sub_code(live, sandbox, unique_no):
    no = unique_no("GA")
    live.pay_start(kind=PayKind.PRECREATE, out_trade_no=no, amount_fen=1000, description="d", expires_at=EXPIRES)
    sandbox.control.pay(provider="alipay", out_trade_no=no)
    live.refund_start(out_trade_no=no, out_refund_no="R1", refund_fen=600, total_fen=1000)
    with pytest.raises(GatewayRefusedError) as err:
        live.refund_start(out_trade_no=no, out_refund_no="R2", refund_fen=401, total_fen=1000)
    assert err.value.code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    assert live.trade_query(out_trade_no=unique_no("NOPE")) is None


def test_a_5xx_is_retried_and_a_4xx_is_not(live, sandbox, unique_no):
    no = unique_no("GA")
    live.pay_start(kind=PayKind.PRECREATE, out_trade_no=no, amount_fen=100, description="d", expires_at=EXPIRES)
    sandbox.control.fail_next(count=2, status=502, prefix="/gateway.do")
    with stamina.set_testing(True, attempts=3):
        assert live.trade_query(out_trade_no=no).state == TradeState.NOTPAY
    sandbox.control.fail_next(count=1, status=403, prefix="/gateway.do")
    with stamina.set_testing(True, attempts=3), pytest.raises(GatewayRefusedError) as err:
        live.trade_query(out_trade_no=no)
    assert err.value.code == "HTTP_403"
    assert live.trade_query(out_trade_no=no).state == TradeState.NOTPAY  # the one failure was used by one attempt


def test_our_signature_refused_by_the_gateway_is_a_refusal(sandbox, keys, unique_no):
    """Misconfigured credentials (another app key than the gateway knows) → isv.invalid-signature, not retried."""
    wrong = AlipayGateway(
        alipay_config(
            dict(sandbox.keys, alipay=dict(sandbox.keys["alipay"], app_private_key=keys["alipay"]["app_private_key"])),
            sandbox.base_url,
            notify_url="http://n/",
        )
    )
    with pytest.raises(GatewayRefusedError) as err:
        wrong.trade_query(out_trade_no=unique_no("GA"))
    assert err.value.code == "isv.invalid-signature"
