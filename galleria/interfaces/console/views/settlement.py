"""Console: settlement with merchants (对账单, docs/settlement.md) — finance's statements list (status tabs, period,
merchant and search filters, pages, export), a statement with each figure, the legs behind it and its history, and
the steps finance takes: generate a period's drafts, approve (posts the commission), record the payment (posts the
payout). `settlement.view` reads and exports; `settlement.manage` generates, approves and records payments."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.tasks import enqueue
from galleria.interfaces.common import actor_for, scope_of
from galleria.merchants.selectors import merchant_options
from galleria.settlement import rules, selectors, services
from galleria.settlement.exceptions import StatementNotFoundError
from galleria.settlement.types import Figure, Period, StatementStatus

from ...settlement_ui import (
    STATUS_BADGES,
    export_response,
    figure_label,
    figure_rows,
    legs_page,
    statement_filename,
    statement_title,
)
from ..helpers import console_tz, console_view, page_of
from ..loyalty import group_context

GENERATE_TASK = "galleria.settlement.tasks.statements_generate_task"
EXPORT_MAX_STATEMENTS = 5000


def _filters(request: HttpRequest) -> dict[str, Any]:
    status = request.GET.get("status") or ""
    if status not in StatementStatus.values:
        status = ""
    period: Period | None = None
    try:
        period = rules.parse_period(request.GET.get("period") or "") if request.GET.get("period") else None
    except ApplicationError:
        period = None
    try:
        merchant_id = int(request.GET.get("merchant") or 0) or None
    except ValueError:
        merchant_id = None
    return {"status": status, "period": period, "merchant_id": merchant_id, "q": (request.GET.get("q") or "")[:40]}


def _listing(group_id: int, f: dict[str, Any], *, with_status: bool = True) -> Any:
    return selectors.statement_list(
        mall_group_id=group_id,
        merchant_id=f["merchant_id"],
        status=f["status"] if with_status else "",
        period_start=f["period"].start if f["period"] else None,
        query=f["q"],
    )


def _default_period(request: HttpRequest) -> Period:
    return rules.previous_period(timeutil.local_date(timeutil.now(), console_tz(request)))


@require_GET
@console_view(perms.SETTLEMENT_VIEW)
def statements(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    f = _filters(request)
    rows = _listing(g.id, f)
    page, query_string = page_of(request, rows)
    totals = rows.order_by().aggregate(
        net=Sum("net_fen"),
        commission=Sum("commission_fen"),
        owed=Sum("net_fen", filter=Q(net_fen__gt=0)),
        owing=Sum("net_fen", filter=Q(net_fen__lt=0)),
    )
    counts = selectors.status_counts(
        mall_group_id=g.id, merchant_id=f["merchant_id"], period_start=f["period"].start if f["period"] else None
    )
    tab_params = request.GET.copy()
    tab_params.pop("page", None)
    tab_params.pop("status", None)
    default_period = _default_period(request)
    now = timeutil.now()
    run = selectors.last_run(mall_group_id=g.id, period=f["period"] or default_period)
    context = {
        "nav": "settlement",
        "g": g,
        "page_obj": page,
        "rows": [(s, STATUS_BADGES.get(s.status, ""), selectors.is_preview(s, now=now)) for s in page],
        "query_string": query_string,
        "tab_query": tab_params.urlencode(),
        "tabs": [("", _("All"), sum(counts.values()))]
        + [(s.value, s.label, counts.get(s.value, 0)) for s in StatementStatus],
        "status": f["status"],
        "period": f["period"].label if f["period"] else "",
        "periods": selectors.period_options(mall_group_id=g.id),
        "merchant_id": f["merchant_id"],
        "merchants": list(merchant_options(mall_group_id=g.id).values_list("pk", "name")),
        "q": f["q"],
        "totals": {
            "net": totals["net"] or 0,
            "commission": totals["commission"] or 0,
            "owed": totals["owed"] or 0,
            "owing": -(totals["owing"] or 0),
            "count": page.paginator.count,
        },
        "can_manage": scope_of(request).can(perms.SETTLEMENT_MANAGE),
        "default_period": default_period.label,
        "run": run,
        "export_query": tab_params.urlencode() + (f"&status={f['status']}" if f["status"] else ""),
    }
    return render(request, "console/settlement/list.html", context)


@require_POST
@console_view(perms.SETTLEMENT_MANAGE)
def generate(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    text = (request.POST.get("period") or "").strip()
    try:
        period = rules.parse_period(text, today=timeutil.local_date(timeutil.now(), console_tz(request)))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return redirect(reverse("console:settlement") + g.query)
    actor = actor_for(request)
    enqueue(
        GENERATE_TASK,
        mall_group_id=g.id,
        period_start=period.start.isoformat(),
        period_end=period.end.isoformat(),
        actor_label=actor.label,
        actor_user_id=actor.user_id,
    )
    text = _(
        "Generating the statements of %(period)s: drafts appear here when it is done. Confirmed statements "
        "never change; postings that arrived late go to supplementary statements."
    ) % {"period": period.label}
    if not rules.period_has_ended(period, console_tz(request), now=timeutil.now()):
        text += " " + _(
            "%(period)s is not over yet: its statements are previews until it ends — the merchants cannot confirm "
            "them and you cannot approve them before then. Generate again to refresh their figures."
        ) % {"period": period.label}
    messages.success(request, text)
    params = {"group": g.id} if g.options else {}
    return redirect(reverse("console:settlement") + "?" + urlencode({**params, "period": period.label}))


@require_GET
@console_view(perms.SETTLEMENT_VIEW)
def export(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    f = _filters(request)
    rows = list(_listing(g.id, f)[:EXPORT_MAX_STATEMENTS])
    label = f["period"].label if f["period"] else _("all periods")
    title = _("%(group)s · merchant settlement statements · %(period)s") % {"group": g.group.name, "period": label}
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    return export_response(request, rows, title=title, filename=f"settlement-{g.group.code}-{stamp}")


def _statement_or_404(request: HttpRequest, statement_id: int) -> Any:
    try:
        return selectors.statement_get(statement_id=statement_id, mall_group_id=scope_of(request).mall_group_id)
    except StatementNotFoundError as exc:
        raise Http404("statement") from exc


@require_GET
@console_view(perms.SETTLEMENT_VIEW)
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    s = _statement_or_404(request, statement_id)
    g = group_context(request, group_id=s.mall_group_id)
    figure = request.GET.get("figure") or ""
    if figure not in Figure.values:
        figure = ""
    legs, legs_query, legs_total = legs_page(request, s, figure) if figure else (None, "", 0)
    can_manage = scope_of(request).can(perms.SETTLEMENT_MANAGE)
    preview = selectors.is_preview(s)
    context = {
        "nav": "settlement",
        "g": g,
        "s": s,
        "title": statement_title(s),
        "badge": STATUS_BADGES.get(s.status, ""),
        "rows": figure_rows(s),
        "figure": figure,
        "figure_name": figure_label(figure) if figure else "",
        "legs": legs,
        "legs_query": legs_query,
        "legs_total": legs_total,
        "events": list(selectors.statement_events(statement_id=s.pk)),
        "siblings": [x for x in selectors.period_statements(merchant_id=s.merchant_id, period_start=s.period_start)],
        "preview": preview,
        "can_approve": can_manage and not preview and s.status in (StatementStatus.CONFIRMED, StatementStatus.DISPUTED),
        "can_manage": can_manage,
        "can_pay": can_manage and s.status == StatementStatus.APPROVED,
        "can_regenerate": can_manage and s.status in (StatementStatus.DRAFT, StatementStatus.DISPUTED),
        "audience": "console",
    }
    return render(request, "console/settlement/detail.html", context)


@require_GET
@console_view(perms.SETTLEMENT_VIEW)
def statement_export(request: HttpRequest, statement_id: int) -> HttpResponse:
    s = _statement_or_404(request, statement_id)
    return export_response(request, [s], title=statement_title(s), filename=statement_filename(s))


def _step(request: HttpRequest, statement_id: int, do: Any) -> HttpResponse:
    """Run one finance step on the statement; its message (or the service's error) on the statement's page."""
    s = _statement_or_404(request, statement_id)
    try:
        messages.success(request, do(s))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    return redirect("console:settlement_statement", s.pk)


@require_POST
@console_view(perms.SETTLEMENT_MANAGE)
def approve(request: HttpRequest, statement_id: int) -> HttpResponse:
    def do(s: Any) -> str:
        services.statement_approve(
            statement_id=s.pk,
            mall_group_id=scope_of(request).mall_group_id,
            actor=actor_for(request),
            note=request.POST.get("note") or "",
        )
        return _("Approved: the commission is posted to the ledger.")

    return _step(request, statement_id, do)


@require_POST
@console_view(perms.SETTLEMENT_MANAGE)
def mark_paid(request: HttpRequest, statement_id: int) -> HttpResponse:
    def do(s: Any) -> str:
        services.statement_mark_paid(
            statement_id=s.pk,
            mall_group_id=scope_of(request).mall_group_id,
            actor=actor_for(request),
            reference=request.POST.get("reference") or "",
            note=request.POST.get("note") or "",
        )
        return _("Payment recorded: the payout is posted to the ledger.")

    return _step(request, statement_id, do)


@require_POST
@console_view(perms.SETTLEMENT_MANAGE)
def regenerate(request: HttpRequest, statement_id: int) -> HttpResponse:
    def do(s: Any) -> str:
        result = services.statement_regenerate(
            statement_id=s.pk, mall_group_id=scope_of(request).mall_group_id, actor=actor_for(request)
        )
        if result.created or result.regenerated:
            return _("Regenerated from the ledger.")
        return _("Nothing changed since the statement was generated.")

    return _step(request, statement_id, do)
