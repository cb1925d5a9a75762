"""The parking app's SQL: the one report the ORM cannot say (the rest of the console's reads are ORM aggregates), and
the two statements every signed car-park request runs (a key's usability, its nonce).

`benefit_lines`: the benefit lines of the stays that left in a range, unnested from the JSON they are stored in and
summed by kind and funder in the database. A stay's explanation (`ParkingSession.explanation`, written by its first
payment or at its exit) holds every benefit line that priced it, with its funder — the mall, or the merchant
(`funder_id`) for merchant grants and merchant-funded coupons; a later payment for extra time has no benefits, so the
payments' own copies of the lines are not read again (they would count a benefit twice).

Written for PostgreSQL (jsonb_array_elements) and SQLite (json_each); only the parking app imports this module.
The statements are run as plain statements (not prepared): a report's range decides its plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection

from galleria.core import sql

from .models import CarPark, CarParkKey, CarParkNonce, ParkingPayment, ParkingSession

_PG = """
SELECT b->>'kind', COALESCE(b->>'funder', 'mall'),
       CASE WHEN b->>'funder' = 'merchant' THEN b->>'funder_id' END,
       COUNT(*), SUM(COALESCE((b->>'minutes_used')::bigint, 0)), SUM(COALESCE((b->>'fen')::bigint, 0))
FROM {sessions} s
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(s.explanation->'benefits') = 'array' THEN s.explanation->'benefits' ELSE '[]'::jsonb END
) b
WHERE s.car_park_id = ANY(%s) AND s.exit_at >= %s AND s.exit_at < %s AND s.gross_fen IS NOT NULL
  AND COALESCE((b->>'fen')::bigint, 0) > 0
GROUP BY 1, 2, 3
"""

_SQLITE = """
SELECT json_extract(b.value, '$.kind'), COALESCE(json_extract(b.value, '$.funder'), 'mall'),
       CASE WHEN json_extract(b.value, '$.funder') = 'merchant'
            THEN CAST(json_extract(b.value, '$.funder_id') AS TEXT) END,
       COUNT(*), SUM(COALESCE(json_extract(b.value, '$.minutes_used'), 0)),
       SUM(COALESCE(json_extract(b.value, '$.fen'), 0))
FROM {sessions} s, json_each(s.explanation, '$.benefits') b
WHERE s.car_park_id IN ({ids}) AND s.exit_at >= %s AND s.exit_at < %s AND s.gross_fen IS NOT NULL
  AND COALESCE(json_extract(b.value, '$.fen'), 0) > 0
GROUP BY 1, 2, 3
"""


def benefit_lines(
    *, car_park_ids: Sequence[int], since: dt.datetime, until: dt.datetime
) -> list[tuple[str, str, str | None, int, int, int]]:
    """(kind, funder, merchant id or None, lines, minutes, fen) of the benefit lines that took something off the
    fees of the stays that left in [since, until) at these car parks (lines with fen 0 were not needed)."""
    if not car_park_ids:
        return []
    tables = {"sessions": sql.table(ParkingSession)}
    params: list[Any]
    if connection.vendor == "postgresql":
        statement = _PG.format(**tables)
        params = [list(car_park_ids), sql.when(since), sql.when(until)]
    else:
        statement = _SQLITE.format(ids=", ".join(["%s"] * len(car_park_ids)), **tables)
        params = [*car_park_ids, sql.when(since), sql.when(until)]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        found = cursor.fetchall()
    return [
        (str(kind), str(funder), None if merchant is None else str(merchant), int(n), int(minutes or 0), int(fen or 0))
        for kind, funder, merchant, n, minutes, fen in found
    ]


@cache
def _usable_sql() -> str:
    mall = CarPark._meta.get_field("mall").related_model
    return (
        "SELECT k.id, k.last_used_at, c.updated_at, m.updated_at"  # noqa: S608 - table names are ours
        f" FROM {sql.table(CarParkKey)} k"
        f" JOIN {sql.table(CarPark)} c ON c.id = k.car_park_id"
        f" JOIN {sql.table(mall)} m ON m.id = c.mall_id"
        " WHERE k.key_id = %s AND k.revoked_at IS NULL AND c.is_active"
    )


def key_usable(key_id: str) -> tuple[Any, ...] | None:
    """(key pk, last used, car park updated_at, mall updated_at) of a usable key (not revoked, its car park active),
    or None. One fixed statement, run on every signed request."""
    return sql.one(_usable_sql(), [key_id])


@cache
def _nonce_sql(relaxed: bool) -> str:
    table = sql.table(CarParkNonce)
    if relaxed:  # PostgreSQL, on its own: the insert commits without waiting for the WAL flush (services_keys)
        return (
            f"INSERT INTO {table} (key_id, nonce, seen_at)"  # noqa: S608 - table names are ours
            " SELECT %s, %s, %s FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
            " ON CONFLICT (key_id, nonce) DO NOTHING RETURNING id"
        )
    return (
        f"INSERT INTO {table} (key_id, nonce, seen_at) VALUES (%s, %s, %s)"  # noqa: S608
        " ON CONFLICT (key_id, nonce) DO NOTHING RETURNING id"
    )


def nonce_insert(*, key_pk: int, nonce: str, at: dt.datetime) -> bool:
    """Record a key's nonce in one statement; False if the key already used it (the unique index decides)."""
    relaxed = connection.vendor == "postgresql" and not connection.in_atomic_block
    return sql.one(_nonce_sql(relaxed), [key_pk, nonce, sql.when(at)]) is not None


# Paying a stay (services._pay_locked / _paid; the frictionless exit runs them on every charged exit): the car
# park's store as the checkout takes it, the payment row and the stay's new state, each one fixed statement built by
# core.sql from the models (no SQL text here), instead of two ORM reads of the store, an ORM insert and a save().
def car_park_store(car_park: CarPark) -> Any:
    """The car park's store with its merchant, mall and group loaded (what `sale_commit_in_tx` takes as already
    read, with a current config token), cached on `car_park` as its `store`; None when it has none."""
    if car_park.store_id is None:
        return None
    field: Any = CarPark._meta.get_field("store")
    store = sql.row_with_chain(field.related_model, ("merchant", "mall", "group"), id=car_park.store_id)
    if store is not None:
        field.set_cached_value(car_park, store)
    return store


def payment_insert(payment: ParkingPayment) -> None:
    """`payment.save()` of a new payment (its id set on it)."""
    sql.insert_instance(payment)


def session_save(session: ParkingSession) -> None:
    """`session.save()` of the locked stay, every column as save() writes it."""
    sql.update_instance(session)


def members_with_stays(*, since: dt.datetime, at_least: int) -> sql.Fragment:
    """Members with at least `at_least` parking stays that entered since `since` (a segment condition; the
    caller's member set scopes it to a group)."""
    text = (
        f"SELECT member_id FROM {sql.table(ParkingSession)} WHERE member_id IS NOT NULL AND entry_at >= %s"  # noqa: S608
        " GROUP BY member_id HAVING COUNT(*) >= %s"
    )
    return sql.Fragment(text, (sql.when(since), at_least))
