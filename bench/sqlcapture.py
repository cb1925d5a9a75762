"""The SQL of one request, in process: django.test.Client + CaptureQueriesContext against the bench database, each
statement attributed to the product code that issued it (the two innermost galleria frames).

Django's test client switches off the per-request `close_old_connections`; the real handler (gunicorn) runs it, and
with CONN_HEALTH_CHECKS on it makes the first query of every request run a `SELECT 1` on the raw connection, which
CaptureQueriesContext does not see. We run it as the handler does and count those health checks separately.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import uuid
from collections import Counter, defaultdict
from typing import Any

from .common import ROOT
from .measure import signed_headers

TX_CONTROL = frozenset({"BEGIN", "COMMIT", "ROLLBACK"})
TABLE_RE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


def statement_kind(sql: str) -> str:
    text = sql.strip()
    head = text.split(None, 1)[0].upper() if text else "?"
    if head == "SELECT" and re.search(r"\bFOR UPDATE\b", text):
        return "SELECT … FOR UPDATE"
    if head == "SELECT" and text.startswith('SELECT 1 AS "a"'):
        return "SELECT 1 (exists)"
    if head == "SELECT" and re.search(r"\b(SUM|COUNT|MAX|MIN)\(", text):
        return "SELECT aggregate"
    if head in {"RELEASE", "ROLLBACK"} and "SAVEPOINT" in text.upper():
        return f"{head} SAVEPOINT"
    return head


def _site(root: str) -> str:
    """'file:line function ← caller' of the two innermost product frames on the stack."""
    frames: list[str] = []
    frame = sys._getframe(2)
    while frame is not None and len(frames) < 2:
        filename = frame.f_code.co_filename
        if filename.startswith(root) and not filename.endswith(os.sep + os.path.join("core", "sql.py")):
            frames.append(f"{filename[len(root) :]}:{frame.f_lineno} {frame.f_code.co_name}")
        frame = frame.f_back  # type: ignore[assignment]
    return " ← ".join(frames) or "(django)"


def _prepared_texts() -> dict[str, str]:
    """name -> SQL of the statements core.sql has PREPAREd on this connection (to name an EXECUTE's table)."""
    from django.db import connection

    from galleria.core import sql as core_sql

    raw = connection.connection
    names = core_sql._prepared.get(raw, {}) if raw is not None else {}
    return {name: text for text, name in names.items()}


def _described(statement: str, prepared: dict[str, str]) -> tuple[str, str]:
    """(kind, table) of a statement; an EXECUTE is described by the statement it runs."""
    match = re.match(r"\s*EXECUTE\s+(\w+)", statement)
    if match and match.group(1) in prepared:
        text = prepared[match.group(1)]
        table = TABLE_RE.search(text)
        return f"EXECUTE {statement_kind(text)}", table.group(1) if table else ""
    table = TABLE_RE.search(statement)
    return statement_kind(statement), table.group(1) if table else ""


def _new_phone(rng: random.Random) -> str:
    return f"139{rng.randrange(10**8):08d}"


def capture_queries(*, keys: list[tuple[str, str]], mall_id: int) -> dict[str, Any]:
    """The statements of: a cold process's first sale (configuration not yet cached, statements not yet prepared on
    the connection), then, warm: a 'pay = join' sale (the member registered by the sale), a registered member's
    first sale (no points account or tier row yet), a repeat sale of that member at the same till, and a quote."""
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from galleria.audit.types import Actor
    from galleria.malls.models import Mall
    from galleria.members.exceptions import PhoneTakenError
    from galleria.members.services import member_register

    root = str(ROOT / "galleria") + os.sep
    mall = Mall.objects.get(pk=mall_id)
    rng = random.Random()

    def register() -> Any:
        while True:
            try:
                return member_register(
                    mall=mall, phone=_new_phone(rng), channel="app", actor=Actor(user_id=None, label="bench")
                )
            except PhoneTakenError:
                continue

    cold_member, member = register(), register()
    key_id, secret = keys[0]
    client = Client()
    lines = [
        {"sku": "SKU001", "name": "拿铁", "quantity": 2, "unit_price_fen": 1900, "amount_fen": 3800},
        {"sku": "SKU002", "name": "面包", "quantity": 1, "unit_price_fen": 1200, "amount_fen": 1200},
    ]

    def sale_body(**who: Any) -> dict[str, Any]:
        return {
            "pos_sale_id": f"q-{uuid.uuid4().hex[:16]}",
            **who,
            "lines": lines,
            "payments": [{"method": "wechat", "amount_fen": 5000}],
        }

    requests = [
        (
            "sale_cold",
            "POS sale — a cold process's first request (a member's first sale; caches empty, nothing prepared yet)",
            "/api/v1/pos/sales",
            sale_body(member=cold_member.card_no),
        ),
        (
            "",  # not reported: a second sale of that member prepares the statements of a warm signed write
            "",
            "/api/v1/pos/sales",
            sale_body(member=cold_member.card_no),
        ),
        ("", "", "/api/v1/pos/quote", {"member": cold_member.card_no, "lines": lines}),  # not reported: warms quotes
        (
            "sale_join",
            "POS sale — pay = join: the sale registers the member (warm process)",
            "/api/v1/pos/sales",
            sale_body(join_phone=_new_phone(rng)),
        ),
        (
            "sale_first",
            "POS sale — a registered member's first sale (creates the points account and tier row; warm process)",
            "/api/v1/pos/sales",
            sale_body(member=member.card_no),
        ),
        ("sale_repeat", "POS sale — repeat sale (steady state)", "/api/v1/pos/sales", sale_body(member=member.card_no)),
        ("quote", "POS quote", "/api/v1/pos/quote", {"member": member.card_no, "lines": lines}),
    ]
    health_checks = [0]
    real = connection.is_usable

    def counting_is_usable() -> bool:
        health_checks[0] += 1
        return real()

    out: dict[str, Any] = {}
    connection.is_usable = counting_is_usable  # type: ignore[method-assign]
    try:
        for key, title, path, payload in requests:
            body = json.dumps(payload, ensure_ascii=False).encode()
            headers = signed_headers(key_id, secret, path, body, str(payload.get("pos_sale_id") or uuid.uuid4()))
            headers.pop("Content-Type")
            sites: list[str] = []

            def record(execute: Any, sql: Any, params: Any, many: Any, context: Any, sites: list[str] = sites) -> Any:
                sites.append(_site(root))
                return execute(sql, params, many, context)

            health_checks[0] = 0
            close_old_connections()  # what request_started does in the real handler
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(record):
                response = client.generic("POST", path, body, content_type="application/json", headers=headers)
            if response.status_code >= 300:
                raise RuntimeError(f"{title}: {response.status_code} {response.content[:500]!r}")
            if not key:
                continue
            prepared = _prepared_texts()
            statements = [q["sql"] for q in captured.captured_queries]
            plain = [s for s in statements if s.strip().upper() not in TX_CONTROL]
            queue = list(sites) if len(sites) == len(plain) else ["?"] * len(plain)
            rows = []
            for sql in statements:
                tx = sql.strip().upper() in TX_CONTROL
                kind, table = _described(sql, prepared)
                rows.append(
                    {
                        "kind": kind,
                        "table": table,
                        "site": "(transaction control)" if tx else queue.pop(0),
                        "sql": sql,
                    }
                )
            out[key] = {
                "title": title,
                "status": response.status_code,
                "statements": len(statements),
                "round_trips": len(statements) + health_checks[0],
                "hidden_health_checks": health_checks[0],
                "rows": rows,
            }
    finally:
        del connection.is_usable
    return out


ORDERED = ("sale_join", "sale_first", "sale_repeat", "quote")


def print_queries(captured: dict[str, Any], *, ordered: tuple[str, ...] = ORDERED) -> None:
    for key, item in captured.items():
        rows = item["rows"]
        kinds = Counter(r["kind"] for r in rows)
        print(
            f"\n{item['title']}: {item['statements']} statements "
            f"+ {item['hidden_health_checks']} hidden `SELECT 1` (CONN_HEALTH_CHECKS) "
            f"= {item['round_trips']} round trips"
        )
        print("  by kind: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for r in rows:
            groups[(r["kind"], r["table"])].append(r["site"])
        print(f"  {'n':>3}  {'statement':<22}{'table':<26}issued by")
        for (kind, table), sites in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            distinct = list(dict.fromkeys(sites))
            print(f"  {len(sites):>3}  {kind:<22}{table:<26}{distinct[0]}")
            for site in distinct[1:]:
                print(f"  {'':>3}  {'':<22}{'':<26}{site}")
        if key in ordered:
            print("  in order:")
            for i, r in enumerate(rows, 1):
                sql = " ".join(r["sql"].split())
                print(f"  {i:>3}. {r['kind']:<20} {r['table']:<26} {r['site']}")
                if r["kind"] in {"UPDATE", "SELECT aggregate"}:
                    print(f"       {sql[:150]}")
