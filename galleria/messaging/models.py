from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .types import Audience as Audience
from .types import EmailStatus as EmailStatus
from .types import SmsStatus as SmsStatus


class SmsMessage(models.Model):
    """The SMS outbox: every message is written here first, then delivered by the configured backend.

    `body` is the text in the member's language (what the outbox backend logs, what developers read); providers
    receive `params` for their approved template instead. A message in doubt (`in_doubt`: the last attempt may have
    reached the provider — a timeout, a lost answer, a worker that died mid-send) is looked up at the provider by
    its `out_id` before any new attempt. `next_attempt_at` is when a queued message's retry is due (also the lease
    of the attempt running now). The receipt (状态报告) sets `reported_at`, `receipt_code` and, when it reached the
    phone, `delivered_at`."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    phone = models.CharField(max_length=20, db_index=True)
    template = models.CharField(max_length=40)
    body = models.CharField(max_length=500)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=SmsStatus.choices, default=SmsStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    provider = models.CharField(max_length=20, blank=True)
    provider_ref = models.CharField(max_length=80, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    error_code = models.CharField(max_length=80, blank=True)
    in_doubt = models.BooleanField(default=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempt_log = models.JSONField(default=list, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    receipt_code = models.CharField(max_length=80, blank=True)

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        indexes = [
            models.Index(fields=["provider_ref"], name="sms_provider_ref"),
            models.Index(fields=["status", "next_attempt_at"], name="sms_status_next_attempt"),
        ]

    @property
    def out_id(self) -> str:
        """Galleria's id of the message at the provider (Aliyun OutId, Tencent SessionContext)."""
        return f"gsms-{self.pk}"


class EmailMessage(models.Model):
    """The e-mail outbox: written first (in the caller's transaction), then delivered over SMTP by a task, with
    retries. `message_id` is the Message-ID header, the same on every attempt."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    to = models.EmailField(max_length=254, db_index=True)
    template = models.CharField(max_length=40, blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    error_code = models.CharField(max_length=80, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempt_log = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("e-mail message")
        verbose_name_plural = _("e-mail messages")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="email_status_next_attempt")]


class InboxMessage(models.Model):
    """A message in the member app's inbox (the in-app channel), stored once whatever its audience.

    Who sees it is decided when a member reads the inbox, not by writing a row per member: `all` = every member of
    the group who joined before it was sent; `tier` = members currently in `tier_level_id` who joined before it
    was sent; `member` = that one member. Messaging sits below members and tiers, so those two are plain ids
    (the console checks them in the sender's scope before sending)."""

    mall_group = models.ForeignKey("malls.MallGroup", on_delete=models.PROTECT, related_name="+")
    audience = models.CharField(_("audience"), max_length=8, choices=Audience.choices)
    tier_level_id = models.BigIntegerField(null=True, blank=True)
    member_id = models.BigIntegerField(null=True, blank=True)
    title = models.CharField(_("title"), max_length=60)
    body = models.TextField(_("message"), max_length=2000)
    sent_at = models.DateTimeField(_("sent at"), db_index=True)
    sent_by = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("inbox message")
        verbose_name_plural = _("inbox messages")
        indexes = [
            models.Index(fields=["mall_group", "audience", "sent_at"], name="inbox_group_audience_sent"),
            models.Index(fields=["member_id", "sent_at"], name="inbox_member_sent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(audience="all", tier_level_id__isnull=True, member_id__isnull=True)
                    | models.Q(audience="tier", tier_level_id__isnull=False, member_id__isnull=True)
                    | models.Q(audience="member", tier_level_id__isnull=True, member_id__isnull=False)
                ),
                name="inbox_message_audience_target",
            )
        ]


class InboxRead(models.Model):
    """One row per (message, member) once the member has opened it: the only per-member row a message gets."""

    message = models.ForeignKey(InboxMessage, on_delete=models.CASCADE, related_name="reads")
    member_id = models.BigIntegerField()
    read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "member_id"], name="inbox_read_once")]
        indexes = [models.Index(fields=["member_id"], name="inbox_read_member")]
