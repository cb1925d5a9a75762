"""Console: member services at the desk (docs/amenities.md, "The desk screen") — pick a desk, scan or type the
member's code (resolved as the merchant counter does: `members.selectors.member_resolve`), see the member's tier
and open rentals with the fee so far, lend an item against a deposit, take one back (the fee and its explanation
shown), mark one lost; the rentals list (overdue filter), the bookings list with confirm / decline / done /
no-show, and the small report. `amenities.desk` runs the desk; `amenities.view` reads; deciding bookings takes
`amenities.desk` or `amenities.manage`. The identified member travels between the desk's requests in a signed,
short-lived token (never a bare member id in a form)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.amenities import selectors, services, services_bookings
from galleria.amenities.types import BookingState, RentalState
from galleria.audit.services import audit_record
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.members import rules as member_rules
from galleria.members.exceptions import MemberCodeStaleError, MemberNotFoundError
from galleria.members.selectors import member_get, member_resolve
from galleria.tiers.selectors import member_tier

from ..amenity_forms import BookingFilterForm, DecideForm, LendForm, LookupForm, RentalFilterForm
from ..helpers import console_tz, console_view, page_of
from ..loyalty import group_context

TOKEN_SALT = "amenities.desk.member"
TOKEN_MAX_AGE = 30 * 60


def _desk_or_404(request: HttpRequest, desk_id: int) -> tuple[Any, Any]:
    g = group_context(request)
    desk = selectors.desk_get(mall_group_id=g.id, desk_id=desk_id)
    if desk is None:
        raise Http404("desk")
    return desk, g


@console_view(perms.AMENITIES_DESK)
def desk_pick(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    desks = list(selectors.desk_list(mall_group_id=g.id, active_only=True))
    if len(desks) == 1 and not g.options:
        return redirect("console:amenities_desk_screen", desk_id=desks[0].pk)
    return render(request, "console/amenities/desk_pick.html", {"nav": "amenities_desk", "g": g, "desks": desks})


def _member_token(member_id: int, group_id: int) -> str:
    return signing.dumps({"m": member_id, "g": group_id}, salt=TOKEN_SALT)


def _member_from_token(token: str, group_id: int) -> int | None:
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    return int(data["m"]) if isinstance(data, dict) and data.get("g") == group_id else None


def _panel(g: Any, desk: Any, member_id: int) -> dict[str, Any]:
    member = member_get(mall_group_id=g.id, member_id=member_id)
    now = timeutil.now()
    rentals = [
        {"rental": r, "fee": selectors.rental_fee(r, at=now)} for r in selectors.open_rentals(member_id=member.pk)
    ]
    table = selectors.stock_table(mall_group_id=g.id)
    items = list(selectors.item_type_list(mall_group_id=g.id, active_only=True))
    return {
        "member": member,
        "masked_phone": member_rules.mask_phone(member.phone) if member.phone else "",
        "tier": member_tier(member_id=member.pk, mall_group_id=g.id),
        "rentals": rentals,
        "items": [{"item": t, "on_hand": table.get((desk.pk, t.pk), 0)} for t in items],
        "token": _member_token(member.pk, g.id),
        "lend_key": uuid.uuid4().hex,
        "lend_form": LendForm(
            item_types=[(t.pk, t.name) for t in items if table.get((desk.pk, t.pk), 0) > 0],
        ),
    }


def _render_desk(request: HttpRequest, g: Any, desk: Any, status: int = 200, **extra: Any) -> HttpResponse:
    context = {"nav": "amenities_desk", "g": g, "desk": desk, "lookup_form": LookupForm(), **extra}
    return render(request, "console/amenities/desk.html", context, status=status)


@console_view(perms.AMENITIES_DESK)
def desk_screen(request: HttpRequest, desk_id: int) -> HttpResponse:
    """GET: the scan box. POST `action`: identify (a code) / lend / return / lost (with the member's token)."""
    desk, g = _desk_or_404(request, desk_id)
    if request.method != "POST":
        return _render_desk(request, g, desk)
    action = request.POST.get("action") or ""
    if action == "identify":
        form = LookupForm(request.POST)
        if not form.is_valid():
            return _render_desk(request, g, desk, 422, lookup_form=form)
        raw = form.cleaned_data["q"]
        resolution = member_resolve(mall_group_id=g.id, raw=raw)
        if resolution is None:
            stale = member_rules.looks_like_dynamic_code(raw.strip().replace(" ", ""))
            form.add_error("q", str((MemberCodeStaleError() if stale else MemberNotFoundError()).message))
            return _render_desk(request, g, desk, 422, lookup_form=form)
        member = resolution.member
        audit_record(
            actor=actor_for(request),
            action="member.lookup",
            target_type="member",
            target_id=member.pk,
            target_label=member.card_no,
            mall_group_id=g.id,
            changes={"matched_by": [None, resolution.kind], "via": [None, "amenities_desk"], "desk": [None, desk.pk]},
        )
        return _render_desk(request, g, desk, panel=_panel(g, desk, member.pk))
    member_id = _member_from_token(str(request.POST.get("token") or ""), g.id)
    if member_id is None:
        return _render_desk(request, g, desk, 422, error=_("Scan the member's code again: the screen is too old."))
    actor = actor_for(request)
    try:
        if action == "lend":
            items = [(t.pk, t.name) for t in selectors.item_type_list(mall_group_id=g.id, active_only=True)]
            lend_form = LendForm(request.POST, item_types=items)
            if not lend_form.is_valid():
                panel = _panel(g, desk, member_id) | {"lend_form": lend_form}
                return _render_desk(request, g, desk, 422, panel=panel)
            rental = services.rental_lend(
                mall_group_id=g.id,
                desk_id=desk.pk,
                item_type_id=lend_form.cleaned_data["item_type"],
                member_id=member_id,
                deposit_kind=lend_form.cleaned_data["deposit_kind"],
                key=str(request.POST.get("key") or ""),
                actor=actor,
            )
            done: dict[str, Any] = {"lent": rental}
        elif action in ("return", "lost"):
            rental_id = int(request.POST.get("rental") or 0)
            found = selectors.rental_get(rental_id=rental_id, mall_group_id=g.id, member_id=member_id)
            if found is None:
                raise Http404("rental")
            if action == "return":
                rental = services.rental_return(mall_group_id=g.id, rental_id=found.pk, desk_id=desk.pk, actor=actor)
            else:
                rental = services.rental_lost(mall_group_id=g.id, rental_id=found.pk, desk_id=desk.pk, actor=actor)
            done = {"closed": rental}
        else:
            return _render_desk(request, g, desk, 422, panel=_panel(g, desk, member_id))
    except ApplicationError as exc:
        return _render_desk(request, g, desk, exc.status, panel=_panel(g, desk, member_id), error=str(exc.message))
    return _render_desk(request, g, desk, panel=_panel(g, desk, member_id), **done)


# ------------------------------------------------------------------------------------------------- lists


@console_view(perms.AMENITIES_VIEW)
def rentals(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = RentalFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    now = timeutil.now()
    qs = selectors.rental_list(
        mall_group_id=g.id, state=data.get("state") or "", overdue_at=now if data.get("overdue") else None
    )
    page, query = page_of(request, qs)
    return render(
        request,
        "console/amenities/rentals.html",
        {
            "nav": "amenities",
            "g": g,
            "form": form,
            "page_obj": page,
            "query": query,
            "now": now,
            "lent": RentalState.LENT,
        },
    )


@console_view(perms.AMENITIES_VIEW)
def report(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    now = timeutil.now()
    tz = console_tz(request)
    since = timeutil.local_day_bounds(timeutil.local_date(now, tz) - dt.timedelta(days=13), tz)[0]
    data = selectors.report(mall_group_id=g.id, since=since, at=now, tz_name=tz)
    return render(
        request,
        "console/amenities/report.html",
        {"nav": "amenities_report", "g": g, "report": data, "states": BookingState.choices},
    )


@console_view(perms.AMENITIES_VIEW)
def bookings(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = BookingFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    tz = console_tz(request)
    since, until = None, None
    if data.get("day"):
        since, until = timeutil.local_day_bounds(data["day"], tz)
    elif not data.get("state"):
        since = timeutil.local_day_bounds(timeutil.local_date(timeutil.now(), tz), tz)[0]  # today on
    qs = selectors.booking_list(mall_group_id=g.id, state=data.get("state") or "", since=since, until=until)
    page, query = page_of(request, qs)
    scope = scope_of(request)
    can_decide = scope.can(perms.AMENITIES_DESK) or scope.can(perms.AMENITIES_MANAGE)
    return render(
        request,
        "console/amenities/bookings.html",
        {"nav": "amenities_bookings", "g": g, "form": form, "page_obj": page, "query": query, "can_decide": can_decide},
    )


@require_POST
@console_view(perms.AMENITIES_DESK)
def booking_decide(request: HttpRequest, booking_id: int) -> HttpResponse:
    g = group_context(request)
    if selectors.booking_get(booking_id=booking_id, mall_group_id=g.id) is None:
        raise Http404("booking")
    form = DecideForm(request.POST)
    target = reverse("console:amenities_bookings") + g.query
    if not form.is_valid():
        messages.error(request, _("Choose what to do."))
        return redirect(target)
    try:
        booking = services_bookings.booking_decide(
            mall_group_id=g.id,
            booking_id=booking_id,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"] or "",
            actor=actor_for(request),
        )
    except ApplicationError as exc:
        if exc.code == "amenities.booking_not_found":
            raise Http404("booking") from None
        messages.error(request, str(exc.fields.get("reason") or exc.message))
        return redirect(target)
    messages.success(
        request,
        _("Booking of %(name)s: %(state)s.") % {"name": booking.offering.name, "state": booking.get_state_display()},
    )
    return redirect(target)
