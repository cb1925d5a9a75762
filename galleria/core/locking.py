"""Row locks. One helper, ordered by primary key, refusing to run outside a transaction.

Locking rows in a consistent order (by primary key) is what keeps two transactions that lock the same set of rows
from deadlocking each other (see saleor's giftcard/lock_objects.py). `select_for_update` outside a transaction would
lock nothing and silently lose updates; we refuse instead.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)


def lock_rows(queryset: models.QuerySet[M]) -> list[M]:
    if not connection.in_atomic_block:
        raise RuntimeError("lock_rows() must run inside transaction.atomic()")
    return list(queryset.select_for_update().order_by("pk"))


def lock_one(queryset: models.QuerySet[M]) -> M:
    rows = lock_rows(queryset)
    if len(rows) != 1:
        missing: type[Exception] = queryset.model.DoesNotExist  # type: ignore[attr-defined]
        raise missing(f"expected one row to lock, found {len(rows)}")
    return rows[0]
