"""Verifying and decoding WeChat Pay notifications (and what to answer).

Before the SDK sees anything: the `Wechatpay-Serial` must be our platform public key id (an unknown serial would
make the SDK download certificates over the network — never), the timestamp within 5 minutes of `now` (the SDK
does no freshness check), and `Wechatpay-Signature-Type` present (the SDK raises without it). Then `callback()`
checks the signature and decrypts the AES-256-GCM resource; None or an exception means forged. Then the decrypted
resource must name our appid/mchid (商圈 notices: our appid; only our APIv3 key decrypts them anyway).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from .base import ForgedNoticeError, Notice, NoticeAck, NoticeKind, Provider, RefundState, TradeState
from .wire import lower_headers, parse_rfc3339

if TYPE_CHECKING:
    from .wechat_client import WechatClient

log = logging.getLogger("galleria.payments.gateways")

FRESHNESS_S = 300
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
_HEADERS = ("Timestamp", "Nonce", "Signature", "Serial", "Signature-Type")

TRADE_STATES = {
    "SUCCESS": TradeState.SUCCESS,
    "REFUND": TradeState.REFUND,
    "NOTPAY": TradeState.NOTPAY,
    "CLOSED": TradeState.CLOSED,
    "REVOKED": TradeState.CLOSED,
    "USERPAYING": TradeState.PAYING,
    "PAYERROR": TradeState.FAILED,
}
REFUND_STATES = {
    "SUCCESS": RefundState.SUCCESS,
    "PROCESSING": RefundState.PROCESSING,
    "CLOSED": RefundState.CLOSED,
    "ABNORMAL": RefundState.ABNORMAL,
}


def forged(code: str, message: str) -> ForgedNoticeError:
    log.warning("forged or invalid WeChat Pay notification (%s): %s", code, message)
    return ForgedNoticeError(message, code=code)


def parse(client: WechatClient, *, headers: Mapping[str, str], body: bytes, now: dt.datetime) -> Notice:
    config = client.config
    low = lower_headers(headers)
    canonical = {f"Wechatpay-{name}": low.get(f"wechatpay-{name.lower()}", "") for name in _HEADERS}
    if canonical["Wechatpay-Serial"] != config.platform_public_key_id:
        raise forged("serial", f"unknown Wechatpay-Serial {canonical['Wechatpay-Serial'][:64]!r}")
    if canonical["Wechatpay-Signature-Type"] != SIGNATURE_TYPE:
        raise forged("signature", "missing or unsupported Wechatpay-Signature-Type")
    try:
        stamp = int(canonical["Wechatpay-Timestamp"])
    except ValueError:
        raise forged("timestamp", "Wechatpay-Timestamp is not a number") from None
    if abs(now.timestamp() - stamp) > FRESHNESS_S:
        raise forged("timestamp", f"Wechatpay-Timestamp {stamp} is more than {FRESHNESS_S} s from now")
    try:
        text = body.decode("utf-8")
        result = client.sdk.callback(canonical, text)
    except Exception as exc:  # the SDK raises for malformed input; nothing here may reach the network
        raise forged("parse", f"callback() raised {type(exc).__name__}") from exc
    if not result:
        if _signature_ok(client, canonical, text):
            raise forged("decrypt", "the resource does not decrypt with our APIv3 key")
        raise forged("signature", "the signature does not verify with the platform public key")
    try:
        return _notice(config.app_id, config.mch_id, result)
    except (KeyError, TypeError, ValueError) as exc:
        raise forged("parse", f"unexpected notification content: {exc!r}") from exc


def _signature_ok(client: WechatClient, h: dict[str, str], text: str) -> bool:
    message = f"{h['Wechatpay-Timestamp']}\n{h['Wechatpay-Nonce']}\n{text}\n".encode()
    try:
        signature = base64.b64decode(h["Wechatpay-Signature"], validate=True)
        client._platform_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def _time(value: Any) -> dt.datetime | None:
    return parse_rfc3339(value) if value else None


def _notice(app_id: str, mch_id: str, data: dict[str, Any]) -> Notice:
    event_type = str(data["event_type"])
    event_id = str(data["id"])
    r: dict[str, Any] = data["resource"]

    def make(**fields: Any) -> Notice:
        return Notice(provider=Provider.WECHAT, event_id=event_id, raw=r, **fields)

    if event_type.startswith("MALL_"):
        if r.get("appid", app_id) != app_id:
            raise forged("app", "商圈 notification for another appid")
    else:
        if r.get("mchid") != mch_id or ("appid" in r and r["appid"] != app_id):
            raise forged("app", "notification for another appid / mchid")
    if event_type == "TRANSACTION.SUCCESS":
        amount = r["amount"]
        return make(
            kind=NoticeKind.PAYMENT,
            out_trade_no=r["out_trade_no"],
            transaction_id=r.get("transaction_id", ""),
            trade_state=TRADE_STATES[r["trade_state"]],
            amount_fen=int(amount["total"]),
            paid_at=_time(r.get("success_time")),
            payer=(r.get("payer") or {}).get("openid", ""),
            mch_id=r["mchid"],
            app_id=r.get("appid", ""),
        )
    if event_type.startswith("REFUND."):
        amount = r["amount"]
        return make(
            kind=NoticeKind.REFUND,
            out_trade_no=r["out_trade_no"],
            transaction_id=r.get("transaction_id", ""),
            amount_fen=int(amount["total"]),
            out_refund_no=r["out_refund_no"],
            refund_id=r.get("refund_id", ""),
            refund_state=REFUND_STATES[r["refund_status"]],
            refund_fen=int(amount["refund"]),
            refunded_at=_time(r.get("success_time")),
            mch_id=r["mchid"],
        )
    if event_type == "MALL_TRANSACTION.SUCCESS":
        return make(
            kind=NoticeKind.MALL_PAYMENT,
            transaction_id=r["transaction_id"],
            trade_state=TradeState.SUCCESS,
            amount_fen=int(r["amount"]),
            paid_at=_time(r.get("time_end")),
            payer=r["openid"],
            mch_id=r.get("mchid", ""),
            shop_number=r.get("shop_number", ""),
            app_id=r["appid"],
        )
    if event_type == "MALL_REFUND.SUCCESS":
        return make(
            kind=NoticeKind.MALL_REFUND,
            transaction_id=r["transaction_id"],
            amount_fen=int(r["pay_amount"]),
            payer=r["openid"],
            refund_id=r.get("refund_id", ""),
            refund_state=RefundState.SUCCESS,
            refund_fen=int(r["refund_amount"]),
            refunded_at=_time(r.get("refund_time")),
            mch_id=r.get("mchid", ""),
            shop_number=r.get("shop_number", ""),
            app_id=r["appid"],
        )
    if event_type == "MALL_AUTH.ACTIVATE_CARD":
        return make(
            kind=NoticeKind.MALL_AUTH,
            payer=r["openid"],
            mch_id=r.get("mchid", ""),
            app_id=r.get("appid", ""),
        )
    raise forged("unsupported", f"unsupported event_type {event_type!r}")


def ack(*, ok: bool) -> NoticeAck:
    """WeChat Pay judges by the status: 200/204 received, anything else retried."""
    if ok:
        return NoticeAck(status=204, content_type="application/json", body=b"")
    body = json.dumps({"code": "FAIL", "message": "失败"}, ensure_ascii=False).encode()
    return NoticeAck(status=500, content_type="application/json; charset=utf-8", body=body)
