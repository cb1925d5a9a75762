"""The notification load: concurrent clients playing WeChat Pay's notifier against the real notify URL.

The deliveries of a phase are one ordered list: every attempt's first delivery (shuffled), and, for a share of
the events, a redelivery of the same event (same body, fresh signature) placed at a random later position at
least `REDELIVERY_GAP × clients` deliveries after its first — by then the first was almost always answered, so the
redelivery finds the recorded notice, as a gateway retry does; should it overtake the first, it waits on the
notice row's unique index and is acknowledged as a duplicate all the same. Each client takes the next delivery,
POSTs it on a new connection (gunicorn's sync workers close every connection), waits for the answer (204 expected:
anything else is an error) and takes the next: closed loop, one request in flight per client, as bench/measure.py.

Count mode (default): the phase ends when the list is exhausted; what completes in the first `warmup` seconds is
discarded. Duration mode: warm-up + duration seconds, whatever is left of the list stays for the drain.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .measure import CpuMark, CpuSampler, PhaseResult, percentile, postgres_pids, summarize
from .notify_data import REDELIVERY, SIGNATURE_MAX_AGE_S, STORE, TOPUP, Attempt, Delivery, Notifier

REDELIVERY_GAP = 4  # a redelivery comes at least this many × clients deliveries after its first
_CLIENT_MARKS = ("127.0.0.1(", "[local]", "::1(", "autovacuum worker")


def postgres_pids_of(db: str) -> Callable[[], list[int]]:
    """The PostgreSQL processes that work for `db`: its backends (and autovacuum workers), plus the cluster's
    shared background processes (postmaster, WAL writer, checkpointer, background writer). Other sessions' backends
    — other jobs' test databases on the same cluster — are left out, unlike bench/measure.py's postgres_pids, so
    that the PG column of a shared machine stays this run's own."""
    marker = f" {db} "

    def select() -> list[int]:
        pids = []
        for pid in postgres_pids():
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in f"{title} " or not any(m in title for m in _CLIENT_MARKS):
                pids.append(pid)
        return pids

    return select


def build_sequence(
    attempts: list[Attempt], notifier: Notifier, *, share: float, clients: int, rng: random.Random
) -> list[Delivery]:
    """First deliveries in the attempts' (shuffled) order, redeliveries of `share` of them later on; all signed."""
    n = len(attempts)
    keyed: list[tuple[float, Delivery]] = [(float(i), notifier.delivery(a)) for i, a in enumerate(attempts)]
    gap = REDELIVERY_GAP * clients
    for i in rng.sample(range(n), k=round(share * n)):
        keyed.append((rng.uniform(i + gap, n + gap), notifier.delivery(attempts[i], redelivery=True)))
    keyed.sort(key=lambda kv: kv[0])
    return [d for _k, d in keyed]


def redeliveries(attempts: list[Attempt], notifier: Notifier) -> list[Delivery]:
    """Each of these (already notified) events once more, freshly signed."""
    return [notifier.delivery(a, redelivery=True) for a in attempts]


@dataclass
class KindStats:
    kind: str
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float


@dataclass
class NotifyPhase:
    result: PhaseResult
    latencies: dict[str, list[float]] = field(default_factory=dict)  # seconds by kind (store, topup, redelivery)
    sent: int = 0  # deliveries taken from the list (measured or not)
    resigned: int = 0  # deliveries re-signed by a client because their signature had aged (client CPU)
    window_s: float = 0.0


def kind_stats(kind: str, lat: list[float]) -> KindStats:
    s = sorted(lat)
    return KindStats(
        kind=kind,
        requests=len(s),
        p50_ms=1000 * percentile(s, 0.50),
        p95_ms=1000 * percentile(s, 0.95),
        p99_ms=1000 * percentile(s, 0.99),
        max_ms=1000 * s[-1] if s else float("nan"),
        mean_ms=1000 * sum(s) / len(s) if s else float("nan"),
    )


def run_notify(
    name: str,
    port: int,
    path: str,
    sequence: list[Delivery],
    *,
    clients: int,
    warmup: float,
    duration: float | None,
    server: CpuSampler | None,
    db: CpuSampler,
    notifier: Notifier,
    on_progress: Callable[[int], None] | None = None,
) -> NotifyPhase:
    """Fire `sequence` with `clients` threads; count mode when `duration` is None (see the module docstring)."""
    lock = threading.Lock()
    cursor = [0]
    resigned = [0]
    records: list[list[tuple[float, float, int, str]]] = [[] for _ in range(clients)]
    bad: list[str] = []
    start = time.perf_counter()
    t_measure = start + warmup
    t_end = t_measure + duration if duration is not None else float("inf")

    def take() -> Delivery | None:
        with lock:
            if cursor[0] >= len(sequence) or time.perf_counter() >= t_end:
                return None
            d = sequence[cursor[0]]
            cursor[0] += 1
            return d

    def client(idx: int) -> None:
        out = records[idx]
        while (d := take()) is not None:
            if time.time() - d.signed_at > SIGNATURE_MAX_AGE_S:
                notifier.sign(d)
                with lock:
                    resigned[0] += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, d.body, d.headers)
                response = conn.getresponse()
                data, status = response.read(), response.status
            except (OSError, http.client.HTTPException) as exc:
                data, status = repr(exc).encode(), 0
            finally:
                conn.close()
            t1 = time.perf_counter()
            out.append((t0, t1, status, d.kind))
            if not 200 <= status < 300:
                with lock:
                    if len(bad) < 5:
                        bad.append(f"{status} {d.kind} {d.out_trade_no}: {data[:400].decode(errors='replace')}")

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, t_measure - time.perf_counter()))
    a = CpuMark.take(server, db)
    t_a = time.perf_counter()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(timeout=1.0)
        if on_progress is not None:
            on_progress(cursor[0])
    b = CpuMark.take(server, db)
    t_b = time.perf_counter()
    window = t_b - t_a
    measured = [r for rec in records for r in rec if t_measure <= r[1]]
    errors = sum(1 for r in measured if not 200 <= r[2] < 300)
    result = summarize(name, [t1 - t0 for (t0, t1, _s, _k) in measured], window, errors, bad, a, b)
    outside = sum(1 for rec in records for r in rec if r[1] < t_measure and not 200 <= r[2] < 300)
    if outside:
        result.errors += outside
        result.note = f"{outside} of the errors happened during the warm-up"
    by_kind: dict[str, list[float]] = {}
    for t0, t1, _s, kind in measured:
        by_kind.setdefault(kind, []).append(t1 - t0)
    return NotifyPhase(result=result, latencies=by_kind, sent=cursor[0], resigned=resigned[0], window_s=window)


def kinds_table(latencies: dict[str, list[float]]) -> dict[str, KindStats]:
    """Latency by kind: first deliveries (all, pay at store, top-up) and redeliveries."""
    firsts = [x for k in (STORE, TOPUP) for x in latencies.get(k, [])]
    table = {"first": kind_stats("first", firsts)} if firsts else {}
    table.update({k: kind_stats(k, latencies[k]) for k in (STORE, TOPUP, REDELIVERY) if latencies.get(k)})
    return table


def merge_latencies(phases: list[NotifyPhase]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for p in phases:
        for k, v in p.latencies.items():
            out.setdefault(k, []).extend(v)
    return out


def kinds_json(table: dict[str, KindStats]) -> dict[str, Any]:
    return {k: vars(v) for k, v in table.items()}
