"""Reconciling one day's bill (docs/reconcile.md).

`reconcile_day` downloads the gateway's bill for one mall group, provider and Beijing date through the payments
adapter (outside any transaction), compares it with our attempts and refunds (`rules.match_day`), and stores the
run in one durable transaction: the run row is locked first, so two runs of the same date write one after the
other. Re-running a date replaces its open findings (an open finding's history moves to its successor) and keeps
the fixed and resolved ones; a line a person already resolved with the same facts is not reported again. A bill
that cannot be downloaded or trusted leaves the run `failed` with the reason, and its findings untouched.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.locking import lock_one
from galleria.payments import selectors_reconcile as records
from galleria.payments.gateways.base import BillRow, GatewayError
from galleria.payments.selectors import providers_available

from .. import rules
from ..exceptions import BillDateInvalidError
from ..models import Finding, FindingState, Outcome, ReconcileRun, RunStatus
from ..types import GATEWAY_TZ, DayTotals, LineKind, RunResult
from ._common import group_gateway
from .shares import share_recover_check

log = logging.getLogger("galleria.reconcile")


def gateway_today() -> dt.date:
    return timeutil.local_date(timezone.now(), GATEWAY_TZ)


def reconcile_day(*, mall_group_id: int, provider: str, bill_date: dt.date, actor: Actor) -> RunResult:
    """Reconcile one day; returns the run's outcome counts. ProviderNotConfiguredError without a credential."""
    if bill_date > gateway_today():
        raise BillDateInvalidError(fields={"date": "future"})
    gateway, _mch_id = group_gateway(mall_group_id=mall_group_id, provider=provider)
    since, until = timeutil.local_day_bounds(bill_date, GATEWAY_TZ)
    try:
        rows = gateway.bill_rows(bill_date=bill_date)
    except GatewayError as exc:
        log.warning("reconcile: %s bill of %s for group %s: %s", provider, bill_date, mall_group_id, exc)
        return _store_failure(
            mall_group_id=mall_group_id, provider=provider, bill_date=bill_date, error=exc, actor=actor
        )
    lines, totals = _compare(mall_group_id=mall_group_id, provider=provider, rows=rows, since=since, until=until)
    if rules.near_day_start(lines, day_start=since):
        try:  # our time of a refund trails the gateway's: it may be on the day before's bill
            lines = rules.drop_found_elsewhere(lines, gateway.bill_rows(bill_date=bill_date - dt.timedelta(days=1)))
        except GatewayError as exc:
            log.info("reconcile: the day before %s could not be checked: %s", bill_date, exc)
    result = _store(
        mall_group_id=mall_group_id, provider=provider, bill_date=bill_date, lines=lines, totals=totals, actor=actor
    )
    refunded = {line.attempt_id for line in lines if line.kind == LineKind.REFUND and line.attempt_id}
    if refunded:  # refunds of payments already shared: what the merchant must give back
        share_recover_check(attempt_ids=sorted(a for a in refunded if a is not None))
    return result


def _compare(
    *, mall_group_id: int, provider: str, rows: Sequence[BillRow], since: dt.datetime, until: dt.datetime
) -> tuple[list[rules.Line], DayTotals]:
    scope: dict[str, Any] = {"mall_group_id": mall_group_id, "provider": provider}
    expected_trades = records.trades_paid_between(**scope, since=since, until=until)
    expected_refunds = records.refunds_succeeded_between(**scope, since=since, until=until)
    unaccepted = records.refunds_not_accepted_between(**scope, since=since, until=until)
    known_trades = records.trades_by_number(**scope, numbers=[r.out_trade_no for r in rows if r.kind != "refund"])
    known_refunds = records.refunds_by_number(**scope, numbers=[r.out_refund_no for r in rows if r.kind == "refund"])
    lines = rules.match_day(
        rows=rows,
        known_trades=known_trades,
        known_refunds=known_refunds,
        expected_trades=expected_trades,
        expected_refunds=expected_refunds,
        unaccepted_refunds=unaccepted,
    )
    totals = rules.day_totals(rows=rows, expected_trades=expected_trades, expected_refunds=expected_refunds)
    return lines, totals


def _run_locked(*, mall_group_id: int, provider: str, bill_date: dt.date) -> ReconcileRun:
    """The date's run row, created if needed, locked (call inside the transaction)."""
    keys = {"mall_group_id": mall_group_id, "provider": provider, "bill_date": bill_date}
    if not ReconcileRun.objects.filter(**keys).exists():
        try:
            with transaction.atomic():
                ReconcileRun.objects.create(**keys)
        except IntegrityError:  # a concurrent run created it
            pass
    return lock_one(ReconcileRun.objects.filter(**keys))


