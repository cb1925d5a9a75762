"""The audience area's tables: a derived profile per member (behaviour facts, RFM scores, lifecycle stage), tags
(automatic and manual, in groups), saved segments and the group's settings. The profile is rebuilt from the
sales and other apps' facts (nightly in full, every minute for members who just bought): it is never the only
copy of anything and may be rebuilt at any time (`galleria audience_rebuild`)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import MallGroup
from galleria.members.models import Member

from .types import TagKind, TagSource


class AudienceSettings(models.Model):
    """Per mall group: the lifecycle thresholds (days) and the RFM window."""

    mall_group = models.OneToOneField(MallGroup, on_delete=models.CASCADE, related_name="+")
    new_days = models.PositiveSmallIntegerField(_("new member (days since joining)"), default=30)
    active_days = models.PositiveSmallIntegerField(_("active (days since the last purchase)"), default=60)
    at_risk_days = models.PositiveSmallIntegerField(_("at risk up to (days)"), default=120)
    lost_days = models.PositiveSmallIntegerField(_("lost after (days)"), default=365)
    rfm_window_days = models.PositiveSmallIntegerField(_("RFM window (days)"), default=365)

    class Meta:
        verbose_name = _("audience settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(active_days__lt=models.F("at_risk_days"), at_risk_days__lt=models.F("lost_days")),
                name="audience_lifecycle_days_increase",
            )
        ]


class RfmCuts(models.Model):
    """A group's RFM quintile cuts and mean scores from the last nightly pass: the minute refresh scores the members
    who just bought against them (the cuts move slowly; the nightly pass recomputes them from everyone)."""

    mall_group = models.OneToOneField(MallGroup, on_delete=models.CASCADE, related_name="+")
    # recency is cut on the last purchase time (epoch seconds: later = better), frequency on purchases in the window,
    # monetary on net spend (fen) in the window
    r_cuts = models.JSONField(default=list)
    f_cuts = models.JSONField(default=list)
    m_cuts = models.JSONField(default=list)
    mean_r100 = models.PositiveIntegerField(default=300)
    mean_f100 = models.PositiveIntegerField(default=300)
    mean_m100 = models.PositiveIntegerField(default=300)
    scored = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)


class MemberProfile(models.Model):
    """What the member's behaviour says, one row per active member (derived; see the module docstring).

    Times are UTC; the "evening" and "weekend" counts were taken in the member's mall's local time. Windows are
    counted back from the time of the last pass (`computed_at`)."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, primary_key=True, related_name="+")
    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+", db_index=False)
    joined_at = models.DateTimeField()
    first_sale_at = models.DateTimeField(null=True, blank=True)
    last_sale_at = models.DateTimeField(null=True, blank=True)
    prev_sale_at = models.DateTimeField(null=True, blank=True)  # the purchase before the last one
    sales_count = models.PositiveIntegerField(default=0)
    spend_fen = models.BigIntegerField(default=0)  # net of refunds, lifetime
    sales_365 = models.PositiveIntegerField(default=0)  # in the RFM window
    spend_365_fen = models.BigIntegerField(default=0)
    discounted_365 = models.PositiveIntegerField(default=0)  # purchases with a coupon or promotion
    evening_365 = models.PositiveIntegerField(default=0)  # 18:00–22:59 local
    weekend_365 = models.PositiveIntegerField(default=0)  # Saturday and Sunday local
    visit_days_90 = models.PositiveSmallIntegerField(default=0)  # distinct local days with a purchase
    top_category = models.CharField(max_length=20, blank=True)
    top_merchant_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=16, blank=True)  # the channel of most purchases
    drives = models.BooleanField(default=False)  # a plate bound or a parking stay in the window
    r_score = models.PositiveSmallIntegerField(default=0)  # 1–5; 0 = no purchase in the window
    f_score = models.PositiveSmallIntegerField(default=0)
    m_score = models.PositiveSmallIntegerField(default=0)
    rfm = models.CharField(max_length=20, blank=True)
    lifecycle = models.CharField(max_length=10, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("member profile")
        verbose_name_plural = _("member profiles")
        indexes = [
            models.Index(fields=["mall_group", "rfm"], name="audience_profile_rfm"),
            models.Index(fields=["mall_group", "lifecycle"], name="audience_profile_lifecycle"),
            models.Index(fields=["mall_group", "last_sale_at"], name="audience_profile_last_sale"),
            models.Index(fields=["mall_group", "first_sale_at"], name="audience_profile_first_sale"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(r_score__lte=5, f_score__lte=5, m_score__lte=5), name="audience_profile_scores_max_5"
            )
        ]


class TagGroup(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=40)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("tag group")
        verbose_name_plural = _("tag groups")
        constraints = [models.UniqueConstraint(fields=["mall_group", "name"], name="audience_tag_group_name_unique")]


class Tag(models.Model):
    """A tag: automatic (`code` names its rule, the passes keep its members current) or manual (staff add it by
    hand or by import)."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(TagGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="tags")
    kind = models.CharField(_("kind"), max_length=8, choices=TagKind.choices)
    code = models.CharField(max_length=40, blank=True)  # automatic tags: "habit:drives"; manual: empty
    name = models.CharField(_("name"), max_length=40)
    description = models.CharField(_("description"), max_length=200, blank=True)
    member_count = models.PositiveIntegerField(default=0)  # as of the last pass (auto) / change (manual)
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [
            models.UniqueConstraint(fields=["mall_group", "name"], name="audience_tag_name_unique"),
            models.UniqueConstraint(
                fields=["mall_group", "code"], condition=~Q(code=""), name="audience_tag_code_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind="auto", code__gt="") | Q(kind="manual", code=""), name="audience_tag_code_iff_auto"
            ),
        ]


class MemberTag(models.Model):
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=8, choices=TagSource.choices)
    added_at = models.DateTimeField()
    added_by = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "member"], name="audience_member_tag_once")]


class Segment(models.Model):
    """A saved segment: its definition (rules.validate_segment's canonical form) and its last count."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=200, blank=True)
    definition = models.JSONField(default=dict)
    last_count = models.PositiveIntegerField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    is_archived = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [models.UniqueConstraint(fields=["mall_group", "name"], name="audience_segment_name_unique")]


class RefreshMark(models.Model):
    """The last sale id the minute refresh has read (one row): members with newer sales are refreshed next."""

    key = models.CharField(max_length=20, primary_key=True)
    last_sale_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
