"""The member 360's loyalty section: points balance and expiry, tier and progress, tier history, points history
with the rule behind every credit, recent sales (with a receipt page), and the override / adjustment forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from galleria.accounts import permissions as perms
from galleria.core.money import format_cny
from galleria.interfaces.common import scope_of
from galleria.ledger.models import Entry, TransactionKind
from galleria.members.models import Member
from galleria.members.selectors import member_get
from galleria.points.selectors import (
    earn_rule_list,
    points_adjustment_list,
    points_balance,
    points_expiring,
    points_history,
)
from galleria.sales.models import Sale
from galleria.sales.selectors import sale_list
from galleria.tiers.models import QualifyBy
from galleria.tiers.selectors import group_today, tier_history, tier_ladder, tier_progress
from galleria.tiers.types import Benefit, TierProgress

from ..helpers import console_view
from ..loyalty import ExplainRow, LineInfo, Names, behaviour_label, explain, multiplier_text, percent_text
from ..loyalty import short_explanation as short_text
from ..loyalty_forms import PointsAdjustForm, TierOverrideForm
from .tiers import benefit_rows

POINTS_PER_PAGE = 20
SALES_LIMIT = 10
TIER_HISTORY_LIMIT = 20
ADJUSTMENTS_LIMIT = 10
EXPIRY_WINDOW_DAYS = 30


def member_or_404(request: HttpRequest, member_id: int) -> Member:
    try:
        return member_get(mall_group_id=scope_of(request).mall_group_id, member_id=member_id)
    except Member.DoesNotExist as exc:
        raise Http404("member") from exc


# ---------------------------------------------------------------------------------------------- tier


def amount_text(value: int, qualify_by: str) -> str:
    if qualify_by == QualifyBy.POINTS:
        return _("%(n)s points") % {"n": f"{value:,}"}
    return format_cny(value)


def benefit_text(benefit: Benefit) -> str:
    value = benefit.value
    if benefit.key == "points_multiplier_bp" and isinstance(value, int):
        return _("%(m)s points") % {"m": multiplier_text(value)}
    if benefit.key == "discount_bp" and isinstance(value, int):
        return _("%(pct)s off") % {"pct": percent_text(value)}
    if benefit.key == "free_parking_hours":
        return _("%(n)s h free parking") % {"n": value}
    if benefit.key == "birthday_gift":
        return _("Birthday gift: %(gift)s") % {"gift": value}
    if benefit.key == "lounge_access":
        return _("Lounge access")
    if benefit.key == "priority_registration":
        return _("Priority event registration")
    return f"{benefit.key}: {value}"


def _tier(progress: TierProgress | None) -> dict[str, Any] | None:
    if progress is None:
        return None
    by = progress.qualify_by
    nxt = progress.next
    if nxt is not None and nxt.threshold > 0:
        pct = min(100, max(0, progress.qualifying_amount * 100 // nxt.threshold))
    else:
        pct = 100
    return {
        "p": progress,
        "amount": amount_text(progress.qualifying_amount, by),
        "needed": amount_text(progress.amount_needed, by),
        "to_keep": amount_text(progress.amount_to_keep, by),
        "next_threshold": amount_text(nxt.threshold, by) if nxt else "",
        "pct": pct,
        "benefits": benefit_rows(progress.current),
        "next_benefits": [benefit_text(b) for b in progress.next_benefits],
        "by_spend": by != QualifyBy.POINTS,
    }


def _tier_history(member: Member) -> list[dict[str, Any]]:
    """Tier changes, newest first; a change caused by a sale links to its receipt (the note is "sale:<id>")."""
    entries = tier_history(member_id=member.pk, limit=TIER_HISTORY_LIMIT)
    sale_ids = {int(h.note[5:]) for h in entries if h.note.startswith("sale:") and h.note[5:].isdigit()}
    sales = {s.pk: s for s in sale_list(member_id=member.pk).filter(pk__in=sale_ids)} if sale_ids else {}
    rows = []
    for h in entries:
        row: dict[str, Any] = {"h": h, "note": h.note, "url": ""}
        kind, _sep, ref = h.note.partition(":")
        if kind == "sale" and ref.isdigit() and int(ref) in sales:
            sale = sales[int(ref)]
            row["note"] = _("Receipt %(no)s") % {"no": f"{sale.merchant.name} · {sale.pos_sale_id}"}
            row["url"] = _sale_url(member, sale.pk)
        elif kind == "refund" and ref.isdigit():
            row["note"] = _("Refund #%(id)s") % {"id": ref}
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------- points history


@dataclass
class HistoryRow:
    entry: Entry
    balance_after: int
    source: str
    url: str = ""
    detail: str = ""
    rows: Sequence[ExplainRow] = field(default_factory=list)


def _sale_url(member: Member, sale_id: int) -> str:
    return reverse("console:member_sale", args=[member.pk, sale_id])


def _history_rows(member: Member, entries: Sequence[Entry], balance_before: int, names: Names) -> list[HistoryRow]:
    """`balance_before` is the member's balance after the newest entry of the page."""
    sale_ids: set[int] = set()
    for e in entries:
        kind, _sep, ref = e.transaction.source.partition(":")
        if kind == "sale" and ref.isdigit():
            sale_ids.add(int(ref))
        sale_ref = (e.transaction.explanation or {}).get("sale")
        if kind == "refund" and isinstance(sale_ref, int):
            sale_ids.add(sale_ref)
    sales = {s.pk: s for s in sale_list(member_id=member.pk).filter(pk__in=sale_ids)} if sale_ids else {}
    rows: list[HistoryRow] = []
    balance = balance_before
    for e in entries:
        tx = e.transaction
        explanation = tx.explanation or {}
        kind, _sep, ref = tx.source.partition(":")
        row = HistoryRow(entry=e, balance_after=balance, source=tx.source or "—")
        balance -= e.amount
        if kind == "sale" and ref.isdigit() and int(ref) in sales:
            sale = sales[int(ref)]
            row.source = f"{sale.merchant.name} · {sale.pos_sale_id}"
            row.url = _sale_url(member, sale.pk)
        elif kind == "refund" and isinstance(explanation.get("sale"), int) and explanation["sale"] in sales:
            sale = sales[explanation["sale"]]
            row.source = _("Refund of %(receipt)s") % {"receipt": f"{sale.merchant.name} · {sale.pos_sale_id}"}
            row.url = _sale_url(member, sale.pk)
        elif kind == "adjustment":
            row.source = _("Adjustment #%(id)s") % {"id": ref}
            row.detail = str(explanation.get("reason") or "")
        elif kind == "behaviour":
            row.source = behaviour_label(ref)
        elif kind == "expiry":
            row.source = _("Expiry run of %(day)s") % {"day": ref}
        elif kind == "merge" and ref.isdigit():
            row.source = _("Merge of a duplicate member (#%(id)s)") % {"id": ref}
            row.url = reverse("console:merge_detail", args=[int(ref)])
        elif kind == "import" and ref.isdigit():
            row.source = _("Opening balance from import #%(id)s") % {"id": ref}
            row.url = reverse("console:import", args=[int(ref)])
        elif kind == "coupon":
            row.source = _("Coupon claimed with points")
        elif kind == "erasure":
            row.source = _("Account deletion")
        if tx.kind == TransactionKind.EARN:
            row.detail = short_text(explanation, names=names)
            row.rows = explain(explanation, names=names)
        elif tx.kind == TransactionKind.REFUND and isinstance(explanation.get("clawed_back"), int):
            row.detail = _("Points of the refunded goods taken back")
            if explanation.get("shortfall"):
                row.detail += " · " + _("%(n)s points could not be taken back") % {"n": explanation["shortfall"]}
        elif tx.kind == TransactionKind.REFUND and e.amount > 0:
            row.detail = _("Points paid for the refunded goods returned")
        elif tx.kind == TransactionKind.SPEND and isinstance(explanation.get("value_fen"), int):
            row.detail = _("Paid %(amount)s with points") % {"amount": format_cny(explanation["value_fen"])}
        rows.append(row)
    return rows


