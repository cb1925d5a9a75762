"""The merchants app's SQL: every statement it writes by hand, as typed functions (the rest is the ORM).

Fixed SQL on every POS request (the ORM would rebuild the key's five-table join each time): whether a key is still
usable, the nonce of a signed request, and the claim a signed write runs inside the idempotency record's statement
(`core.sql.Claim`). Only the merchants app imports this module (an import-linter contract)."""

from __future__ import annotations

import datetime as dt
from functools import cache

from galleria.core import sql
from galleria.malls.models import Mall, MallGroup

from .models import Merchant, PosKey, PosNonce, PosTerminal, Store


@cache
def _usable_key_sql() -> str:
    """The key's id, last use and its group's config token, if the key, terminal, store and merchant are usable
    (params: key id, the terminated merchant status)."""
    return (
        "SELECT k.id, k.last_used_at, g.config_token"  # noqa: S608 - table names are ours
        f" FROM {sql.table(PosKey)} k"
        f" JOIN {sql.table(PosTerminal)} t ON t.id = k.terminal_id"
        f" JOIN {sql.table(Store)} s ON s.id = t.store_id"
        f" JOIN {sql.table(Merchant)} m ON m.id = s.merchant_id"
        f" JOIN {sql.table(Mall)} ml ON ml.id = m.mall_id"
        f" JOIN {sql.table(MallGroup)} g ON g.id = ml.group_id"
        " WHERE k.key_id = %s AND k.revoked_at IS NULL AND t.is_active AND s.is_active AND m.status <> %s"
    )


def usable_key(key_id: str, *, terminated: str) -> tuple[int, dt.datetime | None, str] | None:
    """(key pk, last used at, the group's config token) of a usable key; None when it is not usable."""
    row = sql.one(_usable_key_sql(), [key_id, terminated])
    if row is None:
        return None
    return int(row[0]), sql.read_when(row[1]), str(row[2])


@cache
def _nonce_sql() -> str:
    return (
        f"INSERT INTO {sql.table(PosNonce)} (key_id, nonce, seen_at) VALUES (%s, %s, %s)"  # noqa: S608
        " ON CONFLICT (key_id, nonce) DO NOTHING RETURNING id"
    )


@cache
def _nonce_relaxed_sql() -> str:
    """PostgreSQL, on its own: the insert commits without waiting for the WAL flush (see pos_nonce_use)."""
    return (
        f"INSERT INTO {sql.table(PosNonce)} (key_id, nonce, seen_at)"  # noqa: S608
        " SELECT %s, %s, %s FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
        " ON CONFLICT (key_id, nonce) DO NOTHING RETURNING id"
    )


def insert_nonce(*, key_pk: int, nonce: str, at: dt.datetime, relaxed: bool = False) -> bool:
    """Record a nonce; False if this key already used it."""
    statement = _nonce_relaxed_sql() if relaxed else _nonce_sql()
    return sql.one(statement, [key_pk, nonce, sql.when(at)]) is not None


def nonce_claim(*, key_pk: int, nonce: str, at: dt.datetime) -> sql.Claim:
    """The nonce as a claim run inside another statement: granted when the nonce is new for this key."""
    return sql.Claim(parts=(("gate", _nonce_sql()),), params=(key_pk, nonce, sql.when(at)))


@cache
def _gate_nonce_sql() -> str:
    return (
        f"INSERT INTO {sql.table(PosNonce)} (key_id, nonce, seen_at)"  # noqa: S608
        " SELECT usable_key.id, %s, %s FROM usable_key ON CONFLICT (key_id, nonce) DO NOTHING RETURNING id"
    )


def usable_key_nonce_claim(*, key_id: str, terminated: str, nonce: str, at: dt.datetime) -> sql.Claim:
    """The nonce as a claim that also re-checks the key: granted only while the key, its terminal, store and
    merchant are usable and the nonce is new; it hands back the group's current config token."""
    return sql.Claim(
        parts=(("usable_key", _usable_key_sql()), ("gate", _gate_nonce_sql())),
        params=(key_id, terminated, nonce, sql.when(at)),
        returns="(SELECT config_token FROM usable_key)",
    )
