"""Messaging use cases: the SMS, e-mail, WeChat and web push outboxes with their delivery, SMS receipts and WeChat
events, WeChat subscription quotas, browser push subscriptions, the in-app inbox. Callers import from here
(docs/messaging.md). One entry point per channel for the layers above: `sms_queue`, `email_queue`, `wechat_queue`,
`push_queue` (each writes the outbox row and enqueues its delivery in the caller's transaction); which members a
channel can reach: `messaging.selectors.channels_reachable`."""

from __future__ import annotations

from ..selectors import Reachability, channels_reachable  # re-exported: the layers above read reachability here too
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
from .member_data import channels_member_erase
from .push_delivery import (
    push_deliver,
    push_queue,
    push_retry_due,
    push_subscription_delete,
    push_subscription_save,
    vapid_public,
    vapid_rotate,
)
from .receipts import sms_receipt_token_ok, sms_receipts_apply, sms_receipts_receive
from .sms_delivery import sms_deliver, sms_prune, sms_queue, sms_redact_phone, sms_retry_due
from .wechat_delivery import (
    wechat_deliver,
    wechat_echo,
    wechat_events_receive,
    wechat_queue,
    wechat_retry_due,
    wechat_subscribe_template_ids,
    wechat_subscription_record,
)

__all__ = [
    "INBOX_BODY_MAX",
    "INBOX_TITLE_MAX",
    "Reachability",
    "channels_member_erase",
    "channels_reachable",
    "email_deliver",
    "email_queue",
    "email_redact_address",
    "email_retry_due",
    "inbox_mark_all_read",
    "inbox_mark_read",
    "inbox_send",
    "inbox_send_members_in_tx",
    "inbox_text_problems",
    "push_deliver",
    "push_queue",
    "push_retry_due",
    "push_subscription_delete",
    "push_subscription_save",
    "sms_deliver",
    "sms_prune",
    "sms_queue",
    "sms_receipt_token_ok",
    "sms_receipts_apply",
    "sms_receipts_receive",
    "sms_redact_phone",
    "sms_retry_due",
    "vapid_public",
    "vapid_rotate",
    "wechat_deliver",
    "wechat_echo",
    "wechat_events_receive",
    "wechat_queue",
    "wechat_retry_due",
    "wechat_subscribe_template_ids",
    "wechat_subscription_record",
]
