"""The permission matrix: every URL pattern of the project × every principal, against tests/access_matrix.py.

- `test_every_url_pattern_has_an_entry` walks the URL resolver (and every operation of every django-ninja path)
  at test time: a new URL without a declared entry fails here, so it cannot ship unreviewed.
- `test_access[<url>[<principal>]]` requests the entry's concrete URL as that principal — GET and POST for pages
  (POST with a valid CSRF token, so a 403 is the permission's, not CSRF's), the operation's own method for the
  API, signed for POS terminals — and asserts the declared outcome. A denied request must also leave no trace:
  no audit event (reads of personal data are audited), no change to the objects the URLs name.
- `test_state_changing_requests_need_the_csrf_token` posts to every page and every cookie-authenticated API
  operation as an allowed principal without a CSRF token: 403, nothing written.

The evidence world is built once per module (rolled back at the end); each case runs in a savepoint.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from inspect import getclosurevars
from typing import Any

import pytest
from django.db import connection
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver

from galleria.audit.models import AuditEvent
from galleria.members.models import MemberIdentifier
from galleria.merchants.models import PosKey
from galleria.points.models import PointsAdjustment
from galleria.sales.models import Sale
from galleria.wallet.models import TopUp

from .access_matrix import (
    ANONYMOUS,
    MATRIX,
    POS_PRINCIPALS,
    Entry,
    Outcome,
    principals_of,
)
from .evidence_world import EvidenceWorld, fast_client, module_world

pytestmark = pytest.mark.django_db

HOW_TO_ADD = (
    "Declare who may use it in tests/access_matrix.py (MATRIX_HTML, MATRIX_ADMIN or MATRIX_API): a concrete URL "
    "and, for every principal, the expected outcome of GET and POST (e.g. console(ALL_CONSOLE, scoped=True))."
)


# ---------------------------------------------------------------- the project's URL patterns


def _ninja_operations(callback: Any) -> list[str] | None:
    """The HTTP methods of a django-ninja path, or None for an ordinary view."""
    if callback.__module__ != "ninja.operation":
        return None
    path_view = getclosurevars(callback).nonlocals["self"]
    return sorted({m for operation in path_view.operations for m in operation.methods})


def url_keys() -> set[str]:
    """One key per URL pattern (per operation for the API), as tests/access_matrix.py names them."""
    keys: set[str] = set()

    def walk(patterns: list[Any], namespace: str, route: str) -> Iterator[None]:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace:
                    ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
                    yield from walk(p.url_patterns, ns, "")
                else:
                    yield from walk(p.url_patterns, namespace, route + str(p.pattern))
                continue
            assert isinstance(p, URLPattern)
            full = route + str(p.pattern)
            methods = _ninja_operations(p.callback)
            if methods is not None:
                path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", full)
                keys.update(f"{namespace}:{m} {path}" for m in methods)
            elif p.name:
                keys.add(f"{namespace}:{p.name}" if namespace else p.name)
            else:
                keys.add(f"{namespace}:{full}" if namespace else full)
            yield None

    for _ in walk(get_resolver().url_patterns, "", ""):
        pass
    return keys


def test_every_url_pattern_has_an_entry() -> None:
    keys = url_keys()
    missing = sorted(keys - MATRIX.keys())
    stale = sorted(MATRIX.keys() - keys)
    assert not missing, f"URL patterns without an access-matrix entry: {missing}. {HOW_TO_ADD}"
    assert not stale, f"access-matrix entries for URLs that no longer exist (remove them): {stale}"


def test_every_entry_names_every_principal() -> None:
    for key, entry in MATRIX.items():
        for access in (entry.get, entry.post):
            if access is not None:
                gaps = set(principals_of(key, entry)) - access.keys()
                assert not gaps, f"{key}: no outcome for {sorted(gaps)}"


# ---------------------------------------------------------------- requests as a principal


@pytest.fixture(scope="module")
def ew(django_db_setup: Any, django_db_blocker: Any) -> Iterator[EvidenceWorld]:
    with django_db_blocker.unblock(), module_world() as world:
        yield world


def perform(ew: EvidenceWorld, principal: str, entry: Entry, method: str, *, csrf: bool = False) -> Any:
    client = fast_client(session_key=ew.sessions.get(principal), enforce_csrf_checks=csrf)
    url = entry.url(ew)
    data = entry.post_data(ew) if entry.post_data else None
    if not entry.json:
        if method == "GET":
            return client.get(url)
        return client.post(url, data or {})
    body = b"" if data is None else json.dumps(data, ensure_ascii=False).encode()
    headers: dict[str, str] = {}
    if principal in POS_PRINCIPALS:
        headers = ew.terminals[principal].signer.headers(method, url, body)
    elif method == "POST":
        headers = {"Idempotency-Key": uuid.uuid4().hex}
    return client.generic(method, url, body, content_type="application/json", headers=headers)


def _login_path(resp: HttpResponse) -> str:
    return resp.get("Location", "").split("?")[0]


def mismatch(resp: Any, expected: Outcome, method: str) -> str | None:
    """Why the response is not the expected outcome (None when it is)."""
    status = resp.status_code
    location = resp.get("Location", "")
    if status >= 500:
        return f"server error {status}"
    kind = expected.kind
    if kind == "any":
        return None
    is_login = status == 302 and any(p in _login_path(resp) for p in ("/login/",))
    if kind == "ok":
        if is_login:
            return f"sent to sign in ({location})"
        if method == "GET":
            return None if 200 <= status < 400 else f"status {status}"
        return None if status not in (401, 403, 404, 405) else f"denied with {status}"
    if kind == "login":
        return None if status == 302 and _login_path(resp) == expected.target else f"status {status} → {location}"
    if kind == "redirect":
        return None if status == 302 and location.startswith(expected.target) else f"status {status} → {location}"
    expected_status = {"forbidden": 403, "not_found": 404, "not_allowed": 405}.get(kind, expected.status)
    if status != expected_status:
        return f"status {status}"
    if kind == "problem":
        if resp.get("Content-Type") != "application/problem+json":
            return f"content type {resp.get('Content-Type')}"
        code = resp.json().get("code")
        if expected.code and code != expected.code:
            return f"problem code {code}"
    return None


def fingerprint(ew: EvidenceWorld) -> tuple[Any, ...]:
    """What a denied request must not change: the audit trail, the number of sales, and the objects the URLs name
    (the member's plate, the pending top-up, 喜茶's POS key, the sale's refunds, the pending adjustment) — in one
    round trip."""
    tables = {m.__name__: m._meta.db_table for m in (AuditEvent, MemberIdentifier, TopUp, PosKey, Sale)}
    tables["PointsAdjustment"] = PointsAdjustment._meta.db_table
    sql = (
        f"SELECT (SELECT COUNT(*) FROM {tables['AuditEvent']}),"
        f" (SELECT COUNT(*) FROM {tables['MemberIdentifier']} WHERE id = %s),"
        f" (SELECT status FROM {tables['TopUp']} WHERE id = %s),"
        f" (SELECT revoked_at FROM {tables['PosKey']} WHERE id = %s),"
        f" (SELECT refunded_fen FROM {tables['Sale']} WHERE id = %s),"
        f" (SELECT status FROM {tables['PointsAdjustment']} WHERE id = %s),"
        f" (SELECT COUNT(*) FROM {tables['Sale']})"
    )
    params = [ew.plate.pk, ew.topup.pk, ew.terminals["pos-heytea"].key.pk, ew.sale.pk, ew.adjustment.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return tuple(row)


CASES = [(key, principal) for key, entry in MATRIX.items() for principal in principals_of(key, entry)]


@pytest.mark.parametrize(("key", "principal"), CASES, ids=[f"{key}[{principal}]" for key, principal in CASES])
def test_access(ew: EvidenceWorld, key: str, principal: str) -> None:
    entry = MATRIX[key]
    checks: list[tuple[str, Outcome]] = []
    if entry.get is not None:
        checks.append(("GET", entry.get[principal]))
    if entry.post is not None:
        checks.append((entry.method or "POST", entry.post[principal]))
    for method, expected in checks:
        before = fingerprint(ew) if not expected.allowed else None
        resp = perform(ew, principal, entry, method)
        why = mismatch(resp, expected, method)
        body = resp.content[:300] if not getattr(resp, "streaming", False) else b"<stream>"
        assert why is None, f"{method} {entry.url(ew)} as {principal}: expected {expected}, got {why}: {body!r}"
        if before is not None:
            assert fingerprint(ew) == before, f"{method} {key} as {principal} was denied but left a trace"


# ---------------------------------------------------------------- CSRF


def _csrf_cases() -> list[tuple[str, str]]:
    cases = []
    for key, entry in MATRIX.items():
        if entry.post is None or key.startswith(("api:openapi", "api:api-root")):
            continue
        if entry.json and (" /pos/" in key or "/otp/" in key or entry.method == "GET"):
            continue  # POS: signed, no cookies; OTP sign-in: no session yet; GET: safe
        allowed = [p for p in principals_of(key, entry) if entry.post[p].kind in ("ok", "any")]
        if allowed:
            preferred = [p for p in allowed if p != ANONYMOUS] or allowed
            cases.append((key, preferred[0]))
    return cases


CSRF_CASES = _csrf_cases()


@pytest.mark.parametrize(("key", "principal"), CSRF_CASES, ids=[f"{k}[{p}]" for k, p in CSRF_CASES])
def test_state_changing_requests_need_the_csrf_token(ew: EvidenceWorld, key: str, principal: str) -> None:
    entry = MATRIX[key]
    method = entry.method or "POST"
    before = fingerprint(ew)
    resp = perform(ew, principal, entry, method, csrf=True)
    assert resp.status_code == 403, f"{method} {key} as {principal} without a CSRF token: {resp.status_code}"
    if entry.json:
        assert resp["Content-Type"] == "application/problem+json"
    assert fingerprint(ew) == before
