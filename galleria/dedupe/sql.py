"""The dedupe app's SQL: the duplicate-candidates statement (one statement over a whole group's members, keys
normalised, self-joined into scored pairs; docs/merge.md), as a typed function. Only the dedupe app imports this
module (an import-linter contract)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connection

from galleria.core import sql
from galleria.members.models import IdentifierKind, Member, MemberIdentifier

from . import rules
from .models import PairMark, PairMarkKind


def _stripped(col: str) -> str:
    for ch in (" ", "-", "+", "(", ")", "."):
        col = f"REPLACE({col}, '{ch}', '')"
    return col


def _phone_key(col: str) -> tuple[str, str]:
    """(key expression, condition): the last 11 digits of a phone-like value (CN mobiles), whatever its format.
    Canonical E.164 mobiles (+861…, what services store) take a cheap path; anything else is stripped of
    separators and must then be 11–13 digits."""
    s = _stripped(col)
    canonical = f"({col} LIKE '+861%%' AND LENGTH({col}) = 14)"
    if connection.vendor == "postgresql":
        key, loose = f"RIGHT({s}, 11)", f"{s} ~ '^[0-9]{{11,13}}$' AND RIGHT({s}, 11) LIKE '1%%'"
    else:
        key = f"SUBSTR({s}, -11)"
        loose = f"LENGTH({s}) BETWEEN 11 AND 13 AND {s} NOT GLOB '*[^0-9]*' AND SUBSTR({s}, -11) LIKE '1%%'"
    return f"CASE WHEN {canonical} THEN SUBSTR({col}, 4) ELSE {key} END", f"({canonical} OR ({loose}))"


@cache
def _candidates_sql(vendor: str, *, pair_only: bool = False) -> str:
    m, i, pm = sql.table(Member), sql.table(MemberIdentifier), sql.table(PairMark)
    m_phone, m_phone_ok = _phone_key("m.phone")
    i_phone, i_phone_ok = _phone_key("i.value")
    agg = "STRING_AGG(kind, ',')" if vendor == "postgresql" else "GROUP_CONCAT(kind, ',')"
    weights = " ".join(f"WHEN '{k}' THEN {w}" for k, w in rules.WEIGHTS.items())
    ident = f"FROM {i} i JOIN ms m ON m.id = i.member_id WHERE i.mall_group_id = %s"
    only = " AND id IN (%s, %s)" if pair_only else ""
    return f"""
