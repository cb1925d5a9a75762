"""Coupons and promotions: templates, coupon instances, stock shards, redemptions, promotions, grant batches.

Inventory lives in `CouponStockShard` rows (a template's total split over a few shards, CHECK remaining >= 0):
a claim decrements one shard it can lock without waiting (SKIP LOCKED), so concurrent claims neither oversell nor
queue on one hot row. Redemption at the till locks only the coupon rows (primary-key order), never the template.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import Mall, MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Merchant

from . import rules


class CouponKind(models.TextChoices):
    CASH_OFF = rules.CASH_OFF, _("Cash voucher")
    PERCENT = rules.PERCENT, _("Percentage off")
    THRESHOLD = rules.THRESHOLD, _("Spend X, get Y off")
    PER_THRESHOLD = rules.PER_THRESHOLD, _("Every X spent, Y off")
    N_ITEMS = rules.N_ITEMS, _("Buy N items, get a discount")
    PER_ITEM = rules.PER_ITEM, _("Amount off each item")
    UNIT_PRICE = rules.UNIT_PRICE, _("Special price per item")
    EXCHANGE = rules.EXCHANGE, _("Exchange for an item")
    PARKING = rules.PARKING, _("Parking hours")
    SHIPPING = rules.SHIPPING, _("Free shipping")


class ScopeKind(models.TextChoices):
    ALL = "all", _("All merchants")
    CATEGORIES = "categories", _("Merchant categories")
    MERCHANTS = "merchants", _("Selected merchants")
    SKUS = "skus", _("Selected products")


class Channel(models.TextChoices):
    OFFLINE = "offline", _("In store")
    ONLINE = "online", _("Online")
    BOTH = "both", _("In store and online")


class ValidityKind(models.TextChoices):
    FIXED = "fixed", _("Fixed dates")
    RELATIVE = "relative", _("Days after claim")


class Funder(models.TextChoices):
    MALL = "mall", _("Mall")
    MERCHANT = "merchant", _("Merchant")
    SPLIT = "split", _("Shared")


class ClaimMethod(models.TextChoices):
    FREE = "free", _("Free")
    POINTS = "points", _("For points")
    PRICE = "price", _("For a price")


class Trigger(models.TextChoices):
    NONE = "none", _("None (claim centre or staff grant)")
    JOIN = "join", _("Member joins")
    TIER_UPGRADE = "tier_upgrade", _("Tier upgrade")
    BIRTHDAY = "birthday", _("Birthday")
    SPEND = "spend", _("Purchase (spend reward)")


class ThresholdLossPolicy(models.TextChoices):
    DEDUCT = "deduct", _("Deduct the lost discount from the refund")
    KEEP = "keep", _("Let the shopper keep the discount")


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class CouponTemplate(models.Model):
    """A kind of coupon. Status only governs issuance (claims, grants, triggers); coupons already held stay
    usable until their own validity ends (staff void them one by one if needed)."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    mall = models.ForeignKey(Mall, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CouponKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=TemplateStatus.choices, default="draft")
    # value
    value_fen = models.BigIntegerField(_("amount off"), default=0)
    percent_off_bp = models.PositiveIntegerField(_("percent off (basis points)"), default=0)
    max_discount_fen = models.BigIntegerField(_("maximum discount"), null=True, blank=True)
    threshold_fen = models.BigIntegerField(_("minimum spend / step"), default=0)
    min_items = models.PositiveIntegerField(_("minimum items"), default=0)
    unit_price_fen = models.BigIntegerField(_("special price per item"), default=0)
    max_units = models.PositiveIntegerField(_("discounted items per purchase"), null=True, blank=True)
    exchange_item = models.CharField(_("exchange item"), max_length=100, blank=True)
    parking_hours = models.PositiveSmallIntegerField(_("parking hours"), default=0)
    # scope
    scope_kind = models.CharField(_("scope"), max_length=12, choices=ScopeKind.choices, default=ScopeKind.ALL)
    scope_categories = models.JSONField(_("merchant categories"), default=list, blank=True)
    scope_merchant_ids = models.JSONField(_("merchants"), default=list, blank=True)
    scope_skus = models.JSONField(_("products (SKU)"), default=list, blank=True)
    excluded_merchant_ids = models.JSONField(_("excluded merchants"), default=list, blank=True)
    excluded_skus = models.JSONField(_("excluded products"), default=list, blank=True)
    excluded_line_categories = models.JSONField(_("excluded product categories"), default=list, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.BOTH)
    # validity
    validity_kind = models.CharField(_("validity"), max_length=10, choices=ValidityKind.choices, default="fixed")
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveSmallIntegerField(_("valid days after claim"), default=0)
    claim_starts_at = models.DateTimeField(_("claims open"), null=True, blank=True)
    claim_ends_at = models.DateTimeField(_("claims close"), null=True, blank=True)
    days_of_week = models.JSONField(_("days of week (1 = Monday)"), default=list, blank=True)
    hours_from = models.TimeField(_("usable from (mall time)"), null=True, blank=True)
    hours_until = models.TimeField(_("usable until (mall time)"), null=True, blank=True)
    # limits
    total_quantity = models.PositiveIntegerField(_("total quantity"), null=True, blank=True)
    per_member_limit = models.PositiveIntegerField(_("per member"), null=True, blank=True)
    per_member_daily_limit = models.PositiveIntegerField(_("per member per day"), null=True, blank=True)
    min_tier_rank = models.PositiveSmallIntegerField(_("minimum tier rank"), default=0)
    new_members_only = models.BooleanField(_("new members only"), default=False)
    new_member_days = models.PositiveSmallIntegerField(_("new member = joined within days"), default=30)
    # funding and stacking
    funder = models.CharField(_("funded by"), max_length=10, choices=Funder.choices, default=Funder.MALL)
    merchant_share_bp = models.PositiveIntegerField(_("merchant share (basis points)"), default=0)
    stacking_group = models.CharField(_("stacking group"), max_length=30, blank=True)
    is_exclusive = models.BooleanField(_("cannot be combined"), default=False)
    max_per_sale = models.PositiveSmallIntegerField(_("at most per purchase"), default=1)
    # distribution
    is_claimable = models.BooleanField(_("in the claim centre"), default=True)
    claim_method = models.CharField(_("claim for"), max_length=8, choices=ClaimMethod.choices, default="free")
    claim_points = models.PositiveIntegerField(_("points price"), default=0)
    claim_price_fen = models.BigIntegerField(_("price"), default=0)
    trigger = models.CharField(_("issued on"), max_length=14, choices=Trigger.choices, default=Trigger.NONE)
    trigger_tier_rank = models.PositiveSmallIntegerField(_("issued on reaching tier rank"), default=0)
    trigger_spend_fen = models.BigIntegerField(_("issued on spending at least"), default=0)
    # refunds
    on_threshold_loss = models.CharField(
        _("when a refund breaks the minimum"),
        max_length=8,
        choices=ThresholdLossPolicy.choices,
        default=ThresholdLossPolicy.DEDUCT,
    )
    restore_on_refund = models.BooleanField(_("give the coupon back on a full refund"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        indexes = [
            models.Index(fields=["mall_group", "status", "trigger"]),
            models.Index(fields=["merchant", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(value_fen__gte=0, threshold_fen__gte=0, claim_price_fen__gte=0, trigger_spend_fen__gte=0),
                name="coupon_template_amounts_non_negative",
            ),
            models.CheckConstraint(condition=Q(percent_off_bp__lt=10000), name="coupon_template_percent_below_100"),
            models.CheckConstraint(
                condition=Q(max_discount_fen__isnull=True) | Q(max_discount_fen__gt=0),
                name="coupon_template_max_discount_positive",
            ),
            models.CheckConstraint(condition=Q(merchant_share_bp__lte=10000), name="coupon_template_share_max_100pct"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="coupon_template_validity_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(validity_kind="relative") | Q(valid_days__gt=0),
                name="coupon_template_relative_has_days",
            ),
            models.CheckConstraint(
                condition=~Q(claim_method="points") | Q(claim_points__gt=0), name="coupon_template_points_price"
            ),
            models.CheckConstraint(
                condition=~Q(claim_method="price") | Q(claim_price_fen__gt=0), name="coupon_template_money_price"
            ),
            models.CheckConstraint(condition=Q(max_per_sale__gte=1), name="coupon_template_max_per_sale_min_1"),
            models.CheckConstraint(
                condition=Q(unit_price_fen__gte=0) & (Q(max_units__isnull=True) | Q(max_units__gte=1)),
                name="coupon_template_unit_fields_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CouponStockShard(models.Model):
    """Part of a template's remaining inventory. Claims take from any shard they can lock without waiting."""

    template = models.ForeignKey(CouponTemplate, on_delete=models.CASCADE, related_name="shards")
    shard_no = models.PositiveSmallIntegerField()
    remaining = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "shard_no"], name="coupon_shard_unique"),
            models.CheckConstraint(condition=Q(remaining__gte=0), name="coupon_shard_never_oversold"),
        ]


class CouponHolding(models.Model):
    """One row per (template, member): the row a claim locks to enforce per-member limits."""

    template = models.ForeignKey(CouponTemplate, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["template", "member"], name="coupon_holding_unique")]


class CouponStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired")
    VOID = "void", _("Cancelled")


class CouponSource(models.TextChoices):
    CLAIM = "claim", _("Claimed")
    GRANT = "grant", _("Granted by staff")
    JOIN = "join", _("Welcome gift")
    TIER = "tier", _("Tier upgrade gift")
    BIRTHDAY = "birthday", _("Birthday gift")
    SPEND = "spend", _("Purchase reward")
    EXCHANGE = "exchange", _("Points mall exchange")
    JOURNEY = "journey", _("Marketing journey")
    GAME = "game", _("Marketing game prize")


class Coupon(models.Model):
    """One coupon held by one member. `source_key` names what issued it (unique per template), so a grant or a
    trigger that runs twice issues once: claim:<member>:<key>, grant:<batch>:<member>, join:<member>,
    tier:<member>, birthday:<member>:<year>, sale:<sale id>, exchange:<order number>:<unit>,
    journey:<enrollment>:<step>, game:<draw id>, streak:<streak reward id>."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="coupons")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="coupons")
    code = models.CharField(_("code"), max_length=24, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=CouponStatus.choices, default="available")
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    source = models.CharField(_("source"), max_length=10, choices=CouponSource.choices)
    source_key = models.CharField(max_length=120)
    issued_at = models.DateTimeField(_("issued at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    paid_points = models.BigIntegerField(default=0)
    paid_fen = models.BigIntegerField(default=0)
    # held by a pending online checkout (its number) until `hold_until` (docs/design/online-mall.md §3.4): a till
    # refuses it (`coupon.held`), the expiry job skips it while held; cleared by the redemption or the release
    hold_key = models.CharField(max_length=40, blank=True, default="", db_default="")
    hold_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        indexes = [
            models.Index(fields=["member", "status", "valid_until"]),
            models.Index(fields=["template", "member", "issued_at"]),
            models.Index(fields=["status", "valid_until"], name="coupon_expiry_scan"),
            models.Index(fields=["template", "status"]),
            models.Index(fields=["hold_key"], condition=~Q(hold_key=""), name="coupon_hold_key_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["template", "source_key"], name="coupon_issued_once_per_source"),
            models.UniqueConstraint(
                fields=["member", "source_key"], condition=Q(source="claim"), name="coupon_claim_key_once"
            ),
            models.CheckConstraint(condition=Q(valid_until__gt=F("valid_from")), name="coupon_validity_ordered"),
            models.CheckConstraint(condition=~Q(status="used") | Q(used_at__isnull=False), name="coupon_used_has_time"),
            models.CheckConstraint(condition=Q(paid_points__gte=0, paid_fen__gte=0), name="coupon_paid_non_negative"),
        ]

    def __str__(self) -> str:
        return self.code


class Promotion(models.Model):
    """A coupon-less rule applied automatically at the till: spend threshold (满减 / 每满减), member-day
    discount, tier discount at participating merchants, buy N items (满N件折), an amount off each item (每件减 /
    单品直降) or a special price per item (特价)."""

    class Kind(models.TextChoices):
        SPEND_THRESHOLD = "spend_threshold", _("Spend threshold")
        MEMBER_DAY = "member_day", _("Member day discount")
        TIER_DISCOUNT = "tier_discount", _("Tier discount")
        N_ITEMS = "n_items", _("Buy N items")
        PER_ITEM = rules.PER_ITEM, _("Amount off each item")
        UNIT_PRICE = rules.UNIT_PRICE, _("Special price per item")

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=TemplateStatus.choices, default="draft")
    value_fen = models.BigIntegerField(_("amount off"), default=0)
    is_per_step = models.BooleanField(_("for every step"), default=False)
    percent_off_bp = models.PositiveIntegerField(_("percent off (basis points)"), default=0)
    max_discount_fen = models.BigIntegerField(_("maximum discount"), null=True, blank=True)
    threshold_fen = models.BigIntegerField(_("minimum spend / step"), default=0)
    min_items = models.PositiveIntegerField(_("minimum items"), default=0)
    unit_price_fen = models.BigIntegerField(_("special price per item"), default=0)
    max_units = models.PositiveIntegerField(_("discounted items per purchase"), null=True, blank=True)
    members_only = models.BooleanField(_("members only"), default=True)
    min_tier_rank = models.PositiveSmallIntegerField(_("minimum tier rank"), default=0)
    scope_kind = models.CharField(_("scope"), max_length=12, choices=ScopeKind.choices, default=ScopeKind.ALL)
    scope_categories = models.JSONField(default=list, blank=True)
    scope_merchant_ids = models.JSONField(default=list, blank=True)
    scope_skus = models.JSONField(default=list, blank=True)
    excluded_merchant_ids = models.JSONField(default=list, blank=True)
    excluded_skus = models.JSONField(default=list, blank=True)
    excluded_line_categories = models.JSONField(default=list, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.BOTH)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    days_of_week = models.JSONField(default=list, blank=True)
    days_of_month = models.JSONField(default=list, blank=True)
    hours_from = models.TimeField(null=True, blank=True)
    hours_until = models.TimeField(null=True, blank=True)
    funder = models.CharField(_("funded by"), max_length=10, choices=Funder.choices, default=Funder.MALL)
    merchant_share_bp = models.PositiveIntegerField(default=0)
    stacking_group = models.CharField(_("stacking group"), max_length=30, blank=True)
    is_exclusive = models.BooleanField(_("cannot be combined"), default=False)
    on_threshold_loss = models.CharField(
        max_length=8, choices=ThresholdLossPolicy.choices, default=ThresholdLossPolicy.DEDUCT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        indexes = [models.Index(fields=["mall_group", "status", "ends_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="promotion_window_ordered"),
            models.CheckConstraint(
                condition=Q(
                    value_fen__gte=0, threshold_fen__gte=0, percent_off_bp__lt=10000, merchant_share_bp__lte=10000
                ),
                name="promotion_values_in_range",
            ),
            models.CheckConstraint(
                condition=Q(unit_price_fen__gte=0) & (Q(max_units__isnull=True) | Q(max_units__gte=1)),
                name="promotion_unit_fields_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RedemptionStatus(models.TextChoices):
    ACTIVE = "active", _("Applied")
    REVERSED = "reversed", _("Reversed by refund")


class CouponRedemption(models.Model):
    """A coupon (or promotion) applied to a sale, or a coupon redeemed on its own (exchange, parking).

    `sale_id` is the sales app's id (coupons sit below sales and cannot reference it). `lines` holds per line
    {line_no, quantity, basis_fen, discount_fen, refunded_qty, rolled_back_fen}. Funding: mall_fen + merchant_fen
    = discount_fen; refunds roll back `refunded_fen` split into refunded_mall_fen + refunded_merchant_fen.
    """

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions")
    promotion = models.ForeignKey(Promotion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    template = models.ForeignKey(CouponTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sale_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    kind = models.CharField(max_length=16)
    status = models.CharField(max_length=10, choices=RedemptionStatus.choices, default=RedemptionStatus.ACTIVE)
    redeemed_at = models.DateTimeField()
    discount_fen = models.BigIntegerField(default=0)
    mall_fen = models.BigIntegerField(default=0)
    merchant_fen = models.BigIntegerField(default=0)
    refunded_fen = models.BigIntegerField(default=0)
    refunded_mall_fen = models.BigIntegerField(default=0)
    refunded_merchant_fen = models.BigIntegerField(default=0)
    lines = models.JSONField(default=list, blank=True)
    explanation = models.JSONField(default=dict, blank=True)
    actor_label = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    # a cross-shop coupon of an online checkout (its number): one active part per sub-order sale, all sharing the
    # coupon; "" for every other redemption (one active redemption per coupon)
    cart_key = models.CharField(max_length=40, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("coupon redemption")
        verbose_name_plural = _("coupon redemptions")
        indexes = [models.Index(fields=["template", "status"]), models.Index(fields=["merchant", "redeemed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(coupon__isnull=False, promotion__isnull=True)
                | Q(coupon__isnull=True, promotion__isnull=False),
                name="redemption_coupon_xor_promotion",
            ),
            models.CheckConstraint(condition=Q(discount_fen__gte=0), name="redemption_discount_non_negative"),
            models.CheckConstraint(
                condition=Q(discount_fen=F("mall_fen") + F("merchant_fen"), mall_fen__gte=0, merchant_fen__gte=0),
                name="redemption_funding_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(refunded_fen=F("refunded_mall_fen") + F("refunded_merchant_fen"))
                & Q(refunded_fen__gte=0, refunded_fen__lte=F("discount_fen")),
                name="redemption_refund_adds_up",
            ),
            models.UniqueConstraint(
                fields=["coupon"], condition=Q(status="active", cart_key=""), name="redemption_one_active_per_coupon"
            ),
            models.UniqueConstraint(
                fields=["coupon", "sale_id"],
                condition=Q(status="active") & ~Q(cart_key=""),
                name="redemption_one_active_part_per_sale",
            ),
            models.UniqueConstraint(
                fields=["sale_id", "promotion"], condition=Q(promotion__isnull=False), name="redemption_promo_once"
            ),
        ]


class RedemptionRefund(models.Model):
    """One refund's effect on one redemption; unique per refund key so a replayed refund changes nothing."""

    redemption = models.ForeignKey(CouponRedemption, on_delete=models.PROTECT, related_name="refunds")
    refund_key = models.CharField(max_length=100)
    rolled_back_fen = models.BigIntegerField()
    clawback_fen = models.BigIntegerField()
    mall_fen = models.BigIntegerField()
    merchant_fen = models.BigIntegerField()
    lines = models.JSONField(default=list)
    coupon_restored = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["redemption", "refund_key"], name="redemption_refund_once"),
            models.CheckConstraint(
                condition=Q(rolled_back_fen__gte=0, clawback_fen__gte=0), name="redemption_refund_non_negative"
            ),
        ]


class GrantStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Finished")
    SOLD_OUT = "sold_out", _("Stopped: sold out")


class GrantBatch(models.Model):
    """A staff grant to a list of members or a segment, run by a background task in checkpointed chunks."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="grant_batches")
    idempotency_key = models.CharField(max_length=100)
    member_ids = models.JSONField(default=list, blank=True)  # the members, ascending (a segment is resolved once)
    segment = models.JSONField(default=dict, blank=True)  # the segment's definition, for the record
    status = models.CharField(max_length=10, choices=GrantStatus.choices, default=GrantStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    issued = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    last_member_id = models.BigIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)
    actor_label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("coupon grant")
        verbose_name_plural = _("coupon grants")
        constraints = [
            models.UniqueConstraint(fields=["mall_group", "idempotency_key"], name="grant_batch_key_unique"),
            models.CheckConstraint(condition=Q(processed__lte=F("total")), name="grant_batch_progress_max"),
        ]