def points_history_context(request: HttpRequest, member: Member, names: Names) -> dict[str, Any]:
    qs = points_history(member_id=member.pk)
    page = Paginator(qs, POINTS_PER_PAGE).get_page(request.GET.get("points_page"))
    offset = (page.number - 1) * POINTS_PER_PAGE
    newer = qs[:offset].values_list("amount", flat=True) if offset else []
    balance_before = points_balance(member_id=member.pk) - sum(newer)
    return {
        "points_page": page,
        "points_rows": _history_rows(member, list(page.object_list), balance_before, names),
    }


# ---------------------------------------------------------------------------------------------- the section


def loyalty_context(
    request: HttpRequest,
    member: Member,
    *,
    override_form: TierOverrideForm | None = None,
    adjust_form: PointsAdjustForm | None = None,
) -> dict[str, Any]:
    scope = scope_of(request)
    group_id = member.mall_group_id
    today = group_today(mall_group_id=group_id)
    until = today + dt.timedelta(days=EXPIRY_WINDOW_DAYS)
    ladder = tier_ladder(mall_group_id=group_id)
    names = Names(
        rules={rule.pk: rule.name for rule in earn_rule_list(mall_group_id=group_id)},
        tiers={level.code: level.name for level in ladder},
    )
    active = member.is_active
    can_override = scope.can(perms.LOYALTY_EDIT) and active and bool(ladder)
    can_adjust = scope.can(perms.POINTS_ADJUST) and active
    recent = list(sale_list(member_id=member.pk)[:SALES_LIMIT])
    context: dict[str, Any] = {
        "loyalty": True,
        "points_balance": points_balance(member_id=member.pk),
        "points_expiring": points_expiring(member_id=member.pk, until=until),
        "expiring_until": until,
        "tier": _tier(tier_progress(member_id=member.pk, today=today)),
        "tier_history": _tier_history(member),
        "recent_sales": [
            {
                "sale": s,
                "total": format_cny(s.total_fen),
                "paid": format_cny(s.paid_fen),
                "url": _sale_url(member, s.pk),
            }
            for s in recent
        ],
        "member_adjustments": list(
            points_adjustment_list(mall_group_id=group_id, member_id=member.pk)[:ADJUSTMENTS_LIMIT]
        ),
        "can_override": can_override,
        "can_adjust": can_adjust,
        "can_approve": scope.can(perms.POINTS_APPROVE),
        "override_form": override_form or (TierOverrideForm(levels=ladder, today=today) if can_override else None),
        "adjust_form": adjust_form or (PointsAdjustForm() if can_adjust else None),
        "today": today,
    }
    context.update(points_history_context(request, member, names))
    return context


