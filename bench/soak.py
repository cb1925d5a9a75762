"""Soak: a bounded run of mixed POS and member-app traffic against gunicorn on PostgreSQL (loopback only).

    .venv/bin/python bench/soak.py                                 # 8 clients, 60 s

1. drops and creates the database `galleria_soak`, migrates it with config.settings.production, seeds the demo
   (--members, default 300), one POS key per client at its own merchant (pos_bench.prepare), and a member-app
   session for --app-members members, created in the database as SMS sign-in leaves it (`member_id` in a
   database session) and sent as the session cookie;
2. starts `gunicorn config.wsgi:application --workers 2 --worker-class sync --preload`;
3. --warmup seconds of the mix (not counted), then --duration seconds measured, C client threads in a closed
   loop, each request one of (weights in MIX): a signed member lookup, a signed quote, a signed sale, a signed
   refund of one of the client's earlier sales (half of them partial: one item of line 1, the sale kept for a later
   refund of the rest), or a GET of a member-app page as a signed-in member;
4. per kind: count, req/s, p50/p99 latency, errors (any non-2xx is an error: no other answer is expected — a 302
   from the app would be a sign-in redirect); the RSS of every gunicorn worker after start, after the warm-up,
   every 10 s and at the end; `galleria ledger check` on the database;
5. exit 1 on any error, a worker that was replaced, or a failed ledger check; var/bench/soak-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `galleria` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import drop_database, log, pg_url
from bench.measure import METHODS, basket, percentile, signed_headers
from bench.reliability import (
    add_common_args,
    ledger_check,
    machine_facts,
    options,
    prepare_database,
    rss_kib,
    worker_pids,
    write_json,
)
from bench.servers import Gunicorn

DB = "galleria_soak"
MIX = {"lookup": 20, "quote": 20, "sale": 25, "refund": 10, "app": 25}
APP_PAGES = (
    "/app/",
    "/app/code/",
    "/app/points/",
    "/app/tier/",
    "/app/wallet/",
    "/app/purchases/",
    "/app/coupons/",
    "/app/coupons/centre/",
    "/app/profile/",
)


def member_sessions(count: int) -> tuple[str, list[str]]:
    """Database sessions of `count` active members, as the app's SMS sign-in leaves them: (cookie name, keys)."""
    from importlib import import_module

    from django.conf import settings
    from django.db import connection

    from galleria.interfaces.app.views import SESSION_MEMBER
    from galleria.members.models import Member, MemberStatus

    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for pk in Member.objects.filter(status=MemberStatus.ACTIVE).order_by("pk").values_list("pk", flat=True)[:count]:
        session = store()
        session[SESSION_MEMBER] = pk
        session.create()
        keys.append(str(session.session_key))
    connection.close()
    return settings.SESSION_COOKIE_NAME, keys


@dataclass
class ClientLog:
    records: list[tuple[str, float, float, int]] = field(default_factory=list)  # kind, start, end, status
    samples: list[str] = field(default_factory=list)  # first error bodies


