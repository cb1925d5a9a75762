"""Control endpoints under /sandbox/control/ — NOT a real protocol: what tests and the demo use to act as the
member, as other shops, or as an attacker, and to look inside. JSON in, JSON out; errors are 4xx `{"error"}`.

pay · mall-payment · mall-refund · mall-auth · deliveries · deliver-due · replay · forge · bill-extra · clock ·
fail-next · trade · health (see docs/payments.md, "The sandbox gateway").
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from . import alipay_api, dispatch, notify, pages, signing, wechat_api
from .keys import rand_ascii, rand_digits
from .server import Request, Response, route
from .state import SHANGHAI, alipay_time, rfc3339_cn

if TYPE_CHECKING:
    from .server import Handler, Sandbox

_attacker: list[rsa.RSAPrivateKey] = []
_attacker_lock = threading.Lock()


def attacker_key() -> rsa.RSAPrivateKey:
    with _attacker_lock:
        if not _attacker:
            _attacker.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return _attacker[0]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def endpoint(handler: Any) -> Handler:
    def wrapper(sandbox: Sandbox, request: Request) -> Response:
        try:
            body = request.json() if request.method == "POST" else dict(request.query)
            return Response.json(200, handler(sandbox, body))
        except ControlError as exc:
            return Response.json(exc.status, {"error": str(exc)})
        except (ValueError, KeyError, TypeError) as exc:
            return Response.json(400, {"error": f"bad request: {exc!r}"})

    return wrapper


def _fen(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ControlError(400, f"{name} must be a positive integer (fen)")
    return value


# --- acting as the member --------------------------------------------------------------------------------------------


def pay(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    amount = None if body.get("amount_fen") is None else _fen(body["amount_fen"], "amount_fen")
    out_trade_no = str(body.get("out_trade_no", ""))
    if body.get("provider") == "wechat":
        trade = sandbox.store.wx_trades.get(out_trade_no)
        if trade is None:
            raise ControlError(404, "no such WeChat trade")
        event_id = wechat_api.mark_paid(sandbox, trade, amount_fen=amount)
        if not event_id and trade["state"] not in ("SUCCESS", "REFUND"):
            raise ControlError(409, f"trade is {trade['state']}")
        return {"transaction_id": trade["transaction_id"], "event_id": event_id, "state": trade["state"]}
    if body.get("provider") == "alipay":
        if out_trade_no not in sandbox.store.ali_trades and body.get("url"):
            params = dict(parse_qsl(urlsplit(body["url"]).query, keep_blank_values=True))
            pages.alipay_cashier_open(sandbox, params.get("method", ""), params)  # what the browser does first
        ali_trade = sandbox.store.ali_trades.get(out_trade_no)
        if ali_trade is None:
            raise ControlError(
                404, "no such Alipay trade (WAP/PAGE trades exist once the cashier was opened: pass url)"
            )
        event_id = alipay_api.mark_paid(sandbox, ali_trade, amount_fen=amount)
        if not event_id and ali_trade["trade_status"] != "TRADE_SUCCESS":
            raise ControlError(409, f"trade is {ali_trade['trade_status']}")
        return {"transaction_id": ali_trade["trade_no"], "event_id": event_id, "state": ali_trade["trade_status"]}
    raise ControlError(400, "provider must be wechat or alipay")


# --- 商圈: acting as the participating shops ------------------------------------------------------------------------


def mall_auth(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    openid = str(body["openid"])
    now = sandbox.store.now()
    with sandbox.store.lock:
        sandbox.store.mall_auth[openid] = {"authorize_time": rfc3339_cn(now), "notify_url": body.get("notify_url", "")}
    sandbox.store.save()
    plaintext = {
        "mchid": str(body.get("mchid") or sandbox.keys.wx["mchid"]),
        "openid": openid,
        "code": str(body.get("code") or "CARD" + rand_digits(12)),
        "auth_type": str(body.get("auth_type") or "REAL_TIME"),
    }
    delivery = notify.wechat_notify(
        sandbox,
        url=str(body.get("notify_url", "")),
        event_type="MALL_AUTH.ACTIVATE_CARD",
        summary="会员卡激活",
        plaintext=plaintext,
        associated_data="mall_auth",
        ref={"openid": openid},
    )
    return {"event_id": delivery.event_id if delivery else None}


def mall_payment(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    openid, notify_url = str(body["openid"]), str(body["notify_url"])
    amount = _fen(body.get("amount_fen"), "amount_fen")
    now = sandbox.store.now()
    txn: dict[str, Any] = {
        "transaction_id": "42000" + rand_digits(23),
        "mchid": str(body["mchid"]),
        "shop_number": str(body["shop_number"]),
        "shop_name": str(body.get("shop_name") or body["shop_number"]),
        "merchant_name": str(body.get("merchant_name") or "Sandbox shop"),
        "openid": openid,
        "amount": amount,
        "time_end": rfc3339_cn(now),
        "notify_url": notify_url,
        "synced": False,
        "refunded_fen": 0,
    }
    with sandbox.store.lock:
        sandbox.store.mall_txns[txn["transaction_id"]] = txn
        authorised = openid in sandbox.store.mall_auth
    sandbox.store.save()
    if not authorised:  # the real gateway only tells the mall about members who authorised 商圈 points
        return {
            "transaction_id": txn["transaction_id"],
            "event_id": None,
            "notified": False,
            "reason": "not authorised",
        }
    plaintext = {
        k: txn[k] for k in ("mchid", "merchant_name", "shop_name", "shop_number", "openid", "transaction_id", "amount")
    }
    plaintext.update(
        appid=sandbox.keys.wx["appid"], time_end=txn["time_end"], commit_tag="", auth_type="REAL_TIME", code=""
    )
    delivery = notify.wechat_notify(
        sandbox,
        url=notify_url,
        event_type="MALL_TRANSACTION.SUCCESS",
        summary="支付成功",
        plaintext=plaintext,
        associated_data="mall_transaction",
        ref={"transaction_id": txn["transaction_id"]},
    )
    return {
        "transaction_id": txn["transaction_id"],
        "event_id": delivery.event_id if delivery else None,
        "notified": True,
    }


def mall_refund(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    with sandbox.store.lock:
        found = sandbox.store.mall_txns.get(str(body.get("transaction_id", "")))
        if found is None:
            raise ControlError(404, "no such 商圈 transaction")
        txn: dict[str, Any] = found
        want = _fen(body.get("refund_fen", txn["amount"] - txn["refunded_fen"]), "refund_fen")
        if want > txn["amount"] - txn["refunded_fen"]:
            raise ControlError(409, "refund above what is left")
        txn["refunded_fen"] += want
        synced = bool(txn["synced"])
    sandbox.store.save()
    refund_id = "50" + rand_digits(27)
    if not synced:  # only transactions whose points were synced through points/notify get a refund notification
        return {"refund_id": refund_id, "event_id": None, "notified": False, "reason": "points were never synced"}
    plaintext = {k: txn[k] for k in ("mchid", "merchant_name", "shop_name", "shop_number", "openid", "transaction_id")}
    plaintext.update(
        appid=sandbox.keys.wx["appid"],
        refund_id=refund_id,
        pay_amount=txn["amount"],
        refund_amount=want,
        refund_time=rfc3339_cn(sandbox.store.now()),
    )
    delivery = notify.wechat_notify(
        sandbox,
        url=txn["notify_url"],
        event_type="MALL_REFUND.SUCCESS",
        summary="退款成功",
        plaintext=plaintext,
        associated_data="mall_refund",
        ref={"transaction_id": txn["transaction_id"], "refund_id": refund_id},
    )
    return {"refund_id": refund_id, "event_id": delivery.event_id if delivery else None, "notified": True}


# --- deliveries ------------------------------------------------------------------------------------------------------


def deliveries(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    return {"deliveries": sandbox.dispatcher.log(str(body.get("event_id", "")))}


def deliver_due(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    return {"attempts": sandbox.dispatcher.deliver_due(everything=bool(body.get("all")))}


def replay(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    record = sandbox.dispatcher.replay(str(body.get("event_id", "")))
    if record is None:
        raise ControlError(404, "no such event")
    return {"event_id": body["event_id"], **record}


# --- forgeries ---------------------------------------------------------------------------------------------------


def _forge_wechat(sandbox: Sandbox, how: str, body: dict[str, Any]) -> tuple[str, dict[str, str], bytes, str]:
    trade = sandbox.store.wx_trades.get(str(body.get("out_trade_no", "")))
    if trade is None:
        raise ControlError(404, "no such WeChat trade")
    paid = dict(trade, state="SUCCESS", paid_fen=trade["paid_fen"] or trade["req"]["amount"]["total"])
    paid.update(
        success_time=trade["success_time"] or rfc3339_cn(sandbox.store.now()), openid=trade["openid"] or "oForged"
    )
    plain = notify.wechat_transaction(sandbox, paid)
    kw = {"event_type": "TRANSACTION.SUCCESS", "summary": "支付成功", "associated_data": "transaction"}
    wx, key = sandbox.keys.wx, sandbox.keys.platform_private
    serial, stamp = wx["platform_public_key_id"], None
    if how == "wrong_apiv3":
        text = notify.wechat_body(sandbox, plaintext=plain, apiv3_key=rand_ascii(32), **kw)
    elif how == "wrong_app":
        text = notify.wechat_body(
            sandbox, plaintext=dict(plain, appid="wx" + secrets.token_hex(8), mchid="1" + rand_digits(9)), **kw
        )
    else:
        text = notify.wechat_body(sandbox, plaintext=plain, **kw)
    if how == "wrong_key":
        key = attacker_key()
    elif how == "wrong_serial":
        serial = secrets.token_hex(20).upper()
    elif how == "stale":
        stamp = int(time.time()) - 3600  # signature times use the real clock
    elif how not in ("wrong_apiv3", "wrong_app", "tampered_amount", "no_signature_type"):
        raise ControlError(400, f"unknown forgery {how!r}")
    headers = signing.wechat_headers(key, serial, text, ts=stamp)
    headers["Content-Type"] = notify.WECHAT_CT
    if how == "no_signature_type":
        del headers["Wechatpay-Signature-Type"]
    if how == "tampered_amount":  # the signed body, then its resource swapped for one with another amount
        amount = dict(plain["amount"], total=1, payer_total=1)
        text = json.dumps(
            dict(
                json.loads(text),
                resource=signing.wechat_resource(wx["apiv3_key"], dict(plain, amount=amount), "transaction"),
            ),
            ensure_ascii=False,
            separators=(",", ":"),
        )
    return json.loads(text)["id"], headers, text.encode(), trade["req"]["notify_url"]


def _forge_alipay(sandbox: Sandbox, how: str, body: dict[str, Any]) -> tuple[str, dict[str, str], bytes, str]:
    trade = sandbox.store.ali_trades.get(str(body.get("out_trade_no", "")))
    if trade is None:
        raise ControlError(404, "no such Alipay trade")
    paid = dict(
        trade, trade_status="TRADE_SUCCESS", gmt_payment=trade["gmt_payment"] or alipay_time(sandbox.store.now())
    )
    fields = notify.alipay_fields(sandbox, paid)
    if how == "wrong_app":
        fields.update(app_id="2021" + rand_digits(12), auth_app_id="2021" + rand_digits(12))
    signed = signing.alipay_sign_params(fields, attacker_key() if how == "wrong_key" else sandbox.keys.alipay_private)
    if how == "tampered_amount":
        signed["total_amount"] = "0.01"
    elif how == "sign_type_rsa":
        signed["sign_type"] = "RSA"
    elif how == "unsigned":
        del signed["sign"]
    elif how not in ("wrong_key", "wrong_app"):
        raise ControlError(400, f"unknown forgery {how!r}")
    return fields["notify_id"], {"Content-Type": notify.ALIPAY_CT}, urlencode(signed).encode(), trade["notify_url"]


def forge(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """Send one forged notification through the same HTTP path; answer what the receiver said."""
    how = str(body.get("how", ""))
    builder = _forge_wechat if body.get("provider", "wechat") == "wechat" else _forge_alipay
    event_id, headers, data, url = builder(sandbox, how, body)
    status, answer, error = dispatch.post(str(body.get("url") or url), headers, data)
    return {"event_id": event_id, "status": status, "answer": answer.decode("utf-8", "replace"), "error": error}


# --- bills, clock, failures, inspection -----------------------------------------------------------------------------


def bill_extra(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    provider = body.get("provider")
    if provider not in ("wechat", "alipay"):
        raise ControlError(400, "provider must be wechat or alipay")
    day = dt.date.fromisoformat(body["bill_date"]) if body.get("bill_date") else sandbox.store.now_cn().date()
    moment = dt.datetime.combine(day, dt.time(12, 0), tzinfo=SHANGHAI)
    kind = body.get("kind", "payment")
    if kind not in ("payment", "refund"):
        raise ControlError(400, "kind must be payment or refund")
    row = {
        "provider": provider,
        "bill_date": day.isoformat(),
        "kind": kind,
        "out_trade_no": str(body.get("out_trade_no") or "EXTRA" + rand_digits(12)),
        "transaction_id": str(
            body.get("transaction_id") or ("42000" if provider == "wechat" else "2099") + rand_digits(23)
        ),
        "amount_fen": _fen(body.get("amount_fen"), "amount_fen"),
        "out_refund_no": str(body.get("out_refund_no") or ("RX" + rand_digits(12) if kind == "refund" else "")),
        "refund_id": str(body.get("refund_id") or ("50" + rand_digits(27) if kind == "refund" else "")),
        "description": str(body.get("description") or "sandbox extra"),
        "time": rfc3339_cn(moment),
        "time_cn": alipay_time(moment),
    }
    with sandbox.store.lock:
        sandbox.store.bill_extra.append(row)
    sandbox.store.save()
    return row


def clock(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    offset = float(body.get("offset_s", 0))
    with sandbox.store.lock:
        sandbox.store.clock_offset_s = offset
    sandbox.store.save()
    return {"offset_s": offset, "now": sandbox.store.now().isoformat()}


def fail_next(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    count, status = int(body.get("count", 1)), int(body.get("status", 503))
    if not 0 < count <= 100 or not 400 <= status <= 599:
        raise ControlError(400, "count 1–100, status 400–599")
    failure = {"prefix": str(body.get("prefix", "/")), "count": count, "status": status}
    with sandbox.store.lock:
        sandbox.store.fail_next.append(failure)
    return failure


def trade(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    table = sandbox.store.wx_trades if body.get("provider", "wechat") == "wechat" else sandbox.store.ali_trades
    with sandbox.store.lock:
        found = table.get(str(body.get("out_trade_no", "")))
        if found is None:
            raise ControlError(404, "no such trade")
        return json.loads(json.dumps(found))


def health(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "base_url": sandbox.base_url, "time_scale": sandbox.time_scale}


_POST = {
    "pay": pay,
    "mall-payment": mall_payment,
    "mall-refund": mall_refund,
    "mall-auth": mall_auth,
    "deliver-due": deliver_due,
    "replay": replay,
    "forge": forge,
    "bill-extra": bill_extra,
    "clock": clock,
    "fail-next": fail_next,
}
_GET = {"deliveries": deliveries, "trade": trade, "health": health}

ROUTES = [route("POST", f"/sandbox/control/{name}", endpoint(fn)) for name, fn in _POST.items()] + [
    route("GET", f"/sandbox/control/{name}", endpoint(fn)) for name, fn in _GET.items()
]
