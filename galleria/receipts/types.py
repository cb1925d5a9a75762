"""Enums and frozen dataclasses of the receipts area (receipt-photo points, 自助积分)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReceiptStatus(models.TextChoices):
    READING = "reading", pgettext_lazy("receipt status", "Reading")  # uploaded; OCR running in the background
    DRAFT = "draft", pgettext_lazy("receipt status", "To confirm")  # read; the member confirms or corrects
    PENDING = "pending", pgettext_lazy("receipt status", "In review")  # submitted; waits for staff (or merchant)
    APPROVED = "approved", pgettext_lazy("receipt status", "Approved")
    REJECTED = "rejected", pgettext_lazy("receipt status", "Rejected")
    REVERSED = "reversed", pgettext_lazy("receipt status", "Reversed")


# A (merchant, receipt number) is claimed by at most one receipt in these states (a database constraint).
CLAIMING_STATUSES = (ReceiptStatus.PENDING, ReceiptStatus.APPROVED, ReceiptStatus.REVERSED)
# Counted against a member's daily and monthly limits.
COUNTED_STATUSES = CLAIMING_STATUSES


class OcrStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("ocr status", "Waiting")
    DONE = "done", pgettext_lazy("ocr status", "Read")
    FAILED = "failed", pgettext_lazy("ocr status", "Could not read")
    TIMEOUT = "timeout", pgettext_lazy("ocr status", "Took too long")


class AliasKind(models.TextChoices):
    ALIAS = "alias", _("Name on receipts")
    TAX_NO = "tax_no", _("Tax or merchant number")


class Flag(models.TextChoices):
    """Why a submitted receipt needs a person's eyes (never auto-approved)."""

    NEAR_DUPLICATE = "near_duplicate", _("Looks like another receipt's photo")
    SAME_SALE_OTHER_MEMBER = "same_sale_other_member", _("Same shop, amount and minute as another member's receipt")
    FIELDS_CHANGED = "fields_changed", _("The member changed what was read")
    LOW_CONFIDENCE = "low_confidence", _("The photo was hard to read")
    NOT_READ = "not_read", _("The photo could not be read automatically")
    OVER_THRESHOLD = "over_threshold", _("Above the auto-approve amount")


@dataclass(frozen=True)
class MerchantCandidate:
    """A merchant the parser may find on a receipt: its names and registered numbers (normalised)."""

    merchant_id: int
    name: str
    aliases: tuple[str, ...] = ()
    tax_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class OcrLine:
    text: str
    confidence: int  # percent, 0..100


@dataclass(frozen=True)
class ParsedReceipt:
    """What the parser found; each field with the confidence (percent) of the line it came from, 0 when absent."""

    merchant_id: int | None = None
    merchant_confidence: int = 0
    amount_fen: int | None = None
    amount_confidence: int = 0
    occurred_at: dt.datetime | None = None  # aware, in the mall's time zone
    occurred_confidence: int = 0
    receipt_no: str = ""
    receipt_no_confidence: int = 0
    tax_no: str = ""

    @property
    def complete(self) -> bool:
        return (
            self.merchant_id is not None
            and self.amount_fen is not None
            and self.occurred_at is not None
            and bool(self.receipt_no)
        )

    @property
    def confidence(self) -> int:
        """The weakest field's confidence (0 when a field is missing)."""
        if not self.complete:
            return 0
        return min(
            self.merchant_confidence, self.amount_confidence, self.occurred_confidence, self.receipt_no_confidence
        )

    def as_json(self) -> dict[str, object]:
        return {
            "merchant_id": self.merchant_id,
            "merchant_confidence": self.merchant_confidence,
            "amount_fen": self.amount_fen,
            "amount_confidence": self.amount_confidence,
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "occurred_confidence": self.occurred_confidence,
            "receipt_no": self.receipt_no,
            "receipt_no_confidence": self.receipt_no_confidence,
            "tax_no": self.tax_no,
        }


@dataclass(frozen=True)
class CleanImage:
    """An upload after checking and re-encoding (EXIF, GPS included, dropped)."""

    data: bytes  # JPEG
    width: int
    height: int
    sha256: str  # of the bytes the member uploaded: the same file twice is the same receipt
    phash: str  # 64-bit perceptual hash, 16 hex digits
    source_type: str  # jpeg | png | heif | webp


@dataclass(frozen=True)
class ReceiptFields:
    """What the member (or a reviewer) says the receipt shows."""

    merchant_id: int
    amount_fen: int
    occurred_at: dt.datetime
    receipt_no: str


@dataclass(frozen=True)
class ReviewCounters:
    waiting: int
    flagged: int
    oldest_at: dt.datetime | None
    waiting_merchant: int = 0
    by_age: dict[str, int] = field(default_factory=dict)
