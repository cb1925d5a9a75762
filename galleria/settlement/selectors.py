"""Reads of settlement with merchants: a period's figures from the ledger (one grouped query over the legs for every
merchant of the group), the statements, and the legs behind each figure (docs/settlement.md).

The ledger is read through `ledger.selectors` and the sales (the commission base) through `sales.selectors`; this
app never reads another app's tables."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from galleria.ledger import selectors as ledger_selectors
from galleria.merchants.selectors import mall_list, merchant_options
from galleria.sales import selectors as sales_selectors

from . import rules
from .exceptions import StatementNotFoundError
from .models import Statement, StatementEvent, StatementRun
from .types import (
    COMMISSION_ACCOUNT,
    FIGURE_ACCOUNTS,
    FROZEN_STATUSES,
    PAYOUT_ACCOUNT,
    Figure,
    LedgerFigures,
    Leg,
    Period,
    StatementFigures,
    StatementStatus,
)

Window = tuple[Sequence[int], dt.datetime, dt.datetime]
LEDGER_KINDS = tuple(FIGURE_ACCOUNTS.values())


def period_windows(*, mall_group_id: int, period: Period) -> list[Window]:
    """The period's [since, until) for each time zone of the group's malls, with the malls in it."""
    zones: dict[str, list[int]] = defaultdict(list)
    for mall_id, tz_name in mall_list(mall_group_id=mall_group_id).values_list("pk", "timezone"):
        zones[tz_name].append(mall_id)
    return [(ids, *rules.period_bounds(period, tz_name)) for tz_name, ids in sorted(zones.items())]


def period_figures(
    *, mall_group_id: int, period: Period, merchant_ids: Sequence[int] | None = None
) -> dict[int, LedgerFigures]:
    """{merchant id: its settlement legs and sales in the period} for every merchant with any: one grouped query
    over the legs, two over sales and refunds, whatever the number of merchants."""
    windows = period_windows(mall_group_id=mall_group_id, period=period)
    sums = ledger_selectors.merchant_sums(
        mall_group_id=mall_group_id, kinds=LEDGER_KINDS, windows=windows, merchant_ids=merchant_ids
    )
    sales = sales_selectors.merchant_sales_totals(
        mall_group_id=mall_group_id, windows=windows, merchant_ids=merchant_ids
    )
    values: dict[int, dict[str, int]] = defaultdict(dict)
    for (merchant_id, kind), total in sums.items():
        values[merchant_id][kind] = total
    for merchant_id, row in sales.items():
        values[merchant_id].update(row)
    return {merchant_id: LedgerFigures(**v) for merchant_id, v in values.items()}


def frozen_figures(statements: Iterable[Statement]) -> LedgerFigures:
    """What statements already settled add up to, in the ledger's signs (the inverse of rules.statement_figures)."""
    total = LedgerFigures()
    for s in statements:
        total = LedgerFigures(
            **{
                f.name: getattr(total, f.name) + value
                for f, value in zip(fields(LedgerFigures), _as_ledger(s), strict=True)
            }
        )
    return total


def _as_ledger(s: Statement) -> tuple[int, ...]:
    return (
        s.collected_fen,
        s.wallet_fen,
        s.points_value_fen,
        s.coupon_mall_fen,
        -s.merchant_points_fen,
        -s.coupon_merchant_fen,
        -s.parking_grants_fen,
        s.sales_count,
        s.sales_fen,
        s.refunds_count,
        s.refunds_fen,
    )


def figures_of(s: Statement) -> StatementFigures:
    return StatementFigures(
        collected_fen=s.collected_fen,
        wallet_fen=s.wallet_fen,
        points_value_fen=s.points_value_fen,
        coupon_mall_fen=s.coupon_mall_fen,
        merchant_points_fen=s.merchant_points_fen,
        coupon_merchant_fen=s.coupon_merchant_fen,
        parking_grants_fen=s.parking_grants_fen,
        sales_count=s.sales_count,
        sales_fen=s.sales_fen,
        refunds_fen=s.refunds_fen,
        commission_base_fen=s.commission_base_fen,
        commission_bp=s.commission_bp,
        commission_fen=s.commission_fen,
        net_fen=s.net_fen,
    )


def group_merchants(*, mall_group_id: int, merchant_ids: Iterable[int] | None = None) -> dict[int, Any]:
    """{id: Merchant row (with its mall)} of the group."""
    qs = merchant_options(mall_group_id=mall_group_id)
    if merchant_ids is not None:
        qs = qs.filter(pk__in=list(merchant_ids))
    return {m.pk: m for m in qs}


# ---------------------------------------------------------------------------------------------- statements


