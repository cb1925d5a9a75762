"""Reconciliation and 分账 arithmetic (docs/reconcile.md): pure functions, no database, no clock.

Matching one day's bill: every bill row is looked up among our records by our numbers (payments by
out_trade_no, refunds by out_refund_no) whatever day we hold them on, so a row is never "extra" just because our
clock put it on the neighbouring day; our records *expected* on the bill (paid on the day, refunds done on the day,
refunds booked on the day that the gateway never accepted) that no row names are "missing at the gateway".

分账 of a pay-at-store payment: base = paid − refunded; the mall's commission = base × commission_bp / 10000
rounded half up (settlement.rules.commission_fen: the statement's own rounding, so the two never differ by a fen);
the merchant's part = base − commission. The gateway allows at most `limit_bp` of the *paid* amount to be shared
(floor, as the gateway computes it); the share is min(part, limit, what the gateway says is still unsplit), and the
rest of the part is left for the monthly statement (bank transfer), with the reason recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from galleria.settlement.rules import commission_fen

from .types import CapReason, DayTotals, FixAction, LineKind, Outcome, SharePlan, SkipReason

if TYPE_CHECKING:
    from galleria.payments.gateways.base import BillRow
    from galleria.payments.selectors_reconcile import RefundRecord, TradeRecord

BP = 10000
PLAN_FIELDS = (
    "base_fen",
    "commission_bp",
    "commission_fen",
    "part_fen",
    "limit_bp",
    "limit_fen",
    "amount_fen",
    "capped_fen",
    "cap_reason",
)
PAID = "paid"
REFUND_DONE = "succeeded"
REFUND_REQUESTED = "requested"
REFUND_FAILED = "failed"
WAITING_STATES = ("created", "paying")  # attempt states a query-and-apply can still move to paid
BOUNDARY_GRACE = dt.timedelta(minutes=30)  # our time of a refund may trail the gateway's: look at the day before


@dataclass(frozen=True)
class Line:
    """One transaction compared: the bill's side, ours, the outcome and the automatic fix-up it offers."""

    kind: str
    outcome: str
    out_trade_no: str
    out_refund_no: str = ""
    transaction_id: str = ""
    refund_id: str = ""
    gateway_fen: int | None = None
    our_fen: int | None = None
    fee_fen: int = 0
    occurred_at: dt.datetime | None = None  # the bill's time, else ours
    our_at: dt.datetime | None = None
    attempt_id: int | None = None
    refund_pk: int | None = None
    fix: str = FixAction.NONE
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.out_trade_no, self.out_refund_no)


def _payment_line(row: BillRow, trade: TradeRecord | None, *, duplicate: bool) -> Line:
    common: dict[str, Any] = {
        "kind": LineKind.PAYMENT,
        "out_trade_no": row.out_trade_no,
        "transaction_id": row.transaction_id,
        "gateway_fen": row.amount_fen,
        "fee_fen": row.fee_fen,
        "occurred_at": row.occurred_at,
    }
    if trade is None or duplicate:
        return Line(outcome=Outcome.EXTRA, detail={"duplicate_row": True} if duplicate else {}, **common)
    ours: dict[str, Any] = {"our_fen": trade.amount_fen, "our_at": trade.paid_at, "attempt_id": trade.attempt_id}
    detail: dict[str, Any] = {"state": trade.state, "fulfilment": trade.fulfilment, "paid_fen": trade.paid_fen}
    if trade.state != PAID:
        fix = FixAction.SYNC if trade.state in WAITING_STATES else FixAction.NONE
        return Line(outcome=Outcome.STATE_MISMATCH, fix=fix, detail=detail, **common, **ours)
    if row.amount_fen != trade.amount_fen or (trade.paid_fen is not None and row.amount_fen != trade.paid_fen):
        return Line(outcome=Outcome.AMOUNT_MISMATCH, detail=detail, **common, **ours)
    return Line(outcome=Outcome.MATCHED, **common, **ours)


