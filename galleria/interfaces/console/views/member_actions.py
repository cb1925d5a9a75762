"""Loyalty actions on the member 360 page: a manual tier override and a customer-service points adjustment."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for
from galleria.points.models import AdjustmentStatus
from galleria.points.selectors import policy_get
from galleria.points.services import points_adjust_request
from galleria.tiers.selectors import group_today, group_tz, tier_ladder
from galleria.tiers.services import tier_override

from ..helpers import add_application_error, console_view
from ..loyalty_forms import PointsAdjustForm, TierOverrideForm
from .member_loyalty import member_or_404
from .members import _detail


def _back(member_id: int) -> HttpResponse:
    return redirect(reverse("console:member_detail", args=[member_id]) + "#loyalty")


@require_POST
@console_view(perms.LOYALTY_EDIT)
def member_tier_override(request: HttpRequest, member_id: int) -> HttpResponse:
    member = member_or_404(request, member_id)
    ladder = tier_ladder(mall_group_id=member.mall_group_id)
    form = TierOverrideForm(request.POST, levels=ladder, today=group_today(mall_group_id=member.mall_group_id))
    if not member.is_active:
        form.add_error(None, _("Only active members can be changed."))
    elif form.is_valid():
        data = form.cleaned_data
        try:
            change = tier_override(
                member_id=member.pk,
                level_code=data["level_code"],
                until=data["until"],
                reason=data["reason"],
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(
                request,
                _("%(card)s is on %(tier)s until %(until)s.")
                % {"card": member.card_no, "tier": change.to_level.name, "until": data["until"].isoformat()},
            )
            return _back(member.pk)
    return _detail(request, member, loyalty={"override_form": form}, status=400)


@require_POST
@console_view(perms.POINTS_ADJUST)
def member_points_adjust(request: HttpRequest, member_id: int) -> HttpResponse:
    member = member_or_404(request, member_id)
    form = PointsAdjustForm(request.POST)
    if not member.is_active:
        form.add_error(None, _("Only active members can be changed."))
    elif form.is_valid():
        points = form.cleaned_data["points"]
        try:
            adj = points_adjust_request(
                mall_group_id=member.mall_group_id,
                member_id=member.pk,
                points=points,
                reason=form.cleaned_data["reason"],
                actor=actor_for(request),
                tz_name=group_tz(mall_group_id=member.mall_group_id) or "",
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            if adj.status == AdjustmentStatus.APPLIED:
                messages.success(request, _("Adjustment applied: %(points)s points.") % {"points": f"{points:+,}"})
            else:
                threshold = policy_get(mall_group_id=member.mall_group_id).adjustment_approval_threshold
                messages.warning(
                    request,
                    _(
                        "Adjustment of %(points)s points is awaiting approval: above %(threshold)s points a second "
                        "person approves it."
                    )
                    % {"points": f"{points:+,}", "threshold": f"{threshold:,}"},
                )
            return _back(member.pk)
    return _detail(request, member, loyalty={"adjust_form": form}, status=400)
