"""Member app: proving a plate is mine (docs/parking.md, "Plates verified once"). The member sends a photo of the
vehicle licence (行驶证) for one of their plates — or for a plate someone else bound — and sees the answer here and
in the inbox; a photo still waiting can be withdrawn. The checks, the storage and the deletion of the photo are
`parking.services_plates`'; this view shows them and translates their problem codes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from galleria.core.errors import ApplicationError
from galleria.members.selectors import member_plate_bindings
from galleria.parking import selectors_plates, services_plates
from galleria.parking.types import ClaimStatus

from .presenters import parking as present
from .views import _actor, _base_context, member_view

UPLOAD_FIELD = "photo"


def plate_rows(member_id: int) -> list[dict[str, Any]]:
    """The member's plates for the app's lists: display form, new-energy colour, verified or waiting for review."""
    waiting = selectors_plates.member_waiting_plates(member_id=member_id)
    return [
        {
            "id": b.identifier_id,
            "value": b.plate,
            "text": present.plate_text(b.plate),
            "is_nev": present.is_new_energy(b.plate),
            "is_verified": b.is_verified,
            "is_waiting": b.plate in waiting,
        }
        for b in member_plate_bindings(member_id=member_id)
    ]


def _page(
    request: HttpRequest, member: Any, mall: Any, *, error: str = "", plate: str = "", status: int = 200
) -> HttpResponse:
    claims = selectors_plates.member_plate_claims(member_id=member.pk)
    ctx = {
        **_base_context(mall, member),
        "plates": plate_rows(member.pk),
        "claims": [(c, present.plate_text(c.plate)) for c in claims],
        "plate": plate or request.GET.get("plate", "")[:20],
        "upload_error": error,
        "pending": ClaimStatus.PENDING,
    }
    return render(request, "app/parking/plates.html", ctx, status=status)


@never_cache
@member_view
def parking_plates(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    """GET: my plates with their verification, the photo form and my claims. POST: send a photo."""
    if request.method != "POST":
        return _page(request, member, mall)
    plate = (request.POST.get("plate") or "")[:20]
    upload = request.FILES.get(UPLOAD_FIELD)
    if upload is None:
        return _page(request, member, mall, error=_("Choose a photo of the vehicle licence."), plate=plate, status=400)
    try:
        claim = services_plates.plate_claim_submit(
            mall_group_id=mall.group_id,
            member_id=member.pk,
            plate=plate,
            photo=upload.read(),
            actor=_actor(request, member),
        )
    except ApplicationError as exc:
        return _page(request, member, mall, error=str(exc.message), plate=plate, status=400)
    messages.success(
        request,
        _("Photo sent. The service desk checks it, usually within a day; you will find the answer in your inbox.")
        if claim.status == ClaimStatus.PENDING
        else _("Photo sent."),
    )
    return redirect("app:parking_plates")


@require_POST
@member_view
def parking_plate_claim_withdraw(request: HttpRequest, member: Any, mall: Any, claim_id: int) -> HttpResponse:
    try:
        services_plates.plate_claim_withdraw(claim_id=claim_id, member_id=member.pk, actor=_actor(request, member))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Withdrawn: the photo was deleted."))
    return redirect("app:parking_plates")
