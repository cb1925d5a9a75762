"""WeChat Pay API v3 adapter (`MallGateway`) on wechatpayv3 2.0.4, public-key mode.

Payments: JSAPI (returns the `paySign` parameters for WeixinJSBridge / wx.requestPayment, signType RSA), H5
(`h5_url`, with `redirect_url` appended URL-encoded when a return URL is given, as WeChat documents), Native
(`code_url`); `time_expire` RFC 3339 in +08:00; `settle_info.profit_sharing` for 分账. Queries, close (204), refunds,
notifications (`wechat_notice`), the daily trade bill (SHA1 of the gunzipped file checked), 商圈 and 分账
(`wechat_mall`). Every outbound call is idempotent at the gateway and runs under `retry.call`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import secrets
import string
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from wechatpayv3 import WeChatPayType

from . import bills, wechat_notice
from .base import (
    BillRow,
    GatewayError,
    GatewayRefund,
    GatewayTrade,
    Notice,
    NoticeAck,
    PayKind,
    PayStart,
    RefundState,
)
from .wechat_mall import WechatMallMixin
from .wire import parse_rfc3339, rfc3339_cn, truncate_utf8

_PAY_TYPES = {PayKind.JSAPI: WeChatPayType.JSAPI, PayKind.H5: WeChatPayType.H5, PayKind.NATIVE: WeChatPayType.NATIVE}
_NONCE = string.ascii_letters + string.digits


class WechatGateway(WechatMallMixin):
    # --- payments -----------------------------------------------------------------------------------------------
    def pay_start(
        self,
        *,
        kind: PayKind,
        out_trade_no: str,
        amount_fen: int,
        description: str,
        expires_at: dt.datetime,
        payer: str = "",
        client_ip: str = "",
        return_url: str = "",
        attach: str = "",
        profit_sharing: bool = False,
    ) -> PayStart:
        if kind not in _PAY_TYPES:
            raise ValueError(f"WeChat Pay does not do {kind}")
        if amount_fen <= 0:
            raise ValueError("amount_fen must be positive")
        if not self.config.notify_url:
            raise ValueError("WeChat Pay payments need the config's notify_url")
        kwargs: dict[str, Any] = {
            "description": truncate_utf8(description, 127) or out_trade_no,
            "out_trade_no": out_trade_no,
            "amount": {"total": amount_fen, "currency": "CNY"},
            "time_expire": rfc3339_cn(expires_at),
            "pay_type": _PAY_TYPES[kind],
            "notify_url": self.config.notify_url,
        }
        if attach:
            kwargs["attach"] = truncate_utf8(attach, 127)
        if profit_sharing:
            kwargs["settle_info"] = {"profit_sharing": True}
        if kind == PayKind.JSAPI:
            if not payer:
                raise ValueError("JSAPI payments need the payer's openid")
            kwargs["payer"] = {"openid": payer}
        if kind == PayKind.H5:
            if not client_ip:
                raise ValueError("H5 payments need the payer's IP address")
            kwargs["scene_info"] = {"payer_client_ip": client_ip, "h5_info": {"type": "Wap"}}

        data = self._ok(self._request(lambda: self._wx.pay(**_copy(kwargs)), what="pay"), what="pay")
        if kind == PayKind.JSAPI:
            return PayStart(kind=kind, payload=self.jsapi_params(prepay_id=str(data["prepay_id"])))
        if kind == PayKind.H5:
            url = str(data["h5_url"])
            if return_url:
                url += ("&" if "?" in url else "?") + "redirect_url=" + quote(return_url, safe="")
            return PayStart(kind=kind, payload={"h5_url": url})
        return PayStart(kind=kind, payload={"code_url": str(data["code_url"])})

    def jsapi_params(self, *, prepay_id: str) -> dict[str, str]:
        """What WeixinJSBridge.invoke('getBrandWCPayRequest') / wx.requestPayment need; paySign is RSA-SHA256
        with the merchant key over "appId\\ntimeStamp\\nnonceStr\\npackage\\n"."""
        stamp = str(int(time.time()))
        nonce = "".join(secrets.choice(_NONCE) for _ in range(32))
        package = f"prepay_id={prepay_id}"
        return {
            "appId": self.config.app_id,
            "timeStamp": stamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": self._wx.sign([self.config.app_id, stamp, nonce, package]),
        }

    def trade_query(self, *, out_trade_no: str) -> GatewayTrade | None:
        status, body = self._request(lambda: self._wx.query(out_trade_no=out_trade_no), what="query")
        if status == 404 and self._json(body).get("code") == "ORDER_NOT_EXIST":
            return None
        data = self._ok((status, body), what="query")
        state = wechat_notice.TRADE_STATES[str(data["trade_state"])]
        amount = data.get("amount") or {}
        paid = data.get("success_time") is not None and "payer_total" in amount
        return GatewayTrade(
            out_trade_no=str(data["out_trade_no"]),
            state=state,
            amount_fen=int(amount["total"]),
            paid_fen=int(amount["payer_total"]) if paid else None,
            transaction_id=str(data.get("transaction_id") or ""),
            paid_at=parse_rfc3339(data["success_time"]) if data.get("success_time") else None,
            payer=str((data.get("payer") or {}).get("openid", "")),
        )

    def trade_close(self, *, out_trade_no: str) -> None:
        """204 closes it; closing a closed trade is a 204 too. A trade the gateway never saw (ORDER_NOT_EXIST)
        cannot be paid either, so that is not an error."""
        status, body = self._request(lambda: self._wx.close(out_trade_no=out_trade_no), what="close")
        if status == 404 and self._json(body).get("code") == "ORDER_NOT_EXIST":
            return
        self._ok((status, body), what="close", expect=(200, 204))

    # --- refunds ------------------------------------------------------------------------------------------------
    def refund_start(
        self, *, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int, reason: str = ""
    ) -> GatewayRefund:
        if not 0 < refund_fen <= total_fen:
            raise ValueError("refund_fen must be within 1..total_fen")
        kwargs: dict[str, Any] = {
            "out_refund_no": out_refund_no,
            "out_trade_no": out_trade_no,
            "amount": {"refund": refund_fen, "total": total_fen, "currency": "CNY"},
            "notify_url": self.config.notify_url or None,
        }
        if reason:
            kwargs["reason"] = truncate_utf8(reason, 80)
        data = self._ok(self._request(lambda: self._wx.refund(**_copy(kwargs)), what="refund"), what="refund")
        return _refund(data)

    def refund_query(self, *, out_trade_no: str, out_refund_no: str) -> GatewayRefund | None:
        status, body = self._request(lambda: self._wx.query_refund(out_refund_no=out_refund_no), what="refund_query")
        if status == 404:
            return None
        return _refund(self._ok((status, body), what="refund_query"))

    # --- notifications ------------------------------------------------------------------------------------------
    def notice_parse(self, *, headers: Mapping[str, str], body: bytes, now: dt.datetime) -> Notice:
        return wechat_notice.parse(self, headers=headers, body=body, now=now)

    def notice_ack(self, *, ok: bool) -> NoticeAck:
        return wechat_notice.ack(ok=ok)

    # --- bills --------------------------------------------------------------------------------------------------
    def bill_rows(self, *, bill_date: dt.date) -> list[BillRow]:
        day = bill_date.isoformat()
        status, body = self._request(
            lambda: self._wx.trade_bill(bill_date=day, bill_type="ALL", tar_type="GZIP"), what="tradebill"
        )
        if status == 400 and self._json(body).get("code") == "NO_STATEMENT_EXIST":
            return []
        info = self._ok((status, body), what="tradebill")
        url = str(info["download_url"])
        if not url.startswith(self._wx._core._gate_way + "/"):
            raise GatewayError(f"bill download URL outside the gateway: {url[:80]}", code="bill.url")
        data = self._ok_bytes(self._request(lambda: self._wx.download_bill(url=url), what="billdownload"))
        try:
            text = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise GatewayError("the WeChat bill is not gzip", code="bill.format") from exc
        if str(info.get("hash_type", "SHA1")).upper() != "SHA1":
            raise GatewayError(f"unexpected bill hash type {info.get('hash_type')}", code="bill.hash")
        digest = hashlib.sha1(text, usedforsecurity=False).hexdigest()
        if digest != str(info.get("hash_value", "")).lower():
            raise GatewayError("the WeChat bill does not match its SHA1", code="bill.hash")
        return bills.parse_wechat(text.decode("utf-8"))

    def _ok_bytes(self, answer: tuple[int, Any]) -> bytes:
        status, body = answer
        if status != 200:
            raise self._refused(status, body, what="billdownload")
        return body if isinstance(body, bytes) else str(body).encode()


def _copy(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the nested dicts per attempt, so no attempt can see another's changes."""
    return {k: dict(v) if isinstance(v, dict) else v for k, v in kwargs.items()}


def _refund(data: dict[str, Any]) -> GatewayRefund:
    amount = data.get("amount") or {}
    return GatewayRefund(
        out_refund_no=str(data["out_refund_no"]),
        state=wechat_notice.REFUND_STATES.get(str(data.get("status")), RefundState.PROCESSING),
        refund_fen=int(amount["refund"]),
        refund_id=str(data.get("refund_id") or ""),
        succeeded_at=parse_rfc3339(data["success_time"]) if data.get("success_time") else None,
    )
