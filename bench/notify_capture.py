"""The SQL of one notification, in process (django.test.Client + CaptureQueriesContext, as bench/sqlcapture.py
does for the POS API): a pay-at-store payment with points and/or a coupon, a plain one, a top-up and a
redelivery, each statement attributed to the product code that issued it. Three notifications go first, unreported,
so that the reported ones run as in steady state (caches filled, statements prepared on the connection)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .common import ROOT
from .notify_data import STORE, TOPUP, Attempt, Notifier
from .sqlcapture import TX_CONTROL, _described, _prepared_texts, _site

ORDER = ("store_points", "store", "topup", "redelivery")


def pick(attempts: list[Attempt], *, home: int | None = None) -> dict[str, Attempt]:
    """The attempts the capture needs (taken out of the load): three to warm up, then one of each reported kind. The
    reported store payments are at the warm-up's merchant (preferably `home`, already served), whose settlement
    accounts then exist, as they do for every merchant of a mall in service (a merchant's first pay-at-store sale
    of a kind creates them)."""
    stores = [a for a in attempts if a.kind == STORE]
    topups = [a for a in attempts if a.kind == TOPUP]
    by_merchant: dict[int | None, list[Attempt]] = {}
    for a in stores:
        by_merchant.setdefault(a.merchant_id, []).append(a)

    def rich(pool: list[Attempt]) -> list[Attempt]:
        return [a for a in pool if a.uses_points and a.uses_coupon] or [a for a in pool if a.uses_points]

    def plain(pool: list[Attempt]) -> list[Attempt]:
        return [a for a in pool if not (a.uses_points or a.uses_coupon or a.discounted)]

    # a merchant with two rich and two plain attempts (one of each warms the merchant's accounts up); `home`, the
    # merchant the in-process CPU sample already served, when it has them
    def fit(pool: list[Attempt]) -> tuple[int, bool, int]:
        return min(len(rich(pool)), 2) + min(len(plain(pool)), 2), pool[0].merchant_id == home, len(pool)

    home_pool = max(by_merchant.values(), key=fit)
    chosen: dict[str, Attempt] = {}
    taken: set[int] = set()
    for key, pool in (
        ("warm_store", plain(home_pool) or home_pool), ("warm_rich", rich(home_pool)), ("warm_topup", topups),
        ("store_points", rich(home_pool) or rich(stores)), ("store", plain(home_pool) or plain(stores) or stores),
        ("topup", topups),
    ):  # fmt: skip
        found = next((x for x in pool if x.pk not in taken), None)
        if found is not None:
            chosen[key] = found
            taken.add(found.pk)
    return chosen


def capture(chosen: dict[str, Attempt], notifier: Notifier, path: str) -> dict[str, Any]:
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    root = str(ROOT / "galleria") + os.sep
    client = Client()
    titles = {
        "store_points": "notification — pay at store with points and/or a coupon (the sale through the pipeline)",
        "store": "notification — pay at store, no points or coupon",
        "topup": "notification — wallet top-up",
        "redelivery": "notification — a redelivery of an applied event (acknowledged, changes nothing)",
    }
    plan: list[tuple[str, Any]] = [
        (k, notifier.delivery(chosen[k])) for k in ("warm_store", "warm_rich", "warm_topup") if k in chosen
    ]
    plan += [(k, notifier.delivery(chosen[k])) for k in ("store_points", "store", "topup") if k in chosen]
    if "store_points" in chosen:
        plan.append(("redelivery", notifier.delivery(chosen["store_points"], redelivery=True)))
    health_checks = [0]
    real = connection.is_usable

    def counting_is_usable() -> bool:
        health_checks[0] += 1
        return real()

    out: dict[str, Any] = {}
    connection.is_usable = counting_is_usable  # type: ignore[method-assign]
    try:
        for key, d in plan:
            sites: list[str] = []

            def record(execute: Any, sql: Any, params: Any, many: Any, context: Any, sites: list[str] = sites) -> Any:
                sites.append(_site(root))
                return execute(sql, params, many, context)

            headers = {k: v for k, v in d.headers.items() if k != "Content-Type"}
            health_checks[0] = 0
            close_old_connections()  # what request_started does in the real handler
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(record):
                response = client.generic("POST", path, d.body, content_type="application/json", headers=headers)
            if response.status_code != 204:
                raise RuntimeError(f"{key}: {response.status_code} {response.content[:500]!r}")
            if key.startswith("warm_"):
                continue
            prepared = _prepared_texts()
            statements = [q["sql"] for q in captured.captured_queries]
            plain = [s for s in statements if s.strip().upper() not in TX_CONTROL]
            queue = list(sites) if len(sites) == len(plain) else ["?"] * len(plain)
            rows = []
            for sql in statements:
                tx = sql.strip().upper() in TX_CONTROL
                kind, table = _described(sql, prepared)
                rows.append({"kind": kind, "table": table, "sql": sql,
                             "site": "(transaction control)" if tx else queue.pop(0)})  # fmt: skip
            out[key] = {
                "title": titles[key],
                "status": response.status_code,
                "statements": len(statements),
                "round_trips": len(statements) + health_checks[0],
                "hidden_health_checks": health_checks[0],
                "rows": rows,
            }
    finally:
        del connection.is_usable
        connection.close()
    return out


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_sample(attempts: list[Attempt], *, stores: int, topups: int) -> tuple[list[Attempt], dict[str, list[Attempt]]]:
    """The in-process CPU sample: store payments at the three merchants with the most attempts (one per merchant
    goes first, unmeasured, so that its settlement accounts exist as in a mall in service) and top-ups."""
    by_merchant: dict[int | None, list[Attempt]] = {}
    for a in attempts:
        if a.kind == STORE:
            by_merchant.setdefault(a.merchant_id, []).append(a)
    busiest = sorted(by_merchant.values(), key=len, reverse=True)[:3]
    warm = [pool[0] for pool in busiest]
    measured = [a for pool in busiest for a in pool[1:]][:stores]
    return warm, {STORE: measured, TOPUP: [a for a in attempts if a.kind == TOPUP][:topups]}


def cpu_per_kind(
    groups: dict[str, list[Attempt]], notifier: Notifier, path: str, *, warm: list[Attempt]
) -> dict[str, Any]:
    """CPU per notification of each kind, in process (the whole Django stack through the test client, no HTTP, no
    gunicorn): this process's CPU (time.process_time) and its PostgreSQL backend's (/proc/<pid>/stat), plus the
    statements. `redelivery` delivers the `store` group's events again. CPU time is disturbed less than wall
    time by other jobs on the machine, so this splits the mixed phase's CPU by kind (sale_cpu.py's method)."""
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    plan = [("warm", [notifier.delivery(a) for a in warm])]
    plan += [(k, [notifier.delivery(a) for a in v]) for k, v in groups.items() if v]
    if groups.get(STORE):
        plan.append(("redelivery", [notifier.delivery(a, redelivery=True) for a in groups[STORE]]))
    out: dict[str, Any] = {}
    try:
        for kind, deliveries in plan:
            close_old_connections()
            connection.ensure_connection()
            assert connection.connection is not None
            backend = connection.connection.info.backend_pid
            statements = 0
            py0, pg0 = time.process_time(), _backend_cpu(backend)
            for d in deliveries:
                headers = {k: v for k, v in d.headers.items() if k != "Content-Type"}
                with CaptureQueriesContext(connection) as captured:
                    response = client.generic("POST", path, d.body, content_type="application/json", headers=headers)
                if response.status_code != 204:
                    raise RuntimeError(f"{kind}: {response.status_code} {response.content[:300]!r}")
                statements += len(captured.captured_queries)
            py1, pg1 = time.process_time(), _backend_cpu(backend)
            n = len(deliveries)
            if kind == "warm" or not n:
                continue
            out[kind] = {
                "n": n,
                "python_ms": round(1000 * (py1 - py0) / n, 2),
                "postgres_backend_ms": round(1000 * (pg1 - pg0) / n, 2),
                "statements": round(statements / n, 1),
            }
    finally:
        connection.close()
    return out
