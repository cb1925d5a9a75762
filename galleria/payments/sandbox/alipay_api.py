"""Alipay's OpenAPI gateway (`/gateway.do`) as the sandbox serves it.

Every request is checked like the real gateway: app_id, `sign_type` RSA2, the RSA2 signature over the sorted
parameters (sign_type included), and the timestamp read as Beijing time (± 15 minutes). Sync answers are
`{"<method>_response":{…},"sign":"…"}` signed over the exact inner JSON text; business failures are code 40004
with a `sub_code` (signed), argument and signature errors code 40002 (unsigned — the SDK then raises).
`alipay.trade.wap.pay` / `page.pay` are browser redirects: they render the sandbox "Alipay" cashier page.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import bills, signing
from .keys import rand_digits
from .server import Request, Response, route
from .state import Record, alipay_time, fen_from_yuan, parse_alipay_time, yuan

if TYPE_CHECKING:
    from .server import Sandbox

TIMESTAMP_WINDOW_S = 15 * 60
PAGE_METHODS = ("alipay.trade.wap.pay", "alipay.trade.page.pay")
_PRODUCT = {"alipay.trade.wap.pay": "QUICK_WAP_PAY", "alipay.trade.page.pay": "FAST_INSTANT_TRADE_PAY"}


def answer(sandbox: Sandbox, method: str, inner: dict[str, Any]) -> Response:
    body = signing.alipay_sync_body(method, inner, sandbox.keys.alipay_private)
    return Response(200, body, "text/html;charset=utf-8")


def unsigned(method: str, sub_code: str, sub_msg: str) -> Response:
    name = method.replace(".", "_") + "_response" if method else "error_response"
    inner = {"code": "40002", "msg": "Invalid Arguments", "sub_code": sub_code, "sub_msg": sub_msg}
    return Response(200, json.dumps({name: inner}, ensure_ascii=False).encode(), "text/html;charset=utf-8")


def business(sandbox: Sandbox, method: str, sub_code: str, sub_msg: str, **extra: str) -> Response:
    inner = {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg, **extra}
    return answer(sandbox, method, inner)


def ok(sandbox: Sandbox, method: str, **fields: Any) -> Response:
    return answer(sandbox, method, {"code": "10000", "msg": "Success", **fields})


def check(sandbox: Sandbox, params: dict[str, str]) -> tuple[str, str]:
    """('', '') when the request is acceptable, else (sub_code, sub_msg)."""
    if params.get("app_id") != sandbox.keys.ali["app_id"]:
        return "isv.invalid-app-id", "无效的AppID参数 / unknown app_id"
    if params.get("sign_type") != "RSA2":
        return "isv.invalid-signature-type", "无效的签名类型（须为RSA2）/ sign_type must be RSA2"
    if not signing.alipay_check_request(params, sandbox.keys.app_public):
        return "isv.invalid-signature", "验签出错 / the request signature does not verify"
    try:
        sent = parse_alipay_time(params.get("timestamp", ""))
    except ValueError:
        return "isv.invalid-timestamp", "非法的时间戳参数 / bad timestamp"
    if abs(time.time() - sent.timestamp()) > TIMESTAMP_WINDOW_S:
        return "isv.invalid-timestamp", "时间戳与北京时间相差过大 / timestamp is not current Beijing time"
    return "", ""


def refresh(sandbox: Sandbox, trade: Record) -> Record:
    expire = trade.get("time_expire")
    if trade["trade_status"] == "WAIT_BUYER_PAY" and expire and parse_alipay_time(expire) <= sandbox.store.now():
        trade["trade_status"] = "TRADE_CLOSED"
    return trade


def new_trade(sandbox: Sandbox, biz: dict[str, Any], params: dict[str, str], product: str) -> Record:
    now = sandbox.store.now()
    return {
        "out_trade_no": biz["out_trade_no"],
        "trade_no": f"{now.astimezone(dt.UTC):%Y%m%d}22001" + rand_digits(15),
        "subject": biz["subject"],
        "total_amount": biz["total_amount"],
        "total_fen": fen_from_yuan(biz["total_amount"]),
        "product_code": product,
        "trade_status": "WAIT_BUYER_PAY",
        "notify_url": params.get("notify_url", ""),
        "return_url": params.get("return_url", ""),
        "passback_params": biz.get("passback_params", ""),
        "time_expire": biz.get("time_expire", ""),
        "gmt_create": alipay_time(now),
        "gmt_payment": "",
        "buyer_id": "2088" + rand_digits(12),
        "buyer_logon_id": "159****" + rand_digits(4),
        "refunded_fen": 0,
        "code": rand_digits(20),
    }


def same_order(trade: Record, biz: dict[str, Any]) -> bool:
    return (trade["total_amount"], trade["subject"]) == (biz.get("total_amount"), biz.get("subject"))


def valid_order(biz: dict[str, Any]) -> str:
    if not biz.get("out_trade_no") or not biz.get("subject"):
        return "out_trade_no 与 subject 必填"
    try:
        fen = fen_from_yuan(str(biz.get("total_amount", "")))
    except ValueError:
        return "total_amount 须为两位小数的金额（元）"
    if not 1 <= fen <= 10_000_000_000:
        return "total_amount 须在 0.01 与 100000000 之间"
    if biz.get("time_expire"):
        try:
            parse_alipay_time(biz["time_expire"])
        except ValueError:
            return "time_expire 格式须为 yyyy-MM-dd HH:mm:ss"
    return ""


# --- methods ---------------------------------------------------------------------------------------------------------


def precreate(sandbox: Sandbox, m: str, biz: dict[str, Any], params: dict[str, str]) -> Response:
    problem = valid_order(biz)
    if problem:
        return business(sandbox, m, "ACQ.INVALID_PARAMETER", problem)
    with sandbox.store.lock:
        trade = sandbox.store.ali_trades.get(biz["out_trade_no"])
        if trade is None:
            trade = new_trade(sandbox, biz, params, "FACE_TO_FACE_PAYMENT")
            sandbox.store.ali_trades[trade["out_trade_no"]] = trade
        refresh(sandbox, trade)
        if not same_order(trade, biz):
            return business(
                sandbox, m, "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改 / out_trade_no reused with another order"
            )
        if trade["trade_status"] in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            return business(sandbox, m, "ACQ.TRADE_HAS_SUCCESS", "交易已被支付 / already paid")
        if trade["trade_status"] == "TRADE_CLOSED":
            return business(sandbox, m, "ACQ.TRADE_HAS_CLOSE", "交易已经关闭 / trade closed")
    sandbox.store.save()
    return ok(sandbox, m, out_trade_no=trade["out_trade_no"], qr_code=f"https://qr.alipay.com/bax{trade['code']}")


def _trade(sandbox: Sandbox, biz: dict[str, Any]) -> Record | None:
    store = sandbox.store
    if biz.get("out_trade_no"):
        return store.ali_trades.get(biz["out_trade_no"])
    return next((t for t in store.ali_trades.values() if t["trade_no"] == biz.get("trade_no")), None)


def query(sandbox: Sandbox, m: str, biz: dict[str, Any], params: dict[str, str]) -> Response:
    with sandbox.store.lock:
        trade = _trade(sandbox, biz)
        if trade is None:
            return business(sandbox, m, "ACQ.TRADE_NOT_EXIST", "交易不存在", out_trade_no=biz.get("out_trade_no", ""))
        refresh(sandbox, trade)
        fields: dict[str, Any] = {
            "trade_no": trade["trade_no"],
            "out_trade_no": trade["out_trade_no"],
            "buyer_logon_id": trade["buyer_logon_id"],
            "trade_status": trade["trade_status"],
            "total_amount": trade["total_amount"],
        }
        if trade["gmt_payment"]:
            fields.update(
                buyer_pay_amount=trade["total_amount"],
                receipt_amount=trade["total_amount"],
                invoice_amount=trade["total_amount"],
                point_amount="0.00",
                send_pay_date=trade["gmt_payment"],
                buyer_user_id=trade["buyer_id"],
            )
    return ok(sandbox, m, **fields)


def close(sandbox: Sandbox, m: str, biz: dict[str, Any], params: dict[str, str]) -> Response:
    with sandbox.store.lock:
        trade = _trade(sandbox, biz)
        if trade is None:
            # a WAP/PAGE order whose cashier was never opened: the gateway has no trade; refuse the page later
            if biz.get("out_trade_no"):
                sandbox.store.ali_orders[biz["out_trade_no"]] = {"closed": True}
            return business(sandbox, m, "ACQ.TRADE_NOT_EXIST", "交易不存在")
        refresh(sandbox, trade)
        if trade["trade_status"] in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            return business(sandbox, m, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法（已支付）/ the trade is paid")
        trade["trade_status"] = "TRADE_CLOSED"
    sandbox.store.save()
    return ok(sandbox, m, trade_no=trade["trade_no"], out_trade_no=trade["out_trade_no"])


def refund(sandbox: Sandbox, m: str, biz: dict[str, Any], params: dict[str, str]) -> Response:
    try:
        want = fen_from_yuan(str(biz.get("refund_amount", "")))
    except ValueError:
        want = 0
    if want <= 0:
        return business(sandbox, m, "ACQ.INVALID_PARAMETER", "refund_amount 须为正的两位小数金额")
    store = sandbox.store
    with store.lock:
        trade = _trade(sandbox, biz)
        if trade is None:
            return business(sandbox, m, "ACQ.TRADE_NOT_EXIST", "交易不存在")
        request_no = str(biz.get("out_request_no") or trade["out_trade_no"])
        key = f"{trade['out_trade_no']}/{request_no}"
        existing = store.ali_refunds.get(key)
        common = {
            "trade_no": trade["trade_no"],
            "out_trade_no": trade["out_trade_no"],
            "buyer_logon_id": trade["buyer_logon_id"],
            "buyer_user_id": trade["buyer_id"],
        }
        if existing is not None:
            if existing["refund_fen"] != want:
                return business(
                    sandbox, m, "ACQ.CONTEXT_INCONSISTENT", "退款请求号重复但金额不同 / out_request_no reused"
                )
            return ok(sandbox, m, **common, fund_change="N", refund_fee=yuan(trade["refunded_fen"]))
        if trade["trade_status"] != "TRADE_SUCCESS":
            return business(sandbox, m, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法 / the trade is not paid")
        left = trade["total_fen"] - trade["refunded_fen"]
        if want > left:
            return business(
                sandbox, m, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", f"退款金额超限 / refund above what is left ({yuan(left)})"
            )
        now = alipay_time(store.now())
        store.ali_refunds[key] = {
            "out_trade_no": trade["out_trade_no"],
            "out_request_no": request_no,
            "refund_fen": want,
            "reason": biz.get("refund_reason", ""),
            "gmt_refund": now,
        }
        trade["refunded_fen"] += want
        if trade["refunded_fen"] == trade["total_fen"]:
            trade["trade_status"] = "TRADE_CLOSED"
        cumulative = yuan(trade["refunded_fen"])
    store.save()
    return ok(
        sandbox, m, **common, fund_change="Y", refund_fee=cumulative, gmt_refund_pay=now, send_back_fee=yuan(want)
    )


def refund_query(sandbox: Sandbox, m: str, biz: dict[str, Any], params: dict[str, str]) -> Response:
    with sandbox.store.lock:
        trade = _trade(sandbox, biz)
        if trade is None:
            return business(sandbox, m, "ACQ.TRADE_NOT_EXIST", "交易不存在")
        request_no = str(biz.get("out_request_no", ""))
        found = sandbox.store.ali_refunds.get(f"{trade['out_trade_no']}/{request_no}")
    base = {"trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"], "out_request_no": request_no}
    if found is None:
        return ok(sandbox, m, **base)
    return ok(
        sandbox,
        m,
        **base,
        total_amount=trade["total_amount"],
        refund_amount=yuan(found["refund_fen"]),
        refund_status="REFUND_SUCCESS",
        gmt_refund_pay=found["gmt_refund"],
    )


def bill_url(sandbox: Sandbox, m: str, biz: dict[str, Any], params: dict[str, str]) -> Response:
    if biz.get("bill_type") != "trade":
        return business(sandbox, m, "isp.bill_type_not_supported", "沙箱只提供 trade 日账单 / only daily trade bills")
    try:
        day = dt.date.fromisoformat(str(biz.get("bill_date", "")))
    except ValueError:
        return business(sandbox, m, "isv.invalid-bill-date", "bill_date 须为 yyyy-MM-dd")
    data, rows = bills.alipay_bill(sandbox, day)
    if rows == 0:
        return business(sandbox, m, "isp.bill_not_exist", "账单不存在 / no bill for that day")
    token = bills.issue(sandbox, data, gzipped=False, ttl_s=bills.ALIPAY_URL_TTL_S)
    return ok(sandbox, m, bill_download_url=f"{sandbox.base_url}/sandbox/alipay/bill/{token}")


METHODS: dict[str, Callable[[Sandbox, str, dict[str, Any], dict[str, str]], Response]] = {
    "alipay.trade.precreate": precreate,
    "alipay.trade.query": query,
    "alipay.trade.close": close,
    "alipay.trade.refund": refund,
    "alipay.trade.fastpay.refund.query": refund_query,
    "alipay.data.dataservice.bill.downloadurl.query": bill_url,
}


def gateway(sandbox: Sandbox, request: Request) -> Response:
    failure = sandbox.store.take_failure(request.path)
    if failure is not None:
        return Response(failure["status"], b"sandbox: injected failure", "text/plain; charset=utf-8")
    params = request.form()
    method = params.get("method", "")
    if method in PAGE_METHODS:
        from . import pages

        return pages.alipay_cashier_open(sandbox, method, params)
    sub_code, sub_msg = check(sandbox, params)
    if sub_code:
        return unsigned(method, sub_code, sub_msg)
    handler = METHODS.get(method)
    if handler is None:
        return unsigned(method, "isv.invalid-method", "不存在的方法名 / unknown method")
    try:
        biz = json.loads(params.get("biz_content") or "{}")
    except ValueError:
        return unsigned(method, "isv.invalid-biz-content", "biz_content 不是 JSON")
    return handler(sandbox, method, biz, params)


def bill_download(sandbox: Sandbox, request: Request) -> Response:
    data = bills.redeem(sandbox, request.params["token"])
    if data is None:
        return Response(404, "下载链接已失效 / the download URL has expired".encode(), "text/plain; charset=utf-8")
    return Response(200, data, "application/zip")


def product_for(method: str) -> str:
    return _PRODUCT[method]


ROUTES = [
    route("*", r"/gateway\.do", gateway),
    route("GET", r"/sandbox/alipay/bill/(?P<token>[A-Za-z0-9_\-]+)", bill_download),
]


def mark_paid(sandbox: Sandbox, trade: Record, *, amount_fen: int | None = None) -> str:
    """The buyer paid (cashier page or control endpoint): TRADE_SUCCESS, then trade_status_sync to notify_url.
    Returns the notify_id ('' when the trade was not waiting for payment)."""
    from . import notify

    store = sandbox.store
    with store.lock:
        refresh(sandbox, trade)
        if trade["trade_status"] != "WAIT_BUYER_PAY":
            return ""
        if amount_fen is not None:
            trade["total_fen"] = amount_fen
            trade["total_amount"] = yuan(amount_fen)
        trade["trade_status"] = "TRADE_SUCCESS"
        trade["gmt_payment"] = alipay_time(store.now())
        delivery = notify.alipay_notify(sandbox, trade, ref={"out_trade_no": trade["out_trade_no"]})
    store.save()
    return delivery.event_id if delivery else ""


def return_params(sandbox: Sandbox, trade: Record) -> dict[str, str]:
    """What the browser brings back to return_url: signed like a notification (without sign_type)."""
    ali = sandbox.keys.ali
    method = "alipay.trade.wap.pay" if trade["product_code"] == "QUICK_WAP_PAY" else "alipay.trade.page.pay"
    params = {
        "charset": "utf-8",
        "out_trade_no": trade["out_trade_no"],
        "method": method + ".return",
        "total_amount": trade["total_amount"],
        "trade_no": trade["trade_no"],
        "auth_app_id": ali["app_id"],
        "version": "1.0",
        "app_id": ali["app_id"],
        "seller_id": ali["seller_id"],
        "timestamp": alipay_time(sandbox.store.now()),
    }
    return signing.alipay_sign_params(params, sandbox.keys.alipay_private)
