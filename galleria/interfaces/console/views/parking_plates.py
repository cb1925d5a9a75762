"""Console: plates verified once (docs/parking.md) — the service desk's queue of members' vehicle licence photos,
one claim's review (the photo beside who holds the plate now), approve or reject with a reason, and verifying a
plate on a member's page when the licence is shown at the desk. Every decision goes through
`parking.services_plates`; the photo is served privately and deleted once the claim is decided."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.members.selectors import member_get
from galleria.parking import selectors_plates, services_plates
from galleria.parking.types import ClaimStatus

from ...receipt_forms import image_response
from ..helpers import console_view, error_message, page_of
from ..loyalty import group_context

REASONS = (
    gettext_lazy("The photo is blurred: the plate number cannot be read."),
    gettext_lazy("This is not a vehicle licence (行驶证)."),
    gettext_lazy("The plate on the licence is not the plate claimed."),
    gettext_lazy("Please show the vehicle licence at the service desk."),
)
TABS = (ClaimStatus.PENDING, ClaimStatus.APPROVED, ClaimStatus.REJECTED, "all")


def _claim_or_404(request: HttpRequest, claim_id: int) -> Any:
    claim = selectors_plates.plate_claim_get(claim_id=claim_id, mall_group_id=scope_of(request).mall_group_id)
    if claim is None:
        raise Http404("plate claim")
    return claim


@console_view(perms.PARKING_PLATES)
def plate_claims(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    status = request.GET.get("status") or ClaimStatus.PENDING
    status = status if status in TABS else ClaimStatus.PENDING
    plate = "".join((request.GET.get("plate") or "").split()).upper()[:12]
    page, query_string = page_of(request, selectors_plates.plate_claims(mall_group_id=g.id, status=status, plate=plate))
    holders = {c.pk: selectors_plates.plate_claim_review(claim=c) for c in page.object_list}
    labels = dict(ClaimStatus.choices)
    return render(
        request,
        "console/parking/plate_claims.html",
        {
            "nav": "parking_plates",
            "g": g,
            "status": status,
            "plate": plate,
            "tabs": [(t, labels.get(t, _("All"))) for t in TABS],
            "counts": selectors_plates.plate_claim_counts(mall_group_id=g.id),
            "page_obj": page,
            "rows": [(c, holders[c.pk]) for c in page.object_list],
            "query_string": query_string,
        },
    )


@console_view(perms.PARKING_PLATES)
def plate_claim_review(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = _claim_or_404(request, claim_id)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        reason = request.POST.get("reason") or request.POST.get("template") or ""
        try:
            services_plates.plate_claim_decide(
                claim_id=claim.pk,
                mall_group_id=claim.mall_group_id,
                approve=action == "approve",
                reason=reason,
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            error = error_message(exc)
        else:
            if action == "approve":
                messages.success(request, _("Plate %(plate)s is verified for the member.") % {"plate": claim.plate})
            else:
                messages.success(request, _("The photo was not accepted; the member was told why."))
            following = selectors_plates.plate_claims(mall_group_id=claim.mall_group_id).first()
            if following is not None:
                return redirect("console:parking_plate_claim", following.pk)
            return redirect("console:parking_plate_claims")
        claim = _claim_or_404(request, claim_id)
    return render(
        request,
        "console/parking/plate_claim.html",
        {
            "nav": "parking_plates",
            "claim": claim,
            "review": selectors_plates.plate_claim_review(claim=claim),
            "reasons": [str(r) for r in REASONS],
            "decide_error": error,
        },
        status=422 if error else 200,
    )


@require_GET
@console_view(perms.PARKING_PLATES)
def plate_claim_photo(request: HttpRequest, claim_id: int) -> HttpResponse:
    return image_response(selectors_plates.plate_claim_photo(claim=_claim_or_404(request, claim_id)))


@require_POST
@console_view(perms.PARKING_PLATES)
def member_plate_verify(request: HttpRequest, member_id: int) -> HttpResponse:
    """The member showed the vehicle licence at the desk: verify one of their plates (or bind and verify one)."""
    try:
        member = member_get(mall_group_id=scope_of(request).mall_group_id, member_id=member_id)
    except ObjectDoesNotExist as exc:
        raise Http404("member") from exc
    plate = request.POST.get("plate") or ""
    try:
        done = services_plates.plate_verify_at_desk(
            mall_group_id=member.mall_group_id, member_id=member.pk, plate=plate, actor=actor_for(request)
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        text = _("Plate %(plate)s is verified: the vehicle licence was seen at the desk.") % {
            "plate": done.verified.binding.plate
        }
        if done.verified.previous_member_id is not None:
            text += " " + _("It was bound to another member, who has been told.")
        messages.success(request, text)
    return redirect(reverse("console:member_detail", args=[member.pk]) + "#identifiers")
