"""Merchant portal: the merchant's own settlement statements (对账单, docs/settlement.md) — the list, a statement
with each figure and the legs behind it, the export, and the merchant's step: confirm the draft as read, or
dispute it with a comment, once its month is over (before that the statement is a preview: shown, not decided).
Owners and managers (`portal.settlement`); another merchant's statement is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.settlement import selectors, services
from galleria.settlement.exceptions import StatementNotFoundError
from galleria.settlement.types import Figure, StatementStatus

from ..console.helpers import page_of
from ..settlement_ui import (
    STATUS_BADGES,
    export_response,
    figure_label,
    figure_rows,
    legs_page,
    statement_filename,
    statement_title,
)
from .portal import portal_merchant, portal_render, portal_view


def _merchant_id(request: HttpRequest) -> int:
    merchant_id = scope_of(request).merchant_id
    assert merchant_id is not None  # portal_view lets only merchant staff in
    return merchant_id


def _own(request: HttpRequest, statement_id: int) -> Any:
    try:
        return selectors.statement_get(
            statement_id=statement_id,
            mall_group_id=scope_of(request).mall_group_id,
            merchant_id=_merchant_id(request),
        )
    except StatementNotFoundError as exc:
        raise Http404("statement") from exc


@require_GET
@portal_view(perms.PORTAL_SETTLEMENT)
def statements(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    status = request.GET.get("status") or ""
    if status not in StatementStatus.values:
        status = ""
    rows = selectors.statement_list(mall_group_id=merchant.mall.group_id, merchant_id=merchant.pk, status=status)
    page, query_string = page_of(request, rows)
    counts = selectors.status_counts(mall_group_id=merchant.mall.group_id, merchant_id=merchant.pk)
    now = timeutil.now()
    drafts = selectors.statement_list(
        mall_group_id=merchant.mall.group_id, merchant_id=merchant.pk, status=StatementStatus.DRAFT
    )
    previews = sum(1 for s in drafts if selectors.is_preview(s, now=now))  # one open statement per month at most
    return portal_render(
        request,
        "merchant/settlement/list.html",
        {
            "page_obj": page,
            "query_string": query_string,
            "rows": [(s, STATUS_BADGES.get(s.status, ""), selectors.is_preview(s, now=now)) for s in page],
            "status": status,
            "tabs": [("", _("All"), sum(counts.values()))]
            + [(s.value, s.label, counts.get(s.value, 0)) for s in StatementStatus],
            "waiting": counts.get(StatementStatus.DRAFT, 0) - previews,  # drafts the merchant can confirm now
            "previews": previews,  # drafts of a month not over yet
        },
        nav="settlement",
        merchant=merchant,
    )


@require_GET
@portal_view(perms.PORTAL_SETTLEMENT)
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    s = _own(request, statement_id)
    figure = request.GET.get("figure") or ""
    if figure not in Figure.values:
        figure = ""
    legs, legs_query, legs_total = legs_page(request, s, figure) if figure else (None, "", 0)
    preview = selectors.is_preview(s)
    return portal_render(
        request,
        "merchant/settlement/detail.html",
        {
            "s": s,
            "title": statement_title(s),
            "badge": STATUS_BADGES.get(s.status, ""),
            "rows": figure_rows(s, merchant_view=True),
            "figure": figure,
            "figure_name": figure_label(figure) if figure else "",
            "legs": legs,
            "legs_query": legs_query,
            "legs_total": legs_total,
            "events": list(selectors.statement_events(statement_id=s.pk)),
            "siblings": selectors.period_statements(merchant_id=s.merchant_id, period_start=s.period_start),
            "preview": preview,
            "can_decide": s.status == StatementStatus.DRAFT and not preview,
        },
        nav="settlement",
    )


@require_GET
@portal_view(perms.PORTAL_SETTLEMENT)
def statement_export(request: HttpRequest, statement_id: int) -> HttpResponse:
    s = _own(request, statement_id)
    return export_response(request, [s], title=statement_title(s), filename=statement_filename(s))


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version") or "")
    except ValueError:
        return None


def _decide(request: HttpRequest, statement_id: int, *, dispute: bool) -> HttpResponse:
    s = _own(request, statement_id)
    try:
        if dispute:
            services.statement_dispute(
                statement_id=s.pk,
                merchant_id=_merchant_id(request),
                actor=actor_for(request),
                comment=request.POST.get("comment") or "",
                version=_version(request),
            )
            messages.success(request, _("Your dispute was sent to the mall's finance team."))
        else:
            services.statement_confirm(
                statement_id=s.pk,
                merchant_id=_merchant_id(request),
                actor=actor_for(request),
                version=_version(request),
            )
            messages.success(request, _("Confirmed. The mall's finance team approves it next, then pays."))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    return redirect("merchant:settlement_statement", s.pk)


@require_POST
@portal_view(perms.PORTAL_SETTLEMENT)
def confirm(request: HttpRequest, statement_id: int) -> HttpResponse:
    return _decide(request, statement_id, dispute=False)


@require_POST
@portal_view(perms.PORTAL_SETTLEMENT)
def dispute(request: HttpRequest, statement_id: int) -> HttpResponse:
    return _decide(request, statement_id, dispute=True)
