"""WeChat Pay API v3 as the sandbox serves it: 下单 (JSAPI/H5/Native), query, close, refunds, trade bills.

Every request's `Authorization` is checked (merchant public key, mchid, serial, 5-minute window) → 401 SIGN_ERROR
otherwise; every 2xx answer is signed with the platform key and carries all the `Wechatpay-*` headers; errors
are unsigned `{"code","message"}` JSON, as the real gateway does. Codes marked in docs/payments.md as unverified
are the sandbox's best reading of the documentation.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import bills, notify, signing
from .keys import rand_ascii, rand_digits
from .server import Request, Response, route
from .state import Record, parse_rfc3339, rfc3339_cn

if TYPE_CHECKING:
    from .server import Handler, Sandbox

_OUT_NO = re.compile(r"^[A-Za-z0-9_\-|*]{6,32}$")
_REFUND_NO = re.compile(r"^[A-Za-z0-9_\-|*@]{1,64}$")
REFUND_SETTLE_S = 1.0  # a refund turns SUCCESS this long (× time scale) after it was accepted


def error(status: int, code: str, message: str) -> Response:
    return Response.json(status, {"code": code, "message": message})


def signed(sandbox: Sandbox, status: int, obj: Any = None) -> Response:
    response = Response.json(status, obj) if obj is not None else Response(status, b"")
    wx = sandbox.keys.wx
    text = response.body.decode()
    response.headers.update(signing.wechat_headers(sandbox.keys.platform_private, wx["platform_public_key_id"], text))
    return response


def guarded(handler: Callable[[Sandbox, Request], Response]) -> Handler:
    """Injected failures first (retry tests), then the merchant's request signature, then the handler."""

    def wrapper(sandbox: Sandbox, request: Request) -> Response:
        failure = sandbox.store.take_failure(request.path)
        if failure is not None:
            return error(failure["status"], "SYSTEM_ERROR", "系统错误 (injected by /sandbox/control/fail-next)")
        wx = sandbox.keys.wx
        try:
            body = request.text
        except UnicodeDecodeError:
            return error(400, "PARAM_ERROR", "请求体不是 UTF-8 / body is not UTF-8")
        why = signing.wechat_check_request(
            authorization=request.headers.get("authorization", ""),
            method=request.method,
            path_with_query=request.raw_path,
            body=body,
            mchid=wx["mchid"],
            serial_no=wx["merchant_serial_no"],
            merchant_key=sandbox.keys.merchant_public,
        )
        if why:
            return error(401, "SIGN_ERROR", why)
        serial = request.headers.get("wechatpay-serial", "")
        if serial and serial != wx["platform_public_key_id"]:
            return error(400, "PARAM_ERROR", "Wechatpay-Serial 不是平台公钥ID / unknown Wechatpay-Serial")
        try:
            return handler(sandbox, request)
        except (ValueError, KeyError, TypeError) as exc:
            return error(400, "PARAM_ERROR", f"参数错误 / bad parameters: {exc}")

    return wrapper


# --- trades ----------------------------------------------------------------------------------------------------------


def refresh(sandbox: Sandbox, trade: Record) -> Record:
    """Close an unpaid trade once its time_expire has passed (the gateway does it by itself)."""
    expire = trade["req"].get("time_expire")
    if trade["state"] == "NOTPAY" and expire and parse_rfc3339(expire) <= sandbox.store.now():
        trade["state"] = "CLOSED"
    return trade


