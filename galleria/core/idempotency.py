"""Idempotent execution of a mutating call: same key + same request → the first answer, even under concurrent
retries; same key + a different request → an error.

The record is inserted first, inside the use case's durable transaction. A concurrent retry with the same key
blocks on the unique index until the first commits, then fails the insert and replays the stored answer; if the
first rolls back (an error), the retry runs for real. Failed calls are not stored: nothing was written for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import sql
from .errors import ConflictError, ValidationError
from .models import IdempotencyRecord

MAX_KEY_LENGTH = 100


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


# Fixed SQL: this runs on every POS sale and refund (see galleria/core/sql.py).
@cache
def _insert_sql() -> str:
    return (
        f"INSERT INTO {sql.table(IdempotencyRecord)} (scope, key, request_hash, status_code, response, created_at)"  # noqa: S608
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"
    )


@cache
def _update_sql() -> str:
    return f"UPDATE {sql.table(IdempotencyRecord)} SET status_code = %s, response = %s WHERE id = %s"  # noqa: S608


def run_idempotent(
    *, scope: str, key: str, request_hash: str, operation: Callable[[], tuple[int, dict[str, Any]]]
) -> Outcome:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            _("An Idempotency-Key header (1–100 printable characters) is required."), code="idempotency.key_required"
        )
    # No read first: the insert is the check. A committed record makes it fail at once; an in-flight one makes
    # it wait for that transaction, then fail; either way the stored answer is replayed.
    try:
        with transaction.atomic(durable=True):
            inserted = sql.one(_insert_sql(), [scope, key, request_hash, 0, "", sql.when(timezone.now())])
            assert inserted is not None
            status, body = operation()
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
            sql.execute(_update_sql(), [status, content, inserted[0]])
            return Outcome(status=status, content=content, replayed=False)
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None:
            raise
        return _replay(existing, request_hash)