@console_view(perms.LOYALTY_VIEW)
def member_points_history(request: HttpRequest, member_id: int) -> HttpResponse:
    """One page of the points history (htmx swaps it into the 360 page)."""
    member = member_or_404(request, member_id)
    names = Names.for_group(member.mall_group_id)
    context = {"member": member, **points_history_context(request, member, names)}
    return render(request, "console/members/_points_history.html", context)


# ---------------------------------------------------------------------------------------------- a receipt


@console_view(perms.LOYALTY_VIEW)
def member_sale(request: HttpRequest, member_id: int, sale_id: int) -> HttpResponse:
    member = member_or_404(request, member_id)
    try:
        sale = (
            sale_list(member_id=member.pk)
            .select_related("store", "mall")
            .prefetch_related("lines", "payments", "refunds")
            .get(pk=sale_id)
        )
    except Sale.DoesNotExist as exc:
        raise Http404("sale") from exc
    names = Names.for_group(member.mall_group_id)
    lines = list(sale.lines.all())
    rows = explain(
        sale.earn_explanation or {},
        names=names,
        lines=[LineInfo(ln.sku, ln.category, ln.amount_fen) for ln in lines],
    )
    context = {
        "nav": "members",
        "member": member,
        "sale": sale,
        "lines": [{"line": ln, "amount": format_cny(ln.amount_fen), "paid": format_cny(ln.paid_fen)} for ln in lines],
        "payments": [{"p": p, "amount": format_cny(p.amount_fen)} for p in sale.payments.all()],
        "refunds": [{"r": r, "amount": format_cny(r.amount_fen)} for r in sale.refunds.all()],
        "total": format_cny(sale.total_fen),
        "paid": format_cny(sale.paid_fen),
        "points_value": format_cny(sale.points_value_fen),
        "refunded": format_cny(sale.refunded_fen),
        "explain_rows": rows,
    }
    return render(request, "console/members/sale.html", context)
