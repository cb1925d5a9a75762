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
from dataclasses import dataclass
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
    return [_instance(model, row, 0) for row in rows(sql, params)]


def _instance(model: type[M], row: Sequence[Any], offset: int) -> M:
    """The model instance whose columns (`select_list(model)` order) start at `offset` in `row`."""
    names = field_names(model)
    values = list(row[offset : offset + len(names)])
    for i, convert in _converters(model):
        values[i] = convert(values[i])
    return model.from_db(connection.alias, names, values)


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


# Two statements every app may need, built here from the models' metadata (the caller passes models and values,
# never SQL text): a row by key with the rows of its foreign-key chain, as select_related loads them, and an INSERT
# of unsaved instances, as bulk_create writes them. The checkout reads a sale's store with its merchant, mall and
# group on every sale; the ORM spent ~4 ms of CPU building that one query each time.
@cache
def _chain_sql(
    model: type[models.Model], path: tuple[str, ...], keys: tuple[str, ...]
) -> tuple[str, tuple[tuple[type[models.Model], Any], ...]]:
    chain: list[tuple[type[models.Model], Any]] = []
    selected, joins, current = [select_list(model, "t0")], [], model
    for i, name in enumerate(path, 1):
        field: Any = current._meta.get_field(name)
        if not (field.many_to_one or field.one_to_one) or not field.concrete or field.null:
            raise ValueError(f"{current.__name__}.{name} is not a required foreign key")
        target = field.related_model
        assert isinstance(target, type) and issubclass(target, models.Model)
        quote = connection.ops.quote_name
        pk_column = quote(target._meta.pk.column)
        joins.append(f" JOIN {table(target)} t{i} ON t{i}.{pk_column} = t{i - 1}.{quote(field.column)}")
        selected.append(select_list(target, f"t{i}"))
        chain.append((target, field))
        current = target
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    if not keys or any(k not in by_attname for k in keys):
        raise ValueError(f"{model.__name__}: keys must be columns, got {keys}")
    where = " AND ".join(f"t0.{connection.ops.quote_name(by_attname[k].column)} = %s" for k in keys)
    text = f"SELECT {', '.join(selected)} FROM {table(model)} t0{''.join(joins)} WHERE {where}"  # noqa: S608
    return text, tuple(chain)


def row_with_chain(model: type[M], path: Sequence[str], **keys: Any) -> M | None:
    """The row of `model` whose columns equal `keys` (attnames: `id=…, merchant_id=…`; they must pick one row) with
    the rows of its required foreign keys along `path` (`("merchant", "mall", "group")`), each cached on the row
    before it as `select_related("merchant__mall__group")` caches them (no query on access), in one fixed
    statement; None when there is no such row."""
    text, chain = _chain_sql(model, tuple(path), tuple(keys))
    found = rows(text, list(keys.values()))
    if not found:
        return None
    row = found[0]
    root = _instance(model, row, 0)
    current: models.Model = root
    offset = len(field_names(model))
    for target, field in chain:
        related = _instance(target, row, offset)
        field.set_cached_value(current, related)
        offset += len(field_names(target))
        current = related
    return root


def _db_generated(field: Any) -> bool:
    """A column whose value the database makes on insert (an auto-increment primary key)."""
    return bool(getattr(field, "db_returning", False))


@cache
def _insert_sql(model: type[models.Model], n: int) -> tuple[str, tuple[Any, ...]]:
    fields = tuple(f for f in model._meta.concrete_fields if not (f.primary_key and _db_generated(f)))
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = ", ".join([f"({', '.join(['%s'] * len(fields))})"] * n)
    return f"INSERT INTO {table(model)} ({columns}) VALUES {values}", fields  # noqa: S608