def _refund_line(row: BillRow, refund: RefundRecord | None, *, duplicate: bool) -> Line:
    common: dict[str, Any] = {
        "kind": LineKind.REFUND,
        "out_trade_no": row.out_trade_no,
        "out_refund_no": row.out_refund_no,
        "transaction_id": row.transaction_id,
        "refund_id": row.refund_id,
        "gateway_fen": row.amount_fen,
        "fee_fen": row.fee_fen,
        "occurred_at": row.occurred_at,
    }
    if refund is None or duplicate or not row.out_refund_no:
        return Line(outcome=Outcome.EXTRA, detail={"duplicate_row": True} if duplicate else {}, **common)
    ours: dict[str, Any] = {
        "our_fen": refund.amount_fen,
        "our_at": refund.succeeded_at or refund.created_at,
        "attempt_id": refund.attempt_id,
        "refund_pk": refund.refund_pk,
    }
    detail: dict[str, Any] = {"state": refund.state}
    if refund.state != REFUND_DONE:
        fix = FixAction.REFUND_SYNC if refund.state != REFUND_FAILED else FixAction.NONE
        return Line(outcome=Outcome.STATE_MISMATCH, fix=fix, detail=detail, **common, **ours)
    if row.amount_fen != refund.amount_fen:
        return Line(outcome=Outcome.AMOUNT_MISMATCH, detail=detail, **common, **ours)
    return Line(outcome=Outcome.MATCHED, **common, **ours)


def match_day(
    *,
    rows: Sequence[BillRow],
    known_trades: Mapping[str, TradeRecord],
    known_refunds: Mapping[str, RefundRecord],
    expected_trades: Iterable[TradeRecord],
    expected_refunds: Iterable[RefundRecord],
    unaccepted_refunds: Iterable[RefundRecord] = (),
) -> list[Line]:
    """Every bill row with its outcome, then our expected records that no row named (missing at the gateway)."""
    lines: list[Line] = []
    seen_trades: set[str] = set()
    seen_refunds: set[str] = set()
    for row in rows:
        if row.kind == LineKind.REFUND:
            duplicate = bool(row.out_refund_no) and row.out_refund_no in seen_refunds
            seen_refunds.add(row.out_refund_no)
            lines.append(_refund_line(row, known_refunds.get(row.out_refund_no), duplicate=duplicate))
        else:
            duplicate = row.out_trade_no in seen_trades
            seen_trades.add(row.out_trade_no)
            lines.append(_payment_line(row, known_trades.get(row.out_trade_no), duplicate=duplicate))
    for trade in expected_trades:
        if trade.out_trade_no not in seen_trades:
            lines.append(
                Line(
                    kind=LineKind.PAYMENT,
                    outcome=Outcome.MISSING,
                    out_trade_no=trade.out_trade_no,
                    transaction_id=trade.transaction_id,
                    our_fen=trade.amount_fen,
                    occurred_at=trade.paid_at,
                    our_at=trade.paid_at,
                    attempt_id=trade.attempt_id,
                    fix=FixAction.QUERY,
                    detail={"state": trade.state, "fulfilment": trade.fulfilment, "paid_fen": trade.paid_fen},
                )
            )
    for refund in [*expected_refunds, *unaccepted_refunds]:
        if refund.out_refund_no in seen_refunds:
            continue
        seen_refunds.add(refund.out_refund_no)
        if refund.state == REFUND_REQUESTED:
            fix = FixAction.REFUND_SEND
        elif refund.state == REFUND_DONE:
            fix = FixAction.QUERY
        else:
            fix = FixAction.NONE
        at = refund.succeeded_at or refund.created_at
        lines.append(
            Line(
                kind=LineKind.REFUND,
                outcome=Outcome.MISSING,
                out_trade_no=refund.out_trade_no,
                out_refund_no=refund.out_refund_no,
                refund_id=refund.gateway_refund_id,
                our_fen=refund.amount_fen,
                occurred_at=at,
                our_at=at,
                attempt_id=refund.attempt_id,
                refund_pk=refund.refund_pk,
                fix=fix,
                detail={"state": refund.state, "error": refund.last_error[:120]},
            )
        )
    return lines


def near_day_start(lines: Iterable[Line], *, day_start: dt.datetime) -> list[Line]:
    """Missing lines whose time (ours) is within the grace after the day began: the gateway may have put them on
    the day before (our records learn of a refund after it happened)."""
    return [
        line
        for line in lines
        if line.outcome == Outcome.MISSING
        and line.our_at is not None
        and day_start <= line.our_at < day_start + BOUNDARY_GRACE
    ]


def drop_found_elsewhere(lines: Sequence[Line], other_rows: Iterable[BillRow]) -> list[Line]:
    """Missing lines that another day's bill lists (same number and amount) are not missing: drop them."""
    payments: dict[str, int] = {}
    refunds: dict[str, int] = {}
    for row in other_rows:
        if row.kind == LineKind.REFUND:
            refunds[row.out_refund_no] = row.amount_fen
        else:
            payments[row.out_trade_no] = row.amount_fen
    kept: list[Line] = []
    for line in lines:
        if line.outcome == Outcome.MISSING:
            found = refunds.get(line.out_refund_no) if line.kind == LineKind.REFUND else payments.get(line.out_trade_no)
            if found is not None and found == line.our_fen:
                continue
        kept.append(line)
    return kept


