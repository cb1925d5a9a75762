"""The one contract Galleria needs from a payment gateway (WeChat Pay API v3, Alipay), whoever runs it.

An adapter (`wechat.py`, `alipay.py`) is built on the provider's maintained SDK and talks HTTP to a base URL: the
real gateway in production, the protocol-faithful sandbox (`galleria.payments.sandbox`, a separate process) in the
demo and the tests — the same code path, only configuration differs. It converts fen to and from the wire units,
retries idempotent outbound calls with backoff (stamina), and turns the SDK's tuples and dicts into the frozen
dataclasses below. It holds no database state: the payments services own attempts, refunds and notices.

Errors: `GatewayUnavailableError` (network, timeout, 5xx, 429 — after the retries), `GatewayRefusedError` (a
business answer: order exists with another body, refund above what is left, …; `code` is the provider's),
`ForgedNoticeError` (a notification that does not verify: wrong signature, unknown serial, stale timestamp, wrong
APIv3 key, tampered body; the caller logs it and changes nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Provider(StrEnum):
    WECHAT = "wechat"
    ALIPAY = "alipay"


class PayKind(StrEnum):
    """How the member pays: WeChat JSAPI (inside WeChat / mini-program), H5 (mobile browser), Native (QR shown on a
    screen); Alipay WAP (mobile browser), PAGE (desktop), PRECREATE (QR)."""

    JSAPI = "jsapi"
    H5 = "h5"
    NATIVE = "native"
    WAP = "wap"
    PAGE = "page"
    PRECREATE = "precreate"


class TradeState(StrEnum):
    """A trade at the gateway, mapped from WeChat's trade_state / Alipay's trade_status."""

    NOTPAY = "notpay"  # created, not paid (WeChat NOTPAY, Alipay WAIT_BUYER_PAY)
    PAYING = "paying"  # WeChat USERPAYING
    SUCCESS = "success"  # paid (WeChat SUCCESS, Alipay TRADE_SUCCESS / TRADE_FINISHED)
    REFUND = "refund"  # paid, then (partly) refunded (WeChat REFUND)
    CLOSED = "closed"  # closed / revoked / timed out unpaid (WeChat CLOSED/REVOKED, Alipay TRADE_CLOSED unpaid)
    FAILED = "failed"  # WeChat PAYERROR


class RefundState(StrEnum):
    PROCESSING = "processing"
    SUCCESS = "success"
    CLOSED = "closed"
    ABNORMAL = "abnormal"


class NoticeKind(StrEnum):
    PAYMENT = "payment"  # WeChat TRANSACTION.SUCCESS, Alipay trade_status_sync
    REFUND = "refund"  # WeChat REFUND.SUCCESS|ABNORMAL|CLOSED (Alipay refunds answer synchronously)
    MALL_PAYMENT = "mall_payment"  # WeChat 智慧商圈 MALL_TRANSACTION.SUCCESS
    MALL_REFUND = "mall_refund"  # MALL_REFUND.SUCCESS
    MALL_AUTH = "mall_auth"  # MALL_AUTH.ACTIVATE_CARD


@dataclass(frozen=True)
class GatewayConfig:
    """One merchant account at one provider (per mall group). Secrets are PEM / key strings, already decrypted."""

    provider: Provider
    base_url: str  # "https://api.mch.weixin.qq.com" | "https://openapi.alipay.com/gateway.do" | sandbox URL
    app_id: str  # WeChat appid / Alipay app_id
    mch_id: str = ""  # WeChat merchant number (mchid); empty for Alipay
    private_key: str = ""  # our private key (WeChat merchant API key / Alipay app private key), PKCS#8 PEM
    cert_serial_no: str = ""  # WeChat: serial of our merchant API certificate
    platform_public_key: str = ""  # WeChat platform public key / Alipay public key, SPKI PEM
    platform_public_key_id: str = ""  # WeChat: "PUB_KEY_ID_…", must equal the Wechatpay-Serial header
    apiv3_key: str = ""  # WeChat: 32 ASCII characters (AES-256-GCM of notification resources)
    notify_url: str = ""  # where the gateway posts notifications for this account
    timeout_s: float = 10.0


@dataclass(frozen=True)
class PayStart:
    """What the member's device needs to pay. `payload` by kind:
    JSAPI {"appId","timeStamp","nonceStr","package","signType","paySign"} (for WeixinJSBridge / wx.requestPayment);
    H5 {"h5_url"}; NATIVE {"code_url"}; WAP/PAGE {"url"} (redirect the browser); PRECREATE {"qr_code"}."""

    kind: PayKind
    payload: Mapping[str, str]


@dataclass(frozen=True)
class GatewayTrade:
    out_trade_no: str
    state: TradeState
    amount_fen: int  # what the trade was for
    paid_fen: int | None = None  # what the payer paid (None until paid)
    transaction_id: str = ""  # the gateway's id (WeChat transaction_id, Alipay trade_no)
    paid_at: dt.datetime | None = None  # aware
    payer: str = ""  # WeChat openid / Alipay buyer_id


@dataclass(frozen=True)
class GatewayRefund:
    out_refund_no: str
    state: RefundState
    refund_fen: int
    refund_id: str = ""
    succeeded_at: dt.datetime | None = None


@dataclass(frozen=True)
class Notice:
    """A verified notification. `event_id` is unique per provider (WeChat `id`, Alipay `notify_id`); redeliveries
    of the same event carry the same id. Fields not carried by a kind are left empty. `raw` is the decrypted
    resource / the form fields, for the notice log (never re-verified)."""

    provider: Provider
    kind: NoticeKind
    event_id: str
    out_trade_no: str = ""
    transaction_id: str = ""
    trade_state: TradeState | None = None
    amount_fen: int | None = None  # trade total (payment), or the paid amount of a 商圈 payment
    paid_at: dt.datetime | None = None
    payer: str = ""  # openid / buyer_id
    out_refund_no: str = ""
    refund_id: str = ""
    refund_state: RefundState | None = None
    refund_fen: int | None = None
    refunded_at: dt.datetime | None = None  # aware; when the refund succeeded (WeChat success_time / refund_time)
    mch_id: str = ""  # 商圈: the paying shop's WeChat merchant number
    shop_number: str = ""  # 商圈: the shop's number at WeChat
    app_id: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NoticeAck:
    """What to answer the gateway: WeChat wants 200/204 (else it retries), Alipay the body `success`."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class BillRow:
    """One line of the gateway's daily trade bill, in fen."""

    out_trade_no: str
    transaction_id: str
    kind: str  # "payment" | "refund"
    amount_fen: int  # payment: order amount; refund: refund amount
    fee_fen: int
    occurred_at: dt.datetime | None
    out_refund_no: str = ""
    refund_id: str = ""