def insert_instances(objs: Sequence[models.Model]) -> None:
    """Write unsaved instances of one model in one INSERT, each column as `bulk_create` writes it
    (`field.pre_save(obj, add=True)`, then `get_db_prep_save`). For models whose primary key the caller sets (a
    database-generated id is not read back: use the ORM or a RETURNING statement of the app's sql.py for those)."""
    if not objs:
        return
    model = type(objs[0])
    if _db_generated(model._meta.pk):
        raise ValueError(f"{model.__name__} has a database-generated primary key")
    text, fields = _insert_sql(model, len(objs))
    params: list[Any] = []
    for obj in objs:
        if type(obj) is not model:
            raise ValueError("insert_instances takes instances of one model")
        params += [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    execute(text, params)
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias


@cache
def _insert_one_sql(model: type[models.Model]) -> tuple[str, tuple[Any, ...]]:
    text, fields = _insert_sql(model, 1)
    pk = model._meta.pk
    returning = f" RETURNING {connection.ops.quote_name(pk.column)}" if _db_generated(pk) else ""
    return text + returning, fields


def insert_instance(obj: models.Model) -> None:
    """`obj.save()` of a new row in one fixed statement: every column as the ORM writes it (`pre_save(obj, True)`,
    `get_db_prep_save`), a database-generated primary key read back with `RETURNING` and set on `obj`."""
    text, fields = _insert_one_sql(type(obj))
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    if _db_generated(type(obj)._meta.pk):
        row = one(text, params)
        assert row is not None
        obj.pk = row[0]
    else:
        execute(text, params)
    obj._state.adding, obj._state.db = False, connection.alias


@cache
def _update_sql(model: type[models.Model]) -> tuple[str, tuple[Any, ...]]:
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    return f"UPDATE {table(model)} SET {sets} WHERE {quote(model._meta.pk.column)} = %s", fields  # noqa: S608


def update_instance(obj: models.Model) -> None:
    """`obj.save()` of a row that exists, in one fixed statement: every concrete column written as `save()` writes
    it (`pre_save(obj, False)`: `auto_now` columns move). For a row the caller holds locked (the row must exist)."""
    text, fields = _update_sql(type(obj))
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields]
    if execute(text, [*params, obj.pk]) != 1:
        raise RuntimeError(f"{type(obj).__name__} {obj.pk} is gone")


# Statements that cross an app boundary travel typed, never as SQL text: an app that needs a row written with the
# id another app's statement returns (a points lot with its ledger transaction) hands over a `Linked` — the model,
# the field that takes the id and the other fields' values — and the statement's owner builds the INSERT from the
# model's metadata with `linked_insert`. Each app's own SQL text lives in its `sql.py` module and nowhere else
# (tests/test_codebase_rules.py).
@dataclass(frozen=True)
class Linked:
    model: type[models.Model]
    link_field: str  # attname of the column that takes the id, e.g. "transaction_id"
    values: tuple[tuple[str, Any], ...]  # (attname, value as the backend stores it), in a fixed order


def linked(model: type[models.Model], link_field: str, **values: Any) -> Linked:
    return Linked(model=model, link_field=link_field, values=tuple(values.items()))


@cache
def _linked_columns(model: type[models.Model], link_field: str, names: tuple[str, ...]) -> tuple[str, str]:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    for name in (link_field, *names):
        if name not in by_attname:
            raise ValueError(f"{model.__name__} has no column {name!r}")
    quoted = ", ".join(connection.ops.quote_name(by_attname[n].column) for n in (link_field, *names))
    return table(model), quoted


def linked_insert(row: Linked, id_expression: str = "%s") -> tuple[str, list[Any]]:
    """`INSERT INTO <model's table> (<link column>, …) SELECT <id_expression>, %s, …` and its parameters (the
    values only; `id_expression` is "%s" for a known id — put it first in the parameters — or an SQL expression of
    the calling statement, e.g. "t.id" with "FROM t" appended by the caller)."""
    names = tuple(name for name, _value in row.values)
    target, columns = _linked_columns(row.model, row.link_field, names)
    placeholders = ", ".join(["%s"] * len(names))
    text = f"INSERT INTO {target} ({columns}) SELECT {id_expression}{', ' if names else ''}{placeholders}"
    return text, [value for _name, value in row.values]


@dataclass(frozen=True)
class Claim:
    """A single-use claim another app's statement runs for us (the POS nonce, inside the idempotency record's
    insert, so a sale commits once): WITH-clause parts the claim's owner builds in its own sql.py module, the last
    of which returns a row when the claim is granted, and optionally one value the statement hands back with its
    own result. The statement that runs it places the parts (`with_clause`) and never reads them."""

    parts: tuple[tuple[str, str], ...]  # (name, statement), in order; later parts may read earlier ones
    params: tuple[Any, ...]
    returns: str = ""  # an expression over the parts, e.g. "(SELECT config_token FROM usable_key)"

    @property
    def granted(self) -> str:
        """The name of the part that returns a row when the claim is granted."""
        return self.parts[-1][0]

    def with_clause(self) -> str:
        return ", ".join(f"{name} AS ({statement})" for name, statement in self.parts)


# core's own statements: the idempotency record, written on every POS sale and refund (galleria/core/idempotency.py)
@cache
def _idempotency_insert_sql() -> str:
    from .models import IdempotencyRecord

    return (
        f"INSERT INTO {table(IdempotencyRecord)} (scope, key, request_hash, status_code, response, created_at)"  # noqa: S608
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"
    )


