"""Member app: points (history with explanations, daily check-in), tier, wallet (top-ups through WeChat Pay or
Alipay), purchases.

Like every member-app view these read the member from the session only (`member_view`); ids in URLs are checked
to be the member's own, and someone else's id looks exactly like an unknown one.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.malls.models import Mall
from galleria.members.models import Member
from galleria.payments import selectors as payment_selectors
from galleria.wallet import exceptions as wallet_exceptions
from galleria.wallet import rules as wallet_rules
from galleria.wallet.models import TopUpStatus
from galleria.wallet.selectors import wallet_balance

from . import actions, presenters
from .forms import TopUpForm
from .pay_flow import PROVIDER_LABELS, pay_device
from .views import _base_context, member_view

MAX_PAGE = 10_000


def _page(request: HttpRequest) -> int:
    try:
        return max(1, min(MAX_PAGE, int(request.GET.get("page") or 1)))
    except ValueError:
        return 1


def new_form_key() -> str:
    return secrets.token_urlsafe(18)


# ---------------------------------------------------------------- points


@never_cache
@member_view
def points(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    summary = presenters.points_summary(member=member, tz_name=mall.timezone)
    rows, paging = presenters.points_history(member=member, tz_name=mall.timezone, page=_page(request))
    ctx = {
        **_base_context(mall, member, tab="points"),
        "summary": summary,
        "checkin": summary.checkin,
        "rows": rows,
        "paging": paging,
    }
    return render(request, "app/points.html", ctx)


@require_POST
@member_view
def checkin(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    outcome = actions.checkin_run(member=member, mall=mall)
    if getattr(request, "htmx", False):
        ctx = {
            "checkin": outcome.state,
            "outcome": outcome,
            "balance": outcome.balance,
            "oob_balance": True,
        }
        return render(request, "app/_checkin.html", ctx)
    if outcome.awarded:
        messages.success(request, outcome.message)
    else:
        messages.info(request, outcome.message)
    return redirect("app:points")


# ---------------------------------------------------------------- tier


@never_cache
@member_view
def tier(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    page = presenters.tier_page(member=member, tz_name=mall.timezone)
    return render(request, "app/tier.html", {**_base_context(mall, member), "tier": page})


# ---------------------------------------------------------------- wallet


def _wallet_page(
    request: HttpRequest,
    member: Member,
    mall: Mall,
    *,
    form: TopUpForm | None = None,
    form_key: str = "",
    status: int = 200,
) -> HttpResponse:
    balance = wallet_balance(member_id=member.pk)
    rows, has_next = presenters.wallet_rows(member=member, tz_name=mall.timezone, page=_page(request))
    offers = presenters.bonus_offers(mall=mall)
    ctx: dict[str, Any] = {
        **_base_context(mall, member, tab="wallet"),
        "balance": balance,
        "balance_text": {
            "total": format_cny(balance.total_fen),
            "principal": format_cny(balance.principal_fen),
            "bonus": format_cny(balance.bonus_fen),
        },
        "offers": offers,
        "offers_json": json.dumps([[o.min_amount_fen, o.bonus_fen] for o in offers]),
        "form": form or TopUpForm(),
        # the form's idempotency key: kept while the member corrects the same form, new for a new form
        "form_key": form_key or new_form_key(),
        "rows": rows,
        "page": _page(request),
        "has_next": has_next,
        "pending": presenters.pending_topups(member=member, tz_name=mall.timezone),
        "min_topup": format_cny(wallet_rules.MIN_TOPUP_FEN),
        "max_topup": format_cny(wallet_rules.MAX_TOPUP_FEN),
        "providers": [
            (p, PROVIDER_LABELS[p]) for p in payment_selectors.providers_available(mall_group_id=mall.group_id)
        ],
    }
    return render(request, "app/wallet.html", ctx, status=status)


@never_cache
@member_view
def wallet(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    return _wallet_page(request, member, mall)


@require_POST
@member_view
def topup_start(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    form = TopUpForm(request.POST)
    keep_key = True
    if form.is_valid():
        key = form.cleaned_data["key"]
        try:
            actions.topup_start(
                member=member,
                mall=mall,
                amount_fen=form.cleaned_data["amount"],
                key=key,
                provider=form.cleaned_data["method"],
                device=pay_device(request, member_id=member.pk, key=key),
            )
        except wallet_exceptions.WalletAmountInvalidError:
            form.add_error(
                "amount",
                _("Top up between %(min)s and %(max)s.")
                % {"min": format_cny(wallet_rules.MIN_TOPUP_FEN), "max": format_cny(wallet_rules.MAX_TOPUP_FEN)},
            )
        except wallet_exceptions.IdempotencyConflictError:
            # this form already started a top-up of another amount: the corrected form gets a new key
            keep_key = False
            form.add_error(None, _("This form was already used for another amount. Please check and try again."))
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            # our own page sends the browser on to the cashier (a redirect from this form's POST to the gateway's
            # origin would be a form-action the CSP forbids)
            return redirect(reverse("app:payment", args=[key]) + "?go=1")
    key = str(form.data.get("key") or "") if keep_key and "key" not in form.errors else ""
    return _wallet_page(request, member, mall, form=form, form_key=key, status=422)


@never_cache
@member_view
def topup_pay(request: HttpRequest, member: Member, mall: Mall, topup_id: int) -> HttpResponse:
    """A pending top-up's "Pay now": back to its payment (the gateway's cashier while it is open)."""
    topup = presenters.member_topup(member=member, topup_id=topup_id)
    if topup is None:
        messages.error(request, _("No such top-up."))
        return redirect("app:wallet")
    if topup.status != TopUpStatus.PENDING:
        messages.info(request, _("This top-up has already been paid."))
        return redirect("app:wallet")
    attempt = payment_selectors.topup_attempt(topup_id=topup.pk)
    if attempt is None or not topup.idempotency_key:
        messages.error(request, _("This top-up cannot be paid any more. Please start a new one."))
        return redirect("app:wallet")
    return redirect("app:payment", key=topup.idempotency_key)
