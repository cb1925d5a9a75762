"""Points rules: the group's policy, earn rules, points campaigns, behaviour points, and the earn simulator."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.interfaces.common import actor_for, scope_of
from galleria.interfaces.item_categories import item_categories_text
from galleria.members.selectors import member_resolve
from galleria.merchants.models import Category
from galleria.merchants.selectors import merchant_options
from galleria.points.models import BehaviourEvent, EarnRule, ExpiryPolicy, PointsCampaign, PointsPolicy
from galleria.points.selectors import (
    behaviour_rule_map,
    earn_rule_get,
    earn_rule_list,
    points_campaign_get,
    points_campaign_list,
    policy_get,
    rate_for,
)
from galleria.points.services import (
    behaviour_rule_save,
    earn_rule_save,
    earn_rule_set_active,
    points_campaign_save,
    points_campaign_set_active,
    points_policy_save,
)
from galleria.sales.selectors import sale_quote
from galleria.tiers.selectors import group_today, group_tz

from ..helpers import add_django_error, console_view, error_message, is_htmx
from ..loyalty import (
    CONCURRENT,
    GroupContext,
    LineInfo,
    Names,
    behaviour_label,
    explain,
    funding_text,
    group_context,
    multiplier_text,
    percent_text,
    points_text,
    rate_text,
)
from ..loyalty_forms import (
    WEEKDAYS,
    Basket,
    BehaviourRuleForm,
    EarnRuleForm,
    PointsCampaignForm,
    PointsPolicyForm,
    SimulatorForm,
)


def _points_url(g: GroupContext, anchor: str = "") -> str:
    return reverse("console:points_rules") + g.query + (f"#{anchor}" if anchor else "")


def _status(form: Any) -> int:
    return 400 if form.is_bound and form.errors else 200


# ---------------------------------------------------------------------------------------------- the page


def _policy_rows(policy: PointsPolicy) -> list[tuple[str, str]]:
    none = _("none")
    expiry = dict(ExpiryPolicy.choices).get(policy.expiry_policy, policy.expiry_policy)
    if policy.expiry_policy == ExpiryPolicy.DAYS_AFTER_EARN:
        expiry = _("%(n)s days after earning") % {"n": policy.expiry_days}
    return [
        (_("Base rate"), rate_text(policy.earn_points, policy.earn_unit_fen)),
        (_("Minimum spend"), format_cny(policy.min_spend_fen) if policy.min_spend_fen else none),
        (_("Cap per sale"), points_text(policy.per_sale_cap) if policy.per_sale_cap is not None else none),
        (_("Cap per member per day"), points_text(policy.daily_cap) if policy.daily_cap is not None else none),
        (_("Excluded item categories"), item_categories_text(policy.excluded_categories) or none),
        (_("Excluded SKUs"), ", ".join(policy.excluded_skus) or none),
        (_("Points funded by"), funding_text(policy.funder, policy.merchant_share_bp)),
        (
            _("Points as payment"),
            _("%(rate)s points = ¥1.00 · at least %(min)s · in multiples of %(multiple)s · up to %(share)s of a sale")
            % {
                "rate": policy.redeem_points_per_yuan,
                "min": policy.redeem_min_points,
                "multiple": policy.redeem_multiple,
                "share": percent_text(policy.redeem_max_share_bp),
            },
        ),
        (_("Expiry"), str(expiry)),
        (_("Adjustments need approval above"), points_text(policy.adjustment_approval_threshold)),
    ]


def _rule_target(rule: EarnRule) -> str:
    if rule.scope == "mall":
        return rule.mall.name if rule.mall else "—"
    if rule.scope == "merchant":
        return rule.merchant.name if rule.merchant else "—"
    return str(dict(Category.choices).get(rule.category, rule.category))


def _campaign_rows(g: GroupContext, campaigns: list[PointsCampaign]) -> list[dict[str, Any]]:
    today = group_today(mall_group_id=g.id)
    merchant_ids = {mid for c in campaigns for mid in c.merchant_ids or []}
    names = (
        dict(merchant_options(mall_group_id=g.id).filter(pk__in=merchant_ids).values_list("pk", "name"))
        if merchant_ids
        else {}
    )
    days, cats = dict(WEEKDAYS), dict(Category.choices)
    rows = []
    for c in campaigns:
        if not c.is_active:
            status, tone = _("Inactive"), ""
        elif c.ends_on < today:
            status, tone = _("Ended"), ""
        elif c.starts_on > today:
            status, tone = _("Scheduled"), "badge-warn"
        else:
            status, tone = _("Running"), "badge-ok"
        when = []
        if c.weekdays:
            when.append(" ".join(str(days.get(d, d)) for d in sorted(c.weekdays)))
        if c.month_days:
            when.append(_("days %(days)s") % {"days": ", ".join(str(d) for d in sorted(c.month_days))})
        where = [str(cats.get(k, k)) for k in c.categories or []]
        where += [names.get(mid, f"#{mid}") for mid in c.merchant_ids or []]
        rows.append(
            {
                "campaign": c,
                "multiplier": multiplier_text(c.multiplier_bp),
                "when": " · ".join(when) or _("every day"),
                "where": ", ".join(where) or _("all merchants"),
                "status": status,
                "tone": tone,
            }
        )
    return rows


def _page(
    request: HttpRequest,
    g: GroupContext,
    *,
    sim_form: SimulatorForm | None = None,
    basket: Basket | None = None,
    result: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    scope = scope_of(request)
    policy = policy_get(mall_group_id=g.id)
    rules = [
        {
            "rule": rule,
            "target": _rule_target(rule),
            "rate": rate_text(rule.earn_points, rule.earn_unit_fen),
            "funding": funding_text(rule.funder, rule.merchant_share_bp),
        }
        for rule in earn_rule_list(mall_group_id=g.id)
    ]
    behaviour = behaviour_rule_map(mall_group_id=g.id)
    context = {
        "nav": "points",
        "g": g,
        "policy": policy,
        "policy_saved": policy.pk is not None,
        "policy_rows": _policy_rows(policy),
        "rules": rules,
        "campaigns": _campaign_rows(g, list(points_campaign_list(mall_group_id=g.id))),
        "behaviour": [(event.value, event.label, behaviour.get(event.value)) for event in BehaviourEvent],
        "can_edit": scope.can(perms.LOYALTY_EDIT),
        "sim_form": sim_form or _simulator_form(g),
        "basket": basket or Basket.empty(),
        "result": result,
        "item_categories": policy.excluded_categories,
    }
    return render(request, "console/loyalty/points.html", context, status=status)


@console_view(perms.LOYALTY_VIEW)
def points_rules(request: HttpRequest) -> HttpResponse:
    return _page(request, group_context(request))


# ---------------------------------------------------------------------------------------------- policy


@console_view(perms.LOYALTY_EDIT)
def policy_edit(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    policy = policy_get(mall_group_id=g.id)
    form = PointsPolicyForm(request.POST or None, policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            points_policy_save(mall_group_id=g.id, values=form.values(), actor=actor_for(request))
        except DjangoValidationError as exc:
            add_django_error(form, exc)
        except IntegrityError:
            form.add_error(None, str(CONCURRENT))
        else:
            messages.success(request, _("Points policy saved."))
            return redirect(_points_url(g, "policy"))
    return render(
        request,
        "console/loyalty/policy_form.html",
        {"nav": "points", "g": g, "form": form, "policy_saved": policy.pk is not None},
        status=_status(form),
    )


# ---------------------------------------------------------------------------------------------- earn rules


def _rule_or_404(request: HttpRequest, rule_id: int) -> EarnRule:
    try:
        return earn_rule_get(rule_id=rule_id, mall_group_id=scope_of(request).mall_group_id)
    except EarnRule.DoesNotExist as exc:
        raise Http404("rule") from exc


def _rule_form(request: HttpRequest, g: GroupContext, rule: EarnRule | None) -> HttpResponse:
    form = EarnRuleForm(request.POST or None, group_id=g.id, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            saved = earn_rule_save(
                mall_group_id=g.id, rule_id=rule.pk if rule else None, values=form.values(), actor=actor_for(request)
            )
        except DjangoValidationError as exc:
            add_django_error(form, exc)
        except (IntegrityError, EarnRule.DoesNotExist):
            form.add_error(None, str(CONCURRENT))
        else:
            messages.success(request, _("Earn rule “%(name)s” saved.") % {"name": saved.name})
            return redirect(_points_url(g, "rules"))
    return render(
        request,
        "console/loyalty/rule_form.html",
        {"nav": "points", "g": g, "form": form, "rule": rule},
        status=_status(form),
    )


@console_view(perms.LOYALTY_EDIT)
def rule_new(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, group_context(request), None)


@console_view(perms.LOYALTY_EDIT)
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _rule_or_404(request, rule_id)
    return _rule_form(request, group_context(request, group_id=rule.mall_group_id), rule)


@require_POST
@console_view(perms.LOYALTY_EDIT)
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _rule_or_404(request, rule_id)
    g = group_context(request, group_id=rule.mall_group_id)
    saved = earn_rule_set_active(
        mall_group_id=g.id, rule_id=rule.pk, is_active=not rule.is_active, actor=actor_for(request)
    )
    if saved.is_active:
        messages.success(request, _("Earn rule “%(name)s” is active again.") % {"name": saved.name})
    else:
        messages.success(request, _("Earn rule “%(name)s” deactivated.") % {"name": saved.name})
    return redirect(_points_url(g, "rules"))


# ---------------------------------------------------------------------------------------------- campaigns


def _campaign_or_404(request: HttpRequest, campaign_id: int) -> PointsCampaign:
    try:
        return points_campaign_get(campaign_id=campaign_id, mall_group_id=scope_of(request).mall_group_id)
    except PointsCampaign.DoesNotExist as exc:
        raise Http404("campaign") from exc


def _campaign_form(request: HttpRequest, g: GroupContext, campaign: PointsCampaign | None) -> HttpResponse:
    with timezone.override(timeutil.zone(group_tz(mall_group_id=g.id))):
        form = PointsCampaignForm(request.POST or None, group_id=g.id, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            saved = points_campaign_save(
                mall_group_id=g.id,
                campaign_id=campaign.pk if campaign else None,
                values=form.values(),
                actor=actor_for(request),
            )
        except DjangoValidationError as exc:
            add_django_error(form, exc)
        except (IntegrityError, PointsCampaign.DoesNotExist):
            form.add_error(None, str(CONCURRENT))
        else:
            messages.success(request, _("Campaign “%(name)s” saved.") % {"name": saved.name})
            return redirect(_points_url(g, "campaigns"))
    return render(
        request,
        "console/loyalty/campaign_form.html",
        {"nav": "points", "g": g, "form": form, "campaign": campaign},
        status=_status(form),
    )


@console_view(perms.LOYALTY_EDIT)
def campaign_new(request: HttpRequest) -> HttpResponse:
    return _campaign_form(request, group_context(request), None)


@console_view(perms.LOYALTY_EDIT)
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, campaign_id)
    return _campaign_form(request, group_context(request, group_id=campaign.mall_group_id), campaign)


@require_POST
@console_view(perms.LOYALTY_EDIT)
def campaign_toggle(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, campaign_id)
    g = group_context(request, group_id=campaign.mall_group_id)
    saved = points_campaign_set_active(
        mall_group_id=g.id, campaign_id=campaign.pk, is_active=not campaign.is_active, actor=actor_for(request)
    )
    if saved.is_active:
        messages.success(request, _("Campaign “%(name)s” is active again.") % {"name": saved.name})
    else:
        messages.success(request, _("Campaign “%(name)s” deactivated.") % {"name": saved.name})
    return redirect(_points_url(g, "campaigns"))


# ---------------------------------------------------------------------------------------------- behaviour


@console_view(perms.LOYALTY_EDIT)
def behaviour_edit(request: HttpRequest, event: str) -> HttpResponse:
    if event not in BehaviourEvent.values:
        raise Http404("event")
    g = group_context(request)
    rule = behaviour_rule_map(mall_group_id=g.id).get(event)
    initial = (
        {"points": rule.points, "max_per_month": rule.max_per_month, "is_active": rule.is_active}
        if rule
        else {"points": 0, "max_per_month": 0, "is_active": True}
    )
    form = BehaviourRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            behaviour_rule_save(mall_group_id=g.id, event=event, values=form.cleaned_data, actor=actor_for(request))
        except DjangoValidationError as exc:
            add_django_error(form, exc)
        except IntegrityError:
            form.add_error(None, str(CONCURRENT))
        else:
            messages.success(request, _("Behaviour points for “%(event)s” saved.") % {"event": behaviour_label(event)})
            return redirect(_points_url(g, "behaviour"))
    return render(
        request,
        "console/loyalty/behaviour_form.html",
        {"nav": "points", "g": g, "form": form, "event": event, "event_label": behaviour_label(event), "rule": rule},
        status=_status(form),
    )


# ---------------------------------------------------------------------------------------------- simulator


def _simulator_form(g: GroupContext, data: Any = None) -> SimulatorForm:
    now = timezone.localtime(timeutil.now(), timeutil.zone(group_tz(mall_group_id=g.id)))
    return SimulatorForm(data, group_id=g.id, initial={"at": now.strftime("%Y-%m-%dT%H:%M")})


def _simulate(g: GroupContext, form: SimulatorForm, basket: Basket) -> dict[str, Any] | None:
    data = form.cleaned_data
    merchant = data["merchant"]
    member = None
    if data.get("member"):
        hit = member_resolve(mall_group_id=g.id, raw=data["member"])
        if hit is None:
            form.add_error("member", _("No member of this mall group has this card number or phone."))
            return None
        member = hit.member
    points_to_use = data.get("points_to_use") or 0
    if points_to_use and member is None:
        form.add_error("points_to_use", _("Only a member can pay with points: enter a member."))
        return None
    tz = timeutil.zone(merchant.mall.timezone)
    at = timezone.make_naive(data["at"]).replace(tzinfo=tz)  # typed as the merchant's mall-local time
    try:
        quote = sale_quote(
            merchant_id=merchant.pk,
            member_id=member.pk if member else None,
            lines=basket.lines,
            payments=[],
            points_to_use=points_to_use,
            at=at,
        )
    except ApplicationError as exc:
        if exc.code.startswith("points."):
            form.add_error("points_to_use", error_message(exc))
        else:
            form.add_error(None, error_message(exc))
        return None
    policy = policy_get(mall_group_id=g.id)
    rate = rate_for(policy=policy, merchant=merchant)
    explanation = quote.explanation
    would_earn = int(explanation.get("points") or 0)  # type: ignore[call-overload]
    rows = explain(
        explanation,
        names=Names.for_group(g.id),
        lines=[LineInfo(ln.sku, ln.category, ln.amount_fen) for ln in basket.lines],
        excluded_categories=policy.excluded_categories,
        excluded_skus=policy.excluded_skus,
        caps={"min_spend": policy.min_spend_fen, "per_sale_cap": policy.per_sale_cap, "daily_cap": policy.daily_cap},
        funding=funding_text(rate.funder, rate.merchant_share_bp),
    )
    return {
        "quote": quote,
        "member": member,
        "merchant": merchant,
        "at": timezone.localtime(at, tz),
        "points": quote.points_to_earn if member else would_earn,
        "is_member": member is not None,
        "rows": rows,
        "total": format_cny(quote.total_fen),
        "paid": format_cny(quote.paid_fen),
        "points_value": format_cny(quote.points_value_fen),
        "points_used": points_to_use,
    }


@console_view(perms.LOYALTY_VIEW)
def points_simulate(request: HttpRequest) -> HttpResponse:
    """Earn preview: what sale_quote says a basket would earn. Read-only (GET); htmx swaps the simulator card."""
    g = group_context(request)
    if not request.GET and not is_htmx(request):  # a plain visit: the page with an empty simulator, not errors
        return _page(request, g)
    form = _simulator_form(g, request.GET)
    basket = Basket.parse(request.GET)
    result = None
    if form.is_valid() and not basket.has_errors:
        result = _simulate(g, form, basket)
    status = 200 if result is not None else 400
    if is_htmx(request):
        policy = policy_get(mall_group_id=g.id)
        context = {
            "g": g,
            "sim_form": form,
            "basket": basket,
            "result": result,
            "item_categories": policy.excluded_categories,
        }
        # htmx swaps only 2xx answers by default: errors come back 200 so they show inline
        return render(request, "console/loyalty/_simulator.html", context)
    return _page(request, g, sim_form=form, basket=basket, result=result, status=status)
