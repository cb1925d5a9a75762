"""Receipt-photo points (自助积分): a member's photographed receipt, the group's rules, merchant aliases, blocks.

Constraints do the deciding where two requests may race: a (merchant, receipt number) is claimed once among
submitted, approved and reversed receipts; the same uploaded file (SHA-256) is one receipt per group.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Merchant

from .types import CLAIMING_STATUSES, AliasKind, OcrStatus, ReceiptStatus

DEFAULT_REJECT_REASONS = "\n".join(
    [
        "照片不清晰，请重新拍摄完整小票",
        "小票已超过有效期",
        "非本商场商户的小票",
        "金额与小票不符",
        "重复提交",
    ]
)


class ReceiptSettings(models.Model):
    """The group's receipt rules (one row per mall group, created with defaults on first read)."""

    mall_group = models.OneToOneField(MallGroup, on_delete=models.CASCADE, related_name="+")
    is_enabled = models.BooleanField(_("members can submit receipts"), default=True)
    all_merchants = models.BooleanField(_("every merchant accepts receipts"), default=True)
    accepted_merchant_ids = models.JSONField(_("merchants that accept receipts"), default=list, blank=True)
    auto_approve = models.BooleanField(_("approve automatically when the read is certain"), default=False)
    auto_approve_max_fen = models.BigIntegerField(_("auto-approve up to (fen)"), default=20_000)
    auto_approve_min_confidence = models.PositiveSmallIntegerField(_("minimum read confidence (%)"), default=90)
    max_age_days = models.PositiveSmallIntegerField(_("maximum receipt age (days)"), default=7)
    daily_limit = models.PositiveSmallIntegerField(_("receipts per member per day"), default=3)
    monthly_limit = models.PositiveSmallIntegerField(_("receipts per member per month"), default=20)
    merchant_confirmation = models.BooleanField(_("merchants confirm their own receipts"), default=False)
    retention_days = models.PositiveSmallIntegerField(_("keep photos for (days)"), default=90)
    reject_reasons = models.TextField(_("reject reasons"), default=DEFAULT_REJECT_REASONS, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("receipt rules")
        verbose_name_plural = _("receipt rules")

    def reason_list(self) -> list[str]:
        return [line.strip() for line in self.reject_reasons.splitlines() if line.strip()]


class ReceiptMerchantAlias(models.Model):
    """Another name a merchant's receipts print, or its registered tax / merchant number (normalised)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=AliasKind.choices)
    value = models.CharField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "kind", "value"], name="receipt_alias_unique"),
        ]


class ReceiptBlock(models.Model):
    """A member who may not submit receipts (fraud)."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mall_group", "member"], name="receipt_block_unique")]


class Receipt(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ReceiptStatus.choices, default=ReceiptStatus.READING)

    # the photo (Django storage; emptied by the retention job, the hashes stay for duplicate checks)
    image_name = models.CharField(max_length=200, blank=True)
    image_sha256 = models.CharField(max_length=64)
    image_phash = models.CharField(max_length=16, blank=True)
    image_width = models.PositiveIntegerField(default=0)
    image_height = models.PositiveIntegerField(default=0)
    image_deleted_at = models.DateTimeField(null=True, blank=True)

    # the background read
    ocr_status = models.CharField(max_length=10, choices=OcrStatus.choices, default=OcrStatus.PENDING)
    ocr_text = models.TextField(blank=True)
    ocr_fields = models.JSONField(default=dict, blank=True)
    ocr_confidence = models.PositiveSmallIntegerField(default=0)  # percent: the weakest field's
    ocr_ms = models.PositiveIntegerField(default=0)

    # what the member confirmed (a reviewer may correct it before approving)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    amount_fen = models.BigIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    receipt_no = models.CharField(max_length=40, blank=True)
    flags = models.JSONField(default=list, blank=True)
    flag_note = models.CharField(max_length=200, blank=True)
    needs_merchant = models.BooleanField(default=False)  # waits for the merchant's confirmation in the portal

    # the decision
    sale_id = models.BigIntegerField(null=True, blank=True)  # the checkout pipeline's sale (channel receipt)
    points_earned = models.IntegerField(default=0)
    reject_reason = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=100, blank=True)
    reverse_reason = models.CharField(max_length=200, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.CharField(max_length=100, blank=True)
    points_clawed_back = models.IntegerField(default=0)
    points_shortfall = models.IntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["mall_group", "status", "submitted_at"], name="receipt_queue_idx"),
            models.Index(fields=["member", "created_at"], name="receipt_member_idx"),
            models.Index(fields=["merchant", "amount_fen", "occurred_at"], name="receipt_same_sale_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "receipt_no"],
                condition=Q(status__in=[s.value for s in CLAIMING_STATUSES]) & ~Q(receipt_no=""),
                name="receipt_number_claimed_once",
            ),
            models.UniqueConstraint(fields=["mall_group", "image_sha256"], name="receipt_image_once"),
            models.CheckConstraint(
                condition=Q(amount_fen__isnull=True) | Q(amount_fen__gt=0), name="receipt_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"receipt {self.pk}"