def _pay_problem(sandbox: Sandbox, kind: str, body: dict[str, Any]) -> tuple[str, str]:
    wx = sandbox.keys.wx
    if body.get("appid") != wx["appid"] or body.get("mchid") != wx["mchid"]:
        return "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配 / appid and mchid do not match"
    description = body.get("description")
    if not isinstance(description, str) or not 0 < len(description.encode()) <= 127:
        return "PARAM_ERROR", "description 必填且不超过127字节 / description: 1–127 bytes"
    if not _OUT_NO.match(str(body.get("out_trade_no", ""))):
        return "PARAM_ERROR", "out_trade_no 须为6–32位字母数字_-|* / out_trade_no format"
    notify_url = body.get("notify_url")
    if not isinstance(notify_url, str) or not notify_url.startswith(("http://", "https://")):
        return "PARAM_ERROR", "notify_url 必填 / notify_url required"
    amount = body.get("amount")
    total = amount.get("total") if isinstance(amount, dict) else None
    if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
        return "PARAM_ERROR", "amount.total 须为正整数（分） / amount.total: positive integer fen"
    if isinstance(amount, dict) and amount.get("currency", "CNY") != "CNY":
        return "PARAM_ERROR", "仅支持 CNY / only CNY"
    if len(str(body.get("attach", "")).encode()) > 128:
        return "PARAM_ERROR", "attach 超过128字节 / attach longer than 128 bytes"
    if body.get("time_expire"):
        try:
            parse_rfc3339(body["time_expire"])
        except ValueError:
            return "PARAM_ERROR", "time_expire 须为 RFC3339 / time_expire must be RFC 3339"
    if kind == "jsapi" and not (body.get("payer") or {}).get("openid"):
        return "PARAM_ERROR", "JSAPI 须传 payer.openid / payer.openid required"
    if kind == "h5":
        scene = body.get("scene_info") or {}
        if not scene.get("payer_client_ip") or not (scene.get("h5_info") or {}).get("type"):
            return "PARAM_ERROR", "H5 须传 scene_info.payer_client_ip 与 h5_info.type / scene_info required"
    return "", ""


def _pay_answer(sandbox: Sandbox, trade: Record) -> dict[str, str]:
    kind = trade["kind"]
    if kind == "native":
        return {"code_url": f"weixin://wxpay/bizpayurl?pr={trade['code']}"}
    if kind == "h5":
        return {
            "h5_url": f"{sandbox.base_url}/sandbox/wechat/h5?prepay_id={trade['prepay_id']}&package={trade['code']}"
        }
    return {"prepay_id": trade["prepay_id"]}


def pay(sandbox: Sandbox, request: Request) -> Response:
    kind = request.params["kind"]
    body = request.json()
    code, problem = _pay_problem(sandbox, kind, body)
    if problem:
        return error(400, code, problem)
    store = sandbox.store
    with store.lock:
        trade = store.wx_trades.get(body["out_trade_no"])
        if trade is not None:
            refresh(sandbox, trade)
            if trade["req"] != body or trade["kind"] != kind:
                return error(400, "INVALID_REQUEST", "201 商户订单号重复 / out_trade_no reused with another body")
            if trade["state"] in ("SUCCESS", "REFUND"):
                return error(400, "ORDERPAID", "该订单已支付 / order already paid")
            if trade["state"] == "CLOSED":
                return error(400, "ORDER_CLOSED", "订单已关闭 / order closed")
        else:
            trade = {
                "out_trade_no": body["out_trade_no"],
                "kind": kind,
                "req": body,
                "state": "NOTPAY",
                "transaction_id": "42000" + rand_digits(23),
                "prepay_id": "wx" + secrets.token_hex(15),
                "code": rand_ascii(7) if kind == "native" else rand_digits(10),
                "created_at": rfc3339_cn(store.now()),
                "success_time": "",
                "paid_fen": None,
                "openid": (body.get("payer") or {}).get("openid", ""),
                "refunded_fen": 0,
                "shared_fen": 0,
                "unfrozen": False,
                "mall_synced": False,
            }
            store.wx_trades[trade["out_trade_no"]] = trade
            store.wx_prepay[trade["prepay_id"]] = trade["out_trade_no"]
            if kind == "native":
                store.wx_codes[trade["code"]] = trade["out_trade_no"]
        answer = _pay_answer(sandbox, trade)
    store.save()
    return signed(sandbox, 200, answer)