class GatewayError(Exception):
    def __init__(self, message: str = "", *, code: str = "") -> None:
        super().__init__(message or code)
        self.code = code


class GatewayUnavailableError(GatewayError):
    """The gateway could not be reached or failed (network, timeout, 5xx, 429) after the retries."""


class GatewayRefusedError(GatewayError):
    """The gateway answered with a business refusal; `code` is the provider's (e.g. ORDER_NOT_EXIST,
    ACQ.TRADE_NOT_EXIST, INVALID_REQUEST)."""


class ForgedNoticeError(GatewayError):
    """A notification that does not verify. `code` says why: signature, serial, timestamp, decrypt, app, parse."""


class Gateway(Protocol):
    """One provider account. Every outbound call is idempotent at the gateway per our reference (out_trade_no,
    out_refund_no) and is retried with backoff on GatewayUnavailableError causes; never retry a refusal."""

    config: GatewayConfig

    def pay_start(
        self,
        *,
        kind: PayKind,
        out_trade_no: str,  # ≤ 32 characters, [A-Za-z0-9_-]
        amount_fen: int,
        description: str,  # ≤ 127 bytes (WeChat) — the adapter truncates safely
        expires_at: dt.datetime,  # aware; the gateway closes the trade after it
        payer: str = "",  # JSAPI: the member's openid (required there)
        client_ip: str = "",  # H5: the payer's IP (required there)
        return_url: str = "",  # H5 / WAP / PAGE: where the browser goes back after paying
        attach: str = "",  # echoed back in notifications and queries (≤ 127 bytes)
        profit_sharing: bool = False,  # WeChat: freeze the funds for 分账
    ) -> PayStart: ...

    def trade_query(self, *, out_trade_no: str) -> GatewayTrade | None:
        """None when the gateway does not know the trade (WeChat ORDER_NOT_EXIST, Alipay ACQ.TRADE_NOT_EXIST)."""
        ...

    def trade_close(self, *, out_trade_no: str) -> None:
        """Close an unpaid trade. Closing an already closed trade is not an error."""
        ...

    def refund_start(
        self, *, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int, reason: str = ""
    ) -> GatewayRefund: ...

    def refund_query(self, *, out_trade_no: str, out_refund_no: str) -> GatewayRefund | None: ...

    def notice_parse(self, *, headers: Mapping[str, str], body: bytes, now: dt.datetime) -> Notice:
        """Verify and decode one notification (headers as received, any case; body as received). Raises
        ForgedNoticeError for anything that does not verify; never makes a network call."""
        ...

    def notice_ack(self, *, ok: bool) -> NoticeAck: ...

    def bill_rows(self, *, bill_date: dt.date) -> list[BillRow]:
        """Download and parse the trade bill of one day (WeChat tradebill ALL with the SHA1 checked after
        gunzip; Alipay trade bill zip). An empty day is an empty list."""
        ...


