"""Payments use cases (docs/payments.md). Callers import from here."""

from __future__ import annotations

from ._gateway import credential_config, credential_for, gateway_of, notify_url
from .credentials import (
    PROFILE_FIELDS,
    PUBLIC_FIELDS,
    credential_save,
    merchant_profile_save,
    sandbox_credentials_install,
)
from .fulfilment import register as fulfiler_register
from .notices import attempt_finish, attempt_sync, attempts_expire, notice_apply, notice_receive
from .receipt import payment_receipt_send
from .refunds import (
    TopUpRefundGateway,
    attempt_refund_book_in_tx,
    refund_send,
    refunds_resend,
    store_payment_refund,
    store_payment_refund_preview,
)
from .starts import purpose_pay_start, store_pay_direct, store_pay_quote, store_pay_start, topup_pay_start

__all__ = [
    "PROFILE_FIELDS",
    "PUBLIC_FIELDS",
    "TopUpRefundGateway",
    "attempt_finish",
    "attempt_refund_book_in_tx",
    "attempt_sync",
    "attempts_expire",
    "credential_config",
    "credential_for",
    "credential_save",
    "fulfiler_register",
    "gateway_of",
    "merchant_profile_save",
    "notice_apply",
    "notice_receive",
    "notify_url",
    "payment_receipt_send",
    "purpose_pay_start",
    "refund_send",
    "refunds_resend",
    "sandbox_credentials_install",
    "store_pay_direct",
    "store_pay_quote",
    "store_pay_start",
    "store_payment_refund",
    "store_payment_refund_preview",
    "topup_pay_start",
]
