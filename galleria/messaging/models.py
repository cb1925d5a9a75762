from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .types import Audience as Audience
from .types import EmailStatus as EmailStatus
from .types import PushStatus as PushStatus
from .types import SmsStatus as SmsStatus
from .types import WechatChannel as WechatChannel
from .types import WechatStatus as WechatStatus


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


class WechatMessage(models.Model):
    """The WeChat outbox: a mini-program subscribe message, an official-account template message or a WeCom customer
    message (`channel`), written in the caller's transaction and delivered by a task, like the SMS outbox.

    `recipient` is the openid of the member in the sending app (mini-program or official account) or, for WeCom, the
    external_userid; `sender` is the WeCom staff userid. `data` holds the template's keyword values as sent
    (`{"thing1": "…", "time2": "…"}`) and `params` the Galleria template's values they came from. `member_id` is a
    plain id (messaging sits below members). A subscribe message consumes one of the member's accepts of that
    template (`WechatSubscription`) when it is claimed for its first attempt; without one it is `skipped` with
    `error_code` `quota.none` and never sent. `provider_ref` is WeChat's msgid, which the push event
    (subscribe_msg_sent_event / TEMPLATESENDJOBFINISH) carries back."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    member_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    channel = models.CharField(max_length=10, choices=WechatChannel.choices)
    recipient = models.CharField(max_length=128, blank=True)
    sender = models.CharField(max_length=64, blank=True)
    template = models.CharField(max_length=40)
    template_id = models.CharField(max_length=128, blank=True)
    params = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    page = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=WechatStatus.choices, default=WechatStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    quota_taken = models.BooleanField(default=False)
    provider_ref = models.CharField(max_length=80, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    error_code = models.CharField(max_length=80, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempt_log = models.JSONField(default=list, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    receipt_code = models.CharField(max_length=80, blank=True)

    class Meta:
        verbose_name = _("WeChat message")
        verbose_name_plural = _("WeChat messages")
        indexes = [
            models.Index(fields=["provider_ref"], name="wechat_provider_ref"),
            models.Index(fields=["status", "next_attempt_at"], name="wechat_status_next_attempt"),
        ]


class WechatSubscription(models.Model):
    """A member's remaining accepts of one mini-program subscribe-message template (wx.requestSubscribeMessage):
    each accept allows one send (一次性订阅), each send takes one. Keyed by the openid that accepted it."""

    member_id = models.BigIntegerField(db_index=True)
    openid = models.CharField(max_length=128)
    template_id = models.CharField(max_length=128)
    remaining = models.PositiveIntegerField(default=0)
    accepted_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["openid", "template_id"], name="wechat_subscription_once"),
            models.CheckConstraint(condition=models.Q(remaining__lte=1000), name="wechat_subscription_bounded"),
        ]


class WechatToken(models.Model):
    """Access tokens of the WeChat apps (mini-program, official account, WeCom), shared by every process: one row per
    app key, replaced when refreshed. The token expires after `expires_at` (WeChat's expires_in less a margin)."""

    key = models.CharField(max_length=100, unique=True)
    token = models.CharField(max_length=600)
    expires_at = models.DateTimeField()


class PushSubscription(models.Model):
    """A browser's Web Push subscription (PushSubscription.toJSON()) of a member: the push service's endpoint and the
    keys the payload is encrypted to (RFC 8291). Deleted when the push service answers 404/410."""

    member_id = models.BigIntegerField(db_index=True)
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=120)
    auth = models.CharField(max_length=40)
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_code = models.CharField(max_length=40, blank=True)


class PushMessage(models.Model):
    """The web push outbox: one row per (message, subscription), written in the caller's transaction and delivered by
    a task. `subscription` is cleared when the subscription is deleted (gone at the push service, or unsubscribed)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    member_id = models.BigIntegerField(db_index=True)
    subscription = models.ForeignKey(PushSubscription, null=True, on_delete=models.SET_NULL, related_name="+")
    template = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=100)
    body = models.CharField(max_length=500, blank=True)
    url = models.CharField(max_length=500, blank=True)
    ttl_s = models.PositiveIntegerField(default=86400)
    status = models.CharField(max_length=10, choices=PushStatus.choices, default=PushStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    error_code = models.CharField(max_length=80, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempt_log = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="push_status_next_attempt")]


class VapidKey(models.Model):
    """This installation's VAPID key pair (one row): the private key sealed at rest (`secrets.py`), the public key
    (the browser's applicationServerKey, base64url of the uncompressed P-256 point) in clear."""

    private_key_sealed = models.TextField()
    public_key = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
