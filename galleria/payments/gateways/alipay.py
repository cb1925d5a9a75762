"""Alipay adapter (`Gateway`) on python-alipay-sdk 3.4.0, RSA2 keys (public-key mode, not certificates).

`GalleriaAliPay` pins the gateway URL (the SDK has no constructor argument: the private `_gateway`, guarded by
test_sdk_pins.py) and sends the request timestamp in Beijing time (the SDK uses a naive `datetime.now()`, wrong on
servers running UTC). WAP/PAGE payments are signed redirect URLs (no HTTP call); PRECREATE returns a QR code text.
Server calls answer the inner `…_response` dict: a business failure (code ≠ 10000) becomes GatewayRefusedError with
the `sub_code`; urllib's network errors and 5xx/429 are retried, then GatewayUnavailableError; an answer whose
signature does not verify is GatewayUnavailableError code `answer_signature` (outcome unknown: query later).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qsl, quote
from urllib.request import urlopen

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig

from . import bills, retry
from .base import (
    BillRow,
    ForgedNoticeError,
    GatewayConfig,
    GatewayRefund,
    GatewayRefusedError,
    GatewayTrade,
    GatewayUnavailableError,
    Notice,
    NoticeAck,
    NoticeKind,
    PayKind,
    PayStart,
    Provider,
    RefundState,
    TradeState,
)
from .wire import SHANGHAI, alipay_time, fen, parse_cn_time, truncate_utf8, yuan

log = logging.getLogger("galleria.payments.gateways")

PRODUCTION_GATEWAY = "https://openapi.alipay.com/gateway.do"
NOT_FOUND = ("ACQ.TRADE_NOT_EXIST",)
NO_BILL = ("isp.bill_not_exist",)
_RAW = re.compile(r"message:(.*)\Z", re.S)


class GalleriaAliPay(AliPay):
    def __init__(self, *, gateway_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gateway = gateway_url

    def build_body(self, method: str, biz_content: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().build_body(method, biz_content, **kwargs)
        data["timestamp"] = dt.datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        return data


def _trade_state(status: str, paid: bool) -> TradeState:
    if status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
        return TradeState.SUCCESS
    if status == "TRADE_CLOSED":  # closed unpaid, or fully refunded after paying
        return TradeState.REFUND if paid else TradeState.CLOSED
    return TradeState.NOTPAY


class AlipayGateway:
    def __init__(self, config: GatewayConfig) -> None:
        if config.provider != Provider.ALIPAY:
            raise ValueError("AlipayGateway needs an Alipay config")
        missing = [n for n in ("app_id", "private_key", "platform_public_key") if not getattr(config, n)]
        if missing:
            raise ValueError(f"Alipay config lacks {', '.join(missing)}")
        self.config = config
        self._ali = GalleriaAliPay(
            gateway_url=config.base_url or PRODUCTION_GATEWAY,
            appid=config.app_id,
            app_notify_url=config.notify_url or None,
            app_private_key_string=config.private_key,
            alipay_public_key_string=config.platform_public_key,
            sign_type="RSA2",
            config=AliPayConfig(timeout=config.timeout_s),
        )

    @property
    def sdk(self) -> GalleriaAliPay:
        return self._ali

    # --- plumbing -----------------------------------------------------------------------------------------------
    def _call(self, fn: Callable[[], dict[str, Any]], *, what: str) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            try:
                return fn()
            except HTTPError as exc:
                if retry.is_retryable(exc):
                    raise
                raise GatewayRefusedError(f"alipay.{what}: HTTP {exc.code}", code=f"HTTP_{exc.code}") from exc
            except AliPayValidationError as exc:
                log.error("Alipay answer to %s does not verify: forged or misconfigured key", what)
                raise GatewayUnavailableError(f"alipay.{what}: answer signature", code="answer_signature") from exc
            except AliPayException as exc:  # an unsigned error answer (bad arguments, our signature refused)
                inner = _inner(str(exc))
                code = str(inner.get("sub_code") or inner.get("code") or "unknown")
                raise GatewayRefusedError(f"alipay.{what}: {code} {inner.get('sub_msg', '')}", code=code) from exc
            except ValueError as exc:  # not JSON: not Alipay answering
                raise GatewayUnavailableError(f"alipay.{what}: unreadable answer", code="answer_format") from exc

        return retry.call(attempt, what=f"alipay.{what}")

    @staticmethod
    def _check(data: dict[str, Any], *, what: str, allow: tuple[str, ...] = ()) -> bool:
        """True for code 10000; False for an allowed sub_code; GatewayRefusedError otherwise."""
        if data.get("code") == "10000":
            return True
        sub_code = str(data.get("sub_code") or data.get("code") or "unknown")
        if sub_code in allow:
            return False
        raise GatewayRefusedError(f"alipay.{what}: {sub_code} {data.get('sub_msg', '')}", code=sub_code)

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
        if amount_fen <= 0:
            raise ValueError("amount_fen must be positive")
        if profit_sharing:
            raise ValueError("profit sharing is done on WeChat Pay only")
        extra: dict[str, Any] = {"time_expire": alipay_time(expires_at)}
        if attach:
            extra["passback_params"] = quote(truncate_utf8(attach, 127), safe="")
        subject = truncate_utf8(description, 256) or out_trade_no
        notify_url = self.config.notify_url or None
        if kind in (PayKind.WAP, PayKind.PAGE):
            sign = self._ali.api_alipay_trade_wap_pay if kind == PayKind.WAP else self._ali.api_alipay_trade_page_pay
            order = sign(
                subject=subject,
                out_trade_no=out_trade_no,
                total_amount=yuan(amount_fen),
                return_url=return_url or None,
                notify_url=notify_url,
                **extra,
            )
            return PayStart(kind=kind, payload={"url": f"{self._ali._gateway}?{order}"})
        if kind == PayKind.PRECREATE:
            data = self._call(
                lambda: self._ali.api_alipay_trade_precreate(
                    subject=subject,
                    out_trade_no=out_trade_no,
                    total_amount=yuan(amount_fen),
                    notify_url=notify_url,
                    **extra,
                ),
                what="precreate",
            )
            self._check(data, what="precreate")
            return PayStart(kind=kind, payload={"qr_code": str(data["qr_code"])})
        raise ValueError(f"Alipay does not do {kind}")

    def trade_query(self, *, out_trade_no: str) -> GatewayTrade | None:
        data = self._call(lambda: self._ali.api_alipay_trade_query(out_trade_no=out_trade_no), what="query")
        if not self._check(data, what="query", allow=NOT_FOUND):
            return None
        paid = bool(data.get("send_pay_date"))
        return GatewayTrade(
            out_trade_no=str(data["out_trade_no"]),
            state=_trade_state(str(data["trade_status"]), paid),
            amount_fen=fen(str(data["total_amount"])),
            paid_fen=fen(str(data.get("buyer_pay_amount") or data["total_amount"])) if paid else None,
            transaction_id=str(data.get("trade_no", "")),
            paid_at=parse_cn_time(str(data["send_pay_date"])) if paid else None,
            payer=str(data.get("buyer_user_id") or data.get("buyer_open_id") or ""),
        )

    def trade_close(self, *, out_trade_no: str) -> None:
        """A trade the gateway never created (a WAP page never opened) cannot be paid either: not an error."""
        data = self._call(lambda: self._ali.api_alipay_trade_close(out_trade_no=out_trade_no), what="close")
        self._check(data, what="close", allow=NOT_FOUND)

    # --- refunds ------------------------------------------------------------------------------------------------
    def refund_start(
        self, *, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int, reason: str = ""
    ) -> GatewayRefund:
        if not 0 < refund_fen <= total_fen:
            raise ValueError("refund_fen must be within 1..total_fen")
        extra = {"refund_reason": truncate_utf8(reason, 256)} if reason else {}
        data = self._call(
            lambda: self._ali.api_alipay_trade_refund(
                refund_amount=yuan(refund_fen), out_trade_no=out_trade_no, out_request_no=out_refund_no, **extra
            ),
            what="refund",
        )
        self._check(data, what="refund")
        if data.get("fund_change") == "Y":
            when = data.get("gmt_refund_pay")
            return GatewayRefund(
                out_refund_no=out_refund_no,
                state=RefundState.SUCCESS,
                refund_fen=refund_fen,
                succeeded_at=parse_cn_time(str(when)) if when else None,
            )
        # fund_change N: this call moved no money (a repeat, or still in progress) — ask what happened
        found = self.refund_query(out_trade_no=out_trade_no, out_refund_no=out_refund_no)
        return found or GatewayRefund(out_refund_no=out_refund_no, state=RefundState.PROCESSING, refund_fen=refund_fen)

    def refund_query(self, *, out_trade_no: str, out_refund_no: str) -> GatewayRefund | None:
        data = self._call(
            lambda: self._ali.api_alipay_trade_fastpay_refund_query(
                out_request_no=out_refund_no, out_trade_no=out_trade_no
            ),
            what="refund_query",
        )
        if not self._check(data, what="refund_query", allow=NOT_FOUND) or not data.get("refund_amount"):
            return None  # Alipay answers 10000 without refund_amount for a refund it does not have
        status = str(data.get("refund_status") or "REFUND_SUCCESS")
        when = data.get("gmt_refund_pay")
        return GatewayRefund(
            out_refund_no=out_refund_no,
            state=RefundState.SUCCESS if status == "REFUND_SUCCESS" else RefundState.PROCESSING,
            refund_fen=fen(str(data["refund_amount"])),
            succeeded_at=parse_cn_time(str(when)) if when else None,
        )

    # --- notifications ------------------------------------------------------------------------------------------
    def notice_parse(self, *, headers: Mapping[str, str], body: bytes, now: dt.datetime) -> Notice:
        try:
            text = body.decode("ascii")
            first = dict(parse_qsl(text, keep_blank_values=True))
            charset = first.get("charset") or "utf-8"
            fields = dict(parse_qsl(text, keep_blank_values=True, encoding=charset, errors="strict"))
        except (UnicodeDecodeError, LookupError) as exc:
            raise _forged("parse", "the body is not a form") from exc
        signature = fields.pop("sign", "")
        if not signature:
            raise _forged("signature", "no sign")
        if fields.get("sign_type") != "RSA2":
            raise _forged("signature", f"sign_type {fields.get('sign_type')!r} is not RSA2")
        try:
            ok = self._ali.verify(dict(fields), signature)
        except Exception as exc:  # AliPayException for sign types, ValueError for garbage signatures
            raise _forged("signature", f"verify() raised {type(exc).__name__}") from exc
        if not ok:
            raise _forged("signature", "the signature does not verify with the Alipay public key")
        if fields.get("app_id") != self.config.app_id:
            raise _forged("app", "notification for another app_id")
        try:
            return self._notice(fields)
        except (KeyError, ValueError) as exc:
            raise _forged("parse", f"unexpected notification content: {exc!r}") from exc

    def _notice(self, f: dict[str, str]) -> Notice:
        if f.get("notify_type", "trade_status_sync") != "trade_status_sync":
            raise _forged("unsupported", f"unsupported notify_type {f.get('notify_type')!r}")
        paid = bool(f.get("gmt_payment"))
        refunded = bool(f.get("gmt_refund") or f.get("refund_fee"))
        state = TradeState.REFUND if refunded and paid else _trade_state(f["trade_status"], paid)
        return Notice(
            provider=Provider.ALIPAY,
            kind=NoticeKind.PAYMENT,
            event_id=f["notify_id"],
            out_trade_no=f["out_trade_no"],
            transaction_id=f.get("trade_no", ""),
            trade_state=state,
            amount_fen=fen(f["total_amount"]),
            paid_at=parse_cn_time(f["gmt_payment"]) if paid else None,
            payer=f.get("buyer_id") or f.get("buyer_open_id", ""),
            out_refund_no=f.get("out_biz_no", "") if refunded else "",
            refunded_at=parse_cn_time(f["gmt_refund"]) if f.get("gmt_refund") else None,
            app_id=f["app_id"],
            raw=dict(f),
        )

    def notice_ack(self, *, ok: bool) -> NoticeAck:
        """Alipay reads the body: exactly `success`, or it notifies again."""
        return NoticeAck(status=200, content_type="text/plain; charset=utf-8", body=b"success" if ok else b"fail")

    # --- bills --------------------------------------------------------------------------------------------------
    def bill_rows(self, *, bill_date: dt.date) -> list[BillRow]:
        biz = {"bill_type": "trade", "bill_date": bill_date.isoformat()}
        data = self._call(
            lambda: self._ali.server_api("alipay.data.dataservice.bill.downloadurl.query", biz_content=dict(biz)),
            what="bill_url",
        )
        if not self._check(data, what="bill_url", allow=NO_BILL):
            return []
        url = str(data["bill_download_url"])
        if not url.startswith(("https://", "http://")):
            raise GatewayRefusedError("alipay.bill: not an http(s) URL", code="bill.url")
        content = retry.call(lambda: self._download(url), what="alipay.bill_download")
        return bills.parse_alipay_zip(content)

    def _download(self, url: str) -> bytes:
        with urlopen(url, timeout=self.config.timeout_s) as answer:  # noqa: S310 - scheme checked above
            data: bytes = answer.read()
            return data


def _forged(code: str, message: str) -> ForgedNoticeError:
    log.warning("forged or invalid Alipay notification (%s): %s", code, message)
    return ForgedNoticeError(message, code=code)


def _inner(text: str) -> dict[str, Any]:
    """The `…_response` object inside an AliPayException's message (the raw answer)."""
    match = _RAW.search(text)
    try:
        answer = json.loads(match.group(1)) if match else {}
    except ValueError:
        return {}
    for value in answer.values() if isinstance(answer, dict) else ():
        if isinstance(value, dict) and "code" in value:
            return value
    return {}
