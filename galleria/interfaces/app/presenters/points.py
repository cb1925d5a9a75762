"""Points: balance, what expires soon, the daily check-in state and the history with earn explanations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.core.paginator import Paginator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from galleria.core import timeutil
from galleria.core.money import format_cny
from galleria.ledger.models import AccountKind, Entry, TransactionKind
from galleria.members.models import Member
from galleria.points import rules as points_rules
from galleria.points import selectors as points_selectors
from galleria.points.models import BehaviourAward, BehaviourEvent, BehaviourRule, PointsLot
from galleria.tiers.selectors import tier_ladder

from .common import (
    BP,
    PAGE_SIZE,
    Paging,
    as_dict,
    as_int,
    local_naive,
    merchant_names,
    multiplier,
    paging_of,
    refund_merchants,
    sale_merchants,
    signed_points,
    source_id,
    yuan_short,
)

EXPIRING_WITHIN_DAYS = 30


@dataclass(frozen=True)
class EarnExplanation:
    """An earn credit in plain words: `formula` is the calculation, `notes` what else shaped it."""

    formula: str
    notes: tuple[str, ...]
    points: int
    uncapped: int
    capped_by: str | None
    data: Mapping[str, Any]

    @property
    def text(self) -> str:
        return " ".join([self.formula + ".", *self.notes])


def explain_earn(
    explanation: Mapping[str, Any], *, tier_names: Mapping[str, str], merchant: str = ""
) -> EarnExplanation | None:
    """ "¥128.00 paid × 1 point per ¥1 × 1.2 (银卡) × 2 (会员日) = 307 points, capped at …" from a ledger
    transaction's earn explanation (points.rules.earn). None when the explanation is not an earn explanation."""
    if "base_fen" not in explanation or "rate" not in explanation:
        return None
    base_fen = as_int(explanation.get("base_fen"))
    rate = as_dict(explanation.get("rate"))
    rate_points = as_int(rate.get("points"), 1)
    per_fen = max(1, as_int(rate.get("per_fen"), 100))
    tier = as_dict(explanation.get("tier"))
    tier_bp = as_int(tier.get("multiplier_bp"), BP)
    tier_code = str(tier.get("code") or "")
    campaign = as_dict(explanation.get("campaign"))
    campaign_bp = as_int(campaign.get("multiplier_bp"), BP) if campaign else BP
    points = as_int(explanation.get("points"))
    exact = Fraction(base_fen * rate_points, per_fen) * Fraction(tier_bp, BP) * Fraction(campaign_bp, BP)
    uncapped = as_int(explanation.get("uncapped"), int(exact))
    capped_by = explanation.get("capped_by")
    capped_by = str(capped_by) if capped_by else None

    parts = [
        _("%(amount)s paid") % {"amount": format_cny(base_fen)},
        ngettext("%(n)s point per %(unit)s", "%(n)s points per %(unit)s", rate_points)
        % {"n": rate_points, "unit": yuan_short(per_fen)},
    ]
    if tier_bp != BP:
        parts.append(f"{multiplier(tier_bp)} ({tier_names.get(tier_code) or tier_code or _('tier')})")
    if campaign and campaign_bp != BP:
        campaign_name = campaign.get("name") or _("campaign")
        parts.append(f"{multiplier(campaign_bp)} ({campaign_name})")
    formula = " × ".join(parts) + " = " + ngettext("%(n)s point", "%(n)s points", uncapped) % {"n": uncapped}
    if capped_by == "per_sale_cap":
        formula += ", " + ngettext(
            "capped at %(n)s point per purchase", "capped at %(n)s points per purchase", points
        ) % {"n": points}
    elif capped_by == "daily_cap":
        formula += ", " + ngettext(
            "capped at %(n)s point by the daily limit", "capped at %(n)s points by the daily limit", points
        ) % {"n": points}
    elif capped_by == "min_spend":
        formula += ", " + _("but purchases below the minimum spend earn no points")

    notes: list[str] = []
    if exact.denominator != 1 and capped_by is None:
        notes.append(_("Points are rounded down to whole points."))
    excluded = explanation.get("excluded_lines")
    n_excluded = len(excluded) if isinstance(excluded, list) else 0
    if n_excluded:
        notes.append(
            ngettext(
                "%(n)s item earned no points (excluded category or product).",
                "%(n)s items earned no points (excluded categories or products).",
                n_excluded,
            )
            % {"n": n_excluded}
        )
    funding = as_dict(explanation.get("funding"))
    mall_part, merchant_part = as_int(funding.get("mall")), as_int(funding.get("merchant"))
    if merchant_part and mall_part:
        notes.append(
            _("Given by the mall (%(mall)s) and %(merchant)s (%(m)s).")
            % {"mall": mall_part, "merchant": merchant or _("the merchant"), "m": merchant_part}
        )
    elif merchant_part:
        notes.append(_("Given by %(merchant)s.") % {"merchant": merchant or _("the merchant")})
    return EarnExplanation(
        formula=formula,
        notes=tuple(notes),
        points=points,
        uncapped=uncapped,
        capped_by=capped_by,
        data=dict(explanation),
    )


