"""Idempotent execution of a mutating call: same key + same request → the first answer, even under concurrent
retries; same key + a different request → an error.

The record is inserted first, inside the use case's durable transaction. A concurrent retry with the same key
blocks on the unique index until the first commits, then fails the insert and replays the stored answer; if the
first rolls back (an error), the retry runs for real. Failed calls are not stored: nothing was written for them.

A `Gate` (the POS request's nonce) is claimed in the same transaction as the record — on PostgreSQL in the same
statement — so a signed POS sale commits once, not twice (the nonce's own commit was a second WAL flush per sale).
The gate is claimed on every path: with the record, or on its own after a failed call or before a replay, and a
gate already claimed by another request (a replayed signature) fails the call before anything runs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import sql
from .errors import ConflictError, ValidationError
from .models import IdempotencyRecord

MAX_KEY_LENGTH = 100


@dataclass
class Gate:
    """A single-use claim checked with the idempotency record (the POS request's nonce). On PostgreSQL `claim` runs
    inside the record's insert (one statement: no record when it was already claimed); elsewhere, and on every other
    path, `claim_alone` runs it on its own. Both are built by the claim's owner; this module never reads its SQL."""

    claim: sql.Claim
    claim_alone: Callable[[], bool]  # claim it outside the record's statement; False if it was already claimed
    refused: Callable[[], Exception]  # the error when the claim was already taken
    claimed: Callable[[Any], None] | None = None  # handed the claim's `returns` value when the record was written
    done: bool = False

    def take(self) -> bool:
        """Claim it on its own (autocommit or the caller's transaction); False if it was already claimed."""
        self.done = True
        return self.claim_alone()


@dataclass(frozen=True)
class Outcome:
    status: int
    content: str  # serialized JSON, identical for the first answer and every replay
    replayed: bool


def _replay(record: IdempotencyRecord, request_hash: str) -> Outcome:
    if record.request_hash != request_hash:
        raise ConflictError(
            _("This Idempotency-Key was already used for a different request."), code="idempotency.key_reused"
        )
    return Outcome(status=record.status_code, content=record.response, replayed=True)


def _insert(gate: Gate | None, params: list[Any]) -> int | None:
    """The record's id, or None when the gate was already claimed (then nothing was written)."""
    # fixed SQL on every POS sale and refund (galleria/core/sql.py)
    if gate is None:
        return sql.idempotency_insert(params)
    if connection.vendor == "postgresql":
        gate.done = True
        granted = sql.idempotency_insert_claimed(gate.claim, params)
        if granted is None:
            return None
        record_id, returned = granted
        if gate.claimed is not None:
            gate.claimed(returned)
        return record_id
    if not gate.take():
        return None
    return sql.idempotency_insert(params)


def run_idempotent(
    *,
    scope: str,
    key: str,
    request_hash: str,
    operation: Callable[[], tuple[int, dict[str, Any]]],
    gate: Gate | None = None,
) -> Outcome:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        if gate is not None:
            _claim_quietly(gate)
        raise ValidationError(
            _("An Idempotency-Key header (1–100 printable characters) is required."), code="idempotency.key_required"
        )
    # No read first: the insert is the check. A committed record makes it fail at once; an in-flight one makes
    # it wait for that transaction, then fail; either way the stored answer is replayed.
    outcome: Outcome | None = None
    try:
        with transaction.atomic(durable=True):
            inserted = _insert(gate, [scope, key, request_hash, 0, "", sql.when(timezone.now())])
            if inserted is not None:
                status, body = operation()
                content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
                sql.idempotency_answer(inserted, status=status, content=content)
                outcome = Outcome(status=status, content=content, replayed=False)
    except IntegrityError:
        # The transaction rolled back, taking the gate's claim with it: claim it on its own. A replay (the stored
        # answer) is refused when the gate was already claimed, exactly as a fresh call would be.
        if gate is not None and not gate.take():
            raise gate.refused() from None
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None:
            raise
        return _replay(existing, request_hash)
    except BaseException:
        if gate is not None:
            _claim_quietly(gate)  # a failed call still spends its gate: replaying it must not run it again
        raise
    if outcome is None:
        assert gate is not None
        raise gate.refused()
    return outcome


def _claim_quietly(gate: Gate) -> None:
    with contextlib.suppress(DatabaseError):  # the call's own error (e.g. a lost connection) is the one to report
        gate.take()
