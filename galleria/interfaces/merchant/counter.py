"""The merchant counter (收银台 lite): identify the member (camera scan or typed code), quote the basket like a POS,
record the sale (channel `counter`) — for shops without a POS integration. The sales list and refunds are in
counter_sales.py.

A view here only translates: the checkout pipeline prices, redeems, earns and posts (see counter_flow.py for the
member ticket and the one-time token that makes a double tap one sale). Every sale and refund is audited; the
member appears masked.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from galleria.accounts import permissions as perms
from galleria.audit.services import audit_record
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.idempotency import run_idempotent
from galleria.interfaces.common import actor_for, scope_of
from galleria.interfaces.console.loyalty import Names, short_explanation
from galleria.members import rules as member_rules
from galleria.members.exceptions import MemberCodeStaleError, MemberNotFoundError
from galleria.members.selectors import member_resolve
from galleria.merchants.selectors import store_list
from galleria.sales import selectors as sale_selectors
from galleria.sales import services as sale_services
from galleria.sales.types import Quote

from . import counter_flow as flow
from .counter_forms import BasketForm, CounterLookupForm, SellForm
from .portal import portal_merchant, portal_render, portal_view

# ---------------------------------------------------------------- page pieces


def _stores(merchant: Any) -> list[tuple[int, str]]:
    return [(s.pk, f"{s.name} {s.unit_no}".strip()) for s in store_list(merchant_id=merchant.pk) if s.is_active]


def _basket_form(merchant: Any, panel: flow.MemberPanel | None, data: Any = None) -> BasketForm:
    coupons = [(c.coupon_id, c.name) for c in panel.basket_coupons] if panel else []
    initial = {"ticket": panel.ticket} if panel else {}
    return BasketForm(data, stores=_stores(merchant), coupons=coupons, initial=initial)


def _page(
    request: HttpRequest,
    merchant: Any,
    *,
    panel: flow.MemberPanel | None = None,
    form: BasketForm | None = None,
    quote: dict[str, Any] | None = None,
    error: str = "",
    lookup_form: CounterLookupForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "lookup_form": lookup_form or CounterLookupForm(),
        "panel": panel,
        "form": form or (_basket_form(merchant, panel) if panel else None),
        "quote": quote,
        "error": error,
        "has_stores": bool(_stores(merchant)),
        "can_refund": scope_of(request).can(perms.PORTAL_COUNTER_REFUND),
    }
    return portal_render(request, "merchant/counter.html", context, nav="counter", merchant=merchant, status=status)


def _panel_for(merchant: Any, member_id: int) -> flow.MemberPanel | None:
    member = flow.active_member(mall_group_id=merchant.mall.group_id, member_id=member_id)
    if member is None:
        return None
    return flow.member_panel(merchant=merchant, member=member, at=timeutil.now())


def _panel_from_ticket(merchant: Any, ticket: str) -> flow.MemberPanel | None:
    member_id = flow.ticket_member_id(ticket, merchant_id=merchant.pk)
    return None if member_id is None else _panel_for(merchant, member_id)


def _quote_view(merchant: Any, q: Quote, basket: flow.Basket) -> dict[str, Any]:
    """What the quote panel shows: the price like a POS receipt, the coupons to tick, the points to earn."""
    options = [
        {
            "coupon_id": c.coupon_id,
            "name": c.name,
            "discount_fen": c.discount_fen,
            "chosen": c.coupon_id in q.best_coupon_ids,
        }
        for c in q.coupons
        if c.is_applicable
    ]
    return {
        "total_fen": q.total_fen,
        "discount_fen": q.discount_fen,
        "applied": [{"name": a.name, "discount_fen": a.discount_fen} for a in q.applied],
        "points_used": basket.points_to_use,
        "points_value_fen": q.points_value_fen,
        "paid_fen": q.paid_fen,
        "points_to_earn": q.points_to_earn,
        "earn_text": short_explanation(q.explanation, names=Names.for_group(merchant.mall.group_id)),
        "max_points_usable": q.max_points_usable,
        "points_balance": q.points_balance,
        "tier_name": q.tier_name,
        "options": options,
        "token": flow.new_token(),
        "lines": len(basket.lines),
    }


def _quote(merchant: Any, member_id: int, basket: flow.Basket) -> Quote:
    return sale_selectors.sale_quote(
        merchant_id=merchant.pk,
        member_id=member_id,
        lines=basket.lines,
        payments=(),
        points_to_use=basket.points_to_use,
        merchant=merchant,
        coupon_ids=basket.coupon_ids,
    )


def _with_choice(data: QueryDict, coupon_ids: tuple[int, ...]) -> QueryDict:
    """The form as the quote leaves it: the coupons it applied ticked, and from now on the clerk's ticks count."""
    copy = data.copy()
    copy.setlist("coupon", [str(c) for c in coupon_ids])
    copy["coupons_chosen"] = "1"
    return copy


# ---------------------------------------------------------------- the counter


