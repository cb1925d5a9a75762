"""Crash survival: POS sales survive SIGKILLed gunicorn workers (and master) exactly once.

    .venv/bin/python bench/crash_survival.py                      # 8 clients, 40 s, 5 kills (1 of the master)

Loopback only. A script, not a test: it prints a report and exits 1 on any violation.

1. drops and creates the database `galleria_crash`, migrates it with config.settings.production, seeds the demo
   (--members, default 300) and creates one POS key per client, each at its own merchant (pos_bench.prepare);
2. starts `gunicorn config.wsgi:application --workers 2 --worker-class sync --preload` on a free loopback port;
3. N client threads send signed POST /api/v1/pos/sales, each with a unique pos_sale_id that is also its
   Idempotency-Key. On a connection error, a timeout or a 5xx a client retries THE SAME request (same key, same
   body; a fresh timestamp, nonce and signature) until it gets a 2xx or a 4xx; every 2xx is recorded as a
   confirmed sale with the sale_id of the answer;
4. meanwhile a killer thread SIGKILLs gunicorn's workers --kills times, spaced over the run; --master-kills of
   those kill the whole process group (master and workers) and start gunicorn again on the same port;
5. after the clients stop (each finishes the sale it was retrying): every confirmed pos_sale_id is in the database
   exactly once with the confirmed sale_id; no pos_sale_id twice; no sale of this run that no client saw confirmed
   (a lost answer); no idempotency record left without an answer; `galleria ledger check` exits 0;
6. the report, var/bench/crash-<UTC time>.json; the database is dropped unless --keep.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `galleria` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Options, drop_database, log, pg_url
from bench.measure import METHODS, basket, signed_headers
from bench.reliability import (
    add_common_args,
    ledger_check,
    machine_facts,
    options,
    prepare_database,
    worker_pids,
    write_json,
)
from bench.servers import Gunicorn

DB = "galleria_crash"
PATH = "/api/v1/pos/sales"
APP = "config.wsgi:application"


@dataclass
class Attempts:
    """One client's counters (no locks: each client thread owns its own)."""

    requests: int = 0  # HTTP attempts, first tries and retries
    retries: int = 0
    connection_errors: int = 0
    timeouts: int = 0
    status_5xx: int = 0
    replayed: int = 0  # 2xx answers with Idempotent-Replayed: true
    confirmed: dict[str, int] = field(default_factory=dict)  # pos_sale_id -> sale_id
    retried_sales: int = 0  # sales that needed more than one attempt
    rejected: list[str] = field(default_factory=list)  # 4xx answers: none is expected
    gave_up: list[str] = field(default_factory=list)  # still failing after --give-up seconds
    max_attempts: int = 0


class Server:
    """The current gunicorn; the killer replaces it after killing the master."""

    def __init__(self, env: dict[str, str], opts: Options, logdir: Path) -> None:
        self.env, self.opts, self.logdir = env, opts, logdir
        self.starts = 1
        self.current = Gunicorn(APP, opts, env, logdir, "crash-1")
        self.port = self.current.port

    def restart(self) -> float:
        """Start gunicorn again on the same port; seconds until it answered."""
        t0 = time.monotonic()
        self.current.stop()  # the master is gone: reaps it and stops its CPU sampler
        self.starts += 1
        for attempt in range(20):  # the port can take a moment to be free again
            try:
                self.current = Gunicorn(APP, self.opts, self.env, self.logdir, f"crash-{self.starts}", port=self.port)
                break
            except RuntimeError:
                if attempt == 19:
                    raise
                time.sleep(0.5)
        return time.monotonic() - t0

    def log_tails(self) -> str:
        parts = []
        for path in sorted(self.logdir.glob("gunicorn-crash-*.log")):
            lines = path.read_text(errors="replace").splitlines()
            parts.append(f"--- {path.name} ({len(lines)} lines)\n" + "\n".join(lines[-15:]))
        return "\n".join(parts)


