"""The payments app's SQL: every statement it writes by hand, as typed functions (the rest is the ORM).

Fixed SQL on every gateway notification (docs/performance.md, "Payment notifications"): the credential the URL
names, the notice row written once per event (`ON CONFLICT DO NOTHING`: a redelivery writes nothing and learns it in
the same statement), the attempt locked by our trade number, and the attempt's payment with the notice's outcome.
Only the payments app imports this module (an import-linter contract)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from galleria.core import sql

from .models import PaymentAttempt, PaymentCredential, PaymentNotice


@cache
def _credential_sql() -> str:
    return (
        f"SELECT {sql.select_list(PaymentCredential)} FROM {sql.table(PaymentCredential)}"  # noqa: S608
        " WHERE id = %s AND provider = %s"
    )


def credential_get(credential_id: int, provider: str) -> PaymentCredential | None:
    """The credential a notification names by its URL (id and provider), active or not; None when there is none."""
    rows = sql.instances(PaymentCredential, _credential_sql(), [credential_id, provider])
    return rows[0] if rows else None


@cache
def _notice_insert_sql() -> str:
    return (
        f"INSERT INTO {sql.table(PaymentNotice)}"  # noqa: S608
        " (mall_group_id, provider, event_id, kind, verified, outcome, out_trade_no, detail, received_at)"
        f" VALUES (%s, %s, %s, %s, %s, %s, %s, {sql.json_placeholder()}, %s) ON CONFLICT DO NOTHING RETURNING id"
    )


def notice_insert_verified(
    *,
    mall_group_id: int,
    provider: str,
    event_id: str,
    kind: str,
    outcome: str,
    out_trade_no: str,
    detail: dict[str, Any],
    at: dt.datetime,
) -> int | None:
    """Write a verified notice; its id, or None when this (provider, event) is already recorded — by a committed
    transaction, or by one in flight, which this statement waits for (the unique constraint decides)."""
    row = sql.one(
        _notice_insert_sql(),
        [mall_group_id, provider, event_id, kind, True, outcome, out_trade_no, sql.json_value(detail), sql.when(at)],
    )
    return None if row is None else int(row[0])


@cache
def _notice_outcome_sql() -> str:
    return f"UPDATE {sql.table(PaymentNotice)} SET outcome = %s WHERE id = %s"  # noqa: S608


def notice_outcome_set(notice_id: int, outcome: str) -> None:
    sql.execute(_notice_outcome_sql(), [outcome, notice_id])


@cache
def _attempt_lock_sql() -> str:
    return (
        f"SELECT {sql.select_list(PaymentAttempt)} FROM {sql.table(PaymentAttempt)}"  # noqa: S608
        f" WHERE out_trade_no = %s{sql.for_update()}"
    )


def attempt_lock_by_trade_no(out_trade_no: str) -> PaymentAttempt | None:
    """`lock_one(PaymentAttempt.objects.filter(out_trade_no=…))` in one statement (the number is unique), or None.
    Inside a transaction only."""
    rows = sql.instances(PaymentAttempt, _attempt_lock_sql(), [out_trade_no])
    return rows[0] if rows else None


# what a notification changes on a paid attempt (the rest of the row is as the start wrote it)
PAID_FIELDS = ("state", "paid_at", "paid_fen", "transaction_id", "payer", "fulfilment", "failure", "sale_id",
               "refunded_fen")  # fmt: skip


@cache
def _attempt_paid_sql() -> str:
    sets = ", ".join(f"{name} = %s" for name in PAID_FIELDS)
    return f"UPDATE {sql.table(PaymentAttempt)} SET {sets} WHERE id = %s"  # noqa: S608


@cache
def _attempt_paid_with_notice_sql() -> str:
    """PostgreSQL: the notice's outcome in the same statement."""
    return f"WITH n AS ({_notice_outcome_sql()}) {_attempt_paid_sql()}"


def attempt_paid_save(attempt: PaymentAttempt, *, notice_id: int | None = None, outcome: str = "") -> None:
    """Store the attempt's `PAID_FIELDS` (and, with `notice_id`, the notice's outcome: one statement on
    PostgreSQL, two elsewhere)."""
    values = [
        attempt.state,
        sql.when(attempt.paid_at) if attempt.paid_at is not None else None,
        attempt.paid_fen,
        attempt.transaction_id,
        attempt.payer,
        attempt.fulfilment,
        attempt.failure,
        attempt.sale_id,
        attempt.refunded_fen,
        attempt.pk,
    ]
    if notice_id is None:
        sql.execute(_attempt_paid_sql(), values)
    elif sql.one_statement_writes():
        sql.execute(_attempt_paid_with_notice_sql(), [outcome, notice_id, *values])
    else:
        sql.execute(_attempt_paid_sql(), values)
        notice_outcome_set(notice_id, outcome)
