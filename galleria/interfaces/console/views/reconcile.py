"""Console: reconciliation with the gateways' daily bills and WeChat Pay 分账 (docs/reconcile.md).

- Reconciliation: the runs by date and provider (status, totals, counts per outcome, open findings), a form to
  reconcile a date now, and a day's page — the bill's and our totals, the gateway's fees, the findings with filters,
  their fix-ups (the automatic action where one exists, or resolve with a note) and a CSV export.
- Profit sharing: every 分账 order with its state, the amounts (paid, commission, the merchant's part, the limit,
  shared, left for the statement, to recover), why it was capped, skipped or refused, and a manager's actions.

Reading needs `payments.view`; fix-ups and actions `payments.manage`.
"""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.core.money import fen_to_yuan_str
from galleria.interfaces.common import actor_for, scope_of
from galleria.merchants.selectors import merchant_options
from galleria.payments.types import AttemptState, Fulfilment, ProviderChoice, RefundState
from galleria.reconcile import selectors, services
from galleria.reconcile.types import (
    FINDING_OUTCOMES,
    CapReason,
    FindingState,
    FixAction,
    LineKind,
    Outcome,
    ShareState,
    SkipReason,
)

from ..helpers import console_view, error_message, page_of
from ..loyalty import group_context

EXPORT_MAX = 50_000
SHARE_ACTIONS = ("query", "retry", "unfreeze")

# what a finding's history lines say, by action (the automatic fix-ups are FixAction's labels)
HISTORY_LABELS: dict[str, Promise] = {
    "resolve": gettext_lazy("Resolved"),
    **{str(value): label for value, label in FixAction.choices if value},
}


# our side's states as a finding records them (a payment's state and fulfilment, or a refund's state)
HERE_LABELS: dict[str, Promise | str] = {
    **dict(RefundState.choices),
    **dict(Fulfilment.choices),
    **dict(AttemptState.choices),
}


# what an automatic fix-up answered, in words (anything else — a gateway's state and amount — is shown as it is)
RESULT_LABELS: dict[str, Promise | str] = {
    **HERE_LABELS,
    "unavailable": gettext_lazy("the gateway could not be reached"),
    "gateway: unknown": gettext_lazy("the gateway does not know it"),
    "paid, amount differs": gettext_lazy("paid, but the amount differs"),
}


def _result(value: str) -> str:
    return str(RESULT_LABELS.get(value, value))


def _label(choices: Any, value: str) -> str:
    return str(dict(choices).get(value, value))


def _yuan(fen: int | None) -> str:
    return "" if fen is None else fen_to_yuan_str(fen)


