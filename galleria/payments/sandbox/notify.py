"""Notifications as the gateways send them, handed to the dispatcher (or sent once, for forgeries).

WeChat: a JSON body `{id, create_time, resource_type, event_type, summary, resource{AES-256-GCM}}` built once per
event (the id and ciphertext stay the same on every attempt) and re-signed per attempt with a fresh timestamp and
nonce. Alipay: an `application/x-www-form-urlencoded` POST signed once (RSA2 over the sorted fields without
`sign`/`sign_type`).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from . import signing
from .dispatch import ALIPAY_SCHEDULE, WECHAT_AUTH_SCHEDULE, WECHAT_SCHEDULE, Builder, Delivery
from .state import Record, alipay_time, rfc3339_cn

if TYPE_CHECKING:
    from .server import Sandbox

WECHAT_CT = "application/json"
ALIPAY_CT = "application/x-www-form-urlencoded; charset=utf-8"


def wechat_body(
    sandbox: Sandbox,
    *,
    event_type: str,
    summary: str,
    plaintext: dict[str, Any],
    associated_data: str,
    apiv3_key: str = "",
    event_id: str = "",
) -> str:
    body = {
        "id": event_id or str(uuid.uuid4()),
        "create_time": rfc3339_cn(sandbox.store.now()),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": summary,
        "resource": signing.wechat_resource(apiv3_key or sandbox.keys.wx["apiv3_key"], plaintext, associated_data),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def wechat_builder(sandbox: Sandbox, body: str) -> Builder:
    def build() -> tuple[dict[str, str], bytes]:
        headers = signing.wechat_headers(sandbox.keys.platform_private, sandbox.keys.wx["platform_public_key_id"], body)
        headers["Content-Type"] = WECHAT_CT
        return headers, body.encode()

    return build


def wechat_notify(
    sandbox: Sandbox,
    *,
    url: str,
    event_type: str,
    summary: str,
    plaintext: dict[str, Any],
    associated_data: str,
    ref: dict[str, Any],
    delay_s: float = 0.0,
) -> Delivery | None:
    if not url:
        return None
    body = wechat_body(
        sandbox, event_type=event_type, summary=summary, plaintext=plaintext, associated_data=associated_data
    )
    schedule = WECHAT_AUTH_SCHEDULE if event_type.startswith("MALL_AUTH") else WECHAT_SCHEDULE
    return sandbox.dispatcher.schedule(
        event_id=json.loads(body)["id"],
        provider="wechat",
        event_type=event_type,
        url=url,
        schedule=schedule,
        build=wechat_builder(sandbox, body),
        ref=ref,
        delay_s=delay_s,
    )


def wechat_transaction(sandbox: Sandbox, trade: Record) -> dict[str, Any]:
    """The transaction object: the payment notification's plaintext and the query answer."""
    req = trade["req"]
    out: dict[str, Any] = {
        "appid": req["appid"],
        "mchid": req["mchid"],
        "out_trade_no": trade["out_trade_no"],
        "trade_state": trade["state"],
        "trade_state_desc": _STATE_DESC.get(trade["state"], ""),
        "attach": req.get("attach", ""),
        "amount": {"total": req["amount"]["total"], "currency": "CNY"},
    }
    if trade["state"] in ("SUCCESS", "REFUND"):
        paid = trade["paid_fen"]
        out.update(
            transaction_id=trade["transaction_id"],
            trade_type=trade["kind"].upper(),
            bank_type="OTHERS",
            success_time=trade["success_time"],
            payer={"openid": trade["openid"]},
            amount={"total": paid, "payer_total": paid, "currency": "CNY", "payer_currency": "CNY"},
        )
    return out


_STATE_DESC = {
    "SUCCESS": "支付成功",
    "REFUND": "转入退款",
    "NOTPAY": "未支付",
    "CLOSED": "已关闭",
    "USERPAYING": "用户支付中",
    "PAYERROR": "支付失败",
}


def wechat_refund_object(refund: Record, status: str) -> dict[str, Any]:
    return {
        "refund_id": refund["refund_id"],
        "out_refund_no": refund["out_refund_no"],
        "transaction_id": refund["transaction_id"],
        "out_trade_no": refund["out_trade_no"],
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "success_time": refund["success_time"] if status == "SUCCESS" else None,
        "create_time": refund["create_time"],
        "status": status,
        "funds_account": "AVAILABLE",
        "amount": {
            "total": refund["total"],
            "refund": refund["refund"],
            "payer_total": refund["total"],
            "payer_refund": refund["refund"],
            "settlement_total": refund["total"],
            "settlement_refund": refund["refund"],
            "discount_refund": 0,
            "currency": "CNY",
            "refund_fee": 0,
        },
    }


def wechat_refund_plaintext(sandbox: Sandbox, refund: Record) -> dict[str, Any]:
    return {
        "mchid": sandbox.keys.wx["mchid"],
        "out_trade_no": refund["out_trade_no"],
        "transaction_id": refund["transaction_id"],
        "out_refund_no": refund["out_refund_no"],
        "refund_id": refund["refund_id"],
        "refund_status": "SUCCESS",
        "success_time": refund["success_time"],
        "user_received_account": "支付用户零钱",
        "amount": {
            "total": refund["total"],
            "refund": refund["refund"],
            "payer_total": refund["total"],
            "payer_refund": refund["refund"],
        },
    }


# --- Alipay ----------------------------------------------------------------------------------------------------------


def alipay_fields(sandbox: Sandbox, trade: Record) -> dict[str, str]:
    """The trade_status_sync fields (unsigned)."""
    ali = sandbox.keys.ali
    total = trade["total_amount"]
    fields = {
        "gmt_create": trade["gmt_create"],
        "charset": "utf-8",
        "notify_time": alipay_time(sandbox.store.now()),
        "subject": trade["subject"],
        "buyer_id": trade["buyer_id"],
        "version": "1.0",
        "notify_id": trade.get("notify_id") or uuid.uuid4().hex,
        "notify_type": "trade_status_sync",
        "out_trade_no": trade["out_trade_no"],
        "total_amount": total,
        "trade_status": trade["trade_status"],
        "trade_no": trade["trade_no"],
        "auth_app_id": ali["app_id"],
        "app_id": ali["app_id"],
        "seller_id": ali["seller_id"],
    }
    if trade.get("gmt_payment"):
        fields.update(
            gmt_payment=trade["gmt_payment"],
            receipt_amount=total,
            invoice_amount=total,
            buyer_pay_amount=total,
            point_amount="0.00",
            fund_bill_list=json.dumps([{"amount": total, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")),
        )
    if trade.get("passback_params"):
        fields["passback_params"] = trade["passback_params"]
    return fields


def alipay_builder(body: bytes) -> Builder:
    def build() -> tuple[dict[str, str], bytes]:
        return {"Content-Type": ALIPAY_CT}, body

    return build


def alipay_notify(sandbox: Sandbox, trade: Record, *, ref: dict[str, Any]) -> Delivery | None:
    url = trade.get("notify_url", "")
    if not url:
        return None
    fields = alipay_fields(sandbox, trade)
    body = urlencode(signing.alipay_sign_params(fields, sandbox.keys.alipay_private)).encode()
    return sandbox.dispatcher.schedule(
        event_id=fields["notify_id"],
        provider="alipay",
        event_type="trade_status_sync",
        url=url,
        schedule=ALIPAY_SCHEDULE,
        build=alipay_builder(body),
        ref=ref,
    )