def statement_list(
    *,
    mall_group_id: int | None,
    merchant_id: int | None = None,
    status: str = "",
    period_start: dt.date | None = None,
    query: str = "",
) -> QuerySet[Statement]:
    """Statements, newest period first, then by mall and merchant name and number."""
    qs = Statement.objects.select_related("merchant", "merchant__mall")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    if status:
        qs = qs.filter(status=status)
    if period_start is not None:
        qs = qs.filter(period_start=period_start)
    if query:
        qs = qs.filter(
            Q(merchant__name__icontains=query)
            | Q(merchant__legal_name__icontains=query)
            | Q(merchant__contract_no__icontains=query)
            | Q(payment_reference__icontains=query)
        )
    return qs.order_by("-period_start", "merchant__mall__name", "merchant__name", "sequence", "id")


def status_counts(
    *, mall_group_id: int | None, merchant_id: int | None = None, period_start: dt.date | None = None
) -> dict[str, int]:
    """{status: number of statements} for the status tabs (one query)."""
    qs = statement_list(mall_group_id=mall_group_id, merchant_id=merchant_id, period_start=period_start)
    rows = qs.order_by().values("status").annotate(n=Count("id"))
    counts = {s.value: 0 for s in StatementStatus}
    counts.update({r["status"]: int(r["n"]) for r in rows})
    return counts


def period_options(*, mall_group_id: int | None, merchant_id: int | None = None) -> list[Period]:
    """The periods that have statements, newest first (the period filter)."""
    qs = statement_list(mall_group_id=mall_group_id, merchant_id=merchant_id).order_by()
    rows = qs.values_list("period_start", "period_end").distinct()
    return sorted((Period(start=a, end=b) for a, b in rows), key=lambda p: p.start, reverse=True)