class Mix:
    def __init__(
        self, port: int, keys: list[tuple[str, str]], cards: list[str], cookie: str, sessions: list[str]
    ) -> None:
        self.port, self.keys, self.cards, self.cookie, self.sessions = port, keys, cards, cookie, sessions
        self.tag = secrets.token_hex(3)

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body or None, headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            return 0, repr(exc).encode()
        finally:
            conn.close()

    def client(self, idx: int, seed: int, t_end: float, out: ClientLog) -> None:
        from galleria.testing_pos import PosSigner

        rng = random.Random(f"{seed}:soak:{idx}")
        key_id, secret = self.keys[idx % len(self.keys)]
        signer = PosSigner(key_id, secret)
        sold: list[tuple[str, int]] = []  # this client's sales not fully refunded yet, with line 1's quantity left
        seq = 0
        kinds, weights = list(MIX), list(MIX.values())
        while time.perf_counter() < t_end:
            kind = rng.choices(kinds, weights)[0]
            if kind == "refund" and not sold:
                kind = "sale"
            seq += 1
            sale_id = ""
            if kind == "lookup":
                path = f"/api/v1/pos/members/lookup?code={rng.choice(self.cards)}"
                method, body, headers = "GET", b"", signer.headers("GET", path, b"")
            elif kind == "app":
                path = rng.choice(APP_PAGES)
                method, body = "GET", b""
                headers = {"Cookie": f"{self.cookie}={rng.choice(self.sessions)}"}
            elif kind == "refund":
                # half of the refunds give back one item of line 1 (the sale stays for a later refund), the others
                # refund whatever is left of the sale
                target, left = sold.pop(rng.randrange(len(sold)))
                path = f"/api/v1/pos/sales/{target}/refunds"
                refund_id = f"r{seq}-{target}"
                lines_back: list[dict[str, int]] | None = None
                if left >= 2 and rng.random() < 0.5:
                    lines_back = [{"line_no": 1, "quantity": 1}]
                    sold.append((target, left - 1))
                body = json.dumps({"pos_refund_id": refund_id, "lines": lines_back}).encode()
                method, headers = "POST", signed_headers(key_id, secret, path, body, refund_id)
            else:
                lines, total = basket(rng)
                payload: dict[str, Any] = {"member": rng.choice(self.cards), "lines": lines}
                if kind == "quote":
                    path = "/api/v1/pos/quote"
                    idem = f"q-{self.tag}-{idx}-{seq}"
                else:
                    path = "/api/v1/pos/sales"
                    sale_id = idem = f"soak-{self.tag}-{idx}-{seq}"
                    payload |= {
                        "pos_sale_id": sale_id,
                        "payments": [{"method": rng.choice(METHODS), "amount_fen": total}],
                    }
                body = json.dumps(payload, ensure_ascii=False).encode()
                method, headers = "POST", signed_headers(key_id, secret, path, body, idem)
            t0 = time.perf_counter()
            status, data = self.request(method, path, body, headers)
            t1 = time.perf_counter()
            out.records.append((kind, t0, t1, status))
            if 200 <= status < 300:
                if sale_id:
                    sold.append((sale_id, lines[0]["quantity"]))
            elif len(out.samples) < 5:
                out.samples.append(f"{kind} {status} {method} {path}: {data[:300].decode(errors='replace')}")


def rss_snapshot(master: int) -> dict[int, int | None]:
    return {pid: rss_kib(pid) for pid in worker_pids(master)}


def parse_args(argv: list[str] | None) -> tuple[Any, argparse.Namespace]:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_common_args(p, members=300, clients=8, duration=60.0)
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of the mix before measuring (default 5)")
    p.add_argument("--app-members", type=int, default=100, help="members signed in to the app (default 100)")
    a = p.parse_args(argv)
    if not (1 <= a.clients <= 64 and 5 <= a.duration <= 3600 and 0 <= a.warmup <= 120):
        p.error("out of range: --clients 1..64, --duration 5..3600, --warmup 0..120")
    opts = options(a)
    return opts, a