def tier_names(*, mall_group_id: int) -> dict[str, str]:
    return {level.code: level.name for level in tier_ladder(mall_group_id=mall_group_id)}


@dataclass(frozen=True)
class PointsRow:
    entry_id: int
    transaction_id: int
    occurred_at: dt.datetime
    local_at: dt.datetime
    kind: str
    title: str
    detail: str
    points: int
    merchant: str
    explanation: EarnExplanation | None = None

    @property
    def is_credit(self) -> bool:
        return self.points > 0

    @property
    def signed_text(self) -> str:
        return signed_points(self.points)


@dataclass(frozen=True)
class ExpiringLot:
    expires_on: dt.date
    points: int


@dataclass(frozen=True)
class CheckinState:
    available: bool  # the group has an active check-in rule
    points: int  # what a check-in gives
    checked_in_today: bool
    today: dt.date


@dataclass(frozen=True)
class PointsSummary:
    balance: int
    value_fen: int  # what the balance is worth when paying at a till
    expiring: int
    expiring_until: dt.date
    expiring_lots: tuple[ExpiringLot, ...]
    checkin: CheckinState

    @property
    def value_text(self) -> str:
        return format_cny(self.value_fen)


def checkin_state(*, member: Member, tz_name: str) -> CheckinState:
    today = timeutil.local_date(timeutil.now(), tz_name)
    rule = BehaviourRule.objects.filter(
        mall_group_id=member.mall_group_id, event=BehaviourEvent.CHECKIN, is_active=True, points__gt=0
    ).first()
    done = BehaviourAward.objects.filter(
        member_id=member.pk, event=BehaviourEvent.CHECKIN, occasion=today.isoformat()
    ).exists()
    points = rule.points if rule is not None else 0
    return CheckinState(available=rule is not None, points=points, checked_in_today=done, today=today)


def points_summary(*, member: Member, tz_name: str) -> PointsSummary:
    balance = points_selectors.points_balance(member_id=member.pk)
    policy = points_selectors.policy_get(mall_group_id=member.mall_group_id)
    value = points_rules.redeem_value_fen(points=balance, config=points_selectors.redeem_config(policy=policy))
    today = timeutil.local_date(timeutil.now(), tz_name)
    until = today + dt.timedelta(days=EXPIRING_WITHIN_DAYS)
    expiring = points_selectors.points_expiring(member_id=member.pk, until=until)
    lots: tuple[ExpiringLot, ...] = ()
    if expiring:
        by_day: dict[dt.date, int] = {}
        for expires_on, remaining in (
            PointsLot.objects.filter(member_id=member.pk, remaining__gt=0, expires_on__lte=until)
            .order_by("expires_on")
            .values_list("expires_on", "remaining")
        ):
            if expires_on is not None:
                by_day[expires_on] = by_day.get(expires_on, 0) + remaining
        lots = tuple(ExpiringLot(expires_on=day, points=n) for day, n in sorted(by_day.items()))
    return PointsSummary(
        balance=balance,
        value_fen=value,
        expiring=expiring,
        expiring_until=until,
        expiring_lots=lots,
        checkin=checkin_state(member=member, tz_name=tz_name),
    )


