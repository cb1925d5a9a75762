from __future__ import annotations

from django.db import models
from django.utils.translation import pgettext_lazy


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("campaign", "Draft")
    SCHEDULED = "scheduled", pgettext_lazy("campaign", "Scheduled")
    SENDING = "sending", pgettext_lazy("campaign", "Sending")
    SENT = "sent", pgettext_lazy("campaign", "Sent")
    CANCELLED = "cancelled", pgettext_lazy("campaign", "Cancelled")


class Arm(models.TextChoices):
    TREATED = "treated", pgettext_lazy("campaign arm", "Receives the campaign")
    HOLDOUT = "holdout", pgettext_lazy("campaign arm", "Hold-out")


class Delivery(models.TextChoices):
    PENDING = "pending", pgettext_lazy("campaign delivery", "Waiting")
    SENT = "sent", pgettext_lazy("campaign delivery", "Sent")
    SKIPPED = "skipped", pgettext_lazy("campaign delivery", "Not sent")
    HELD_OUT = "held_out", pgettext_lazy("campaign delivery", "Held out")


class Channel(models.TextChoices):
    INBOX = "inbox", pgettext_lazy("marketing channel", "App inbox")
    SMS = "sms", pgettext_lazy("marketing channel", "SMS")
    EMAIL = "email", pgettext_lazy("marketing channel", "E-mail")
    WECHAT = "wechat", pgettext_lazy("marketing channel", "WeChat subscribe message")
    PUSH = "push", pgettext_lazy("marketing channel", "Browser notification")


# why a treated member got nothing on a channel
SKIP_REASONS = {
    "no_consent": pgettext_lazy("campaign skip", "no marketing consent for SMS"),
    "no_phone": pgettext_lazy("campaign skip", "no phone number"),
    "capped": pgettext_lazy("campaign skip", "already reached the weekly limit of messages"),
}
