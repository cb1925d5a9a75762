"""The members app's SQL: every statement it writes by hand, as typed functions (the rest is the ORM).

Fixed SQL where it runs on every POS request (the member named by an identifier) and on every registration (the
identifiers of a new member in one statement). Only the members app imports this module (an import-linter
contract)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache

from galleria.core import sql

from .models import Consent, Member, MemberIdentifier


@cache
def _by_identifier_sql(n_kinds: int) -> str:
    return (
        f"SELECT {sql.select_list(Member, 'm')} FROM {sql.table(MemberIdentifier)} i"  # noqa: S608
        f" JOIN {sql.table(Member)} m ON m.id = i.member_id"
        f" WHERE i.mall_group_id = %s AND i.kind IN ({', '.join(['%s'] * n_kinds)}) AND i.value = %s"
        " AND m.status = %s ORDER BY i.id LIMIT 1"
    )


def member_by_identifier(mall_group_id: int, kinds: Sequence[str], value: str, *, status: str) -> Member | None:
    """The member of `status` holding the identifier (the first kind that matches by identifier age)."""
    found = sql.instances(Member, _by_identifier_sql(len(kinds)), [mall_group_id, *kinds, value, status])
    return found[0] if found else None


@cache
def _identifiers_insert_sql(n: int) -> str:
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * n)
    return (
        f"INSERT INTO {sql.table(MemberIdentifier)} (mall_group_id, member_id, kind, value, created_at)"  # noqa: S608
        f" VALUES {values} ON CONFLICT DO NOTHING RETURNING kind"
    )


def insert_identifiers(
    *, mall_group_id: int, member_id: int, identifiers: Sequence[tuple[str, str]], at: dt.datetime
) -> set[str]:
    """Add (kind, value) identifiers to a member in one statement; the kinds written. A value another member
    holds in the group is skipped (after that member's transaction, if in flight, commits): the caller decides."""
    params: list[object] = []
    for kind, value in identifiers:
        params += [mall_group_id, member_id, kind, value, sql.when(at)]
    return {row[0] for row in sql.rows(_identifiers_insert_sql(len(identifiers)), params)}


# ------------------------------------------------------------------------------------- segment conditions (audience)


def consent_granted_members(purpose: str) -> sql.Fragment:
    """Members whose latest consent record for `purpose` is a grant (core.sql.Fragment)."""
    consent = sql.table(Consent)
    text = (
        f"SELECT c.member_id AS member_id FROM {consent} c WHERE c.purpose = %s AND c.is_granted"  # noqa: S608
        f" AND NOT EXISTS (SELECT 1 FROM {consent} d WHERE d.member_id = c.member_id AND d.purpose = c.purpose"
        " AND (d.recorded_at > c.recorded_at OR (d.recorded_at = c.recorded_at AND d.id > c.id)))"
    )
    return sql.Fragment(text, (purpose,))


def plate_members(*, verified: bool) -> sql.Fragment:
    """Members with a licence plate bound (verified ones only when `verified`)."""
    text = f"SELECT member_id FROM {sql.table(MemberIdentifier)} WHERE kind = 'plate'"  # noqa: S608
    return sql.Fragment(text + (" AND verified_at IS NOT NULL" if verified else ""))