def _identity(line: rules.Line | Finding) -> tuple[Any, ...]:
    return (line.kind, line.outcome, line.out_trade_no, line.out_refund_no, line.gateway_fen, line.our_fen)


def _store(
    *,
    mall_group_id: int,
    provider: str,
    bill_date: dt.date,
    lines: list[rules.Line],
    totals: DayTotals,
    actor: Actor,
) -> RunResult:
    counts = rules.outcome_counts(lines)
    now = timezone.now()
    with transaction.atomic(durable=True):
        run = _run_locked(mall_group_id=mall_group_id, provider=provider, bill_date=bill_date)
        existing = list(Finding.objects.filter(run=run))
        carried = {(f.kind, f.out_trade_no, f.out_refund_no): f.history for f in existing if f.state == "open"}
        explained = {_identity(f) for f in existing if f.state == FindingState.RESOLVED}
        Finding.objects.filter(run=run, state=FindingState.OPEN).delete()
        fresh = [
            _finding(run, line, history=carried.get(line.key, []))
            for line in lines
            if line.outcome != Outcome.MATCHED and _identity(line) not in explained
        ]
        Finding.objects.bulk_create(fresh)
        for name, value in vars(totals).items():
            setattr(run, name, value)
        run.status, run.error, run.counts = RunStatus.DONE, "", counts
        run.runs += 1
        run.first_run_at = run.first_run_at or now
        run.last_run_at, run.last_run_by = now, actor.label[:100]
        run.save()
        audit_record(
            actor=actor,
            action="reconcile.run",
            target_type="reconcilerun",
            target_id=run.pk,
            target_label=f"{provider} {bill_date.isoformat()}",
            mall_group_id=mall_group_id,
            changes={"counts": counts, "open": len(fresh), "fee_fen": totals.fee_fen},
        )
    return RunResult(run_id=run.pk, status=run.status, counts=counts, open_findings=len(fresh))


def _finding(run: ReconcileRun, line: rules.Line, *, history: list[Any]) -> Finding:
    return Finding(
        run=run,
        mall_group_id=run.mall_group_id,
        provider=run.provider,
        bill_date=run.bill_date,
        kind=line.kind,
        outcome=line.outcome,
        out_trade_no=line.out_trade_no[:64],
        out_refund_no=line.out_refund_no[:64],
        transaction_id=line.transaction_id[:64],
        gateway_refund_id=line.refund_id[:64],
        attempt_id=line.attempt_id,
        refund_id=line.refund_pk,
        gateway_fen=line.gateway_fen,
        our_fen=line.our_fen,
        fee_fen=line.fee_fen,
        occurred_at=line.occurred_at,
        fix=line.fix,
        detail=dict(line.detail),
        history=list(history),
    )


def _store_failure(
    *, mall_group_id: int, provider: str, bill_date: dt.date, error: GatewayError, actor: Actor
) -> RunResult:
    message = f"{error.code or 'gateway'}: {error}"[:300]
    now = timezone.now()
    with transaction.atomic(durable=True):
        run = _run_locked(mall_group_id=mall_group_id, provider=provider, bill_date=bill_date)
        ReconcileRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            error=message,
            runs=F("runs") + 1,
            first_run_at=run.first_run_at or now,
            last_run_at=now,
            last_run_by=actor.label[:100],
        )
        audit_record(
            actor=actor,
            action="reconcile.run",
            target_type="reconcilerun",
            target_id=run.pk,
            target_label=f"{provider} {bill_date.isoformat()}",
            mall_group_id=mall_group_id,
            changes={"error": message},
        )
    return RunResult(run_id=run.pk, status=RunStatus.FAILED, error=message)


def reconcile_dates(
    *, bill_dates: Sequence[dt.date], mall_group_ids: Sequence[int], providers: Sequence[str], actor: Actor
) -> list[tuple[int, str, dt.date, RunResult | Exception]]:
    """The command's loop: every group × provider × date, each on its own (one failing does not stop the others).
    A provider the group has not configured is skipped."""
    done: list[tuple[int, str, dt.date, RunResult | Exception]] = []
    for group_id in mall_group_ids:
        available = providers_available(mall_group_id=group_id)
        for provider in providers:
            if provider not in available:
                continue
            for day in bill_dates:
                try:
                    outcome: RunResult | Exception = reconcile_day(
                        mall_group_id=group_id, provider=provider, bill_date=day, actor=actor
                    )
                except Exception as exc:  # reported per run by the command; the others still run
                    log.exception("reconcile: group %s %s %s failed", group_id, provider, day)
                    outcome = exc
                done.append((group_id, provider, day, outcome))
    return done