def day_totals(
    *, rows: Sequence[BillRow], expected_trades: Sequence[TradeRecord], expected_refunds: Sequence[RefundRecord]
) -> DayTotals:
    payments = [r for r in rows if r.kind != LineKind.REFUND]
    refunds = [r for r in rows if r.kind == LineKind.REFUND]
    return DayTotals(
        bill_payment_count=len(payments),
        bill_payment_fen=sum(r.amount_fen for r in payments),
        bill_refund_count=len(refunds),
        bill_refund_fen=sum(r.amount_fen for r in refunds),
        fee_fen=sum(r.fee_fen for r in rows),
        our_payment_count=len(expected_trades),
        our_payment_fen=sum(t.paid_fen if t.paid_fen is not None else t.amount_fen for t in expected_trades),
        our_refund_count=len(expected_refunds),
        our_refund_fen=sum(r.amount_fen for r in expected_refunds),
    )


def outcome_counts(lines: Iterable[Line]) -> dict[str, int]:
    counts = dict.fromkeys(Outcome.values, 0)
    for line in lines:
        counts[line.outcome] += 1
    return counts


# ---------------------------------------------------------------------------------------------------- 分账


def merchant_part(base_fen: int, commission_bp: int) -> tuple[int, int]:
    """(commission, the merchant's part) of `base_fen`: commission rounded half up, the part is the rest."""
    commission = commission_fen(base_fen, commission_bp) if base_fen > 0 else 0
    return commission, base_fen - commission


def share_limit(paid_fen: int, limit_bp: int) -> int:
    """What the gateway lets a payment share in all: floor(paid × limit / 10000)."""
    return max(0, paid_fen) * max(0, limit_bp) // BP


def share_plan(
    *, paid_fen: int, refunded_fen: int, commission_bp: int, limit_bp: int, unsplit_fen: int | None = None
) -> SharePlan:
    """What to share of one payment now. `unsplit_fen`, when known, is the gateway's own count of what is still
    frozen for sharing (it falls with refunds and earlier shares)."""
    base = max(0, paid_fen - refunded_fen)
    commission, part = merchant_part(base, commission_bp)
    limit = share_limit(paid_fen, limit_bp)
    plan = {
        "base_fen": base,
        "commission_bp": commission_bp,
        "commission_fen": commission,
        "part_fen": part,
        "limit_bp": limit_bp,
        "limit_fen": limit,
    }
    if base <= 0:
        return SharePlan(amount_fen=0, capped_fen=0, cap_reason="", skip_reason=SkipReason.REFUNDED, **plan)
    if part <= 0:
        return SharePlan(amount_fen=0, capped_fen=0, cap_reason="", skip_reason=SkipReason.NOTHING, **plan)
    amount, reason = part, CapReason.NONE
    if limit < amount:
        amount, reason = limit, CapReason.LIMIT
    if unsplit_fen is not None and unsplit_fen < amount:
        amount, reason = max(0, unsplit_fen), CapReason.UNSPLIT
    skip = ""
    if amount <= 0:
        skip = SkipReason.LIMIT_ZERO if reason == CapReason.LIMIT else SkipReason.UNSPLIT
    return SharePlan(amount_fen=amount, capped_fen=part - amount, cap_reason=reason, skip_reason=skip, **plan)


def recover_fen(*, shared_fen: int, paid_fen: int, refunded_fen: int, commission_bp: int) -> int:
    """After a refund of a shared payment: what the merchant received through 分账 beyond its part of what is
    left (paid − refunded). The mall recovers it from the merchant (profit-sharing return, or the statement)."""
    _commission, part = merchant_part(max(0, paid_fen - refunded_fen), commission_bp)
    return max(0, shared_fen - part)


def out_order_no(out_trade_no: str, round_no: int = 1) -> str:
    """Our 分账 order number for a payment: deterministic (a lost answer is found again by query), a new one only
    when an order the gateway refused is planned again. [0-9A-Za-z_-|*@], at most 64 characters."""
    base = f"PS{out_trade_no}"
    return base if round_no <= 1 else f"{base}-{round_no}"


def unfreeze_no(out_trade_no: str) -> str:
    return f"UF{out_trade_no}"
