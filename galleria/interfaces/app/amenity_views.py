"""Member services in the member app (docs/amenities.md, "Member app", 会员服务): what each service desk has to
lend now, my rentals with the time they are free until and the fee so far, the bookable services, a service's
time slots with the booking form (home delivery asks for the address and the receipt), my bookings and cancelling
one. Everything is galleria.amenities' — these views show it. Every form carries a random key, so a double tap
makes one booking. A booking that is not the member's looks like none."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from galleria.amenities import rules, selectors, services_bookings
from galleria.amenities.types import LIVE_BOOKING, OfferingKind
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.tiers.selectors import member_tier

from .views import _actor, _apply_error, _base_context, member_view

KEY_PATTERN = r"^[A-Za-z0-9_-]{16,40}$"
SLOT_DAYS = 7


@dataclass(frozen=True)
class SlotRow:
    """A slot as the booking form shows it: grouped by its mall-local day, with the places left."""

    pk: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    booked: int
    capacity: int
    day: dt.date

    @property
    def left(self) -> int:
        return max(0, self.capacity - self.booked)


class BookForm(forms.Form):
    key = forms.RegexField(regex=KEY_PATTERN, widget=forms.HiddenInput)
    slot = forms.IntegerField(min_value=1)
    note = forms.CharField(max_length=200, required=False)
    address = forms.CharField(max_length=200, required=False)
    receipt_ref = forms.CharField(max_length=64, required=False)


def _price(offering: Any, tier: Any) -> int | None:
    """What this member pays in points to book (0: free), None: not for their tier."""
    return rules.booking_price(
        access=offering.access,
        lounge_access=tier.lounge_access,
        member_rank=tier.rank,
        min_rank=offering.min_tier.rank if offering.min_tier else None,
        price_points=offering.price_points,
    )


@never_cache
@require_GET
@member_view
def home(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    now = timeutil.now()
    tier = member_tier(member_id=member.pk, mall_group_id=mall.group_id)
    rentals = [
        {"rental": r, "fee": selectors.rental_fee(r, at=now), "overdue": r.due_at < now}
        for r in selectors.open_rentals(member_id=member.pk)
    ]
    offerings = [
        {"offering": o, "price": _price(o, tier)}
        for o in selectors.offering_list(mall_group_id=mall.group_id, active_only=True)
    ]
    return render(
        request,
        "app/amenities/home.html",
        {
            **_base_context(mall, member),
            "availability": selectors.availability(mall_group_id=mall.group_id),
            "rentals": rentals,
            "past": [r for r in selectors.member_rentals(member_id=member.pk, limit=10) if r.state != "lent"],
            "offerings": offerings,
            "bookings": selectors.member_bookings(member_id=member.pk, limit=10),
            "live_states": list(LIVE_BOOKING),
            "tier": tier,
        },
    )


def _offering_page(
    request: HttpRequest, member: Any, mall: Any, offering: Any, form: BookForm | None = None, status: int = 200
) -> HttpResponse:
    now = timeutil.now()
    slots = [
        SlotRow(s.pk, s.starts_at, s.ends_at, s.booked, s.capacity, timeutil.local_date(s.starts_at, mall.timezone))
        for s in selectors.slot_list(offering_id=offering.pk, since=now, until=now + dt.timedelta(days=SLOT_DAYS))
        if s.starts_at > now
    ]
    tier = member_tier(member_id=member.pk, mall_group_id=mall.group_id)
    return render(
        request,
        "app/amenities/offering.html",
        {
            **_base_context(mall, member),
            "offering": offering,
            "slots": slots,
            "price": _price(offering, tier),
            "delivery": offering.kind == OfferingKind.HOME_DELIVERY,
            "form": form,
            "form_key": secrets.token_urlsafe(18),
        },
        status=status,
    )


@never_cache
@member_view
def offering(request: HttpRequest, member: Any, mall: Any, offering_id: int) -> HttpResponse:
    found = selectors.offering_get(mall_group_id=mall.group_id, offering_id=offering_id)
    if found is None or not found.is_active:
        messages.error(request, _("No such service."))
        return redirect("app:amenities")
    if request.method != "POST":
        return _offering_page(request, member, mall, found)
    form = BookForm(request.POST)
    if not form.is_valid():
        if "key" in form.errors:
            form.add_error(None, _("This form has expired. Please try again."))
        if "slot" in form.errors:
            form.add_error(None, _("Choose a time slot."))
        return _offering_page(request, member, mall, found, form, 422)
    d = form.cleaned_data
    slot = selectors.slot_get(slot_id=d["slot"], mall_group_id=mall.group_id)
    if slot is None or slot.offering_id != found.pk:
        form.add_error(None, _("Choose a time slot."))
        return _offering_page(request, member, mall, found, form, 422)
    try:
        services_bookings.booking_request(
            mall_group_id=mall.group_id,
            slot_id=slot.pk,
            member_id=member.pk,
            key=d["key"],
            actor=_actor(request, member),
            note=d["note"] or "",
            address=d["address"] or "",
            receipt_ref=d["receipt_ref"] or "",
        )
    except ApplicationError as exc:
        _apply_error(form, exc)
        return _offering_page(request, member, mall, found, form, 409 if exc.status == 409 else 422)
    messages.success(request, _("Booking requested. The desk confirms it and tells you in your inbox."))
    return redirect("app:amenities")


@require_POST
@member_view
def booking_cancel(request: HttpRequest, member: Any, mall: Any, booking_id: int) -> HttpResponse:
    try:
        services_bookings.booking_cancel(booking_id=booking_id, member_id=member.pk, actor=_actor(request, member))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Booking cancelled."))
    return redirect("app:amenities")