@cache
def _idempotency_claimed_sql(with_clause: str, granted: str, returns: str) -> str:
    from .models import IdempotencyRecord

    columns = "scope, key, request_hash, status_code, response, created_at"
    return (
        f"WITH {with_clause} INSERT INTO {table(IdempotencyRecord)} ({columns})"  # noqa: S608
        f" SELECT %s, %s, %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM {granted})"
        f" RETURNING id{', ' + returns if returns else ''}"
    )


@cache
def _idempotency_answer_sql() -> str:
    from .models import IdempotencyRecord

    return f"UPDATE {table(IdempotencyRecord)} SET status_code = %s, response = %s WHERE id = %s"  # noqa: S608


def idempotency_insert(params: Sequence[Any]) -> int:
    """A new record (scope, key, request hash, status, response, created at); its id."""
    row = one(_idempotency_insert_sql(), params)
    assert row is not None
    return int(row[0])


def idempotency_insert_claimed(claim: Claim, params: Sequence[Any]) -> tuple[int, Any] | None:
    """PostgreSQL: the claim and the record in one statement; (record id, the claim's returned value), or None when
    the claim was not granted (then nothing was written)."""
    statement = _idempotency_claimed_sql(claim.with_clause(), claim.granted, claim.returns)
    row = one(statement, [*claim.params, *params])
    if row is None:
        return None
    return int(row[0]), (row[1] if claim.returns else None)


def idempotency_answer(record_id: int, *, status: int, content: str) -> None:
    """Store the answer a record replays."""
    execute(_idempotency_answer_sql(), [status, content, record_id])


# ---------------------------------------------------------------------------------------- fragments for segments
# A fragment is a piece of one app's SQL (its own tables) that another app's statement embeds as a subquery: the
# segment builder (galleria/audience) composes "members who …" fragments of sales, ledger, tiers, coupons, parking
# and events without knowing their tables. The text selects one column, `member_id`, never NULL (so NOT IN is safe);
# its placeholders are `%s`, its parameters in order.


@dataclass(frozen=True)
class Fragment:
    text: str
    params: tuple[Any, ...] = ()


def placeholders(n: int) -> str:
    """`%s, %s, …` for an IN list of n values (n ≥ 1)."""
    if n < 1:
        raise ValueError("an IN list needs at least one value")
    return ", ".join(["%s"] * n)


def local_time(column: str) -> str:
    """`column` (a UTC timestamp) as local wall time in the zone given by the next parameter (`local_time_param`):
    PostgreSQL `AT TIME ZONE`, SQLite `datetime(…, '+480 minutes')`."""
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE %s)"
    return f"datetime({column}, %s)"


def local_time_param(tz_name: str, at: dt.datetime) -> str:
    """The parameter of `local_time`: the zone's name (PostgreSQL) or its UTC offset at `at` (SQLite, which has no
    zone database: the offset of the day the statement runs, exact for zones without daylight saving)."""
    if connection.vendor == "postgresql":
        return tz_name
    from zoneinfo import ZoneInfo

    offset = at.astimezone(ZoneInfo(tz_name)).utcoffset() or dt.timedelta(0)
    return f"{int(offset.total_seconds() // 60):+d} minutes"


def hour_of(local: str) -> str:
    """The hour (0–23) of a `local_time` expression."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(HOUR FROM {local}) AS INTEGER)"
    return f"CAST(strftime('%%H', {local}) AS INTEGER)"


def weekday_of(local: str) -> str:
    """The weekday (0 = Sunday … 6 = Saturday) of a `local_time` expression."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(DOW FROM {local}) AS INTEGER)"
    return f"CAST(strftime('%%w', {local}) AS INTEGER)"


def date_of(local: str) -> str:
    """The calendar date of a `local_time` expression."""
    if connection.vendor == "postgresql":
        return f"CAST({local} AS DATE)"
    return f"date({local})"


def month_of(column: str) -> str:
    """The month (1–12) of a date column."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(MONTH FROM {column}) AS INTEGER)"
    return f"CAST(strftime('%%m', {column}) AS INTEGER)"


def plain_rows(text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of a statement run as it is, never prepared: reports and segment counts, whose plan depends on their
    parameters (a window of 7 days or of 2 years) and whose text varies with their conditions."""
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        return cursor.fetchall()


def plain_execute(text: str, params: Sequence[Any] = ()) -> int:
    """`plain_rows` for a statement that writes: the number of rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        return cursor.rowcount
