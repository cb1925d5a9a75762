"""Enums of this app that other apps may use (import them from here, not from models)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SmsStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")  # waiting for its first attempt or for a retry (next_attempt_at)
    SENT = "sent", _("Sent")  # the provider accepted it
    DELIVERED = "delivered", _("Delivered")  # the provider's receipt says it reached the phone
    FAILED = "failed", _("Failed")  # refused for good, out of attempts, or the receipt says undelivered


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")  # the SMTP server accepted it
    FAILED = "failed", _("Failed")


class Audience(models.TextChoices):
    ALL = "all", _("All members")
    TIER = "tier", _("Members of one tier")
    MEMBER = "member", _("One member")


class WechatChannel(models.TextChoices):
    SUBSCRIBE = "subscribe", _("Mini-program subscribe message")  # 订阅消息, needs the member's accept (quota)
    TEMPLATE = "template", _("Official-account template message")  # 模板消息
    WECOM = "wecom", _("WeCom customer message")  # 企业微信 add_msg_template: the staff member confirms the send


class WechatStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")  # WeChat accepted it (errcode 0, a msgid)
    DELIVERED = "delivered", _("Delivered")  # the push event says it reached the user
    FAILED = "failed", _("Failed")  # refused for good, out of attempts, or the event says it was not delivered
    SKIPPED = "skipped", _("Skipped")  # not sent at all: no subscription quota, no recipient (`error_code` says why)


class PushStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")  # the push service accepted it (201)
    FAILED = "failed", _("Failed")  # refused for good, out of attempts, or the subscription is gone (404/410)