@portal_view(perms.PORTAL_COUNTER_SELL)
def counter(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    if request.method != "POST":
        ticket = request.GET.get("m", "")
        panel = _panel_from_ticket(merchant, ticket) if ticket else None
        return _page(request, merchant, panel=panel)
    action = request.POST.get("action")
    if action == "identify":
        return _identify(request, merchant)
    if action in ("quote", "sell"):
        return _basket(request, merchant, sell=action == "sell")
    return _page(request, merchant)


def _identify(request: HttpRequest, merchant: Any) -> HttpResponse:
    lookup_form = CounterLookupForm(request.POST)
    if not lookup_form.is_valid():
        return _page(request, merchant, lookup_form=lookup_form, status=422)
    raw = lookup_form.cleaned_data["q"]
    resolution = member_resolve(mall_group_id=merchant.mall.group_id, raw=raw)
    if resolution is None:
        stale = member_rules.looks_like_dynamic_code(raw.strip().replace(" ", ""))
        error = MemberCodeStaleError() if stale else MemberNotFoundError()
        lookup_form.add_error("q", str(error.message))
        return _page(request, merchant, lookup_form=lookup_form, status=422)
    member = resolution.member
    audit_record(
        actor=actor_for(request),
        action="member.lookup",
        target_type="member",
        target_id=member.pk,
        target_label=member.card_no,
        mall_group_id=merchant.mall.group_id,
        changes={"merchant": [None, str(merchant.pk)], "matched_by": [None, resolution.kind], "via": [None, "counter"]},
    )
    panel = flow.member_panel(merchant=merchant, member=member, at=timeutil.now())
    return _page(request, merchant, panel=panel)


def _basket(request: HttpRequest, merchant: Any, *, sell: bool) -> HttpResponse:
    panel = _panel_from_ticket(merchant, str(request.POST.get("ticket") or ""))
    if panel is None:
        lookup_form = CounterLookupForm()
        return _page(
            request,
            merchant,
            lookup_form=lookup_form,
            error=_("Identify the member again: the scan is too old or not from this shop."),
            status=422,
        )
    member_id = flow.ticket_member_id(panel.ticket, merchant_id=merchant.pk)
    assert member_id is not None
    form = _basket_form(merchant, panel, request.POST)
    if not form.is_valid():
        return _page(request, merchant, panel=panel, form=form, status=422)
    basket = form.basket()
    if sell:
        done = _sell(request, merchant, member_id, basket)
        if isinstance(done, HttpResponse):
            return done
        error = done
    else:
        error = ""
    try:
        q = _quote(merchant, member_id, basket)
    except ApplicationError as exc:
        if basket.coupon_ids is not None and exc.code.startswith("coupon."):
            # a ticked coupon no longer applies (the basket changed): quote the best combination instead
            basket = flow.Basket(**{**basket.__dict__, "coupon_ids": None})
            try:
                q = _quote(merchant, member_id, basket)
            except ApplicationError as again:
                return _page(request, merchant, panel=panel, form=form, error=flow.error_sentence(again), status=422)
            error = error or flow.error_sentence(exc)
        else:
            return _page(request, merchant, panel=panel, form=form, error=flow.error_sentence(exc), status=422)
    form = _basket_form(merchant, panel, _with_choice(request.POST, q.best_coupon_ids))
    form.is_valid()
    quote = _quote_view(merchant, q, basket)
    return _page(request, merchant, panel=panel, form=form, quote=quote, error=error, status=422 if error else 200)


def _sell(request: HttpRequest, merchant: Any, member_id: int, basket: flow.Basket) -> HttpResponse | str:
    """Record the sale once per token: the sale's page, or the error to show above a fresh quote."""
    sell_form = SellForm(request.POST)
    if not sell_form.is_valid():
        return _("Quote the basket first, then record the sale.")
    token = sell_form.cleaned_data["token"]
    receipt = flow.receipt_no(token)
    existing = sale_selectors.sale_list(merchant_id=merchant.pk).filter(pos_sale_id=receipt).first()
    if existing is not None:  # a double tap after the first one finished: show that sale
        messages.info(request, _("This sale was already recorded."))
        return redirect("merchant:counter_sale", sale_id=existing.pk)
    actor = actor_for(request)

    def operation() -> tuple[int, dict[str, Any]]:
        data = flow.sale_input(
            merchant_id=merchant.pk,
            member_id=member_id,
            basket=basket,
            token=token,
            paid_fen=sell_form.cleaned_data["expect_paid"],
            now=timeutil.now(),
        )
        result = sale_services.sale_commit_in_tx(data=data, actor=actor)
        audit_record(
            actor=actor,
            action="sale.counter_record",
            target_type="sale",
            target_id=result.sale_id,
            target_label=receipt,
            mall_group_id=merchant.mall.group_id,
            changes={
                "merchant": [None, str(merchant.pk)],
                "member": [None, str(result.member_id)],
                "paid_fen": [None, sell_form.cleaned_data["expect_paid"]],
                "points_used": [None, result.points_used],
                "points_earned": [None, result.points_earned],
                "discount_fen": [None, result.discount_fen],
            },
        )
        return 201, {"sale_id": result.sale_id, "points_earned": result.points_earned}

    try:
        outcome = run_idempotent(
            scope=f"counter:{merchant.pk}",
            key=token,
            request_hash=flow.request_digest(request.POST),
            operation=operation,
        )
    except ApplicationError as exc:
        if exc.code in ("idempotency.key_reused", "sale.duplicate"):
            first = sale_selectors.sale_list(merchant_id=merchant.pk).filter(pos_sale_id=receipt).first()
            if first is not None:
                messages.info(request, _("This sale was already recorded."))
                return redirect("merchant:counter_sale", sale_id=first.pk)
        if exc.code == "sale.payments_mismatch":
            return _(
                "The price changed since the quote (balance, coupons or promotions). "
                "Check the new quote and record again."
            )
        return flow.error_sentence(exc)
    body = json.loads(outcome.content)
    if outcome.replayed:
        messages.info(request, _("This sale was already recorded."))
    else:
        messages.success(
            request,
            _("Sale recorded: the member earned %(points)s points.") % {"points": body.get("points_earned", 0)},
        )
    return redirect("merchant:counter_sale", sale_id=int(body["sale_id"]))
