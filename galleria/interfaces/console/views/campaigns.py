"""Console: campaigns (docs/marketing.md, "Campaigns") — the list, the editor (a segment, a hold-out share, inbox and
SMS texts, a coupon, when), scheduling and cancelling, a campaign's progress and report (treated against the
hold-out, with confidence), and the marketing settings (quiet hours, weekly cap, SMS price). `campaigns.view` reads,
`campaigns.manage` writes. Everything is galleria.campaigns' (services audit every change)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audience.selectors import segment_list
from galleria.campaigns import selectors, services
from galleria.campaigns.types import SKIP_REASONS, CampaignStatus
from galleria.core.errors import ApplicationError
from galleria.coupons.selectors import template_list
from galleria.interfaces.common import actor_for, scope_of

from ..campaign_forms import CampaignForm, MarketingSettingsForm, initial_of
from ..helpers import console_view, error_message, page_of
from ..loyalty import group_context


def _form(g: Any, *args: Any, **kwargs: Any) -> CampaignForm:
    return CampaignForm(
        *args,
        segments=segment_list(mall_group_id=g.id),
        coupons=template_list(mall_group_id=g.id, status="active"),
        **kwargs,
    )


def _campaign_or_404(request: HttpRequest, campaign_id: int) -> tuple[Any, Any]:
    g = group_context(request)
    try:
        return selectors.campaign_get(mall_group_id=g.id, campaign_id=campaign_id), g
    except ApplicationError as exc:
        raise Http404("campaign") from exc


@console_view(perms.CAMPAIGNS_VIEW)
def campaigns(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    page, query = page_of(request, selectors.campaign_list(mall_group_id=g.id))
    s = selectors.settings_for(mall_group_id=g.id)
    form = MarketingSettingsForm(
        initial={
            "quiet_start": s.quiet_start,
            "quiet_end": s.quiet_end,
            "weekly_cap": s.weekly_cap,
            "sms_cost_yuan": Decimal(s.sms_cost_fen) / 100,
        }
    )
    return render(
        request,
        "console/campaigns/list.html",
        {
            "nav": "campaigns",
            "g": g,
            "page_obj": page,
            "query": query,
            "settings_form": form,
            "can_manage": scope_of(request).can(perms.CAMPAIGNS_MANAGE),
        },
    )


def _editor(request: HttpRequest, g: Any, campaign: Any) -> HttpResponse:
    if request.method == "POST":
        form = _form(g, request.POST)
        if form.is_valid():
            try:
                saved = services.campaign_save(
                    mall_group_id=g.id,
                    actor=actor_for(request),
                    values=form.values(),
                    campaign_id=campaign.pk if campaign else None,
                )
            except ApplicationError as exc:
                for field, message in exc.fields.items():
                    form.add_error(field if field in form.fields else None, str(message))
                if not exc.fields:
                    form.add_error(None, error_message(exc))
            else:
                messages.success(request, _("Draft saved. Check it, then schedule it."))
                return redirect(reverse("console:marketing_campaign", args=[saved.pk]) + g.query)
    else:
        form = _form(g, initial=initial_of(campaign) if campaign else None)
    return render(
        request,
        "console/campaigns/form.html",
        {"nav": "campaigns", "g": g, "form": form, "campaign": campaign},
        status=422 if form.is_bound and form.errors else 200,
    )


@console_view(perms.CAMPAIGNS_MANAGE)
def campaign_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, group_context(request), None)


@console_view(perms.CAMPAIGNS_MANAGE)
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign, g = _campaign_or_404(request, campaign_id)
    if campaign.status != CampaignStatus.DRAFT:
        messages.error(request, _("Only a draft can be edited."))
        return redirect(reverse("console:marketing_campaign", args=[campaign.pk]) + g.query)
    return _editor(request, g, campaign)


@console_view(perms.CAMPAIGNS_VIEW)
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign, g = _campaign_or_404(request, campaign_id)
    rep = selectors.report(campaign=campaign)
    charts = None
    if rep is not None:
        charts = {
            "chart-conversion": {
                "labels": [_("Received the campaign"), _("Hold-out")],
                "values": [rep.treated.conversion_bp / 100, rep.holdout.conversion_bp / 100],
            },
            "chart-spend": {
                "labels": [_("Received the campaign"), _("Hold-out")],
                "values": [round(rep.treated.mean_fen / 100, 2), round(rep.holdout.mean_fen / 100, 2)],
            },
        }
    return render(
        request,
        "console/campaigns/detail.html",
        {
            "nav": "campaigns",
            "g": g,
            "c": campaign,
            "report": rep,
            "charts": charts,
            "progress": selectors.progress(campaign=campaign),
            "skips": [
                (str(SKIP_REASONS.get(k, k)), n)
                for k, n in (rep.skips.items() if rep else ())
                if n and k in SKIP_REASONS
            ],
            "means": {"treated": round(rep.treated.mean_fen), "holdout": round(rep.holdout.mean_fen)} if rep else {},
            "holdout_pct": f"{campaign.holdout_bp / 100:g}",
            "can_manage": scope_of(request).can(perms.CAMPAIGNS_MANAGE),
        },
    )


@require_POST
@console_view(perms.CAMPAIGNS_MANAGE)
def campaign_schedule(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign, g = _campaign_or_404(request, campaign_id)
    try:
        services.campaign_schedule(mall_group_id=g.id, campaign_id=campaign.pk, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("Scheduled. Members receive it at the time set (after quiet hours)."))
    return redirect(reverse("console:marketing_campaign", args=[campaign.pk]) + g.query)


@require_POST
@console_view(perms.CAMPAIGNS_MANAGE)
def campaign_cancel(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign, g = _campaign_or_404(request, campaign_id)
    try:
        services.campaign_cancel(mall_group_id=g.id, campaign_id=campaign.pk, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("Cancelled: members not reached yet get nothing."))
    return redirect(reverse("console:marketing_campaign", args=[campaign.pk]) + g.query)


@require_POST
@console_view(perms.CAMPAIGNS_MANAGE)
def marketing_settings(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = MarketingSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(next(iter(form.errors.values()))[0]))
    else:
        d = form.cleaned_data
        try:
            services.settings_save(
                mall_group_id=g.id,
                actor=actor_for(request),
                values={
                    "quiet_start": d["quiet_start"],
                    "quiet_end": d["quiet_end"],
                    "weekly_cap": d["weekly_cap"],
                    "sms_cost_fen": int(d["sms_cost_yuan"] * 100),
                },
            )
        except ApplicationError as exc:
            messages.error(request, error_message(exc))
        else:
            messages.success(request, _("Saved."))
    return redirect(reverse("console:marketing_campaigns") + g.query)
