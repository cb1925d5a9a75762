"""Fixed SQL for the hot paths (POS sale, quote, lookup), where the ORM's per-statement query building costs more
CPU than the database's work (docs/performance.md). The statements are plain strings built once per process from
the models' own table and column names, portable between PostgreSQL and SQLite (`RETURNING` needs SQLite 3.35);
results come back as model instances through `Model.from_db`, as the ORM would build them.

Rules for using this module: only where a benchmark shows the ORM is the cost; parameters always bound (never
formatted into the string); the ORM version of the same read or write stays the reference that tests compare to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils.dateparse import parse_datetime

M = TypeVar("M", bound=models.Model)


@cache
def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@cache
def field_names(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields)


@cache
def select_list(model: type[models.Model], alias: str = "") -> str:
    """Every concrete column of the model, in `from_db` order, optionally qualified by a table alias."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)


def for_update() -> str:
    """Row locks where the database has them (SQLite serialises writers instead)."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


# The checkout's writes have two forms: on PostgreSQL one statement each (data-modifying CTEs: the sale with its lines
# and payments, a ledger posting with its legs, balances and follow-up, the tier spend with its window sum), and
# elsewhere separate portable statements. Both must write exactly the same rows; `portable_writes_for_tests()` runs
# the portable form on PostgreSQL too, so galleria/sales/tests/test_sql_parity.py can compare them.
_force_portable = False


def one_statement_writes() -> bool:
    """Whether the checkout's writes take their one-statement (PostgreSQL) form."""
    return connection.vendor == "postgresql" and not _force_portable


@contextmanager
def portable_writes_for_tests() -> Iterator[None]:
    """Tests only: inside the block the checkout's writes take their portable form on every database."""
    global _force_portable
    previous, _force_portable = _force_portable, True
    try:
        yield
    finally:
        _force_portable = previous


def json_placeholder() -> str:
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def json_value(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


def when(value: Any) -> Any:
    """A datetime as the backend stores it (aware UTC on PostgreSQL; text on SQLite)."""
    return connection.ops.adapt_datetimefield_value(value)


def day(value: Any) -> Any:
    """A date as the backend stores it."""
    return connection.ops.adapt_datefield_value(value)


def read_when(value: Any) -> Any:
    """A datetime column's value as an aware datetime (SQLite hands back text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


# PostgreSQL: each fixed statement is PREPAREd once per database connection and run with EXECUTE, so the server
# stops parsing and planning it on every request (planning the POS key's six-table join alone cost ~0.8 ms).
# Parameters stay client-side literals (Django's default binding); the set of statements is bounded (the strings
# are built once per process). Connections are told apart by object: a reconnect starts with an empty set.
_prepared: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


def _statement(sql: str, params: Sequence[Any]) -> tuple[str, Sequence[Any]]:
    if connection.vendor != "postgresql" or not PREPARE:
        return sql, params
    connection.ensure_connection()
    raw = connection.connection
    names = _prepared.get(raw)
    if names is None:
        names = _prepared[raw] = {}
        # every statement here is a key lookup or an insert: one generic plan serves all parameters, and PostgreSQL's
        # default (re-plan with the parameters until the generic plan looks no dearer) kept re-planning the joins
        with connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
    name = names.get(sql)
    if name is None:
        name = f"galleria_{hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:16]}"
        numbered = sql
        for i in range(1, sql.count("%s") + 1):
            numbered = numbered.replace("%s", f"${i}", 1)
        with connection.cursor() as cursor:
            cursor.execute(f"PREPARE {name} AS {numbered}")
        names[sql] = name
    if not params:
        return f"EXECUTE {name}", params
    return f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params


PREPARE = True  # tests that compare with the plain statements may switch it off


def rows(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    statement, args = _statement(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(statement, args)
        return cursor.fetchall()


def one(sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    statement, args = _statement(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(statement, args)
        return cursor.fetchone()


def execute(sql: str, params: Sequence[Any] = ()) -> int:
    statement, args = _statement(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(statement, args)
        return cursor.rowcount


def instances(model: type[M], sql: str, params: Sequence[Any] = ()) -> list[M]:
    """Rows of `sql` (which must select `select_list(model)` first) as model instances."""
    names = field_names(model)
    width = len(names)
    converters = _converters(model)
    out = []
    for row in rows(sql, params):
        values = list(row[:width])
        for i, convert in converters:
            values[i] = convert(values[i])
        out.append(model.from_db(connection.alias, names, values))
    return out


@cache
def _converters(model: type[models.Model]) -> list[tuple[int, Any]]:
    """The per-column conversions the ORM would apply (JSON text, SQLite datetimes and booleans)."""
    out = []
    expressions = [f.get_col(model._meta.db_table) for f in model._meta.concrete_fields]
    for i, (field, expression) in enumerate(zip(model._meta.concrete_fields, expressions, strict=True)):
        fns = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)  # type: ignore[attr-defined]
        if fns:

            def convert(value: Any, fns: list[Any] = fns, expression: Any = expression) -> Any:
                for fn in fns:
                    value = fn(value, expression, connection)
                return value

            out.append((i, convert))
    return out