class MallGateway(Gateway, Protocol):
    """WeChat Pay only: 智慧商圈 (business-circle points) and 分账 (profit sharing)."""

    def mall_points_notify(
        self,
        *,
        transaction_id: str,
        openid: str,
        earned: bool,
        points: int,
        updated_at: dt.datetime,
        no_points_reason: str = "",
        total_points: int | None = None,
    ) -> None:
        """POST /v3/businesscircle/points/notify (called through the SDK core: the SDK's own method refuses
        earned=False / points=0)."""
        ...

    def mall_user_authorized(self, *, openid: str) -> bool:
        """GET /v3/businesscircle/user-authorizations/{openid}: has the member authorised 商圈 points?"""
        ...

    def profit_share(
        self,
        *,
        transaction_id: str,
        out_order_no: str,
        receivers: list[ProfitShareReceiver],
        unfreeze_unsplit: bool,
    ) -> ProfitShareResult: ...

    def profit_share_query(self, *, transaction_id: str, out_order_no: str) -> ProfitShareResult | None: ...

    def profit_share_add_receiver(self, *, receiver: ProfitShareReceiver) -> None: ...

    def profit_share_unsplit(self, *, transaction_id: str) -> int:
        """Fen of the transaction still available to share (GET /v3/profitsharing/transactions/{id}/amounts)."""
        ...


@dataclass(frozen=True)
class ProfitShareReceiver:
    type: str  # "MERCHANT_ID" | "PERSONAL_OPENID"
    account: str
    amount_fen: int
    description: str
    name: str = ""  # encrypted by the adapter with the platform public key (a fresh copy per attempt)
    relation_type: str = "STORE"  # for add_receiver


@dataclass(frozen=True)
class ProfitShareResult:
    out_order_no: str
    order_id: str
    state: str  # "PROCESSING" | "FINISHED"
    receivers: list[Mapping[str, Any]]  # per receiver: account, amount, result (PENDING/SUCCESS/CLOSED), fail_reason
