from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.ledger.models import Transaction
from galleria.malls.models import Mall, MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Category, Merchant


class Funder(models.TextChoices):
    MALL = "mall", _("Mall")
    MERCHANT = "merchant", _("Merchant")
    SPLIT = "split", _("Split")


class ExpiryPolicy(models.TextChoices):
    NEVER = "never", _("Never expire")
    DAYS_AFTER_EARN = "days_after_earn", _("N days after earning")
    END_OF_NEXT_YEAR = "end_of_next_year", _("End of the following calendar year")


class PointsPolicy(models.Model):
    """A mall group's points settings. Earn rates are rational: `earn_points` per `earn_unit_fen` paid."""

    mall_group = models.OneToOneField(MallGroup, on_delete=models.CASCADE, related_name="points_policy")
    earn_points = models.PositiveIntegerField(_("points"), default=1)
    earn_unit_fen = models.BigIntegerField(_("per amount paid (fen)"), default=100)
    min_spend_fen = models.BigIntegerField(_("minimum spend (fen)"), default=0)
    per_sale_cap = models.PositiveIntegerField(_("cap per sale"), null=True, blank=True)
    daily_cap = models.PositiveIntegerField(_("cap per member per day"), null=True, blank=True)
    excluded_categories = models.JSONField(_("excluded item categories"), default=list, blank=True)
    excluded_skus = models.JSONField(_("excluded SKUs"), default=list, blank=True)
    funder = models.CharField(_("funded by"), max_length=10, choices=Funder.choices, default=Funder.MALL)
    merchant_share_bp = models.PositiveIntegerField(_("merchant share (bp)"), default=0)
    redeem_points_per_yuan = models.PositiveIntegerField(_("points per ¥1 when paying"), default=100)
    redeem_min_points = models.PositiveIntegerField(_("minimum points per payment"), default=100)
    redeem_multiple = models.PositiveIntegerField(_("points in whole multiples of"), default=100)
    redeem_max_share_bp = models.PositiveIntegerField(_("maximum share of a sale (bp)"), default=5000)
    expiry_policy = models.CharField(
        _("expiry"), max_length=20, choices=ExpiryPolicy.choices, default=ExpiryPolicy.END_OF_NEXT_YEAR
    )
    expiry_days = models.PositiveIntegerField(_("expiry days"), default=365)
    adjustment_approval_threshold = models.PositiveIntegerField(_("adjustments above need approval"), default=5000)

    class Meta:
        verbose_name = _("points policy")
        verbose_name_plural = _("points policies")
        constraints = [
            models.CheckConstraint(condition=Q(earn_unit_fen__gt=0), name="policy_earn_unit_positive"),
            models.CheckConstraint(condition=Q(redeem_points_per_yuan__gt=0), name="policy_redeem_rate_positive"),
            models.CheckConstraint(condition=Q(redeem_multiple__gt=0), name="policy_redeem_multiple_positive"),
            models.CheckConstraint(condition=Q(merchant_share_bp__lte=10000), name="policy_share_max"),
            models.CheckConstraint(condition=Q(redeem_max_share_bp__lte=10000), name="policy_redeem_share_max"),
        ]


class RuleScope(models.TextChoices):
    MALL = "mall", _("Mall")
    CATEGORY = "category", _("Merchant category")
    MERCHANT = "merchant", _("Merchant")


