"""Messaging use cases: the SMS and e-mail outboxes with their delivery, SMS receipts, the in-app inbox.
Callers import from here (docs/messaging.md)."""

from __future__ import annotations

from .email_delivery import email_deliver, email_queue, email_redact_address, email_retry_due
from .inbox import (
    INBOX_BODY_MAX,
    INBOX_TITLE_MAX,
    inbox_mark_all_read,
    inbox_mark_read,
    inbox_send,
    inbox_send_members_in_tx,
    inbox_text_problems,
)
from .receipts import sms_receipt_token_ok, sms_receipts_apply, sms_receipts_receive
from .sms_delivery import sms_deliver, sms_prune, sms_queue, sms_redact_phone, sms_retry_due

__all__ = [
    "INBOX_BODY_MAX",
    "INBOX_TITLE_MAX",
    "email_deliver",
    "email_queue",
    "email_redact_address",
    "email_retry_due",
    "inbox_mark_all_read",
    "inbox_mark_read",
    "inbox_send",
    "inbox_send_members_in_tx",
    "inbox_text_problems",
    "sms_deliver",
    "sms_prune",
    "sms_queue",
    "sms_receipt_token_ok",
    "sms_receipts_apply",
    "sms_receipts_receive",
    "sms_redact_phone",
    "sms_retry_due",
]
