"""Reads of reconciliation runs, findings and 分账 orders (the console's pages and exports), always scoped to a
mall group (None = every group: platform admins)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet, Sum

from .models import Finding, FindingState, ReconcileRun, ShareOrder, ShareState

MAX_QUERY = 64


def run_list(*, mall_group_id: int | None, provider: str = "") -> QuerySet[ReconcileRun]:
    """Runs, newest date first, each with `open_findings` (annotated)."""
    qs = ReconcileRun.objects.annotate(
        open_findings=Count("findings", filter=Q(findings__state=FindingState.OPEN))
    ).order_by("-bill_date", "provider", "-pk")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if provider:
        qs = qs.filter(provider=provider)
    return qs


def run_get(*, mall_group_id: int, provider: str, bill_date: dt.date) -> ReconcileRun | None:
    return ReconcileRun.objects.filter(mall_group_id=mall_group_id, provider=provider, bill_date=bill_date).first()


def finding_list(
    *,
    mall_group_id: int | None,
    run_id: int | None = None,
    outcome: str = "",
    state: str = "",
    kind: str = "",
    query: str = "",
) -> QuerySet[Finding]:
    qs = Finding.objects.order_by("bill_date", "outcome", "occurred_at", "pk")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if run_id is not None:
        qs = qs.filter(run_id=run_id)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    query = query.strip()[:MAX_QUERY]
    if query:
        qs = qs.filter(
            Q(out_trade_no__icontains=query) | Q(out_refund_no__icontains=query) | Q(transaction_id__icontains=query)
        )
    return qs


def finding_get(*, mall_group_id: int | None, finding_id: int) -> Finding | None:
    qs = Finding.objects.select_related("run").filter(pk=finding_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.first()


def finding_counts(*, run_id: int) -> dict[str, dict[str, int]]:
    """{outcome: {state: n}} of a run's findings (the day page's tabs)."""
    out: dict[str, dict[str, int]] = {}
    rows = Finding.objects.filter(run_id=run_id).values("outcome", "state").annotate(n=Count("pk")).order_by()
    for row in rows:
        out.setdefault(str(row["outcome"]), {})[str(row["state"])] = int(row["n"])
    return out


def open_findings_total(*, mall_group_id: int | None) -> int:
    qs = Finding.objects.filter(state=FindingState.OPEN)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.count()


def share_list(
    *, mall_group_id: int | None, state: str = "", merchant_id: int | None = None, query: str = ""
) -> QuerySet[ShareOrder]:
    qs = ShareOrder.objects.select_related("merchant").order_by("-created_at", "-pk")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if state:
        qs = qs.filter(state=state)
    if merchant_id:
        qs = qs.filter(merchant_id=merchant_id)
    query = query.strip()[:MAX_QUERY]
    if query:
        qs = qs.filter(
            Q(out_trade_no__icontains=query) | Q(out_order_no__icontains=query) | Q(transaction_id__icontains=query)
        )
    return qs


def share_get(*, mall_group_id: int | None, order_id: int) -> ShareOrder | None:
    qs = ShareOrder.objects.select_related("merchant").filter(pk=order_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.first()


def share_for_attempt(*, attempt_id: int) -> ShareOrder | None:
    return ShareOrder.objects.filter(attempt_id=attempt_id).first()


def share_summary(*, mall_group_id: int | None) -> dict[str, dict[str, int]]:
    """{state: {"n", "amount_fen", "capped_fen", "recover_fen"}} of the group's 分账 orders."""
    qs = ShareOrder.objects.all()
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    rows = (
        qs.values("state")
        .annotate(n=Count("pk"), amount=Sum("amount_fen"), capped=Sum("capped_fen"), recover=Sum("recover_fen"))
        .order_by()
    )
    out = {s: {"n": 0, "amount_fen": 0, "capped_fen": 0, "recover_fen": 0} for s in ShareState.values}
    for row in rows:
        out[str(row["state"])] = {
            "n": int(row["n"]),
            "amount_fen": int(row["amount"] or 0),
            "capped_fen": int(row["capped"] or 0),
            "recover_fen": int(row["recover"] or 0),
        }
    return out


def shares_by_merchant(*, mall_group_id: int, since: dt.datetime, until: dt.datetime) -> dict[int, dict[str, int]]:
    """Per merchant, the 分账 finished in [since, until): what the merchant already received through WeChat Pay
    (its monthly statement pays only the rest) and what must be recovered after refunds."""
    rows = (
        ShareOrder.objects.filter(
            mall_group_id=mall_group_id, state=ShareState.FINISHED, finished_at__gte=since, finished_at__lt=until
        )
        .values("merchant_id")
        .annotate(shared=Sum("amount_fen"), recover=Sum("recover_fen"), n=Count("pk"))
        .order_by()
    )
    return {
        int(r["merchant_id"]): {
            "orders": int(r["n"]),
            "shared_fen": int(r["shared"] or 0),
            "recover_fen": int(r["recover"] or 0),
        }
        for r in rows
    }


def attempts_with_share(*, attempt_ids: list[int]) -> set[int]:
    return set(ShareOrder.objects.filter(attempt_id__in=attempt_ids).values_list("attempt_id", flat=True))


def shares_to_advance(*, limit: int) -> list[int]:
    """Orders the sweep moves on: pending (to send), processing (to ask), skipped ones whose frozen funds were not
    yet released (and whose release was not refused)."""
    qs = ShareOrder.objects.filter(
        Q(state__in=(ShareState.PENDING, ShareState.PROCESSING))
        | Q(state=ShareState.SKIPPED, unfrozen_at__isnull=True, unfreeze_error="")
    ).order_by("updated_at", "pk")
    return list(qs.values_list("pk", flat=True)[:limit])


def shares_for_attempts(*, attempt_ids: list[int]) -> list[ShareOrder]:
    return list(ShareOrder.objects.filter(attempt_id__in=attempt_ids, state=ShareState.FINISHED).order_by("pk"))