class EarnRule(models.Model):
    """Overrides the policy's base rate for a mall, a merchant category or one merchant (most specific wins:
    merchant > category > mall > policy)."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="earn_rules")
    name = models.CharField(_("name"), max_length=80)
    scope = models.CharField(_("applies to"), max_length=10, choices=RuleScope.choices)
    mall = models.ForeignKey(Mall, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(_("merchant category"), max_length=20, choices=Category.choices, blank=True)
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    earn_points = models.PositiveIntegerField(_("points"), default=1)
    earn_unit_fen = models.BigIntegerField(_("per amount paid (fen)"), default=100)
    funder = models.CharField(_("funded by"), max_length=10, choices=Funder.choices, default=Funder.MALL)
    merchant_share_bp = models.PositiveIntegerField(_("merchant share (bp)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("earn rule")
        verbose_name_plural = _("earn rules")
        constraints = [
            models.CheckConstraint(condition=Q(earn_unit_fen__gt=0), name="rule_earn_unit_positive"),
            models.CheckConstraint(condition=Q(merchant_share_bp__lte=10000), name="rule_share_max"),
            models.CheckConstraint(
                condition=Q(scope="mall", mall__isnull=False)
                | Q(scope="category", category__gt="")
                | Q(scope="merchant", merchant__isnull=False),
                name="rule_scope_target",
            ),
        ]


class PointsCampaign(models.Model):
    """A points multiplier in a window (mall-local), e.g. double points on member day. The highest applies."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="points_campaigns")
    name = models.CharField(_("name"), max_length=80)
    multiplier_bp = models.PositiveIntegerField(_("multiplier (bp)"), default=20000)
    starts_on = models.DateField(_("from (mall-local)"))
    ends_on = models.DateField(_("until (mall-local, inclusive)"))
    weekdays = models.JSONField(_("weekdays (1=Mon … 7=Sun; empty = every day)"), default=list, blank=True)
    month_days = models.JSONField(_("days of month (empty = every day)"), default=list, blank=True)
    categories = models.JSONField(_("merchant categories (empty = all)"), default=list, blank=True)
    merchant_ids = models.JSONField(_("merchants (empty = all)"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("points campaign")
        verbose_name_plural = _("points campaigns")
        constraints = [
            models.CheckConstraint(condition=Q(multiplier_bp__gte=10000), name="campaign_multiplier_at_least_1x"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_dates_ordered"),
        ]


class PointsLot(models.Model):
    """Points earned together expire together. Spending consumes lots oldest-expiry first."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_lots")
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+")
    points = models.BigIntegerField()
    remaining = models.BigIntegerField()
    earned_at = models.DateTimeField()
    expires_on = models.DateField(null=True, blank=True)  # mall-local date after which the points are gone

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0, remaining__lte=models.F("points")), name="lot_remaining_in_range"
            )
        ]
        indexes = [
            models.Index(fields=["member", "expires_on", "id"], condition=Q(remaining__gt=0), name="lot_open_idx"),
            models.Index(fields=["expires_on"], condition=Q(remaining__gt=0), name="lot_expiry_idx"),
        ]


class LotMovement(models.Model):
    """Which lots a transaction drew from (or gave back to): the audit trail of FIFO consumption."""

    lot = models.ForeignKey(PointsLot, on_delete=models.PROTECT, related_name="movements")
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+")
    points = models.BigIntegerField()  # negative = consumed, positive = given back

    class Meta:
        indexes = [models.Index(fields=["transaction"])]


class BehaviourEvent(models.TextChoices):
    SIGNUP = "signup", _("Joined")
    PROFILE_COMPLETE = "profile_complete", _("Completed profile")
    CHECKIN = "checkin", _("Daily check-in")
    FIRST_PURCHASE_AT_MERCHANT = "first_purchase_at_merchant", _("First purchase at a new merchant")
    REVIEW = "review", _("Reviewed an online order")  # once per order line (occasion line:<id>)


class BehaviourRule(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="behaviour_rules")
    event = models.CharField(_("event"), max_length=30, choices=BehaviourEvent.choices)
    points = models.PositiveIntegerField(_("points"))
    max_per_month = models.PositiveIntegerField(_("at most per month (0 = no limit)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("behaviour points rule")
        verbose_name_plural = _("behaviour points rules")
        constraints = [models.UniqueConstraint(fields=["mall_group", "event"], name="behaviour_rule_per_event")]


class BehaviourAward(models.Model):
    """One award per member, event and occasion key (the day for check-in, the merchant for first purchase):
    the unique constraint makes awarding idempotent under retries and concurrency."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    event = models.CharField(max_length=30, choices=BehaviourEvent.choices)
    occasion = models.CharField(max_length=40)
    points = models.PositiveIntegerField()
    transaction = models.ForeignKey(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    local_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "event", "occasion"], name="behaviour_award_once"),
        ]


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")


class PointsAdjustment(models.Model):
    """A customer-service correction. Above the policy's threshold it needs a second person's approval."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_adjustments")
    points = models.BigIntegerField(_("points (+ credit / − debit)"))
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=AdjustmentStatus.choices)
    requested_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("requested by")
    )
    decided_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approved or rejected by"),
    )
    decision_note = models.CharField(_("note"), max_length=200, blank=True)
    transaction = models.ForeignKey(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("points adjustment")
        verbose_name_plural = _("points adjustments")
        constraints = [models.CheckConstraint(condition=~Q(points=0), name="adjustment_non_zero")]


class ExpiryNotice(models.Model):
    """ "Points expiring within 30 days" events, one per member and expiry date; messaging sends from these."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    expires_on = models.DateField()
    points = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "expires_on"], name="expiry_notice_once")]
