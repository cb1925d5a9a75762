"""Tiers: the member's tier and benefits, progress to the next tier, what it brings, the history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from galleria.core.money import format_cny
from galleria.members.models import Member
from galleria.tiers.models import QualifyBy
from galleria.tiers.selectors import member_tier, tier_history, tier_progress
from galleria.tiers.types import TierView

from .common import BP, local_naive, multiplier, percent


@dataclass(frozen=True)
class BenefitRow:
    key: str
    label: str
    value: int | bool | str
    is_new: bool = False  # better than what the member has now


def tier_benefits(view: TierView, *, compared_with: TierView | None = None) -> list[BenefitRow]:
    """A tier's benefits in words; with `compared_with`, each row says whether it improves on that tier."""
    rows: list[BenefitRow] = []

    def better(key: str) -> bool:
        if compared_with is None:
            return False
        ours, theirs = getattr(view, key), getattr(compared_with, key)
        if isinstance(ours, bool):
            return ours and not theirs
        if isinstance(ours, str):
            return bool(ours) and ours != theirs
        return bool(ours > theirs)

    if view.points_multiplier_bp > BP:
        rows.append(
            BenefitRow(
                "points_multiplier_bp",
                _("%(x)s× points on every purchase") % {"x": multiplier(view.points_multiplier_bp)},
                view.points_multiplier_bp,
                better("points_multiplier_bp"),
            )
        )
    if view.discount_bp:
        rows.append(
            BenefitRow(
                "discount_bp",
                _("%(pct)s member discount at participating shops") % {"pct": percent(view.discount_bp)},
                view.discount_bp,
                better("discount_bp"),
            )
        )
    if view.free_parking_hours:
        rows.append(
            BenefitRow(
                "free_parking_hours",
                ngettext(
                    "%(n)s hour of free parking a day", "%(n)s hours of free parking a day", view.free_parking_hours
                )
                % {"n": view.free_parking_hours},
                view.free_parking_hours,
                better("free_parking_hours"),
            )
        )
    if view.lounge_access:
        rows.append(BenefitRow("lounge_access", _("VIP lounge access"), True, better("lounge_access")))
    if view.birthday_gift:
        rows.append(
            BenefitRow(
                "birthday_gift",
                _("Birthday gift: %(gift)s") % {"gift": view.birthday_gift},
                view.birthday_gift,
                better("birthday_gift"),
            )
        )
    if view.priority_registration:
        rows.append(
            BenefitRow(
                "priority_registration",
                _("Priority registration for events"),
                True,
                better("priority_registration"),
            )
        )
    return rows


@dataclass(frozen=True)
class TierHistoryRow:
    at: dt.datetime
    local_at: dt.datetime
    from_name: str
    to_name: str
    to_code: str
    reason: str
    reason_label: str
    note: str


@dataclass(frozen=True)
class TierPage:
    current: TierView
    current_benefits: list[BenefitRow]
    next: TierView | None
    next_benefits: list[BenefitRow]
    qualify_by: str
    qualifying_amount: int
    amount_needed: int
    amount_to_keep: int
    progress_pct: int
    window_start: dt.date
    window_end: dt.date
    grace_until: dt.date | None
    override_until: dt.date | None
    history: list[TierHistoryRow] = field(default_factory=list)

    def amount_text(self, amount: int) -> str:
        if self.qualify_by == QualifyBy.POINTS:
            return ngettext("%(n)s point", "%(n)s points", amount) % {"n": f"{amount:,}"}
        return format_cny(amount)

    @property
    def qualifying_text(self) -> str:
        return self.amount_text(self.qualifying_amount)

    @property
    def needed_text(self) -> str:
        return self.amount_text(self.amount_needed)

    @property
    def to_keep_text(self) -> str:
        return self.amount_text(self.amount_to_keep)

    @property
    def next_threshold_text(self) -> str:
        return self.amount_text(self.next.threshold) if self.next else ""

    @property
    def needed_sentence(self) -> str:
        if self.next is None:
            return _("You are at the top tier. Thank you for shopping with us!")
        if self.qualify_by == QualifyBy.POINTS:
            return _("Earn %(amount)s more to reach %(tier)s.") % {"amount": self.needed_text, "tier": self.next.name}
        return _("Spend %(amount)s more to reach %(tier)s.") % {"amount": self.needed_text, "tier": self.next.name}


def tier_page(*, member: Member, tz_name: str) -> TierPage | None:
    """The member's tier, progress to the next and its history; None when the group has no tier ladder."""
    progress = tier_progress(member_id=member.pk)
    if progress is None:
        return None
    nxt = progress.next
    if nxt is None or nxt.threshold <= 0:
        pct = 100
    else:
        pct = max(0, min(100, progress.qualifying_amount * 100 // nxt.threshold))
    history = [
        TierHistoryRow(
            at=h.at,
            local_at=local_naive(h.at, tz_name),
            from_name=h.from_name,
            to_name=h.to_name,
            to_code=h.to_code,
            reason=h.reason,
            reason_label=h.reason_label,
            note=h.note,
        )
        for h in tier_history(member_id=member.pk, limit=50)
    ]
    return TierPage(
        current=progress.current,
        current_benefits=tier_benefits(progress.current),
        next=nxt,
        next_benefits=tier_benefits(nxt, compared_with=progress.current) if nxt else [],
        qualify_by=progress.qualify_by,
        qualifying_amount=progress.qualifying_amount,
        amount_needed=progress.amount_needed,
        amount_to_keep=progress.amount_to_keep,
        progress_pct=pct,
        window_start=progress.window_start,
        window_end=progress.window_end,
        grace_until=progress.grace_until,
        override_until=progress.override_until,
        history=history,
    )


def current_tier(*, member: Member) -> TierView:
    return member_tier(member_id=member.pk, mall_group_id=member.mall_group_id)
