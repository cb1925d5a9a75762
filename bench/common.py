"""Shared by the benchmark modules: options, paths, logging and the PostgreSQL admin helpers (loopback only)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
DB_NAME = "galleria_bench"
PGBENCH_DB = "galleria_bench_pgbench"
NCPU = os.cpu_count() or 1


@dataclass(frozen=True)
class Options:
    members: int
    clients: int
    duration: float
    warmup: float
    workers: int
    pg_host: str
    pg_port: int
    pg_user: str
    pgbench_scale: int
    skip_pgbench: bool
    tiers: bool
    prime: bool
    keep: bool
    profile: bool
    profile_duration: float
    wait_quiet: float
    settings: str
    out: Path
    seed: int
    rounds: int = 1  # >1: minimal, quote and sale interleaved in rounds against both servers (drift-proof ratios)
    capture_only: bool = False  # no load: the statements of the captured requests only


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pg_url(opts: Options, db: str) -> str:
    return f"postgres://{opts.pg_user}@{opts.pg_host}:{opts.pg_port}/{db}"


def admin_sql(opts: Options, *statements: str) -> None:
    import psycopg

    with psycopg.connect(
        host=opts.pg_host, port=opts.pg_port, user=opts.pg_user, dbname="postgres", autocommit=True
    ) as conn:
        for statement in statements:
            conn.execute(statement)


def recreate_database(opts: Options, name: str) -> None:
    admin_sql(opts, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def drop_database(opts: Options, name: str) -> None:
    admin_sql(opts, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_facts(opts: Options) -> dict[str, str]:
    import psycopg

    names = ("server_version", "shared_buffers", "synchronous_commit", "fsync", "max_connections", "wal_level")
    with psycopg.connect(host=opts.pg_host, port=opts.pg_port, user=opts.pg_user, dbname="postgres") as conn:
        return {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]