WITH ms AS (
  SELECT id, phone, card_no, name, birthday, email FROM {m} WHERE mall_group_id = %s AND status = %s{only}
),
keys (member_id, kind, k) AS (
  SELECT m.id, '{rules.PHONE}', {m_phone} FROM ms m WHERE {m_phone_ok}
  UNION ALL SELECT i.member_id, '{rules.PHONE}', SUBSTR(i.value, 4) {ident}
    AND i.kind = '{IdentifierKind.PHONE}' AND i.value LIKE '+861%%'
  UNION ALL SELECT i.member_id, '{rules.PHONE}', {i_phone} {ident}
    AND i.kind = '{IdentifierKind.PHYSICAL_CARD}' AND {i_phone_ok}
  UNION ALL SELECT m.id, '{rules.CARD}', m.card_no FROM ms m WHERE m.card_no <> ''
  UNION ALL SELECT i.member_id, '{rules.CARD}', i.value {ident}
    AND i.kind IN ('{IdentifierKind.CARD}', '{IdentifierKind.PHYSICAL_CARD}')
  UNION ALL SELECT i.member_id, '{rules.UNIONID}', i.value {ident} AND i.kind = '{IdentifierKind.WECHAT_UNIONID}'
  UNION ALL SELECT i.member_id, '{rules.PLATE}', i.value {ident} AND i.kind = '{IdentifierKind.PLATE}'
  UNION ALL SELECT m.id, '{rules.NAME_BIRTHDAY}', LOWER(TRIM(m.name)) || '|' || CAST(m.birthday AS TEXT)
    FROM ms m WHERE TRIM(m.name) <> '' AND m.birthday IS NOT NULL
  UNION ALL SELECT m.id, '{rules.EMAIL}', LOWER(TRIM(m.email)) FROM ms m WHERE TRIM(m.email) <> ''
),
dk AS (SELECT DISTINCT member_id, kind, k FROM keys),
hot AS (SELECT kind, k FROM dk GROUP BY kind, k HAVING COUNT(*) BETWEEN 2 AND {rules.MAX_SHARED}),
hk AS (SELECT dk.member_id, dk.kind, dk.k FROM dk JOIN hot ON hot.kind = dk.kind AND hot.k = dk.k),
ev AS (
  SELECT DISTINCT a.member_id AS lo, b.member_id AS hi, a.kind AS kind
    FROM hk a JOIN hk b ON b.kind = a.kind AND b.k = a.k AND b.member_id > a.member_id
  UNION SELECT p.member_low_id, p.member_high_id, '{rules.REPORTED}' FROM {pm} p
    JOIN ms a ON a.id = p.member_low_id JOIN ms b ON b.id = p.member_high_id
    WHERE p.mall_group_id = %s AND p.kind = '{PairMarkKind.REPORTED}'
),
pairs AS (SELECT lo, hi, SUM(CASE kind {weights} ELSE 0 END) AS score, {agg} AS kinds FROM ev GROUP BY lo, hi),
cmp AS (
  SELECT p.lo, p.hi, p.score, p.kinds, {_compare("a.name", "b.name", text=True)} AS name_rel,
    {_compare("a.birthday", "b.birthday")} AS birthday_rel
  FROM pairs p JOIN ms a ON a.id = p.lo JOIN ms b ON b.id = p.hi
)
SELECT lo, hi, score, kinds, name_rel, birthday_rel FROM cmp p
WHERE NOT EXISTS (
  SELECT 1 FROM {pm} d WHERE d.member_low_id = p.lo AND d.member_high_id = p.hi AND d.kind = '{PairMarkKind.DISMISSED}'
)
ORDER BY score
  + CASE WHEN name_rel = {rules.SAME} AND birthday_rel <> {rules.SAME} THEN {rules.SAME_NAME_BONUS}
         WHEN name_rel = {rules.DIFFERENT} THEN -{rules.DIFFERENT_NAME_PENALTY} ELSE 0 END
  + CASE WHEN birthday_rel = {rules.DIFFERENT} THEN -{rules.DIFFERENT_BIRTHDAY_PENALTY} ELSE 0 END DESC, lo, hi
LIMIT {rules.MAX_PAIRS}
"""  # noqa: S608 - table names and constants are ours


def _compare(a: str, b: str, *, text: bool = False) -> str:
    """SQL for rules.SAME / DIFFERENT / UNKNOWN between two columns of the pair (names trimmed, lower-cased)."""
    if text:
        a, b = f"LOWER(TRIM(COALESCE({a}, '')))", f"LOWER(TRIM(COALESCE({b}, '')))"
        missing = f"{a} = '' OR {b} = ''"
    else:
        missing = f"{a} IS NULL OR {b} IS NULL"
    return f"CASE WHEN {missing} THEN {rules.UNKNOWN} WHEN {a} = {b} THEN {rules.SAME} ELSE {rules.DIFFERENT} END"


def candidate_rows(*, mall_group_id: int, status: str, pair: tuple[int, int] | None = None) -> list[tuple[Any, ...]]:
    """(low id, high id, score, kinds, name relation, birthday relation) of the group's candidate pairs among members
    of `status`, best first; only between the two members of `pair` when given."""
    only = list(pair) if pair is not None else []
    params = [mall_group_id, status, *only, *[mall_group_id] * 5, mall_group_id]
    return sql.rows(_candidates_sql(connection.vendor, pair_only=pair is not None), params)
