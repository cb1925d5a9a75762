from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import MallGroup
from galleria.members.models import Member

from . import rules


class QualifyBy(models.TextChoices):
    SPEND = "spend", _("Rolling 12-month paid spend")
    POINTS = "points", _("Rolling 12-month qualifying points")


class TierLevel(models.Model):
    """One rung of a group's ladder (普卡 / 银卡 / 金卡 / 黑金) and the benefits other features read."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="tier_levels")
    code = models.SlugField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=40)
    rank = models.PositiveSmallIntegerField(_("rank"))  # 0 = entry tier
    threshold = models.BigIntegerField(_("threshold (fen or points)"), default=0)
    points_multiplier_bp = models.PositiveIntegerField(_("points multiplier (bp)"), default=10000)
    discount_bp = models.PositiveIntegerField(_("member discount (bp)"), default=0)
    free_parking_hours = models.PositiveSmallIntegerField(_("free parking hours"), default=0)
    birthday_gift = models.CharField(_("birthday gift"), max_length=100, blank=True)
    lounge_access = models.BooleanField(_("lounge access"), default=False)
    priority_registration = models.BooleanField(_("priority event registration"), default=False)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["mall_group_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["mall_group", "code"], name="tier_code_unique"),
            models.UniqueConstraint(fields=["mall_group", "rank"], name="tier_rank_unique"),
            models.CheckConstraint(condition=Q(points_multiplier_bp__gte=10000), name="tier_multiplier_at_least_1x"),
            models.CheckConstraint(condition=Q(discount_bp__lte=10000), name="tier_discount_max"),
        ]

    def __str__(self) -> str:
        return self.name


class TierSettings(models.Model):
    mall_group = models.OneToOneField(MallGroup, on_delete=models.CASCADE, related_name="tier_settings")
    qualify_by = models.CharField(_("qualify by"), max_length=10, choices=QualifyBy.choices, default=QualifyBy.SPEND)
    grace_months = models.PositiveSmallIntegerField(_("grace period (months)"), default=3)
    downgrade_one_step = models.BooleanField(_("downgrade one step at a time"), default=True)


class MemberTier(models.Model):
    """A member's current tier (one row per member) — the history is in TierChange."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="tier")
    level = models.ForeignKey(TierLevel, on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField()
    grace_until = models.DateField(null=True, blank=True)
    override_until = models.DateField(null=True, blank=True)


class TierChangeReason(models.TextChoices):
    JOIN = rules.JOIN, _("Joined")
    UPGRADE = rules.UPGRADE, _("Qualified for a higher tier")
    DOWNGRADE = rules.DOWNGRADE, _("Fell short after the grace period")
    GRACE = rules.GRACE, _("Fell short: grace period started")
    REQUALIFIED = rules.REQUALIFIED, _("Qualified again during the grace period")
    OVERRIDE = rules.OVERRIDE, _("Manual override")
    OVERRIDE_END = rules.OVERRIDE_END, _("Override ended")
    IMPORT = rules.IMPORT, _("Imported from the previous system")
    MERGE = rules.MERGE, _("Kept from a merged duplicate")


class TierChange(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tier_changes")
    from_level = models.ForeignKey(TierLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_level = models.ForeignKey(TierLevel, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=15, choices=TierChangeReason.choices)
    note = models.CharField(max_length=200, blank=True)
    actor_label = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        indexes = [models.Index(fields=["member", "-at"])]


class TierSpend(models.Model):
    """Append-only qualifying amounts: + on a sale, − on a refund. The rolling 12-month sum is the qualifying amount.

    Sales feed it through `services.tier_record_spend_in_tx`; a correction is a new row, never an edit. `source`
    ("sale:123", "refund:45") is unique per group, so the same movement cannot be counted twice.
    """

    # covered by the unique (mall_group, source) and the (member, occurred_at) index: one index fewer each per sale
    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tier_spends", db_index=False)
    amount_fen = models.BigIntegerField(_("qualifying spend (fen)"))
    points = models.BigIntegerField(_("qualifying points"), default=0)
    occurred_at = models.DateTimeField(_("occurred at"))
    source = models.CharField(_("source"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("qualifying spend")
        verbose_name_plural = _("qualifying spends")
        constraints = [models.UniqueConstraint(fields=["mall_group", "source"], name="tier_spend_source_unique")]
        indexes = [models.Index(fields=["member", "occurred_at"], name="tier_spend_member_at")]


class TierRun(models.Model):
    """Checkpoint of the daily re-evaluation of one group: the job resumes after `last_member_id`."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    run_on = models.DateField()
    last_member_id = models.BigIntegerField(default=0)
    members_seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    changes = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tier review run")
        verbose_name_plural = _("tier review runs")
        constraints = [models.UniqueConstraint(fields=["mall_group", "run_on"], name="tier_run_unique_per_day")]
