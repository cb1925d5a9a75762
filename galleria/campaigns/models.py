"""Campaigns (docs/marketing.md, "Campaigns"): a one-off message to a segment — app inbox, SMS, a coupon — sent by
the task worker in checkpointed chunks, with a stable random hold-out group that receives nothing, so the report can
say what the campaign added. `MarketingSend` records every marketing message a member got (frequency caps, the member
page, the privacy export); `MarketingSettings` holds a group's quiet hours, weekly cap and SMS price."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.audience.models import Segment
from galleria.coupons.models import CouponTemplate
from galleria.malls.models import MallGroup
from galleria.members.models import Member

from .types import Arm, CampaignStatus, Channel, Delivery


class MarketingSettings(models.Model):
    mall_group = models.OneToOneField(MallGroup, on_delete=models.CASCADE, related_name="+")
    quiet_start = models.TimeField(_("quiet hours from"), default=dt.time(21, 0))
    quiet_end = models.TimeField(_("quiet hours until"), default=dt.time(9, 0))
    weekly_cap = models.PositiveSmallIntegerField(_("marketing messages per member per 7 days"), default=3)
    sms_cost_fen = models.BigIntegerField(_("cost of one SMS (fen)"), default=5)

    class Meta:
        verbose_name = _("marketing settings")


class Campaign(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="+")
    definition = models.JSONField(default=dict)  # the segment's definition when the campaign started
    holdout_bp = models.PositiveIntegerField(_("hold-out share (bp)"), default=1000)
    send_inbox = models.BooleanField(_("app inbox"), default=True)
    send_sms = models.BooleanField(_("SMS"), default=False)
    send_email = models.BooleanField(_("E-mail"), default=False)
    send_wechat = models.BooleanField(_("WeChat subscribe message"), default=False)
    send_push = models.BooleanField(_("Browser notification"), default=False)
    title = models.CharField(_("title"), max_length=60)
    body = models.TextField(_("message"), max_length=2000)
    sms_text = models.CharField(_("SMS text"), max_length=60, blank=True)
    coupon_template = models.ForeignKey(
        CouponTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("coupon")
    )
    grant_batch_id = models.BigIntegerField(null=True, blank=True)
    scheduled_at = models.DateTimeField(_("send at"))
    measure_days = models.PositiveSmallIntegerField(_("measured over (days)"), default=14)
    status = models.CharField(max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    members = models.PositiveIntegerField(default=0)
    treated = models.PositiveIntegerField(default=0)
    held_out = models.PositiveIntegerField(default=0)
    inbox_sent = models.PositiveIntegerField(default=0)
    sms_sent = models.PositiveIntegerField(default=0)
    email_sent = models.PositiveIntegerField(default=0)
    wechat_sent = models.PositiveIntegerField(default=0)
    push_sent = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [models.Index(fields=["status", "scheduled_at"], name="campaign_due")]
        constraints = [
            models.CheckConstraint(condition=Q(holdout_bp__lte=5000), name="campaign_holdout_max_half"),
            models.CheckConstraint(
                condition=Q(send_inbox=True)
                | Q(send_sms=True)
                | Q(send_email=True)
                | Q(send_wechat=True)
                | Q(send_push=True),
                name="campaign_has_a_channel",
            ),
        ]


class CampaignMember(models.Model):
    """One member of a started campaign, in one arm; `delivery` moves from pending exactly once, in the transaction
    that writes the member's messages (a re-run after a crash skips what was done)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    arm = models.CharField(max_length=8, choices=Arm.choices)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.PENDING)
    sms_skip = models.CharField(max_length=12, blank=True)
    sms_message_id = models.BigIntegerField(null=True, blank=True)
    inbox_message_id = models.BigIntegerField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "member"], name="campaign_member_once")]
        indexes = [models.Index(fields=["campaign", "delivery", "member"], name="campaign_member_work")]


class MarketingSend(models.Model):
    """A marketing message a member received (any channel): the weekly cap counts these."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    origin = models.CharField(max_length=40, blank=True, default="", db_default="")  # "journey:<id>:<step>"
    sent_at = models.DateTimeField()
    reference = models.CharField(max_length=40, blank=True)  # the inbox / SMS / e-mail message id
    # an e-mail's open pixel and links carry this (random, unguessable); opens and clicks are recorded once
    token = models.CharField(max_length=24, null=True, blank=True, unique=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["member", "sent_at"], name="marketing_send_member"),
            models.Index(fields=["campaign", "channel"], name="marketing_send_campaign"),
        ]
