"""The load generator and the CPU accounting.

The client is one process of lightweight threads, one request in flight each (closed loop): `http.client`, a JSON
body and an HMAC signature per request. gunicorn's sync workers close the connection after every response, so each
request opens a new loopback connection (what a sync-worker deployment behind no proxy costs).

CPU is read, not guessed: the load generator's own CPU from getrusage, gunicorn's (master + workers) and every
PostgreSQL process's from /proc/<pid>/stat, the whole machine's from /proc/stat. What the machine spent beyond those
three is "other" — another job on the same two cores — and is reported, because it makes a run unrepresentative.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import math
import os
import random
import resource
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .common import NCPU, Options

CLK_TCK = os.sysconf("SC_CLK_TCK")
BASELINE_ROWS = 2000  # rows of bench_counter, the baseline endpoint's table

# ---------------------------------------------------------------- CPU accounting (/proc, getrusage)


def proc_cpu(pid: int) -> float | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def proc_tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                raw = (entry / "stat").read_text()
                parents[int(entry.name)] = int(raw[raw.rindex(")") + 2 :].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier]
        tree.extend(frontier)
    return tree


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


def machine_jiffies() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    parts = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def machine_busy_now(seconds: float = 1.0) -> float:
    busy0, total0 = machine_jiffies()
    time.sleep(seconds)
    busy1, total1 = machine_jiffies()
    return (busy1 - busy0) / max(1.0, total1 - total0)


class CpuSampler:
    """Polls the CPU time of a changing set of processes; a process that exits keeps its last reading."""

    def __init__(self, select: Callable[[], list[int]], interval: float = 0.5) -> None:
        self.select, self.interval = select, interval
        self.last: dict[int, float] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        for pid in self.select():
            cpu = proc_cpu(pid)
            if cpu is not None:
                with self.lock:
                    self.last[pid] = cpu

    def _run(self) -> None:
        while not self.stop.wait(self.interval):
            self._poll()

    def mark(self) -> float:
        self._poll()
        with self.lock:
            return sum(self.last.values())

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


@dataclass
class CpuMark:
    client: float  # seconds of CPU: this process (or, with children=True, its finished children: pgbench)
    server: float  # gunicorn master + workers
    db: float  # every postgres process
    busy: float  # machine, jiffies
    total: float

    @staticmethod
    def take(server: CpuSampler | None, db: CpuSampler, children: bool = False) -> CpuMark:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
        busy, total = machine_jiffies()
        return CpuMark(
            client=usage.ru_utime + usage.ru_stime,
            server=server.mark() if server else 0.0,
            db=db.mark(),
            busy=busy,
            total=total,
        )


# ---------------------------------------------------------------- results


@dataclass
class PhaseResult:
    name: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    error_samples: list[str] = field(default_factory=list)
    server_cpu_ms: float | None = None  # gunicorn's CPU per request
    db_cpu_ms: float | None = None  # all postgres processes' CPU per request
    client_cpu_ms: float | None = None  # the load generator's CPU per request
    client_share: float | None = None  # the load generator's share of the machine's CPU capacity
    machine_busy: float | None = None  # the whole machine, 0..1
    other_share: float | None = None  # CPU used by none of the above (another job on the machine), 0..1
    note: str = ""
    latencies: list[float] = field(default_factory=list, repr=False)  # seconds, sorted (not written to the JSON)

    @property
    def cpu_ms(self) -> float | None:
        """All the CPU one request costs: server + PostgreSQL + client (pgbench: PostgreSQL + pgbench)."""
        parts = [x for x in (self.server_cpu_ms, self.db_cpu_ms, self.client_cpu_ms) if x is not None]
        return sum(parts) if parts and not any(math.isnan(x) for x in parts) else None

    @property
    def capacity_rps(self) -> float | None:
        """Requests per second if this stack had every core to itself: cores / CPU per request. Unlike req/s it
        hardly moves when another job shares the machine, so ratios of it compare runs on a busy machine."""
        cpu = self.cpu_ms
        return NCPU * 1000 / cpu if cpu else None


def phase_json(p: PhaseResult) -> dict[str, Any]:
    """A phase for the JSON file: its fields (without the raw latencies) and the derived CPU figures."""
    data = {k: v for k, v in asdict(p).items() if k != "latencies"}
    return {**data, "cpu_ms": p.cpu_ms, "capacity_rps": p.capacity_rps}


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]


def summarize(
    name: str, latencies: list[float], seconds: float, errors: int, samples: list[str], a: CpuMark, b: CpuMark
) -> PhaseResult:
    lat = sorted(latencies)
    n = len(lat)

    def per(delta: float) -> float:
        return 1000 * delta / n if n else math.nan

    busy = (b.busy - a.busy) / CLK_TCK
    ours = (b.client - a.client) + (b.server - a.server) + (b.db - a.db)
    return PhaseResult(
        name=name,
        requests=n,
        seconds=seconds,
        rps=n / seconds,
        p50_ms=1000 * percentile(lat, 0.50),
        p90_ms=1000 * percentile(lat, 0.90),
        p99_ms=1000 * percentile(lat, 0.99),
        max_ms=1000 * lat[-1] if lat else math.nan,
        errors=errors,
        error_samples=samples,
        server_cpu_ms=per(b.server - a.server),
        db_cpu_ms=per(b.db - a.db),
        client_cpu_ms=per(b.client - a.client),
        client_share=(b.client - a.client) / (seconds * NCPU),
        machine_busy=(b.busy - a.busy) / max(1.0, b.total - a.total),
        other_share=max(0.0, busy - ours) / (seconds * NCPU),
        latencies=lat,
    )


def merge(name: str, parts: list[PhaseResult]) -> PhaseResult:
    """One phase measured in several windows (rounds) as one: requests and seconds add up, percentiles come from
    all the latencies, CPU per request is weighted by requests and machine shares by seconds."""
    lat = sorted(x for p in parts for x in p.latencies)
    n, seconds = len(lat), sum(p.seconds for p in parts)

    def per_request(attr: str) -> float | None:
        values = [(getattr(p, attr), p.requests) for p in parts if getattr(p, attr) is not None]
        total = sum(r for _v, r in values)
        return sum(v * r for v, r in values) / total if total else None

    def per_second(attr: str) -> float | None:
        values = [(getattr(p, attr), p.seconds) for p in parts if getattr(p, attr) is not None]
        total = sum(s for _v, s in values)
        return sum(v * s for v, s in values) / total if total else None

    return PhaseResult(
        name=name,
        requests=n,
        seconds=seconds,
        rps=n / seconds if seconds else math.nan,
        p50_ms=1000 * percentile(lat, 0.50),
        p90_ms=1000 * percentile(lat, 0.90),
        p99_ms=1000 * percentile(lat, 0.99),
        max_ms=1000 * lat[-1] if lat else math.nan,
        errors=sum(p.errors for p in parts),
        error_samples=[e for p in parts for e in p.error_samples][:5],
        server_cpu_ms=per_request("server_cpu_ms"),
        db_cpu_ms=per_request("db_cpu_ms"),
        client_cpu_ms=per_request("client_cpu_ms"),
        client_share=per_second("client_share"),
        machine_busy=per_second("machine_busy"),
        other_share=per_second("other_share"),
        note="; ".join(p.note for p in parts if p.note),
        latencies=lat,
    )


# ---------------------------------------------------------------- requests

Request = tuple[str, bytes, dict[str, str]]  # path, body, headers (always a POST)
Factory = Callable[[int, int, random.Random], Request]


def signed_headers(key_id: str, secret: str, path: str, body: bytes, idempotency_key: str) -> dict[str, str]:
    """docs/api.md, written out as an integrator would: HMAC-SHA256 over five lines, a fresh nonce every time."""
    ts, nonce = str(int(time.time())), uuid.uuid4().hex
    to_sign = "\n".join(["POST", path, ts, nonce, hashlib.sha256(body).hexdigest()])
    return {
        "Content-Type": "application/json",
        "X-Galleria-Key": key_id,
        "X-Galleria-Timestamp": ts,
        "X-Galleria-Nonce": nonce,
        "X-Galleria-Signature": hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest(),
        "Idempotency-Key": idempotency_key,
    }


SKUS = [(f"SKU{i:03d}", name) for i, name in enumerate(["拿铁", "多肉葡萄", "T恤", "运动鞋", "面包", "口红"] * 20)]
METHODS = ("wechat", "alipay", "card", "cash")


def basket(rng: random.Random) -> tuple[list[dict[str, Any]], int]:
    """1–3 lines, 1–3 items each, ¥5–¥300 a piece."""
    lines, total = [], 0
    for _ in range(rng.randint(1, 3)):
        sku, name = rng.choice(SKUS)
        qty, unit = rng.randint(1, 3), rng.randrange(500, 30_000, 100)
        lines.append({"sku": sku, "name": name, "quantity": qty, "unit_price_fen": unit, "amount_fen": qty * unit})
        total += qty * unit
    return lines, total


class PosLoad:
    """Request factories. Client i uses POS key i (its own terminal at its own merchant)."""

    def __init__(self, keys: list[tuple[str, str]], cards: list[str]) -> None:
        self.keys, self.cards = keys, cards
        self.tag = secrets.token_hex(3)

    def sale(self, phase: str) -> Factory:
        path = "/api/v1/pos/sales"

        def make(client: int, seq: int, rng: random.Random) -> Request:
            key_id, secret = self.keys[client % len(self.keys)]
            lines, total = basket(rng)
            pos_sale_id = f"{phase}-{self.tag}-{client}-{seq}"  # unique; also the Idempotency-Key
            payload = {
                "pos_sale_id": pos_sale_id,
                "member": rng.choice(self.cards),
                "lines": lines,
                "payments": [{"method": rng.choice(METHODS), "amount_fen": total}],
            }
            body = json.dumps(payload, ensure_ascii=False).encode()
            return path, body, signed_headers(key_id, secret, path, body, pos_sale_id)

        return make

    def quote(self) -> Factory:
        path = "/api/v1/pos/quote"

        def make(client: int, seq: int, rng: random.Random) -> Request:
            key_id, secret = self.keys[client % len(self.keys)]
            lines, _total = basket(rng)
            body = json.dumps({"member": rng.choice(self.cards), "lines": lines}, ensure_ascii=False).encode()
            return path, body, signed_headers(key_id, secret, path, body, uuid.uuid4().hex)

        return make

    def minimal(self) -> Factory:
        """The baseline endpoint, with the same client work (JSON body, signed headers) as the POS calls."""
        path = "/bench/write"

        def make(client: int, seq: int, rng: random.Random) -> Request:
            key_id, secret = self.keys[client % len(self.keys)]
            body = json.dumps({"counter": rng.randint(1, BASELINE_ROWS), "amount": rng.randint(1, 1000)}).encode()
            return path, body, signed_headers(key_id, secret, path, body, uuid.uuid4().hex)

        return make


def run_load(
    name: str,
    port: int,
    factory: Factory,
    opts: Options,
    server: CpuSampler | None,
    db: CpuSampler,
    *,
    duration: float | None = None,
    warmup: float | None = None,
) -> PhaseResult:
    """`clients` threads for warm-up + duration; what completes after the warm-up is measured."""
    duration = opts.duration if duration is None else duration
    warmup = opts.warmup if warmup is None else warmup
    start = time.perf_counter()
    t_measure, t_end = start + warmup, start + warmup + duration
    records: list[list[tuple[float, float, int]]] = [[] for _ in range(opts.clients)]
    bad: list[str] = []
    bad_lock = threading.Lock()

    def client(idx: int) -> None:
        rng = random.Random(f"{opts.seed}:{name}:{idx}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        out = records[idx]
        seq = 0
        while time.perf_counter() < t_end:
            path, body, headers = factory(idx, seq, rng)
            seq += 1
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                data, status = response.read(), response.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                data, status = repr(exc).encode(), 0
            t1 = time.perf_counter()
            out.append((t0, t1, status))
            if not 200 <= status < 300:
                with bad_lock:
                    if len(bad) < 5:
                        bad.append(f"{status} {path}: {data[:400].decode(errors='replace')}")
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(opts.clients)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, t_measure - time.perf_counter()))
    a = CpuMark.take(server, db)
    time.sleep(max(0.0, t_end - time.perf_counter()))
    b = CpuMark.take(server, db)
    for t in threads:
        t.join(timeout=120)
    measured = [(t0, t1, s) for rec in records for (t0, t1, s) in rec if t_measure <= t1 <= t_end]
    errors = sum(1 for (_t0, _t1, s) in measured if not 200 <= s < 300)
    result = summarize(name, [t1 - t0 for (t0, t1, _s) in measured], duration, errors, bad, a, b)
    outside = sum(1 for rec in records for (_t0, t1, s) in rec if not 200 <= s < 300 and not t_measure <= t1 <= t_end)
    if outside:  # warm-up failures are not in the window but are still failures
        result.errors += outside
        result.note = f"{outside} of the errors happened during the warm-up"
    return result