def main(argv: list[str] | None = None) -> int:
    opts, args = parse_args(argv)
    started = time.monotonic()
    facts = machine_facts()
    log(f"soak on {facts['git']}")
    logdir = Path(tempfile.mkdtemp(prefix="soak-"))
    logs = [ClientLog() for _ in range(opts.clients)]
    rss: list[dict[str, Any]] = []
    ledger_rc, ledger_out, server_log = -1, "", ""
    t_measure = t_end = 0.0
    try:
        prepared = prepare_database(opts, DB)
        cookie, sessions = member_sessions(args.app_members)
        log(f"  {len(sessions)} member-app sessions")
        server = Gunicorn("config.wsgi:application", opts, prepared.env, logdir, "soak")
        try:
            master = server.proc.pid
            rss.append({"at": "after start", "t_s": 0.0, "workers_kib": rss_snapshot(master)})
            mix = Mix(server.port, prepared.fixture.keys, prepared.fixture.cards, cookie, sessions)
            log(f"gunicorn ({opts.workers} sync workers) on 127.0.0.1:{server.port}; {opts.clients} clients, "
                f"{args.warmup:g} s warm-up + {opts.duration:g} s; mix {MIX} …")  # fmt: skip
            t0 = time.perf_counter()
            t_measure, t_end = t0 + args.warmup, t0 + args.warmup + opts.duration
            threads = [
                threading.Thread(target=mix.client, args=(i, opts.seed, t_end, logs[i]), daemon=True)
                for i in range(opts.clients)
            ]
            for t in threads:
                t.start()
            time.sleep(max(0.0, t_measure - time.perf_counter()))
            rss.append({"at": "after warm-up", "t_s": 0.0, "workers_kib": rss_snapshot(master)})
            while time.perf_counter() + 10 < t_end:
                time.sleep(10)
                rss.append({"at": "during", "t_s": round(time.perf_counter() - t_measure, 1),
                            "workers_kib": rss_snapshot(master)})  # fmt: skip
            for t in threads:
                t.join(timeout=120)
            rss.append({"at": "end", "t_s": round(time.perf_counter() - t_measure, 1),
                        "workers_kib": rss_snapshot(master)})  # fmt: skip
            server_log = server.log_tail()
        finally:
            server.stop()
        ledger_rc, ledger_out = ledger_check(prepared.env)
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if opts.keep:
            log(f"kept {pg_url(opts, DB)}")
        else:
            with contextlib.suppress(Exception):
                drop_database(opts, DB)

    records = [r for c in logs for r in c.records]
    measured = [r for r in records if t_measure <= r[2] <= t_end]
    warmup_errors = sum(1 for r in records if not 200 <= r[3] < 300 and not t_measure <= r[2] <= t_end)
    kinds: dict[str, dict[str, Any]] = {}
    for kind in [*MIX, "all"]:
        rows = [r for r in measured if kind in (r[0], "all")]
        lat = sorted(t1 - t0 for _k, t0, t1, _s in rows)
        statuses: dict[str, int] = {}
        for r in rows:
            statuses[str(r[3])] = statuses.get(str(r[3]), 0) + 1
        kinds[kind] = {
            "count": len(rows),
            "rps": len(rows) / opts.duration,
            "p50_ms": 1000 * percentile(lat, 0.50),
            "p99_ms": 1000 * percentile(lat, 0.99),
            "max_ms": 1000 * lat[-1] if lat else None,
            "errors": sum(1 for r in rows if not 200 <= r[3] < 300),
            "statuses": statuses,
        }
    first, warm, last = rss[0]["workers_kib"], rss[1]["workers_kib"] if len(rss) > 1 else {}, rss[-1]["workers_kib"]
    replaced = sorted(set(first) ^ set(last))
    errors = kinds["all"]["errors"] + warmup_errors
    samples = [s for c in logs for s in c.samples]

    print(f"\n=== soak: {opts.clients} clients, {opts.workers} sync workers, {opts.duration:g} s measured "
          f"(+{args.warmup:g} s warm-up), {opts.members} members ===\n{facts['git']}\n")  # fmt: skip
    print(f"{'kind':<8}{'count':>8}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}  statuses")
    for kind, k in kinds.items():
        print(f"{kind:<8}{k['count']:>8}{k['rps']:>8.1f}{k['p50_ms']:>9.1f}{k['p99_ms']:>9.1f}"
              f"{(k['max_ms'] or 0):>9.1f}{k['errors']:>8}  {k['statuses']}")  # fmt: skip
    if warmup_errors:
        print(f"errors during the warm-up: {warmup_errors}")
    print("\ngunicorn worker RSS (MiB): after start -> after warm-up -> end (growth over the measured window)")
    for pid in sorted(set(first) | set(last)):
        a, b, c = first.get(pid), warm.get(pid), last.get(pid)

        def mib(v: int | None) -> str:
            return "gone" if v is None else f"{v / 1024:.1f}"

        growth = f"{(c - b) / 1024:+.1f}" if b is not None and c is not None else "—"
        print(f"  worker {pid}: {mib(a)} -> {mib(b)} -> {mib(c)}  ({growth})")
    if replaced:
        print(f"  WORKERS REPLACED during the run: {replaced}")
    print(f"ledger check: exit {ledger_rc}: {' / '.join(ledger_out.splitlines()[-2:])}")
    for s in samples[:10]:
        print(f"  error: {s}")
    if (errors or replaced) and server_log.strip():
        print(f"\ngunicorn error log (tail):\n{server_log}")

    ok = not errors and not replaced and ledger_rc == 0
    path = write_json(
        opts.out,
        "soak",
        {
            "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()}
            | {"warmup": args.warmup, "app_members": args.app_members, "mix": MIX, "app_pages": APP_PAGES},
            "machine": facts,
            "kinds": kinds,
            "warmup_errors": warmup_errors,
            "error_samples": samples,
            "rss": rss,
            "workers_replaced": replaced,
            "ledger_check": {"exit_code": ledger_rc, "output": ledger_out},
            "ok": ok,
            "wall_seconds": round(time.monotonic() - started, 1),
        },
    )
    shutil.rmtree(logdir, ignore_errors=True)
    print(f"\n{'OK' if ok else 'FAILED'}; wrote {path} ({time.monotonic() - started:.0f} s wall)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
