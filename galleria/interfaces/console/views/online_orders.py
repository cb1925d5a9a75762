"""Console: the online mall's orders across merchants (docs/design/online-mall.md §9; docs/online-mall.md "Buying").
A list filtered by state, merchant, placement date and order or checkout number, and one order read-only — its
lines, figures, state, pickup store or delivery, the timeline — with the member's phone masked (the address is
shortened: customer service sees where, not the whole line). `online_mall.view` (every group role); the merchant
fulfils in the portal, the member cancels in the app: nothing here changes an order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from galleria.accounts import permissions as perms
from galleria.commerce import selectors_mall_orders as orders_sel
from galleria.commerce.types import OrderState
from galleria.core import timeutil
from galleria.members.rules import mask_phone
from galleria.merchants.selectors import merchant_options

from ..helpers import console_view, page_of
from ..loyalty import group_context

STATE_BADGES = {
    "pending_payment": "badge-warn",
    "paid": "badge-ok",
    "ready_for_pickup": "badge-ok",
    "shipped": "badge-info",
    "delivered": "",
    "completed": "",
    "cancelled": "badge-danger",
}


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Order number"), max_length=24, required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    merchant = forms.TypedChoiceField(label=_("Merchant"), coerce=int, empty_value=None, required=False)
    since = forms.DateField(label=_("Placed from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Placed to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, merchants: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        state = self.fields["state"]
        assert isinstance(state, forms.ChoiceField)
        state.choices = [("", _("All")), *OrderState.choices]
        merchant = self.fields["merchant"]
        assert isinstance(merchant, forms.TypedChoiceField)
        merchant.choices = [("", _("All")), *merchants]


def _day_start(day: dt.date | None) -> dt.datetime | None:
    """The start of a mall-local day (the group's default zone)."""
    return timeutil.local_day_bounds(day, None)[0] if day else None


def _short_address(text: str) -> str:
    return f"{text[:8]}…" if len(text) > 8 else text


@console_view(perms.ONLINE_MALL_VIEW)
def online_orders(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    merchants = list(merchant_options(mall_group_id=g.id).values_list("pk", "name"))
    form = OrderFilterForm(request.GET or None, merchants=merchants)
    d = form.cleaned_data if form.is_valid() else {}
    until = d.get("until")
    qs = orders_sel.console_online_orders(
        mall_group_id=g.id,
        state=d.get("state") or "",
        merchant_id=d.get("merchant"),
        since=_day_start(d.get("since")),
        until=_day_start(until + dt.timedelta(days=1)) if until else None,
        query=(d.get("q") or "").strip(),
    )
    page, query = page_of(request, qs)
    rows = [
        {"o": o, "badge": STATE_BADGES.get(o.state, ""), "phone": mask_phone(o.member.phone) if o.member.phone else ""}
        for o in page
    ]
    return render(
        request,
        "console/online_mall/orders.html",
        {"nav": "online_orders", "g": g, "form": form, "rows": rows, "page_obj": page, "query": query},
    )


@console_view(perms.ONLINE_MALL_VIEW)
def online_order(request: HttpRequest, order_id: int) -> HttpResponse:
    group_id = orders_sel.online_order_group_id(order_id=order_id)
    if group_id is None:
        raise Http404("order")
    g = group_context(request, group_id=group_id)
    order = orders_sel.console_online_order(mall_group_id=g.id, order_id=order_id)
    if order is None:
        raise Http404("order")
    return render(
        request,
        "console/online_mall/order.html",
        {
            "nav": "online_orders",
            "g": g,
            "o": order,
            "badge": STATE_BADGES.get(order.state, ""),
            "lines": orders_sel.lines_of(order_ids=[order.pk])[order.pk],
            "events": orders_sel.shipment_events(order_id=order.pk),
            "member_phone": mask_phone(order.member.phone) if order.member.phone else "",
            "ship_phone": mask_phone(order.ship_phone) if order.ship_phone else "",
            "ship_address": _short_address(order.ship_address),
        },
    )
