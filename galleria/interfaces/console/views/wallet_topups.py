"""Cash top-ups at the service desk: the desk takes a member's cash for the wallet (member 360 → "Cash top-up"), and
the approval queue of cash top-ups above GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN (a second person approves — the
money is credited — or rejects — the top-up is cancelled and the desk gives the cash back).

The page shows the bonus the amount earns before anything is recorded (the same rule the service applies:
wallet.selectors.topup_bonus_for; the offers open today, a live preview while typing, the server's preview on
"Preview") and whether it will wait for approval. Everything the service refuses is shown inline.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.interfaces.common import actor_for, scope_of
from galleria.malls.selectors import mall_list
from galleria.wallet import exceptions as wallet_exceptions
from galleria.wallet import rules as wallet_rules
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet import services as wallet_services
from galleria.wallet.types import TopUpStatus

from ..helpers import add_application_error, console_view
from ..loyalty import GroupContext, group_context, yuan_input
from ..loyalty_forms import YuanField
from .member_loyalty import member_or_404
from .wallet import approval_queue, decide_from_form

PENDING_LIMIT = 200
HISTORY_SHOWN = 20


class CashTopUpForm(forms.Form):
    mall = forms.TypedChoiceField(label=gettext_lazy("Service desk at"), coerce=int)
    amount = YuanField(label=gettext_lazy("Cash received (¥)"), min_fen=1)
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Optional, e.g. the cash register's receipt number."),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: Any, malls: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mall_field = self.fields["mall"]
        assert isinstance(mall_field, forms.TypedChoiceField)
        mall_field.choices = malls
        if len(malls) == 1:
            mall_field.widget = forms.HiddenInput()
        self.fields["amount"].widget.attrs.update({"data-cash-amount": "", "autofocus": ""})
        self.fields["amount"].help_text = _("Count the cash before you record it: from %(min)s to %(max)s.") % {
            "min": format_cny(wallet_rules.MIN_TOPUP_FEN),
            "max": format_cny(wallet_rules.MAX_TOPUP_FEN),
        }


def _mall_choices(member: Any) -> tuple[list[tuple[int, str]], dict[int, Any]]:
    malls = {m.pk: m for m in mall_list(mall_group_id=member.mall_group_id)}
    return [(pk, m.name) for pk, m in malls.items()], malls


def _short(fen: int) -> str:
    """¥1,000 for whole yuan (an offer's chip), ¥99.50 otherwise."""
    text = format_cny(fen)
    return text[:-3] if text.endswith(".00") else text


def _offers(mall: Any) -> list[dict[str, Any]]:
    """The group's top-up bonuses open today at this mall (mall-local day), smallest first, as the app shows them."""
    today = timeutil.local_date(timeutil.now(), mall.timezone)
    tiers = [
        t
        for t in wallet_selectors.bonus_tiers(mall_group_id=mall.group_id)
        if wallet_rules.is_tier_open(t, today) and t.bonus_fen > 0
    ]
    tiers.sort(key=lambda t: (t.min_amount_fen, t.bonus_fen))
    return [
        {
            "min_amount_fen": t.min_amount_fen,
            "bonus_fen": t.bonus_fen,
            "min_amount_yuan": yuan_input(t.min_amount_fen),
            "amount_short": _short(t.min_amount_fen),
            "bonus_short": _short(t.bonus_fen),
            "label": _("Top up %(amount)s, get %(bonus)s free")
            % {"amount": format_cny(t.min_amount_fen), "bonus": format_cny(t.bonus_fen)},
        }
        for t in tiers
    ]


def _page(
    request: HttpRequest,
    member: Any,
    form: CashTopUpForm | None = None,
    *,
    preview: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    choices, malls = _mall_choices(member)
    if form is None:
        initial_mall = member.join_mall_id if member.join_mall_id in malls else next(iter(malls), None)
        form = CashTopUpForm(initial={"key": uuid.uuid4().hex, "mall": initial_mall}, malls=choices)
    chosen = form.cleaned_data.get("mall") if form.is_bound and hasattr(form, "cleaned_data") else None
    mall = malls.get(chosen or form.initial.get("mall") or member.join_mall_id) or next(iter(malls.values()), None)
    threshold = wallet_selectors.cash_topup_approval_threshold_fen()
    balance = wallet_selectors.wallet_balance(member_id=member.pk)
    history = wallet_selectors.member_cash_topups(member_id=member.pk, limit=HISTORY_SHOWN)
    offers = _offers(mall) if mall is not None else []
    context = {
        "nav": "members",
        "member": member,
        "form": form,
        "principal": format_cny(balance.principal_fen),
        "bonus": format_cny(balance.bonus_fen),
        "offers": offers,
        "offers_json": json.dumps([[o["min_amount_fen"], o["bonus_fen"]] for o in offers]),
        "threshold": format_cny(threshold),
        "threshold_fen": threshold,
        "preview": preview,
        "waiting": [t for t in history if t.is_awaiting_approval],
        "history": history,
        "can_topup": member.is_active,
        "can_approve": scope_of(request).can(perms.WALLET_REFUND_APPROVE),
    }
    return render(request, "console/wallet/cash_topup.html", context, status=status)


def _preview(member: Any, form: CashTopUpForm) -> dict[str, Any]:
    """What recording the form's amount would do now: the bonus, the total credited, whether it waits."""
    _choices, malls = _mall_choices(member)
    mall = malls[form.cleaned_data["mall"]]
    amount = form.cleaned_data["amount"]
    choice = wallet_selectors.topup_bonus_for(mall_group_id=mall.group_id, tz_name=mall.timezone, amount_fen=amount)
    threshold = wallet_selectors.cash_topup_approval_threshold_fen()
    return {
        "amount_fen": amount,
        "bonus_fen": choice.bonus_fen,
        "total_fen": amount + choice.bonus_fen,
        "needs_approval": wallet_rules.cash_topup_needs_approval(amount, threshold_fen=threshold),
    }


@console_view(perms.WALLET_CASH_TOPUP)
def member_wallet_cash_topup(request: HttpRequest, member_id: int) -> HttpResponse:
    """GET: the form, the bonus offers, the member's desk top-ups. POST "preview": the bonus and whether it waits for
    approval; POST "topup": record it (credited at once, or left for approval above the threshold)."""
    member = member_or_404(request, member_id)
    if member.pk != member_id:  # a merged member: the survivor's wallet takes the money now
        return redirect("console:member_wallet_cash_topup", member_id=member.pk)
    if request.method != "POST":
        return _page(request, member)
    choices, _malls = _mall_choices(member)
    form = CashTopUpForm(request.POST, malls=choices)
    if not member.is_active:
        form.add_error(None, _("Only active members can be changed."))
        return _page(request, member, form, status=400)
    if not form.is_valid():
        return _page(request, member, form, status=400)
    if request.POST.get("action") == "preview":
        return _page(request, member, form, preview=_preview(member, form))
    try:
        topup = wallet_services.wallet_topup_cash(
            mall_id=form.cleaned_data["mall"],
            member_id=member.pk,
            amount_fen=form.cleaned_data["amount"],
            actor=actor_for(request),
            idempotency_key=form.cleaned_data.get("key") or "",
            note=form.cleaned_data.get("note") or "",
        )
    except wallet_exceptions.IdempotencyConflictError:
        # this form already recorded another amount: the corrected form gets a new key
        data = QueryDict(mutable=True)
        data.update(request.POST)
        data["key"] = uuid.uuid4().hex
        form = CashTopUpForm(data, malls=choices)
        form.is_valid()
        form.add_error(None, _("This form was already used for another amount. Check the member's wallet first."))
        return _page(request, member, form, status=400)
    except ApplicationError as exc:
        add_application_error(form, exc)
        return _page(request, member, form, status=400)
    if topup.status == TopUpStatus.PENDING:
        messages.warning(
            request,
            _("The cash top-up of %(amount)s is awaiting approval: above %(threshold)s a second person approves it.")
            % {
                "amount": format_cny(topup.amount_fen),
                "threshold": format_cny(wallet_selectors.cash_topup_approval_threshold_fen()),
            },
        )
        return redirect("console:member_wallet_cash_topup", member_id=member.pk)
    messages.success(request, _credited_message(topup))
    return redirect(reverse("console:member_detail", args=[member.pk]))


def _credited_message(topup: Any, *, card: str = "") -> str:
    """One whole sentence per case (no sentences glued with a space: Chinese has none between them)."""
    values = {"amount": format_cny(topup.amount_fen), "bonus": format_cny(topup.bonus_fen), "card": card}
    if card:
        if topup.bonus_fen:
            return _("Approved for %(card)s: %(amount)s credited to the wallet, with a %(bonus)s bonus.") % values
        return _("Approved for %(card)s: %(amount)s credited to the wallet.") % values
    if topup.bonus_fen:
        return _("Credited %(amount)s to the wallet, with a %(bonus)s bonus.") % values
    return _("Credited %(amount)s to the wallet.") % values


# ---------------------------------------------------------------------------------------------- approval queue


def _queue(request: HttpRequest, g: GroupContext, **kwargs: Any) -> HttpResponse:
    pending = list(wallet_selectors.cash_topup_list(mall_group_id=g.id, pending=True)[:PENDING_LIMIT])
    return approval_queue(
        request,
        g,
        template="console/wallet/cash_topups.html",
        nav="wallet_cash_topups",
        pending=pending,
        history=wallet_selectors.cash_topup_list(mall_group_id=g.id, pending=False),
        threshold_fen=wallet_selectors.cash_topup_approval_threshold_fen(),
        pending_total_fen=sum(t.amount_fen for t in pending),
        **kwargs,
    )


@console_view(perms.WALLET_REFUND_APPROVE)
def wallet_cash_topups(request: HttpRequest) -> HttpResponse:
    return _queue(request, group_context(request))


@require_POST
@console_view(perms.WALLET_REFUND_APPROVE)
def wallet_cash_topup_decide(request: HttpRequest, topup_id: int) -> HttpResponse:
    topup = wallet_selectors.cash_topup_get(topup_id=topup_id, mall_group_id=scope_of(request).mall_group_id)
    if topup is None:
        raise Http404("cash top-up")
    g = group_context(request, group_id=topup.mall_group_id)

    def decide(approve: bool, note: str) -> Any:
        return wallet_services.wallet_topup_cash_decide(
            topup_id=topup.pk, mall_group_id=topup.mall_group_id, approve=approve, actor=actor_for(request), note=note
        )

    def done(decided: Any) -> HttpResponse:
        card = topup.member.card_no
        if decided.status == TopUpStatus.CANCELLED:  # the desk has to act: a warning, not a plain success
            messages.warning(
                request,
                _("Rejected: %(amount)s for %(card)s. The top-up is cancelled: the service desk gives the cash back.")
                % {"amount": format_cny(decided.amount_fen), "card": card},
            )
        else:
            messages.success(request, _credited_message(decided, card=card))
        return redirect(reverse("console:wallet_cash_topups") + g.query)

    return decide_from_form(
        request, item_id=topup.pk, queue=lambda **kw: _queue(request, g, **kw), decide=decide, done=done
    )
