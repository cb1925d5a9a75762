"""Wallet money at the service desk: refund a member's wallet balance (member 360 → "Refund wallet balance") and
the approval queue of refunds above GALLERIA_WALLET_REFUND_APPROVAL_FEN (a second person approves or rejects).

The page shows where the money will go before anything moves (the same plan the service carries out:
wallet.rules.plan_balance_refund): the newest top-ups first, back through their payment gateway where it can
refund, else in cash, and the bonus taken back in proportion. Everything the service refuses is shown inline.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.interfaces.common import actor_for, scope_of
from galleria.members.models import Member
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet import services as wallet_services
from galleria.wallet.models import BalanceRefund, BalanceRefundPayout, BalanceRefundStatus
from galleria.wallet.types import BalanceRefundPlan

from ..helpers import add_application_error, console_view, error_message, page_of
from ..loyalty import GroupContext, group_context
from ..loyalty_forms import YuanField
from .member_loyalty import member_or_404

PENDING_LIMIT = 200
TOPUPS_SHOWN = 50
Decided = TypeVar("Decided")

WHOLE = "all"
PART = "amount"


class BalanceRefundForm(forms.Form):
    what = forms.ChoiceField(
        label=gettext_lazy("What to refund"),
        choices=[(WHOLE, gettext_lazy("The whole balance")), (PART, gettext_lazy("An amount"))],
        widget=forms.RadioSelect,
        initial=WHOLE,
    )
    amount = YuanField(
        label=gettext_lazy("Amount (¥)"),
        required=False,
        min_fen=1,
        help_text=gettext_lazy("Only when refunding an amount."),
    )
    payout = forms.ChoiceField(
        label=gettext_lazy("Pay back"),
        choices=BalanceRefundPayout.choices,
        widget=forms.RadioSelect,
        initial=BalanceRefundPayout.ORIGINAL,
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("what") == WHOLE:  # the amount box is not used: whatever it holds is no error
            self.errors.pop("amount", None)
            data["amount"] = None
        if data.get("what") == PART and data.get("amount") is None and "amount" not in self.errors:
            self.add_error("amount", _("Enter the amount to refund."))
        return data

    def amount_fen(self) -> int | None:
        """None: the whole balance."""
        return self.cleaned_data.get("amount") if self.cleaned_data.get("what") == PART else None


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", gettext_lazy("Approve")), ("reject", gettext_lazy("Reject"))])
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


def _plan(member: Member, form: BalanceRefundForm | None) -> tuple[BalanceRefundPlan | None, str]:
    """The preview for the form's choices (the whole balance when the form is empty or invalid), or why none."""
    amount: int | None = None
    cash_only = False
    if form is not None and form.is_bound:
        if not form.is_valid():
            return None, _("Correct the form to see where the money goes.")
        amount = form.amount_fen()
        cash_only = form.cleaned_data["payout"] == BalanceRefundPayout.CASH
    try:
        return wallet_selectors.balance_refund_plan(member_id=member.pk, amount_fen=amount, cash_only=cash_only), ""
    except ApplicationError as exc:
        return None, error_message(exc)


def _page(
    request: HttpRequest, member: Member, form: BalanceRefundForm | None = None, *, status: int = 200
) -> HttpResponse:
    balance = wallet_selectors.wallet_balance(member_id=member.pk)
    plan, plan_error = _plan(member, form)
    if form is None:
        form = BalanceRefundForm(initial={"key": uuid.uuid4().hex})
    threshold = wallet_selectors.refund_approval_threshold_fen()
    refunds = wallet_selectors.member_balance_refunds(member_id=member.pk)
    scope = scope_of(request)
    context = {
        "nav": "members",
        "member": member,
        "form": form,
        "balance": balance,
        "principal": format_cny(balance.principal_fen),
        "bonus": format_cny(balance.bonus_fen),
        "topups": list(wallet_selectors.refundable_topups(member_id=member.pk)[:TOPUPS_SHOWN]),
        "plan": plan,
        "plan_error": plan_error,
        "needs_approval": plan is not None and plan.amount_fen > threshold,
        "threshold": format_cny(threshold),
        "pending": next((r for r in refunds if r.status == BalanceRefundStatus.PENDING), None),
        "refunds": refunds,
        "can_refund": member.is_active,
        "can_approve": scope.can(perms.WALLET_REFUND_APPROVE),
    }
    return render(request, "console/wallet/refund.html", context, status=status)


def _done_message(refund: BalanceRefund) -> str:
    text = _("Refunded %(amount)s: %(gateway)s to the original payment channel, %(cash)s in cash.") % {
        "amount": format_cny(refund.amount_fen),
        "gateway": format_cny(refund.to_gateway_fen),
        "cash": format_cny(refund.in_cash_fen),
    }
    if refund.bonus_clawed_back_fen:
        text += " " + _("Bonus taken back: %(bonus)s.") % {"bonus": format_cny(refund.bonus_clawed_back_fen)}
    return text