def statement_get(*, statement_id: int, mall_group_id: int | None = None, merchant_id: int | None = None) -> Statement:
    """A statement of the group (of the merchant, for the portal); StatementNotFoundError otherwise."""
    qs = Statement.objects.select_related("merchant", "merchant__mall", "mall_group").filter(pk=statement_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    statement = qs.first()
    if statement is None:
        raise StatementNotFoundError()
    return statement


def statement_events(*, statement_id: int) -> QuerySet[StatementEvent]:
    return StatementEvent.objects.filter(statement_id=statement_id).order_by("at", "id")


def period_statements(*, merchant_id: int, period_start: dt.date) -> list[Statement]:
    """Every statement of a merchant's period, by number (the statement and its supplements)."""
    return list(Statement.objects.filter(merchant_id=merchant_id, period_start=period_start).order_by("sequence"))


def last_run(*, mall_group_id: int, period: Period) -> StatementRun | None:
    return StatementRun.objects.filter(
        mall_group_id=mall_group_id, period_start=period.start, period_end=period.end
    ).first()


# ---------------------------------------------------------------------------------------------- drill-down


def _written_range(s: Statement) -> tuple[dt.datetime | None, dt.datetime]:
    """A statement shows the legs written up to its generation; a supplementary one only those written after the
    statement before it (its figures are what the period's legs add up to beyond the earlier statements)."""
    before = (
        Statement.objects.filter(merchant_id=s.merchant_id, period_start=s.period_start, sequence__lt=s.sequence)
        .order_by("-sequence")
        .values_list("generated_at", flat=True)
        .first()
    )
    return before, s.generated_at


def statement_period(s: Statement) -> Period:
    return Period(start=s.period_start, end=s.period_end)


def figure_legs(*, statement: Statement, figure: str) -> QuerySet[Any, dict[str, Any]] | None:
    """The ledger legs behind one figure of a statement (dicts: ledger.selectors.LEG_FIELDS), by time; None for a
    figure that is not a sum of legs (the commission base's sales and refunds: see `base_rows`)."""
    if figure == Figure.COMMISSION or figure == Figure.PAYOUT:
        tx_id = statement.commission_transaction_id if figure == Figure.COMMISSION else statement.payout_transaction_id
        account = COMMISSION_ACCOUNT if figure == Figure.COMMISSION else PAYOUT_ACCOUNT
        return ledger_selectors.transaction_legs(transaction_ids=[tx_id] if tx_id else []).filter(account__kind=account)
    kind = FIGURE_ACCOUNTS.get(figure)
    if kind is None:
        return None
    since, until = rules.period_bounds(statement_period(statement), statement.merchant.mall.timezone)
    after, upto = _written_range(statement)
    return ledger_selectors.merchant_legs(
        mall_group_id=statement.mall_group_id,
        kinds=[kind],
        windows=[([statement.merchant.mall_id], since, until)],
        merchant_ids=[statement.merchant_id],
        written_after=after,
        written_until=upto,
        with_explanation=figure == Figure.PARKING_GRANTS,  # the plate and hours of each grant
    )


def base_rows(*, statement: Statement, figure: str) -> QuerySet[Any]:
    """The sales (or refunds) of the period behind the commission base, by time."""
    since, until = rules.period_bounds(statement_period(statement), statement.merchant.mall.timezone)
    after, upto = _written_range(statement)
    if figure == Figure.REFUNDS:
        qs: QuerySet[Any] = sales_selectors.merchant_refunds_in(
            merchant_id=statement.merchant_id, since=since, until=until
        )
    else:
        qs = sales_selectors.merchant_sales_in(merchant_id=statement.merchant_id, since=since, until=until)
    if after is not None:
        qs = qs.filter(created_at__gt=after)
    return qs.filter(created_at__lte=upto)


def leg_of(row: dict[str, Any]) -> Leg:
    """A leg from a row of ledger.selectors.LEG_FIELDS (with `transaction__explanation` when the figure's page shows
    what the transaction recorded: a parking grant's masked plate and hours)."""
    explained = row.get("transaction__explanation") or {}
    hours = explained.get("hours") if isinstance(explained, dict) else None
    return Leg(
        occurred_at=row["occurred_at"],
        amount_fen=int(row["amount"]),
        kind=str(row["transaction__kind"]),
        source=str(row["transaction__source"]),
        memo=str(row["transaction__memo"]),
        transaction_id=int(row["transaction_id"]),
        plate=str(explained.get("plate") or "") if isinstance(explained, dict) else "",
        hours=hours if isinstance(hours, int) else None,
    )


def export_legs(*, statements: Sequence[Statement]) -> Iterable[tuple[Statement, str, Leg]]:
    """Every leg behind every figure of these statements (the export's detail sheet), statement by statement: per
    period one query over the legs of all the statements' merchants, and one over their commission and payout
    transactions. A leg goes to the statement of its merchant and period that was generated after it was written
    (a supplementary statement holds the legs written after the statement before it)."""
    by_key: dict[tuple[int, dt.date], list[Statement]] = defaultdict(list)
    for s in statements:
        by_key[(s.merchant_id, s.period_start)].append(s)
    for group in by_key.values():
        group.sort(key=lambda s: s.sequence)
    figure_of_kind = {kind: figure for figure, kind in FIGURE_ACCOUNTS.items()}
    out: dict[int, list[tuple[str, Leg]]] = defaultdict(list)
    periods: dict[tuple[int, dt.date, dt.date], list[Statement]] = defaultdict(list)
    for s in statements:
        periods[(s.mall_group_id, s.period_start, s.period_end)].append(s)
    for (group_id, start, end), members in periods.items():
        windows = period_windows(mall_group_id=group_id, period=Period(start=start, end=end))
        rows = ledger_selectors.merchant_legs(
            mall_group_id=group_id,
            kinds=LEDGER_KINDS,
            windows=windows,
            merchant_ids=sorted({s.merchant_id for s in members}),
        )
        for row in rows.iterator(chunk_size=2000):
            candidates = by_key.get((int(row["account__merchant_id"]), start), [])
            owner = next((s for s in candidates if row["transaction__created_at"] <= s.generated_at), None)
            if owner is not None:
                out[owner.pk].append((figure_of_kind[row["account__kind"]], leg_of(row)))
    tx_ids = [t for s in statements for t in (s.commission_transaction_id, s.payout_transaction_id) if t]
    owners = {s.commission_transaction_id: s for s in statements} | {s.payout_transaction_id: s for s in statements}
    accounts: dict[str, str] = {COMMISSION_ACCOUNT: Figure.COMMISSION, PAYOUT_ACCOUNT: Figure.PAYOUT}
    for row in ledger_selectors.transaction_legs(transaction_ids=tx_ids).iterator(chunk_size=2000):
        paid_or_charged = accounts.get(row["account__kind"])
        if paid_or_charged is not None:
            out[owners[row["transaction_id"]].pk].append((paid_or_charged, leg_of(row)))
    for statement in statements:
        for name, leg in out.get(statement.pk, []):
            yield statement, name, leg


def is_frozen(s: Statement) -> bool:
    return s.status in FROZEN_STATUSES


def is_preview(s: Statement, *, now: dt.datetime | None = None) -> bool:
    """A statement of a month that is not over yet in its merchant's mall (`rules.period_has_ended`): shown as a
    preview, neither confirmed, disputed nor approved until the month has ended. Reads `s.merchant.mall` (the
    statement selectors load it)."""
    moment = now if now is not None else timezone.now()
    return not rules.period_has_ended(statement_period(s), s.merchant.mall.timezone, now=moment)