def mark_paid(sandbox: Sandbox, trade: Record, *, amount_fen: int | None = None) -> str:
    """The member paid (cashier page or control endpoint): SUCCESS, then TRANSACTION.SUCCESS to notify_url.
    Returns the event id ('' when already paid: a trade is paid once)."""
    store = sandbox.store
    with store.lock:
        refresh(sandbox, trade)
        if trade["state"] != "NOTPAY":
            return ""
        trade["state"] = "SUCCESS"
        trade["success_time"] = rfc3339_cn(store.now())
        trade["paid_fen"] = trade["req"]["amount"]["total"] if amount_fen is None else amount_fen
        if not trade["openid"]:
            trade["openid"] = "oSbx" + rand_ascii(24)
        plaintext = notify.wechat_transaction(sandbox, trade)
    store.save()
    delivery = notify.wechat_notify(
        sandbox,
        url=trade["req"]["notify_url"],
        event_type="TRANSACTION.SUCCESS",
        summary="支付成功",
        plaintext=plaintext,
        associated_data="transaction",
        ref={"out_trade_no": trade["out_trade_no"], "transaction_id": trade["transaction_id"]},
    )
    return delivery.event_id if delivery else ""


def _find(sandbox: Sandbox, *, out_trade_no: str = "", transaction_id: str = "") -> Record | None:
    store = sandbox.store
    if out_trade_no:
        return store.wx_trades.get(out_trade_no)
    for trade in store.wx_trades.values():
        if trade["transaction_id"] == transaction_id and trade["state"] in ("SUCCESS", "REFUND"):
            return trade
    return None


def query(sandbox: Sandbox, request: Request) -> Response:
    if request.query.get("mchid") != sandbox.keys.wx["mchid"]:
        return error(400, "PARAM_ERROR", "mchid 参数错误 / mchid query parameter")
    with sandbox.store.lock:
        trade = _find(sandbox, out_trade_no=request.params.get("no", ""), transaction_id=request.params.get("id", ""))
        if trade is None:
            return error(404, "ORDER_NOT_EXIST", "订单不存在 / no such order")
        answer = notify.wechat_transaction(sandbox, refresh(sandbox, trade))
    return signed(sandbox, 200, answer)


def close(sandbox: Sandbox, request: Request) -> Response:
    if request.json().get("mchid") != sandbox.keys.wx["mchid"]:
        return error(400, "PARAM_ERROR", "mchid 参数错误 / mchid")
    with sandbox.store.lock:
        trade = sandbox.store.wx_trades.get(request.params["no"])
        if trade is None:
            return error(404, "ORDER_NOT_EXIST", "订单不存在 / no such order")
        refresh(sandbox, trade)
        if trade["state"] in ("SUCCESS", "REFUND"):
            return error(400, "ORDERPAID", "订单已支付，不能关闭 / paid orders cannot be closed")
        trade["state"] = "CLOSED"
    sandbox.store.save()
    return signed(sandbox, 204)


# --- refunds ---------------------------------------------------------------------------------------------------------


def refund_status(sandbox: Sandbox, refund: Record) -> str:
    return "SUCCESS" if sandbox.store.now().timestamp() >= refund["settle_at"] else "PROCESSING"


