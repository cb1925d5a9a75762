"""Shared by the reliability scripts (crash_survival.py, soak.py): the fresh database, gunicorn's worker processes,
`galleria ledger check`, the JSON report. The database itself is prepared by pos_bench.prepare (same seed, tier
ladder, established members, one POS key per client at its own merchant)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import LOOPBACK, NCPU, ROOT, Options, log, recreate_database
from bench.measure import proc_tree
from bench.pos_bench import SETTINGS_ENV, Fixture, git_state, prepare, server_env


def options(a: Any) -> Options:
    """The run's options from the arguments `add_common_args` defined (loopback PostgreSQL only)."""
    if a.pg_host not in LOOPBACK:
        raise SystemExit("loopback only (--pg-host 127.0.0.1)")
    return Options(
        members=a.members, clients=a.clients, duration=a.duration, warmup=0.0, workers=a.workers, pg_host=a.pg_host,
        pg_port=a.pg_port, pg_user=a.pg_user, pgbench_scale=1, skip_pgbench=True, tiers=True, prime=True, keep=a.keep,
        profile=False, profile_duration=0.0, wait_quiet=0.0, settings="config.settings.production", out=a.out,
        seed=a.seed,
    )  # fmt: skip


def add_common_args(p: Any, *, members: int, clients: int, duration: float) -> None:
    p.add_argument("--members", type=int, default=members, help="members to seed (default %(default)s)")
    p.add_argument("--clients", type=int, default=clients, help="client threads (default %(default)s)")
    p.add_argument("--duration", type=float, default=duration, help="seconds of load (default %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default %(default)s)")
    p.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    p.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--seed", type=int, default=7, help="random seed of the data and the load (default 7)")
    p.add_argument("--out", type=Path, default=ROOT / "var" / "bench", help="where the JSON goes (var/bench)")


@dataclass(frozen=True)
class Prepared:
    env: dict[str, str]
    fixture: Fixture


def prepare_database(opts: Options, db: str) -> Prepared:
    """Drop and create `db`, migrate it with production settings, seed, keys — in this process (django.setup())."""
    env = server_env(opts, db)
    os.environ.update({k: env[k] for k in SETTINGS_ENV})
    recreate_database(opts, db)
    log(f"{db}: migrate, seed {opts.members} members, tier ladder, {opts.clients} POS keys …")
    fixture = prepare(opts)
    log(f"  migrated in {fixture.migrate_seconds:.1f} s, seeded in {fixture.seed_seconds:.1f} s")
    return Prepared(env=env, fixture=fixture)


def worker_pids(master: int) -> list[int]:
    return [pid for pid in proc_tree(master) if pid != master]


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def ledger_check(env: dict[str, str]) -> tuple[int, str]:
    """`galleria ledger check` against the run's database, as an operator runs it: exit code and output."""
    done = subprocess.run(
        [sys.executable, "-m", "galleria", "ledger", "check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return done.returncode, (done.stdout + done.stderr).strip()


def machine_facts() -> dict[str, Any]:
    return {"nproc": NCPU, "python": sys.version.split()[0], "git": git_state()}


def write_json(out: Path, prefix: str, payload: dict[str, Any]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"{prefix}-{stamp}.json"
    path.write_text(json.dumps({"when": stamp, **payload}, ensure_ascii=False, indent=1, default=str))
    return path
