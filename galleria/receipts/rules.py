"""Pure rules of receipt-photo points: age, limits, flags and the auto-approve decision (no database, no clock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .images import phash_distance
from .types import Flag, ParsedReceipt, ReceiptFields

FUTURE_SLACK = dt.timedelta(minutes=10)  # a till's clock a little ahead is not fraud
MAX_AMOUNT_FEN = 10_000_000  # ¥100,000: above this a receipt photo is not how points are claimed
NEAR_IMAGE_DISTANCE = 8  # perceptual-hash bits: a very similar photo (re-saved, resized, re-shot) → flagged for a
# person to compare; never refused on the hash alone (an identical file is refused by its SHA-256)


def age_error(*, occurred_at: dt.datetime, now: dt.datetime, max_age_days: int) -> str | None:
    if occurred_at > now + FUTURE_SLACK:
        return _("The receipt time is in the future. Check the date and time.")
    if max_age_days and occurred_at < now - dt.timedelta(days=max_age_days):
        return ngettext(
            "Receipts older than %(days)d day cannot be submitted.",
            "Receipts older than %(days)d days cannot be submitted.",
            max_age_days,
        ) % {"days": max_age_days}
    return None


def limit_error(*, today: int, this_month: int, daily_limit: int, monthly_limit: int) -> str | None:
    """`today` / `this_month`: receipts the member already submitted in the mall-local day / month."""
    if daily_limit and today >= daily_limit:
        return ngettext(
            "You can submit %(n)d receipt a day. Try again tomorrow.",
            "You can submit %(n)d receipts a day. Try again tomorrow.",
            daily_limit,
        ) % {"n": daily_limit}
    if monthly_limit and this_month >= monthly_limit:
        return ngettext(
            "You can submit %(n)d receipt a month.",
            "You can submit %(n)d receipts a month.",
            monthly_limit,
        ) % {"n": monthly_limit}
    return None


def amount_error(amount_fen: int) -> str | None:
    if amount_fen <= 0:
        return _("Enter the amount paid.")
    if amount_fen > MAX_AMOUNT_FEN:
        return _("That amount is too large for a receipt photo. Ask the service desk.")
    return None


def fields_changed(parsed: ParsedReceipt, fields: ReceiptFields) -> bool:
    """The member submitted something other than what was read (a read field changed, not a blank filled in)."""
    if parsed.merchant_id is not None and parsed.merchant_id != fields.merchant_id:
        return True
    if parsed.amount_fen is not None and parsed.amount_fen != fields.amount_fen:
        return True
    if parsed.receipt_no and parsed.receipt_no != fields.receipt_no:
        return True
    return parsed.occurred_at is not None and abs(parsed.occurred_at - fields.occurred_at) >= dt.timedelta(minutes=1)


def closest_image(phash: str, others: Iterable[tuple[int, str]]) -> tuple[int | None, int]:
    """(receipt id, distance) of the most similar earlier photo; (None, 64) when there is none."""
    best: tuple[int | None, int] = (None, 64)
    for receipt_id, other in others:
        distance = phash_distance(phash, other)
        if distance < best[1]:
            best = (receipt_id, distance)
    return best


def submit_flags(
    *,
    parsed: ParsedReceipt,
    fields: ReceiptFields,
    was_read: bool,
    near_duplicate: bool,
    same_sale_other_member: bool,
    min_confidence: int,
    auto_max_fen: int,
) -> list[str]:
    flags: list[str] = []
    if not was_read or not parsed.complete:
        flags.append(Flag.NOT_READ)
    elif parsed.confidence < min_confidence:
        flags.append(Flag.LOW_CONFIDENCE)
    if was_read and fields_changed(parsed, fields):
        flags.append(Flag.FIELDS_CHANGED)
    if near_duplicate:
        flags.append(Flag.NEAR_DUPLICATE)
    if same_sale_other_member:
        flags.append(Flag.SAME_SALE_OTHER_MEMBER)
    if fields.amount_fen > auto_max_fen:
        flags.append(Flag.OVER_THRESHOLD)
    return flags


def may_auto_approve(*, enabled: bool, flags: Iterable[str], needs_merchant: bool) -> bool:
    """Only a receipt read completely, with high confidence, unchanged, unflagged and under the threshold."""
    return enabled and not needs_merchant and not list(flags)
