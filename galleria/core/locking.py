"""Row locks. One helper, ordered by primary key, refusing to run outside a transaction.

Every ORM row lock in the code base goes through `lock_rows` / `lock_one` (a codebase rule in
tests/test_boundaries.py: no `select_for_update(` outside this module and the apps' `sql.py` modules).

Locking rows in a consistent order (by primary key) is what keeps two transactions that lock the same set of rows
from deadlocking each other (see saleor's giftcard/lock_objects.py). `select_for_update` outside a transaction would
lock nothing and silently lose updates; we refuse instead.

The options, both PostgreSQL semantics (SQLite has no row locks: its writer lock serialises everything anyway):

- `no_key=True` takes `FOR NO KEY UPDATE`: it serialises writers of the row exactly like `FOR UPDATE`, but does not
  block the `FOR KEY SHARE` lock that a foreign-key check takes when another transaction inserts a row referencing
  this one. Use it for a parent row (a member) whose children (ledger legs, coupons) a concurrent sale may be
  inserting while it holds other locks this transaction will wait for — with plain `FOR UPDATE` the two deadlock.
  Not for a row whose primary key or a unique key the caller is about to change.
- `skip_locked=True` takes `FOR UPDATE SKIP LOCKED`: rows another transaction holds are left out of the result
  instead of waited for (work queues, spreading a hot counter over shards). `lock_one` then raises DoesNotExist
  when its row is held elsewhere, exactly as when it is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import models, transaction

M = TypeVar("M", bound=models.Model)


def lock_rows(
    queryset: models.QuerySet[M], *, no_key: bool = False, skip_locked: bool = False, of: Sequence[str] = ()
) -> list[M]:
    """Lock and return the rows of `queryset`, in primary-key order (any ordering on the queryset is replaced).

    With `select_related`, PostgreSQL locks the joined rows too; `of=("self",)` locks only this model's rows."""
    if not transaction.get_connection(queryset.db).in_atomic_block:
        raise RuntimeError("lock_rows() must run inside transaction.atomic()")
    return list(queryset.select_for_update(no_key=no_key, skip_locked=skip_locked, of=tuple(of)).order_by("pk"))


def lock_one(
    queryset: models.QuerySet[M], *, no_key: bool = False, skip_locked: bool = False, of: Sequence[str] = ()
) -> M:
    """Lock the one row of `queryset`; the model's DoesNotExist unless exactly one row was locked (with
    `skip_locked`, a row another transaction holds counts as missing)."""
    rows = lock_rows(queryset, no_key=no_key, skip_locked=skip_locked, of=of)
    if len(rows) != 1:
        missing: type[Exception] = queryset.model.DoesNotExist  # type: ignore[attr-defined]
        raise missing(f"expected one {queryset.model.__name__} row to lock, found {len(rows)}")
    return rows[0]
