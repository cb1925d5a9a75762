"""Tiers: the group's ladder and its benefits, the tier settings and the tier mix."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audit.services import audit_record
from galleria.core.money import format_cny
from galleria.interfaces.common import actor_for, scope_of
from galleria.tiers.models import QualifyBy, TierLevel
from galleria.tiers.selectors import tier_ladder, tier_level_get, tier_mix, tier_settings_get
from galleria.tiers.services import tier_ladder_ensure_default, tier_level_save, tier_settings_save

from ..helpers import add_django_error, console_view
from ..loyalty import CONCURRENT, GroupContext, group_context, multiplier_text, percent_text
from ..loyalty_forms import TierLevelForm, TierSettingsForm


def _tiers_url(g: GroupContext, anchor: str = "") -> str:
    return reverse("console:tiers") + g.query + (f"#{anchor}" if anchor else "")


def threshold_text(value: int, qualify_by: str) -> str:
    if qualify_by == QualifyBy.POINTS:
        return _("%(n)s points") % {"n": f"{value:,}"}
    return format_cny(value)


def benefit_rows(level: Any) -> list[str]:
    """What a level brings, as short phrases (a TierLevel or a TierView)."""
    out = []
    if level.points_multiplier_bp > 10000:
        out.append(_("%(m)s points") % {"m": multiplier_text(level.points_multiplier_bp)})
    if level.discount_bp:
        out.append(_("%(pct)s off") % {"pct": percent_text(level.discount_bp)})
    if level.free_parking_hours:
        out.append(_("%(n)s h free parking") % {"n": level.free_parking_hours})
    if level.birthday_gift:
        out.append(_("Birthday gift: %(gift)s") % {"gift": level.birthday_gift})
    if level.lounge_access:
        out.append(_("Lounge access"))
    if level.priority_registration:
        out.append(_("Priority event registration"))
    return out


def _page(
    request: HttpRequest, g: GroupContext, *, settings_form: TierSettingsForm | None = None, status: int = 200
) -> HttpResponse:
    scope = scope_of(request)
    ladder = tier_ladder(mall_group_id=g.id)
    settings_row = tier_settings_get(mall_group_id=g.id)
    mix = tier_mix(mall_group_id=g.id)
    total = sum(mix.values())
    rows = [
        {
            "level": level,
            "threshold": threshold_text(level.threshold, settings_row.qualify_by),
            "multiplier": multiplier_text(level.points_multiplier_bp),
            "discount": percent_text(level.discount_bp) if level.discount_bp else "—",
            "members": mix.get(level.code, 0),
            "share": round(100 * mix.get(level.code, 0) / total) if total else 0,
        }
        for level in ladder
    ]
    chart = {"labels": [level.name for level in ladder], "values": [mix.get(level.code, 0) for level in ladder]}
    context = {
        "nav": "tiers",
        "g": g,
        "rows": rows,
        "settings_row": settings_row,
        "settings_form": settings_form or TierSettingsForm(settings_row=settings_row),
        "chart": chart,
        "total": total,
        "can_edit": scope.can(perms.LOYALTY_EDIT),
    }
    return render(request, "console/loyalty/tiers.html", context, status=status)


@console_view(perms.LOYALTY_VIEW)
def tiers(request: HttpRequest) -> HttpResponse:
    return _page(request, group_context(request))


@require_POST
@console_view(perms.LOYALTY_EDIT)
def tiers_default(request: HttpRequest) -> HttpResponse:
    """Create the default ladder 普卡/银卡/金卡/黑金 (nothing happens when the group already has tiers)."""
    g = group_context(request)
    had = bool(tier_ladder(mall_group_id=g.id))
    ladder = tier_ladder_ensure_default(mall_group_id=g.id)
    if not had:
        audit_record(
            actor=actor_for(request),
            action="tier.ladder_default",
            target_type="tierlevel",
            target_id="ladder",
            target_label=" / ".join(level.name for level in ladder),
            mall_group_id=g.id,
            changes={"levels": [None, ", ".join(level.code for level in ladder)]},
        )
        messages.success(request, _("The default tier ladder was created."))
    else:
        messages.info(request, _("This mall group already has tiers."))
    return redirect(_tiers_url(g))


@require_POST
@console_view(perms.LOYALTY_EDIT)
def tiers_settings(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = TierSettingsForm(request.POST, settings_row=tier_settings_get(mall_group_id=g.id))
    if form.is_valid():
        try:
            tier_settings_save(mall_group_id=g.id, values=form.values(), actor=actor_for(request))
        except DjangoValidationError as exc:
            add_django_error(form, exc)
        except IntegrityError:
            form.add_error(None, str(CONCURRENT))
        else:
            messages.success(request, _("Tier settings saved."))
            return redirect(_tiers_url(g, "settings"))
    return _page(request, g, settings_form=form, status=400)


@console_view(perms.LOYALTY_EDIT)
def tier_level_edit(request: HttpRequest, level_id: int) -> HttpResponse:
    try:
        level = tier_level_get(level_id=level_id, mall_group_id=scope_of(request).mall_group_id)
    except TierLevel.DoesNotExist as exc:
        raise Http404("tier") from exc
    g = group_context(request, group_id=level.mall_group_id)
    ladder = tier_ladder(mall_group_id=g.id)
    below = [lv for lv in ladder if lv.rank < level.rank]
    above = [lv for lv in ladder if lv.rank > level.rank]
    qualify_by = tier_settings_get(mall_group_id=g.id).qualify_by
    form = TierLevelForm(
        request.POST or None,
        level=level,
        qualify_by=qualify_by,
        lower=below[-1].threshold if below else None,
        upper=above[0].threshold if above else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = tier_level_save(
                mall_group_id=g.id, level_id=level.pk, values=form.values(), actor=actor_for(request)
            )
        except DjangoValidationError as exc:
            add_django_error(form, exc)
        except (IntegrityError, TierLevel.DoesNotExist):
            form.add_error(None, str(CONCURRENT))
        else:
            messages.success(request, _("Tier “%(name)s” saved.") % {"name": saved.name})
            return redirect(_tiers_url(g, "ladder"))
    return render(
        request,
        "console/loyalty/tier_form.html",
        {"nav": "tiers", "g": g, "form": form, "level": level, "by_points": qualify_by == QualifyBy.POINTS},
        status=400 if form.is_bound and form.errors else 200,
    )