def refund(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    out_refund_no = str(body.get("out_refund_no", ""))
    if not _REFUND_NO.match(out_refund_no):
        return error(400, "PARAM_ERROR", "out_refund_no 格式错误 / out_refund_no format")
    amount = body.get("amount") or {}
    want, total = amount.get("refund"), amount.get("total")
    if not isinstance(want, int) or not isinstance(total, int) or want <= 0:
        return error(400, "PARAM_ERROR", "amount.refund / amount.total 须为正整数（分）")
    store = sandbox.store
    with store.lock:
        trade = _find(sandbox, out_trade_no=body.get("out_trade_no", ""), transaction_id=body.get("transaction_id", ""))
        if trade is None:
            return error(404, "RESOURCE_NOT_EXISTS", "订单不存在 / no such order")
        existing = store.wx_refunds.get(out_refund_no)
        if existing is not None:
            if existing["out_trade_no"] != trade["out_trade_no"] or (existing["refund"], existing["total"]) != (
                want,
                total,
            ):
                return error(400, "INVALID_REQUEST", "退款单号重复 / out_refund_no reused with another body")
            return signed(sandbox, 200, notify.wechat_refund_object(existing, refund_status(sandbox, existing)))
        if trade["state"] not in ("SUCCESS", "REFUND"):
            return error(400, "INVALID_REQUEST", "订单未支付，不能退款 / the order is not paid")
        if total != trade["req"]["amount"]["total"]:
            return error(400, "INVALID_REQUEST", "退款总金额与订单金额不一致 / amount.total is not the order's total")
        left = trade["paid_fen"] - trade["refunded_fen"]
        if want > left:
            return error(
                400, "INVALID_REQUEST", f"申请退款金额超过订单可退金额 / refund above what is left ({left} fen)"
            )
        now = store.now()
        settle = now + dt.timedelta(seconds=REFUND_SETTLE_S * sandbox.time_scale)
        record = {
            "out_refund_no": out_refund_no,
            "refund_id": "50" + rand_digits(27),
            "out_trade_no": trade["out_trade_no"],
            "transaction_id": trade["transaction_id"],
            "refund": want,
            "total": total,
            "reason": body.get("reason", ""),
            "notify_url": body.get("notify_url", ""),
            "create_time": rfc3339_cn(now),
            "success_time": rfc3339_cn(settle),
            "settle_at": settle.timestamp(),
        }
        store.wx_refunds[out_refund_no] = record
        trade["refunded_fen"] += want
        trade["state"] = "REFUND"
        answer = notify.wechat_refund_object(record, refund_status(sandbox, record))
        plaintext = notify.wechat_refund_plaintext(sandbox, record)
    store.save()
    notify.wechat_notify(
        sandbox,
        url=record["notify_url"],
        event_type="REFUND.SUCCESS",
        summary="退款成功",
        plaintext=plaintext,
        associated_data="refund",
        ref={"out_trade_no": record["out_trade_no"], "out_refund_no": out_refund_no},
        delay_s=REFUND_SETTLE_S,
    )
    return signed(sandbox, 200, answer)


def refund_query(sandbox: Sandbox, request: Request) -> Response:
    with sandbox.store.lock:
        record = sandbox.store.wx_refunds.get(request.params["no"])
        if record is None:
            return error(404, "RESOURCE_NOT_EXISTS", "退款单不存在 / no such refund")
        answer = notify.wechat_refund_object(record, refund_status(sandbox, record))
    return signed(sandbox, 200, answer)


# --- bills -----------------------------------------------------------------------------------------------------------


def tradebill(sandbox: Sandbox, request: Request) -> Response:
    try:
        day = dt.date.fromisoformat(request.query.get("bill_date", ""))
    except ValueError:
        return error(400, "PARAM_ERROR", "bill_date 须为 YYYY-MM-DD")
    bill_type = request.query.get("bill_type", "ALL")
    if bill_type not in ("ALL", "SUCCESS", "REFUND"):
        return error(400, "PARAM_ERROR", "bill_type 须为 ALL/SUCCESS/REFUND")
    text, rows = bills.wechat_bill(sandbox, day, bill_type)
    if rows == 0:
        return error(400, "NO_STATEMENT_EXIST", "账单文件不存在 / no bill for that day")
    gzipped = request.query.get("tar_type") == "GZIP"
    token = bills.issue(sandbox, text.encode("utf-8"), gzipped=gzipped)
    return signed(
        sandbox,
        200,
        {
            "hash_type": "SHA1",
            "hash_value": bills.sha1(text.encode("utf-8")),
            "download_url": f"{sandbox.base_url}/v3/billdownload/file?token={token}",
        },
    )


def billdownload(sandbox: Sandbox, request: Request) -> Response:
    data = bills.redeem(sandbox, request.query.get("token", ""))
    if data is None:
        return error(400, "INVALID_REQUEST", "下载链接已失效 / the download URL has expired")
    return Response(200, data, "application/octet-stream")


ROUTES = [
    route("POST", r"/v3/pay/transactions/(?P<kind>jsapi|app|h5|native)", guarded(pay)),
    route("GET", r"/v3/pay/transactions/out-trade-no/(?P<no>[^/]+)", guarded(query)),
    route("GET", r"/v3/pay/transactions/id/(?P<id>[^/]+)", guarded(query)),
    route("POST", r"/v3/pay/transactions/out-trade-no/(?P<no>[^/]+)/close", guarded(close)),
    route("POST", r"/v3/refund/domestic/refunds", guarded(refund)),
    route("GET", r"/v3/refund/domestic/refunds/(?P<no>[^/]+)", guarded(refund_query)),
    route("GET", r"/v3/bill/tradebill", guarded(tradebill)),
    route("GET", r"/v3/billdownload/file", guarded(billdownload)),
]