@console_view(perms.WALLET_REFUND)
def member_wallet_refund(request: HttpRequest, member_id: int) -> HttpResponse:
    """GET: the member's wallet, its top-ups and the plan for the whole balance. POST "preview": the plan for the
    choices made; POST "refund": carry it out (or leave it for approval above the threshold)."""
    member = member_or_404(request, member_id)
    if member.pk != member_id:  # a merged member: the survivor holds the money now
        return redirect("console:member_wallet_refund", member_id=member.pk)
    if request.method != "POST":
        return _page(request, member)
    form = BalanceRefundForm(request.POST)
    if not member.is_active:
        form.add_error(None, _("Only active members can be changed."))
        return _page(request, member, form, status=400)
    if not form.is_valid():
        return _page(request, member, form, status=400)
    if request.POST.get("action") == "preview":
        return _page(request, member, form)
    try:
        refund = wallet_services.wallet_balance_refund_request(
            member_id=member.pk,
            mall_group_id=member.mall_group_id,
            amount_fen=form.amount_fen(),
            payout=form.cleaned_data["payout"],
            reason=form.cleaned_data["reason"],
            actor=actor_for(request),
            idempotency_key=form.cleaned_data.get("key") or "",
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
        return _page(request, member, form, status=400)
    if refund.status == BalanceRefundStatus.PENDING:
        messages.warning(
            request,
            _("The refund of %(amount)s is awaiting approval: above %(threshold)s a second person approves it.")
            % {
                "amount": format_cny(refund.amount_fen),
                "threshold": format_cny(wallet_selectors.refund_approval_threshold_fen()),
            },
        )
        return redirect("console:member_wallet_refund", member_id=member.pk)
    messages.success(request, _done_message(refund))
    return redirect(reverse("console:member_detail", args=[member.pk]))


# ---------------------------------------------------------------------------------------------- approval queues
# Two queues wait for a second person — refunds of a wallet balance (here) and cash top-ups at the service desk
# (wallet_topups.py) — and share the page's context and the decision form's handling below.


def approval_queue(
    request: HttpRequest,
    g: GroupContext,
    *,
    template: str,
    nav: str,
    pending: Sequence[Any],
    history: Any,
    threshold_fen: int,
    row_errors: dict[int, str] | None = None,
    notes: dict[int, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """An approval queue: the `pending` items, the decided ones (`history`, paged), the threshold above which a
    second person approves, and per row the error of a refused decision and the note typed with it (a refused row
    not among the pending ones — decided meanwhile — is said at the top of the page)."""
    page, query_string = page_of(request, history)
    shown = {item.pk for item in pending}
    context = {
        "nav": nav,
        "g": g,
        "pending": pending,
        "page_obj": page,
        "query_string": query_string,
        "threshold": format_cny(threshold_fen),
        "row_errors": row_errors or {},
        "page_errors": [m for item_id, m in (row_errors or {}).items() if item_id not in shown],
        "notes": notes or {},
        "me": request.user.pk,
        **extra,
    }
    return render(request, template, context, status=status)


def decide_from_form(
    request: HttpRequest,
    *,
    item_id: int,
    queue: Callable[..., HttpResponse],
    decide: Callable[[bool, str], Decided],
    done: Callable[[Decided], HttpResponse],
) -> HttpResponse:
    """A queue row's approve / reject form: `decide(approve, note)` runs the service; an invalid form or the
    service's refusal shows the queue again (`queue(row_errors=…, notes=…, status=400)`) with the error on the row
    and the note kept; otherwise `done(decided)` answers."""
    form = DecisionForm(request.POST)
    if not form.is_valid():
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return queue(row_errors={item_id: message}, status=400)
    note = form.cleaned_data.get("note") or ""
    try:
        decided = decide(form.cleaned_data["decision"] == "approve", note)
    except ApplicationError as exc:
        return queue(row_errors={item_id: error_message(exc)}, notes={item_id: note}, status=400)
    return done(decided)


def _queue(request: HttpRequest, g: GroupContext, **kwargs: Any) -> HttpResponse:
    return approval_queue(
        request,
        g,
        template="console/wallet/refunds.html",
        nav="wallet_refunds",
        pending=list(wallet_selectors.balance_refund_list(mall_group_id=g.id, pending=True)[:PENDING_LIMIT]),
        history=wallet_selectors.balance_refund_list(mall_group_id=g.id, pending=False),
        threshold_fen=wallet_selectors.refund_approval_threshold_fen(),
        **kwargs,
    )


@console_view(perms.WALLET_REFUND_APPROVE)
def wallet_refunds(request: HttpRequest) -> HttpResponse:
    return _queue(request, group_context(request))


@require_POST
@console_view(perms.WALLET_REFUND_APPROVE)
def wallet_refund_decide(request: HttpRequest, refund_id: int) -> HttpResponse:
    refund = wallet_selectors.balance_refund_get(refund_id=refund_id, mall_group_id=scope_of(request).mall_group_id)
    if refund is None:
        raise Http404("refund")
    g = group_context(request, group_id=refund.mall_group_id)

    def decide(approve: bool, note: str) -> BalanceRefund:
        return wallet_services.wallet_balance_refund_decide(
            refund_id=refund.pk,
            mall_group_id=refund.mall_group_id,
            approve=approve,
            actor=actor_for(request),
            note=note,
        )

    def done(decided: BalanceRefund) -> HttpResponse:
        card = refund.member.card_no
        if decided.status == BalanceRefundStatus.DONE:
            messages.success(request, _("Approved for %(card)s.") % {"card": card} + " " + _done_message(decided))
        else:
            messages.success(
                request,
                _("Rejected: %(amount)s for %(card)s.") % {"amount": format_cny(decided.amount_fen), "card": card},
            )
        return redirect(reverse("console:wallet_refunds") + g.query)

    return decide_from_form(
        request, item_id=refund.pk, queue=lambda **kw: _queue(request, g, **kw), decide=decide, done=done
    )