BEHAVIOUR_TITLES: dict[str, Callable[[str], str]] = {
    BehaviourEvent.CHECKIN: lambda m: _("Daily check-in"),
    BehaviourEvent.SIGNUP: lambda m: _("Welcome points for joining"),
    BehaviourEvent.PROFILE_COMPLETE: lambda m: _("Completed your profile"),
    BehaviourEvent.FIRST_PURCHASE_AT_MERCHANT: lambda m: (
        _("First purchase at %(merchant)s") % {"merchant": m} if m else _("First purchase at a new shop")
    ),
}


def _points_title(kind: str, points: int, merchant: str, explanation: Mapping[str, Any]) -> tuple[str, str]:
    """(title, detail) of a points movement."""
    at = {"merchant": merchant}
    if kind == TransactionKind.EARN:
        return (_("Earned at %(merchant)s") % at if merchant else _("Points earned"), "")
    if kind == TransactionKind.SPEND:
        return (_("Used as payment at %(merchant)s") % at if merchant else _("Used as payment"), "")
    if kind == TransactionKind.REFUND:
        if points < 0:
            title = _("Refund at %(merchant)s") % at if merchant else _("Refund")
            return title, _("Points earned on the refunded goods were taken back.")
        title = _("Refund at %(merchant)s") % at if merchant else _("Refund")
        return title, _("Points you paid with were given back.")
    if kind == TransactionKind.EXPIRE:
        return _("Expired"), _("Points past their expiry date.")
    if kind == TransactionKind.ADJUST:
        return _("Adjustment by customer service"), str(explanation.get("reason") or "")
    if kind == TransactionKind.BEHAVIOUR:
        event = str(explanation.get("event") or "")
        title_for = BEHAVIOUR_TITLES.get(event)
        return (title_for(merchant) if title_for else _("Bonus points"), "")
    return _("Correction"), ""


def points_history(
    *, member: Member, tz_name: str, page: int = 1, page_size: int = PAGE_SIZE
) -> tuple[list[PointsRow], Paging]:
    """The member's points movements, newest first, one page at a time, with an explanation for each earn credit."""
    qs = (
        Entry.objects.filter(account__member_id=member.pk, account__kind=AccountKind.MEMBER_POINTS)
        .select_related("transaction")
        .order_by("-occurred_at", "-id")
    )
    page_obj = Paginator(qs, page_size).get_page(page)
    entries: list[Entry] = list(page_obj.object_list)
    sale_ids: set[int] = set()
    refund_ids: set[int] = set()
    merchant_ids: set[int] = set()
    for entry in entries:
        tx = entry.transaction
        if (sale_id := source_id(tx.source, "sale")) is not None:
            sale_ids.add(sale_id)
        if (refund_id := source_id(tx.source, "refund")) is not None:
            refund_ids.add(refund_id)
        occasion = str(as_dict(tx.explanation).get("occasion") or "")
        if (merchant_id := source_id(occasion, "merchant")) is not None:
            merchant_ids.add(merchant_id)
    by_sale = sale_merchants(member=member, sale_ids=sale_ids)
    by_refund = refund_merchants(member=member, refund_ids=refund_ids)
    by_merchant = merchant_names(member=member, merchant_ids=merchant_ids)
    names = tier_names(mall_group_id=member.mall_group_id) if entries else {}
    rows = []
    for entry in entries:
        tx = entry.transaction
        explanation = as_dict(tx.explanation)
        merchant = ""
        if (sale_id := source_id(tx.source, "sale")) is not None:
            merchant = by_sale.get(sale_id, "")
        elif (refund_id := source_id(tx.source, "refund")) is not None:
            merchant = by_refund.get(refund_id, "")
        if tx.kind == TransactionKind.BEHAVIOUR:
            merchant_id = source_id(str(explanation.get("occasion") or ""), "merchant")
            merchant = by_merchant.get(merchant_id, "") if merchant_id is not None else ""
        title, detail = _points_title(tx.kind, entry.amount, merchant, explanation)
        earn = (
            explain_earn(explanation, tier_names=names, merchant=merchant)
            if tx.kind == TransactionKind.EARN and entry.amount > 0
            else None
        )
        rows.append(
            PointsRow(
                entry_id=entry.pk,
                transaction_id=tx.pk,
                occurred_at=entry.occurred_at,
                local_at=local_naive(entry.occurred_at, tz_name),
                kind=tx.kind,
                title=title,
                detail=detail,
                points=entry.amount,
                merchant=merchant,
                explanation=earn,
            )
        )
    return rows, paging_of(page_obj)