def _local(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


# ---------------------------------------------------------------------------------------------------- runs


class RunForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Bill date"), widget=forms.DateInput(attrs={"type": "date"}))
    provider = forms.ChoiceField(label=gettext_lazy("Provider"), choices=ProviderChoice.choices)


def _runs_page(request: HttpRequest, form: RunForm, *, status: int = 200) -> HttpResponse:
    g = group_context(request)
    provider = request.GET.get("provider") or ""
    provider = provider if provider in ProviderChoice.values else ""
    page, query_string = page_of(request, selectors.run_list(mall_group_id=g.id, provider=provider))
    return render(
        request,
        "console/reconcile/runs.html",
        {
            "nav": "reconcile",
            "g": g,
            "form": form,
            "page_obj": page,
            "query_string": query_string,
            "provider": provider,
            "providers": ProviderChoice.choices,
            "outcomes": [(value, label) for value, label in Outcome.choices],
            "open_total": selectors.open_findings_total(mall_group_id=g.id),
            "can_manage": perms.PAYMENTS_MANAGE in scope_of(request).permissions,
        },
        status=status,
    )


@console_view(perms.PAYMENTS_VIEW)
def reconcile(request: HttpRequest) -> HttpResponse:
    yesterday = services.gateway_today() - dt.timedelta(days=1)
    return _runs_page(request, RunForm(initial={"date": yesterday, "provider": ProviderChoice.WECHAT}))


@require_POST
@console_view(perms.PAYMENTS_MANAGE)
def reconcile_run(request: HttpRequest) -> HttpResponse:
    """Reconcile a date now (the daily job does it every morning; re-running replaces the open findings)."""
    g = group_context(request)
    form = RunForm(request.POST)
    if not form.is_valid():
        return _runs_page(request, form, status=422)
    day, provider = form.cleaned_data["date"], form.cleaned_data["provider"]
    try:
        result = services.reconcile_day(mall_group_id=g.id, provider=provider, bill_date=day, actor=actor_for(request))
    except ApplicationError as exc:
        form.add_error("date" if exc.fields.get("date") else None, error_message(exc))
        return _runs_page(request, form, status=422)
    if result.status == "done":
        messages.success(
            request,
            _("Reconciled: %(matched)s matched, %(open)s to look at.")
            % {"matched": result.counts.get(Outcome.MATCHED, 0), "open": result.open_findings},
        )
    else:
        messages.error(request, _("The bill could not be downloaded: %(error)s") % {"error": result.error})
    return redirect(reverse("console:reconcile_day", args=[provider, day.isoformat()]) + g.query)


# ---------------------------------------------------------------------------------------------------- a day


def _day_of(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise Http404("date") from exc


def _finding_filters(request: HttpRequest) -> dict[str, str]:
    def pick(name: str, allowed: list[str], default: str = "") -> str:
        value = request.GET.get(name, default)
        return value if value in allowed else ""

    return {
        "outcome": pick("outcome", [str(o) for o in FINDING_OUTCOMES]),
        "state": pick("state", FindingState.values, default=FindingState.OPEN),
        "kind": pick("kind", LineKind.values),
        "query": (request.GET.get("q") or "").strip()[:64],
    }


@console_view(perms.PAYMENTS_VIEW)
def reconcile_day(request: HttpRequest, provider: str, day: str) -> HttpResponse:
    g = group_context(request)
    if provider not in ProviderChoice.values:
        raise Http404("provider")
    bill_date = _day_of(day)
    run = selectors.run_get(mall_group_id=g.id, provider=provider, bill_date=bill_date)
    f = _finding_filters(request)
    rows = selectors.finding_list(mall_group_id=g.id, run_id=run.pk if run else -1, **f)
    if request.GET.get("export") == "csv":
        return _findings_csv(rows, name=f"reconcile-{provider}-{bill_date.isoformat()}.csv")
    page, query_string = page_of(request, rows)
    for x in page.object_list:  # our side's state when the finding was made, in words
        here = [HERE_LABELS.get(str(x.detail.get(k) or ""), "") for k in ("state", "fulfilment")]
        x.here = " · ".join(str(w) for w in here if w and str(w) != str(Fulfilment.DONE.label))
        x.steps = [
            {
                **h,
                "label": str(HISTORY_LABELS.get(str(h.get("action")), h.get("action", ""))),
                "result": _result(str(h.get("result") or "")),
            }
            for h in x.history
        ]
    counts = selectors.finding_counts(run_id=run.pk) if run else {}
    tabs = [
        (value, label, sum(counts.get(value, {}).values()), counts.get(value, {}).get(FindingState.OPEN, 0))
        for value, label in Outcome.choices
        if value != Outcome.MATCHED
    ]
    return render(
        request,
        "console/reconcile/day.html",
        {
            "nav": "reconcile",
            "g": g,
            "run": run,
            "provider": provider,
            "provider_label": _label(ProviderChoice.choices, provider),
            "bill_date": bill_date,
            "previous": (bill_date - dt.timedelta(days=1)).isoformat(),
            "following": (bill_date + dt.timedelta(days=1)).isoformat(),
            "page_obj": page,
            "query_string": query_string,
            "f": f,
            "tabs": tabs,
            "matched": (run.counts or {}).get(Outcome.MATCHED, 0) if run else 0,
            "net_fen": (run.bill_payment_fen - run.bill_refund_fen - run.fee_fen) if run else 0,
            "states": FindingState.choices,
            "kinds": LineKind.choices,
            "can_manage": perms.PAYMENTS_MANAGE in scope_of(request).permissions,
            "back": request.get_full_path(),
        },
    )


def _findings_csv(rows: Any, *, name: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM
    out = csv.writer(response)
    out.writerow(
        [
            _("Bill date"),
            _("Provider"),
            _("Kind"),
            _("Outcome"),
            _("State"),
            _("Our number"),
            _("Our refund number"),
            _("Gateway transaction"),
            _("At the gateway (¥)"),
            _("Here (¥)"),
            _("Fee (¥)"),
            _("Time"),
            _("Automatic fix-up"),
            _("Resolved by"),
            _("Resolved at"),
            _("Note"),
        ]
    )
    for x in rows[:EXPORT_MAX]:
        out.writerow(
            [
                x.bill_date.isoformat(),
                x.get_provider_display(),
                x.get_kind_display(),
                x.get_outcome_display(),
                x.get_state_display(),
                x.out_trade_no,
                x.out_refund_no,
                x.transaction_id,
                _yuan(x.gateway_fen),
                _yuan(x.our_fen),
                _yuan(x.fee_fen),
                _local(x.occurred_at),
                x.get_fix_display() if x.fix else "",
                x.resolved_by,
                _local(x.resolved_at),
                x.resolution_note,
            ]
        )
    return response


def _back(request: HttpRequest, fallback: str) -> str:
    """Where to return after an action: the page the form came from (a path of ours), else `fallback`."""
    back = request.POST.get("back") or ""
    return back if back.startswith("/") and not back.startswith("//") else fallback


@require_POST
@console_view(perms.PAYMENTS_MANAGE)
def reconcile_finding(request: HttpRequest, finding_id: int) -> HttpResponse:
    """A finding's fix-up: `fix` (its automatic action) or `resolve` (with a note)."""
    scope = scope_of(request)
    finding = selectors.finding_get(mall_group_id=scope.mall_group_id, finding_id=finding_id)
    if finding is None:
        raise Http404("finding")
    g = group_context(request, group_id=finding.mall_group_id)
    fallback = reverse("console:reconcile_day", args=[finding.provider, finding.bill_date.isoformat()]) + g.query
    action = request.POST.get("action")
    actor = actor_for(request)
    try:
        if action == "resolve":
            services.finding_resolve(
                finding_id=finding.pk, mall_group_id=g.id, note=request.POST.get("note") or "", actor=actor
            )
            messages.success(request, _("Resolved. The note is kept with the finding."))
        elif action == "fix":
            done, result = services.finding_fix(finding_id=finding.pk, mall_group_id=g.id, actor=actor)
            if done.state == FindingState.FIXED:
                messages.success(
                    request, _("Fixed: our records now agree with the bill (%(result)s).") % {"result": _result(result)}
                )
            else:
                messages.warning(
                    request,
                    _("Done, but the finding stays open: %(result)s. Explain it and resolve it.")
                    % {"result": _result(result)},
                )
        else:
            return HttpResponse(_("Unknown action."), status=400, content_type="text/plain; charset=utf-8")
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    return redirect(_back(request, fallback))


# ---------------------------------------------------------------------------------------------------- 分账


def _share_filters(request: HttpRequest, merchants: list[Any]) -> dict[str, Any]:
    state = request.GET.get("state") or ""
    try:
        merchant_id = int(request.GET.get("merchant") or 0)
    except ValueError:
        merchant_id = 0
    return {
        "state": state if state in ShareState.values else "",
        "merchant_id": merchant_id if any(m.pk == merchant_id for m in merchants) else None,
        "query": (request.GET.get("q") or "").strip()[:64],
    }


@console_view(perms.PAYMENTS_VIEW)
def profit_shares(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    merchants = list(merchant_options(mall_group_id=g.id))
    f = _share_filters(request, merchants)
    rows = selectors.share_list(mall_group_id=g.id, **f)
    if request.GET.get("export") == "csv":
        return _shares_csv(rows)
    page, query_string = page_of(request, rows)
    summary = selectors.share_summary(mall_group_id=g.id)
    return render(
        request,
        "console/reconcile/shares.html",
        {
            "nav": "profit_shares",
            "g": g,
            "page_obj": page,
            "query_string": query_string,
            "f": f,
            "merchants": merchants,
            "states": ShareState.choices,
            "finished": summary[ShareState.FINISHED],
            "capped_total": sum(s["capped_fen"] for s in summary.values()),
            "recover_total": sum(s["recover_fen"] for s in summary.values()),
            "attention": sum(summary[s]["n"] for s in (ShareState.PENDING, ShareState.PROCESSING, ShareState.REFUSED)),
            "limit_pct": f"{services.limit_bp() / 100:g}",
            "state_counts": [
                (label, summary[value]["n"]) for value, label in ShareState.choices if summary[value]["n"]
            ],
            "can_manage": perms.PAYMENTS_MANAGE in scope_of(request).permissions,
            "back": request.get_full_path(),
        },
    )


def _shares_csv(rows: Any) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="profit-sharing.csv"'
    response.write("\ufeff")
    out = csv.writer(response)
    out.writerow(
        [
            _("Created"),
            _("Payment"),
            _("Profit-sharing number"),
            _("Merchant"),
            _("State"),
            _("Paid (¥)"),
            _("Refunded (¥)"),
            _("Commission (¥)"),
            _("Merchant's part (¥)"),
            _("Limit (¥)"),
            _("Shared (¥)"),
            _("Left for the statement (¥)"),
            _("Why capped"),
            _("Why nothing"),
            _("To recover (¥)"),
            _("Gateway's refusal or failure"),
            _("Finished at"),
        ]
    )
    for o in rows[:EXPORT_MAX]:
        out.writerow(
            [
                _local(o.created_at),
                o.out_trade_no,
                o.out_order_no,
                o.merchant.name,
                o.get_state_display(),
                _yuan(o.paid_fen),
                _yuan(o.refunded_fen),
                _yuan(o.commission_fen),
                _yuan(o.part_fen),
                _yuan(o.limit_fen),
                _yuan(o.amount_fen),
                _yuan(o.capped_fen),
                _label(CapReason.choices, o.cap_reason) if o.cap_reason else "",
                _label(SkipReason.choices, o.skip_reason) if o.skip_reason else "",
                _yuan(o.recover_fen),
                o.refusal or o.fail_reason or o.unfreeze_error,
                _local(o.finished_at),
            ]
        )
    return response


@require_POST
@console_view(perms.PAYMENTS_MANAGE)
def profit_share(request: HttpRequest, order_id: int) -> HttpResponse:
    """A manager's action on an order: ask the gateway now, plan a refused one again, or release the funds."""
    action = request.POST.get("action") or ""
    if action not in SHARE_ACTIONS:
        return HttpResponse(_("Unknown action."), status=400, content_type="text/plain; charset=utf-8")
    scope = scope_of(request)
    order = selectors.share_get(mall_group_id=scope.mall_group_id, order_id=order_id)
    if order is None:
        raise Http404("share")
    g = group_context(request, group_id=order.mall_group_id)
    try:
        state = services.share_action(order_id=order.pk, mall_group_id=g.id, action=action, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        outcomes = {
            "unfrozen": _("the frozen funds were released to the mall"),
            "busy": _("another worker is on it; look again in a minute"),
        }
        label = _label(ShareState.choices, state) if state in ShareState.values else outcomes.get(state, state)
        messages.info(request, _("Done; the order is now: %(state)s.") % {"state": label})
    return redirect(_back(request, reverse("console:profit_shares") + g.query))
