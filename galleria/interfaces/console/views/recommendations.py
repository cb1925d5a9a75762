"""Console: recommendations (docs/recommendations.md, "Console") — the active model's last training and offline
scores, the block switches of the member app, "train now", and "what is recommended to member X and why" (phone
masked). `recommendations.view` reads; `recommendations.manage` switches blocks and trains. Everything is
galleria.recommendations' (its services audit every change)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.members.rules import mask_phone
from galleria.members.selectors import member_resolve
from galleria.recommendations import selectors, services
from galleria.recommendations.types import BLOCKS

from ...recommendation_text import rows as pick_rows
from ..helpers import console_view
from ..loyalty import group_context

BLOCK_LABELS = {
    "merchants": gettext_lazy("Merchants to visit"),
    "coupons": gettext_lazy("Coupons to claim"),
    "events": gettext_lazy("Events"),
}


def _scores(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, label in (("model", _("Model")), ("popularity", _("Popularity baseline")), ("random", _("Random"))):
        m = metrics.get(key) or {}
        rows.append({"key": key, "label": label, "hit_rate": m.get("hit_rate"), "ndcg": m.get("ndcg")})
    return rows


@require_GET
@console_view(perms.RECOMMENDATIONS_VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    model = selectors.model_active(mall_group_id=g.id)
    switches = selectors.switches(mall_group_id=g.id)
    raw = (request.GET.get("member") or "").strip()[:64]
    lookup: dict[str, Any] | None = None
    if raw:
        found = member_resolve(mall_group_id=g.id, raw=raw)
        if found is None:
            lookup = {"missing": True}
        else:
            result = selectors.for_member(member=found.member)
            lookup = {
                "missing": False,
                "masked_phone": mask_phone(found.member.phone) if found.member.phone else "",
                "card_no": found.member.card_no,
                "result": result,
                "picks": pick_rows(result.merchants),
            }
    metrics = model.metrics if model is not None else {}
    return render(
        request,
        "console/recommendations/overview.html",
        {
            "nav": "recommendations",
            "g": g,
            "model": model,
            "history": list(selectors.model_list(mall_group_id=g.id)[:5]),
            "metrics": metrics,
            "scores": _scores(metrics) if metrics else [],
            "blocks": [{"key": b, "label": BLOCK_LABELS[b], "on": getattr(switches, b)} for b in BLOCKS],
            "member_query": raw,
            "lookup": lookup,
            "can_manage": scope_of(request).can(perms.RECOMMENDATIONS_MANAGE),
        },
    )


@require_POST
@console_view(perms.RECOMMENDATIONS_MANAGE)
def switches_save(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    if request.POST.get("save") != "1":  # not the page's form (a hand-made POST): nothing changes
        messages.error(request, _("Nothing was saved: use the form on the page."))
        return redirect(f"{_overview_url()}{g.query}")
    values = {b: request.POST.get(f"show_{b}") == "on" for b in BLOCKS}
    try:
        services.switches_update(mall_group_id=g.id, values=values, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Recommendation blocks saved."))
    return redirect(f"{_overview_url()}{g.query}")


@require_POST
@console_view(perms.RECOMMENDATIONS_MANAGE)
def train(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    try:
        model = services.model_train_now(mall_group_id=g.id, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Model version %(v)s trained.") % {"v": model.version})
    return redirect(f"{_overview_url()}{g.query}")


def _overview_url() -> str:
    return reverse("console:recommendations")