def client(
    idx: int,
    key: tuple[str, str],
    cards: list[str],
    server: Server,
    tag: str,
    stop: threading.Event,
    give_up: float,
    out: Attempts,
    seed: int,
) -> None:
    rng = random.Random(f"{seed}:crash:{idx}")
    key_id, secret = key
    seq = 0
    while not stop.is_set():
        pos_sale_id = f"crash-{tag}-{idx}-{seq}"
        seq += 1
        lines, total = basket(rng)
        payload = {
            "pos_sale_id": pos_sale_id,
            "member": rng.choice(cards),
            "lines": lines,
            "payments": [{"method": rng.choice(METHODS), "amount_fen": total}],
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        deadline = time.monotonic() + give_up
        attempt = 0
        while True:  # the same request until a 2xx or a 4xx, even after `stop`: the sale must be settled
            attempt += 1
            out.requests += 1
            if attempt > 1:
                out.retries += 1
            headers = signed_headers(key_id, secret, PATH, body, pos_sale_id)  # fresh timestamp, nonce, signature
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            status, data, replayed = 0, b"", False
            try:
                conn.request("POST", PATH, body, headers)
                response = conn.getresponse()
                status, data = response.status, response.read()
                replayed = response.getheader("Idempotent-Replayed") == "true"
            except TimeoutError:
                out.timeouts += 1
            except (OSError, http.client.HTTPException):
                out.connection_errors += 1
            finally:
                conn.close()
            if 200 <= status < 300:
                out.confirmed[pos_sale_id] = int(json.loads(data)["sale_id"])
                out.replayed += replayed
                break
            if 400 <= status < 500:
                out.rejected.append(f"{pos_sale_id} attempt {attempt}: {status} {data[:300].decode(errors='replace')}")
                break
            if status >= 500:
                out.status_5xx += 1
            if time.monotonic() > deadline:
                out.gave_up.append(f"{pos_sale_id} after {attempt} attempts")
                break
            time.sleep(min(1.0, 0.05 * attempt))  # brief back-off while the server is down
        out.max_attempts = max(out.max_attempts, attempt)
        if attempt > 1:
            out.retried_sales += 1


def killer(
    server: Server, kills: int, master_kills: int, duration: float, stop: threading.Event
) -> list[dict[str, Any]]:
    """`kills` kills spaced evenly over the run (none in its last sixth); the master ones spread among them."""
    events: list[dict[str, Any]] = []
    spacing = duration / (kills + 1)
    master_at = {round((i + 1) * kills / (master_kills + 1)) for i in range(master_kills)} if master_kills else set()
    t_start = time.monotonic()
    for i in range(1, kills + 1):
        if stop.wait(max(0.0, t_start + i * spacing - time.monotonic())):
            break
        master = server.current.proc.pid
        workers = worker_pids(master)
        at = round(time.monotonic() - t_start, 1)
        if i in master_at:
            os.killpg(master, signal.SIGKILL)  # the process group we started: master and every worker at once
            down = server.restart()
            events.append({"at_s": at, "killed": "master+workers", "pids": [master, *workers],
                           "restart_s": round(down, 2), "new_master": server.current.proc.pid})  # fmt: skip
            log(f"  kill {i}: SIGKILL master {master} + workers {workers}; gunicorn back after {down:.1f} s")
        else:
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            events.append({"at_s": at, "killed": "workers", "pids": workers})
            log(f"  kill {i}: SIGKILL workers {workers} (the master respawns them)")
    return events


def check_database(opts: Options, tag: str, confirmed: dict[str, int]) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(host=opts.pg_host, port=opts.pg_port, user=opts.pg_user, dbname=DB) as conn:
        rows = conn.execute(
            "SELECT pos_sale_id, count(*), min(id), max(id) FROM sales_sale WHERE pos_sale_id LIKE %s"
            " GROUP BY pos_sale_id",
            [f"crash-{tag}-%"],
        ).fetchall()
        pending = conn.execute(
            "SELECT count(*) FROM core_idempotencyrecord WHERE key LIKE %s AND status_code = 0", [f"crash-{tag}-%"]
        ).fetchone()
        records = conn.execute(
            "SELECT count(*) FROM core_idempotencyrecord WHERE key LIKE %s", [f"crash-{tag}-%"]
        ).fetchone()
    in_db = {pos_sale_id: (count, lo, hi) for pos_sale_id, count, lo, hi in rows}
    missing = sorted(p for p in confirmed if p not in in_db)
    mismatched = sorted(
        f"{p}: confirmed sale_id {sid}, database {in_db[p][1]}"
        for p, sid in confirmed.items()
        if p in in_db and in_db[p][1] != sid
    )
    duplicated = sorted(f"{p}: {c} rows" for p, (c, _lo, _hi) in in_db.items() if c > 1)
    unconfirmed = sorted(p for p in in_db if p not in confirmed)
    return {
        "sales_in_db": sum(c for c, _lo, _hi in in_db.values()),
        "distinct_pos_sale_ids_in_db": len(in_db),
        "idempotency_records": records[0] if records else None,
        "idempotency_records_without_answer": pending[0] if pending else None,
        "confirmed_missing_from_db": missing,
        "sale_id_mismatches": mismatched,
        "duplicated_pos_sale_ids": duplicated,
        "in_db_never_confirmed": unconfirmed,
    }


def parse_args(argv: list[str] | None) -> tuple[Options, argparse.Namespace]:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_common_args(p, members=300, clients=8, duration=40.0)
    p.add_argument("--kills", type=int, default=5, help="kills during the run (default %(default)s)")
    p.add_argument("--master-kills", type=int, default=1, help="of those, kills of the master too (default 1)")
    p.add_argument("--give-up", type=float, default=120.0, help="a client gives a sale up after this many s (120)")
    a = p.parse_args(argv)
    if not (1 <= a.clients <= 64 and 5 <= a.duration <= 600 and 0 <= a.master_kills <= a.kills <= 50):
        p.error("out of range: --clients 1..64, --duration 5..600, 0 <= --master-kills <= --kills <= 50")
    opts = options(a)
    return opts, a


def main(argv: list[str] | None = None) -> int:
    opts, args = parse_args(argv)
    started = time.monotonic()
    facts = machine_facts()
    log(f"crash survival on {facts['git']}")
    logdir = Path(tempfile.mkdtemp(prefix="crash-"))
    tag = secrets.token_hex(3)
    per_client = [Attempts() for _ in range(opts.clients)]
    events: list[dict[str, Any]] = []
    checks: dict[str, Any] = {}
    ledger_rc, ledger_out = -1, ""
    server_logs = ""
    load_seconds = 0.0
    try:
        prepared = prepare_database(opts, DB)
        fixture = prepared.fixture
        server = Server(prepared.env, opts, logdir)
        log(f"gunicorn ({opts.workers} sync workers) on 127.0.0.1:{server.port}; {opts.clients} clients for "
            f"{opts.duration:g} s, {args.kills} kills ({args.master_kills} of the master) …")  # fmt: skip
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=client,
                args=(
                    i,
                    fixture.keys[i % len(fixture.keys)],
                    fixture.cards,
                    server,
                    tag,
                    stop,
                    args.give_up,
                    per_client[i],
                    opts.seed,
                ),
                daemon=True,
            )
            for i in range(opts.clients)
        ]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        try:
            events = killer(server, args.kills, args.master_kills, opts.duration, stop)
            time.sleep(max(0.0, t0 + opts.duration - time.monotonic()))
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=args.give_up + 30)
            load_seconds = time.monotonic() - t0
            server_logs = server.log_tails()
            server.current.stop()
        log(f"clients stopped after {load_seconds:.1f} s; checking {DB} …")
        confirmed: dict[str, int] = {}
        for c in per_client:
            confirmed.update(c.confirmed)
        checks = check_database(opts, tag, confirmed)
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

    total = {k: sum(getattr(c, k) for c in per_client)
             for k in ("requests", "retries", "connection_errors", "timeouts", "status_5xx", "replayed",
                       "retried_sales")}  # fmt: skip
    rejected = [r for c in per_client for r in c.rejected]
    gave_up = [g for c in per_client for g in c.gave_up]
    n_confirmed = sum(len(c.confirmed) for c in per_client)
    violations: dict[str, Any] = {
        "confirmed_missing_from_db": checks.get("confirmed_missing_from_db", []),
        "sale_id_mismatches": checks.get("sale_id_mismatches", []),
        "duplicated_pos_sale_ids": checks.get("duplicated_pos_sale_ids", []),
        "in_db_never_confirmed (lost answers)": checks.get("in_db_never_confirmed", []),
        "idempotency records without an answer": checks.get("idempotency_records_without_answer") or 0,
        "4xx answers (none expected)": rejected,
        "sales given up by a client": gave_up,
        "ledger check exit code": 0 if ledger_rc == 0 else ledger_rc,
        "kills performed < --kills": max(0, args.kills - len(events)),
    }
    failed = {k: v for k, v in violations.items() if v}

    print(f"\n=== crash survival: {opts.clients} clients, {opts.workers} sync workers, {load_seconds:.1f} s ===")
    print(facts["git"])
    print(f"kills: {len(events)} ({sum(e['killed'] == 'master+workers' for e in events)} of master + workers)")
    for e in events:
        extra = f", restarted in {e['restart_s']} s" if "restart_s" in e else ""
        print(f"  t={e['at_s']:>5} s  SIGKILL {e['killed']:<15} {e['pids']}{extra}")
    print(f"HTTP attempts: {total['requests']}  (retries {total['retries']}: connection errors "
          f"{total['connection_errors']}, timeouts {total['timeouts']}, 5xx {total['status_5xx']})")  # fmt: skip
    print(f"sales confirmed to clients: {n_confirmed}  (needed a retry: {total['retried_sales']}; answered as an "
          f"idempotent replay: {total['replayed']}; most attempts for one sale: "
          f"{max((c.max_attempts for c in per_client), default=0)})")  # fmt: skip
    if checks:
        print(
            f"sales of this run in the database: {checks['sales_in_db']} rows, "
            f"{checks['distinct_pos_sale_ids_in_db']} distinct pos_sale_ids; "
            f"idempotency records: {checks['idempotency_records']}"
        )
    for name, value in violations.items():
        shown = value if isinstance(value, int) else len(value)
        print(f"  {name:<45} {shown}{'   VIOLATION' if value else ''}")
        if isinstance(value, list):
            for item in value[:5]:
                print(f"      {item}")
    print(f"ledger check: exit {ledger_rc}\n  " + "\n  ".join(ledger_out.splitlines()[-5:]))
    if failed and server_logs.strip():
        print(f"\ngunicorn error logs (tails):\n{server_logs}")

    path = write_json(
        opts.out,
        "crash",
        {
            "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()}
            | {"kills": args.kills, "master_kills": args.master_kills, "give_up": args.give_up},
            "machine": facts,
            "load_seconds": round(load_seconds, 1),
            "kills": events,
            "totals": total
            | {"confirmed": n_confirmed, "max_attempts": max((c.max_attempts for c in per_client), default=0)},
            "database": checks,
            "ledger_check": {"exit_code": ledger_rc, "output": ledger_out},
            "violations": violations,
            "ok": not failed,
            "wall_seconds": round(time.monotonic() - started, 1),
        },
    )
    shutil.rmtree(logdir, ignore_errors=True)
    print(f"\n{'OK: every confirmed sale exactly once' if not failed else 'FAILED: ' + ', '.join(failed)}")
    print(f"wrote {path} ({time.monotonic() - started:.0f} s wall)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
