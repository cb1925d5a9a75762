"""Points adjustments awaiting approval (a second person approves or rejects them) and the decided ones."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.points.models import AdjustmentStatus, PointsAdjustment
from galleria.points.selectors import points_adjustment_get, points_adjustment_list, policy_get
from galleria.points.services import points_adjust_decide
from galleria.tiers.selectors import group_tz

from ..helpers import console_view, error_message, page_of
from ..loyalty import GroupContext, group_context
from ..loyalty_forms import AdjustmentDecisionForm

PENDING_LIMIT = 200


def _page(
    request: HttpRequest,
    g: GroupContext,
    *,
    row_errors: dict[int, str] | None = None,
    notes: dict[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    pending = list(points_adjustment_list(mall_group_id=g.id, pending=True)[:PENDING_LIMIT])
    history, query_string = page_of(request, points_adjustment_list(mall_group_id=g.id, pending=False))
    shown = {adj.pk for adj in pending}
    page_errors = [message for adj_id, message in (row_errors or {}).items() if adj_id not in shown]
    context = {
        "nav": "adjustments",
        "g": g,
        "pending": pending,
        "page_obj": history,
        "query_string": query_string,
        "threshold": policy_get(mall_group_id=g.id).adjustment_approval_threshold,
        "row_errors": row_errors or {},
        "page_errors": page_errors,
        "notes": notes or {},
        "me": request.user.pk,
    }
    return render(request, "console/loyalty/adjustments.html", context, status=status)


@console_view(perms.POINTS_APPROVE)
def adjustments(request: HttpRequest) -> HttpResponse:
    return _page(request, group_context(request))


@require_POST
@console_view(perms.POINTS_APPROVE)
def adjustment_decide(request: HttpRequest, adjustment_id: int) -> HttpResponse:
    try:
        adj = points_adjustment_get(adjustment_id=adjustment_id, mall_group_id=scope_of(request).mall_group_id)
    except PointsAdjustment.DoesNotExist as exc:
        raise Http404("adjustment") from exc
    g = group_context(request, group_id=adj.mall_group_id)
    form = AdjustmentDecisionForm(request.POST)
    if not form.is_valid():
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return _page(request, g, row_errors={adj.pk: message}, status=400)
    approve = form.cleaned_data["decision"] == "approve"
    note = form.cleaned_data.get("note") or ""
    try:
        decided = points_adjust_decide(
            adjustment_id=adj.pk,
            approve=approve,
            actor=actor_for(request),
            note=note,
            tz_name=group_tz(mall_group_id=g.id) or "",
        )
    except ApplicationError as exc:
        return _page(request, g, row_errors={adj.pk: error_message(exc)}, notes={adj.pk: note}, status=400)
    points = f"{decided.points:+,}"
    if decided.status == AdjustmentStatus.APPLIED:
        messages.success(
            request,
            _("Approved: %(points)s points for %(card)s.") % {"points": points, "card": decided.member.card_no},
        )
    else:
        messages.success(
            request,
            _("Rejected: %(points)s points for %(card)s.") % {"points": points, "card": decided.member.card_no},
        )
    return redirect(reverse("console:adjustments") + g.query)
