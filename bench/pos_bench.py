"""POS API benchmark: signed quotes and sales through gunicorn + production settings, against baselines measured in
the same run on the same PostgreSQL.

    .venv/bin/python bench/pos_bench.py --members 2000 --clients 16 --duration 20

Loopback only; every phase is bounded by --warmup + --duration (about two minutes with the defaults):

1. drops and creates the database `galleria_bench`, migrates it with config.settings.production (CONN_MAX_AGE=600,
   DEBUG off, SECURE_SSL_REDIRECT off for loopback, throw-away SECRET_KEY and GALLERIA_MEMBER_CODE_KEY), seeds N
   members with galleria.demo.seed.seed_demo, gives the group the default tier ladder (a loyalty mall has tiers;
   --no-tiers skips it), gives every member the points account and entry-tier row an established member has
   (--cold-members skips that, so that each member's first sale creates them) and creates one POS terminal key per
   client, each at a different merchant (pos_key_create): sixteen tills of sixteen shops;
2. baseline (a): pgbench TPC-B on `galleria_bench_pgbench` (`-i -s 10`, then `-c <clients> -j <cores>`);
3. baseline (b): bench/baseline, a one-view Django app on the same settings, middleware and gunicorn command that in
   one transaction locks a random row of a 2,000-row table, updates it and inserts a row: the floor cost of any
   write through this stack;
4. the POS API (config.wsgi:application) under `gunicorn --workers <cores> --worker-class sync --preload` with no
   access log: a quote phase, then a sale phase, every request signed as docs/api.md says with a fresh nonce; a
   sale carries a unique pos_sale_id (also its Idempotency-Key), a random member card and 1–3 lines;
5. the SQL of one quote, one first sale of a new member and one repeat sale, captured in process
   (django.test.Client + CaptureQueriesContext) and printed grouped, with the product code behind each statement;
6. the table, the ratios against the targets, the JSON in var/bench/; then gunicorn is stopped and the bench
   databases dropped (--keep keeps `galleria_bench`).

The client shares the two cores with the server, so its CPU is measured and shown; so is the CPU of anything else
running on the machine ("other"), which makes a run unrepresentative — the script waits up to --wait-quiet seconds
for a quiet machine before it starts and flags the phases another job disturbed.

--profile runs py-spy (if installed in the venv) on the workers during an extra, unmeasured sale phase.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `galleria` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DB_NAME,
    LOOPBACK,
    NCPU,
    PGBENCH_DB,
    ROOT,
    Options,
    drop_database,
    log,
    pg_facts,
    pg_url,
    recreate_database,
)
from bench.measure import (
    BASELINE_ROWS,
    CpuSampler,
    PhaseResult,
    PosLoad,
    machine_busy_now,
    merge,
    phase_json,
    postgres_pids,
    run_load,
)
from bench.profiling import print_profile, run_profile
from bench.servers import gunicorn, run_pgbench
from bench.sqlcapture import capture_queries, print_queries

TARGETS = {"sale_vs_minimal": 0.5, "sale_p99_ms": 100.0, "quote_p99_ms": 50.0}
QUIET = 0.10  # the machine counts as quiet below 10 % busy
DISTURBED = 0.05  # a phase is flagged when other processes used more than 5 % of the machine


def parse_args(argv: list[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--members", type=int, default=2000, help="members to seed (default %(default)s)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients (default %(default)s)")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds per phase (default %(default)s)")
    p.add_argument("--warmup", type=float, default=3.0, help="discarded seconds before each phase (default 3)")
    p.add_argument("--workers", type=int, default=NCPU, help="gunicorn sync workers (default: cores, %(default)s)")
    p.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    p.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    p.add_argument("--pgbench-scale", type=int, default=10, help="pgbench -i -s (default %(default)s)")
    p.add_argument("--skip-pgbench", action="store_true", help="skip the pgbench baseline")
    p.add_argument("--no-tiers", dest="tiers", action="store_false", help="no tier ladder (a bare group)")
    p.add_argument(
        "--cold-members",
        dest="prime",
        action="store_false",
        help="members start without a points account or tier row (every first sale creates them)",
    )
    p.add_argument("--keep", action="store_true", help=f"keep the database {DB_NAME} afterwards")
    p.add_argument("--profile", action="store_true", help="py-spy the workers during an extra sale phase")
    p.add_argument("--profile-duration", type=float, default=10.0, help="seconds of the profiled phase (10)")
    p.add_argument(
        "--settings",
        default="config.settings.production",
        help="settings module of the servers (a variant layered on production, e.g. bench.alt_settings.server_binding)",
    )
    p.add_argument("--wait-quiet", type=float, default=60.0, help="wait up to this long for an idle machine (60)")
    p.add_argument("--out", type=Path, default=ROOT / "var" / "bench", help="where the JSON goes (var/bench)")
    p.add_argument("--seed", type=int, default=7, help="random seed of the data and the load (default 7)")
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run minimal, quote and sale N times in turn against both servers, --duration each (ratios that a drift"
        " of the shared host's speed cannot bias; default 1: one phase after the other)",
    )
    p.add_argument(
        "--capture-only",
        action="store_true",
        help="no load: prepare the database and print the SQL of the captured requests (seconds, for before/after)",
    )
    a = p.parse_args(argv)
    if a.pg_host not in LOOPBACK:
        p.error("the benchmark runs on loopback only (--pg-host 127.0.0.1)")
    if not (1 <= a.clients <= 256 and 1 <= a.workers <= 64 and 0 < a.duration <= 600 and 0 <= a.warmup <= 60):
        p.error("out of range: --clients 1..256, --workers 1..64, --duration 0..600, --warmup 0..60")
    if not 10 <= a.members <= 1_000_000:
        p.error("--members must be between 10 and 1,000,000")
    if not 1 <= a.rounds <= 50:
        p.error("--rounds must be between 1 and 50")
    if a.rounds > 1 and a.profile:
        p.error("--profile runs with --rounds 1 only")
    return Options(
        members=a.members,
        clients=a.clients,
        duration=a.duration,
        warmup=a.warmup,
        workers=a.workers,
        pg_host=a.pg_host,
        pg_port=a.pg_port,
        pg_user=a.pg_user,
        pgbench_scale=a.pgbench_scale,
        skip_pgbench=a.skip_pgbench,
        tiers=a.tiers,
        prime=a.prime,
        keep=a.keep,
        profile=a.profile,
        capture_only=a.capture_only,
        profile_duration=min(60.0, a.profile_duration),
        wait_quiet=min(600.0, a.wait_quiet),
        settings=a.settings,
        out=a.out,
        seed=a.seed,
        rounds=a.rounds,
    )


SETTINGS_ENV = (
    "DJANGO_SETTINGS_MODULE",
    "BENCH_BASE_SETTINGS",
    "DATABASE_URL",
    "SECRET_KEY",
    "GALLERIA_MEMBER_CODE_KEY",
    "SECURE_SSL_REDIRECT",
    "DEBUG",
    "CONN_MAX_AGE",
    "LOG_LEVEL",
)


def server_env(opts: Options, db: str = DB_NAME) -> dict[str, str]:
    """Production settings on loopback: real (throw-away) secrets, persistent connections, no TLS redirect."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=opts.settings,
        BENCH_BASE_SETTINGS=opts.settings,
        DATABASE_URL=pg_url(opts, db),
        SECRET_KEY=secrets.token_urlsafe(48),
        GALLERIA_MEMBER_CODE_KEY=secrets.token_urlsafe(48),
        SECURE_SSL_REDIRECT="false",
        DEBUG="false",
        CONN_MAX_AGE="600",
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
    )
    return env


# Tables of the minimal-endpoint baseline (bench/baseline/models.py maps them, unmanaged).
BASELINE_SQL = (
    "CREATE TABLE bench_counter (id bigint PRIMARY KEY, value bigint NOT NULL DEFAULT 0)",
    f"INSERT INTO bench_counter (id, value) SELECT g, 0 FROM generate_series(1, {BASELINE_ROWS}) AS g",
    "CREATE TABLE bench_event (id bigserial PRIMARY KEY, counter_id bigint NOT NULL REFERENCES bench_counter (id)"
    " DEFERRABLE INITIALLY DEFERRED, amount bigint NOT NULL, created_at timestamptz NOT NULL)",
    "CREATE INDEX bench_event_counter_id ON bench_event (counter_id)",
    "ANALYZE bench_counter",
)


@dataclass(frozen=True)
class Fixture:
    keys: list[tuple[str, str]]  # (key id, secret): one terminal per client, each at its own merchant
    merchants: list[str]
    cards: list[str]
    mall_id: int
    seed_seconds: float
    migrate_seconds: float


def prime_members(group_id: int, *, tiers: bool) -> None:
    """Members who have shopped before: a points account each (balance 0, no legs — consistent) and, with tiers, the
    entry tier with its `join` change, as the member.joined handler gives every new member. Bulk, like seed_demo."""
    from galleria.ledger.models import Account, AccountKind, Asset
    from galleria.members.models import Member
    from galleria.tiers.models import MemberTier, TierChange, TierLevel
    from galleria.tiers.rules import JOIN

    members = list(Member.objects.filter(mall_group_id=group_id).values_list("pk", "created_at"))
    Account.objects.bulk_create(
        [
            Account(mall_group_id=group_id, member_id=pk, kind=AccountKind.MEMBER_POINTS, asset=Asset.POINTS, balance=0)
            for pk, _joined in members
        ],
        batch_size=1000,
    )
    entry = TierLevel.objects.filter(mall_group_id=group_id).order_by("rank").first()
    if tiers and entry is not None:
        MemberTier.objects.bulk_create(
            [MemberTier(member_id=pk, level=entry, since=joined) for pk, joined in members], batch_size=1000
        )
        TierChange.objects.bulk_create(
            [
                TierChange(member_id=pk, from_level=None, to_level=entry, reason=JOIN, actor_label="system", at=joined)
                for pk, joined in members
            ],
            batch_size=1000,
        )


def prepare(opts: Options) -> Fixture:
    """Migrate, seed, tier ladder, baseline tables, POS keys — in this process, on production settings."""
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    from galleria.audit.types import Actor
    from galleria.demo.seed import seed_demo
    from galleria.malls.models import Mall, MallGroup
    from galleria.members.models import Member, MemberStatus
    from galleria.merchants.models import MerchantStatus, PosTerminal
    from galleria.merchants.services import pos_key_create
    from galleria.tiers.services import tier_ladder_ensure_default

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_seconds = time.perf_counter() - started
    # production settings serve hashed static files from the manifest (whitenoise): a page without it is a 500,
    # as it would be on a server deployed without `collectstatic`
    call_command("collectstatic", verbosity=0, interactive=False)
    result = seed_demo(members=opts.members, seed=opts.seed)
    group = MallGroup.objects.get()
    if opts.tiers:
        tier_ladder_ensure_default(mall_group_id=group.pk)
    if opts.prime:
        prime_members(group.pk, tiers=opts.tiers)
    with connection.cursor() as cursor:
        for statement in BASELINE_SQL:
            cursor.execute(statement)
    terminals: list[PosTerminal] = []
    merchants_seen: set[int] = set()
    usable = PosTerminal.objects.select_related("store__merchant").filter(
        is_active=True, store__is_active=True, store__merchant__status=MerchantStatus.ACTIVE
    )
    for terminal in usable.order_by("store__merchant_id", "pk"):
        if terminal.store.merchant_id not in merchants_seen and len(terminals) < opts.clients:
            merchants_seen.add(terminal.store.merchant_id)
            terminals.append(terminal)
    actor = Actor(user_id=None, label="bench")
    keys = [pos_key_create(actor=actor, terminal_id=t.pk, label="bench") for t in terminals]
    cards = list(
        Member.objects.filter(mall_group=group, status=MemberStatus.ACTIVE)
        .exclude(card_no="")
        .values_list("card_no", flat=True)
    )
    mall_id = Mall.objects.filter(group=group).order_by("pk").values_list("pk", flat=True)[0]
    connection.close()
    return Fixture(
        keys=[(k.key_id, secret) for k, secret in keys],
        merchants=[t.store.merchant.name for t in terminals],
        cards=cards,
        mall_id=mall_id,
        seed_seconds=result.seconds,
        migrate_seconds=migrate_seconds,
    )


def sale_mix() -> dict[str, int]:
    """How many of the run's sales were a member's first sale, or a member's first sale at that merchant."""
    from django.db.models import Count

    from galleria.sales.models import Sale

    with_member = Sale.objects.exclude(member=None)
    return {
        "sales": Sale.objects.count(),
        "first_sale_of_member": with_member.values("member_id").distinct().count(),
        "first_sale_at_merchant": with_member.values("member_id", "merchant_id").annotate(n=Count("id")).count(),
    }


def git_state() -> str:
    """The commit measured, and whether the product code had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--", "galleria", "config")
    return f"{git('log', '-1', '--format=%h %s')}{' + uncommitted changes in galleria/ or config/' if dirty else ''}"


def wait_for_quiet(limit: float) -> float:
    """Busy share of the machine when we start; waits (up to `limit` s) while another job keeps it busy."""
    deadline = time.monotonic() + limit
    busy = machine_busy_now(3.0)
    if busy >= QUIET:
        log(f"the machine is {100 * busy:.0f}% busy with other work: waiting up to {limit:.0f} s for it to settle …")
        while busy >= QUIET and time.monotonic() < deadline:
            busy = machine_busy_now(3.0)
        log(f"  {100 * busy:.0f}% busy; {'starting' if busy < QUIET else 'starting anyway (results will be low)'}")
    return busy


# ---------------------------------------------------------------- report


def fmt(value: float | None, spec: str = ".1f", scale: float = 1.0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value * scale, spec)


def print_table(phases: list[PhaseResult]) -> None:
    head = (
        f"{'phase':<44}{'req/s':>8}{'p50':>7}{'p90':>7}{'p99':>7}{'max':>7}{'err':>5}"
        f"{'server':>8}{'PG':>6}{'client':>7}{'total':>7}{'capacity':>9}{'client':>7}{'other':>6}{'busy':>5}"
    )
    print(head)
    print(
        f"{'':<44}{'':>8}{'ms':>7}{'ms':>7}{'ms':>7}{'ms':>7}{'':>5}{'ms CPU per request':>28}{'req/s':>9}"
        f"{'% of machine':>18}"
    )
    print("-" * len(head))
    for p in phases:
        print(
            f"{p.name:<44}{p.rps:>8.1f}{p.p50_ms:>7.1f}{p.p90_ms:>7.1f}{p.p99_ms:>7.1f}{p.max_ms:>7.1f}{p.errors:>5}"
            f"{fmt(p.server_cpu_ms, '.2f'):>8}{fmt(p.db_cpu_ms, '.2f'):>6}{fmt(p.client_cpu_ms, '.2f'):>7}"
            f"{fmt(p.cpu_ms, '.2f'):>7}{fmt(p.capacity_rps, '.0f'):>9}{fmt(p.client_share, '.0f', 100):>7}"
            f"{fmt(p.other_share, '.0f', 100):>6}{fmt(p.machine_busy, '.0f', 100):>5}"
        )
    for p in phases:
        if p.note:
            print(f"  {p.name}: {p.note}")
    print(
        "  server = gunicorn master + workers; PG = every postgres process; client = this load generator (pgbench"
        " for pgbench);\n  capacity = cores / total CPU per request: the req/s this stack would reach with the"
        " machine to itself;\n  other = CPU used by processes that are none of these (another job on the machine)."
    )
    disturbed = [p.name.split("  ")[0] for p in phases if (p.other_share or 0) > DISTURBED]
    if disturbed:
        print(
            f"  WARNING: other processes used more than {100 * DISTURBED:.0f}% of the machine during: "
            f"{', '.join(disturbed)} — those numbers understate this machine; run again on a quiet machine."
        )


def ratios(by: dict[str, PhaseResult], captured: dict[str, Any], clients: int) -> list[dict[str, Any]]:
    sale, quote, minimal, pgb = by.get("sale"), by.get("quote"), by.get("minimal"), by.get("pgbench")
    rows: list[dict[str, Any]] = []

    def add(what: str, value: str, target: str = "—", met: bool | None = None) -> None:
        rows.append({"what": what, "value": value, "target": target, "met": met})

    if sale and minimal:
        r = sale.rps / minimal.rps
        add("sale throughput / minimal-endpoint throughput", f"{r:.2f}", "≥ 0.50", r >= TARGETS["sale_vs_minimal"])
        if sale.capacity_rps and minimal.capacity_rps:
            r = sale.capacity_rps / minimal.capacity_rps
            add("  the same by CPU cost (capacity / capacity)", f"{r:.2f}", "≥ 0.50", r >= TARGETS["sale_vs_minimal"])
    if sale and pgb:
        add("sale throughput / pgbench tps", f"{sale.rps / pgb.rps:.3f}")
    if quote and minimal:
        add("quote throughput / minimal-endpoint throughput", f"{quote.rps / minimal.rps:.2f}")
    if quote:
        add("quote p99", f"{quote.p99_ms:.1f} ms", "< 50 ms", quote.p99_ms < TARGETS["quote_p99_ms"])
    if sale:
        add("sale p99", f"{sale.p99_ms:.1f} ms", "< 100 ms", sale.p99_ms < TARGETS["sale_p99_ms"])
    # Little's law for a closed loop: mean latency = clients / throughput, so a p99 target needs at least this rate.
    if sale:
        add(f"sales/s needed for a mean latency < 100 ms at {clients} clients", f"≥ {clients / 0.1:.0f}")
    if quote:
        add(f"quotes/s needed for a mean latency < 50 ms at {clients} clients", f"≥ {clients / 0.05:.0f}")
    if sale and minimal and sale.server_cpu_ms and minimal.server_cpu_ms:
        add("sale / minimal server CPU per request", f"{sale.server_cpu_ms / minimal.server_cpu_ms:.1f}×")
    for key, phase in (("sale_repeat", sale), ("quote", quote)):
        if phase and phase.server_cpu_ms and key in captured:
            trips = captured[key]["round_trips"]
            add(f"{key.split('_')[0]}: round trips to PostgreSQL / server CPU per round trip",
                f"{trips} / {phase.server_cpu_ms / trips:.2f} ms")  # fmt: skip
    return rows


def print_ratios(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        verdict = "" if r["met"] is None else ("MET" if r["met"] else "MISSED")
        print(f"  {r['what']:<60}{r['value']:>16}   target {r['target']:<9}{verdict}")


# ---------------------------------------------------------------- rounds


ROUND_PHASES = (
    ("minimal", "minimal Django write (lock, update, insert)"),
    ("quote", "POS quote  POST /api/v1/pos/quote"),
    ("sale", "POS sale   POST /api/v1/pos/sales"),
)


def run_rounds(
    opts: Options, env: dict[str, str], workdir: Path, load: PosLoad, db_sampler: CpuSampler
) -> tuple[list[dict[str, PhaseResult]], str]:
    """Both servers up at once (an idle sync worker costs nothing); `rounds` times: minimal, quote, sale, each for
    warm-up + --duration. A ratio of two phases then compares windows minutes apart at most, whatever the shared
    host's speed does over the run."""
    by_round: list[dict[str, PhaseResult]] = []
    log(f"{opts.rounds} rounds of minimal → quote → sale, {opts.duration:g} s each, both servers up …")
    with (
        gunicorn("bench.baseline.wsgi:application", opts, env, workdir, "baseline") as baseline,
        gunicorn("config.wsgi:application", opts, env, workdir, "pos") as pos,
    ):
        for n in range(opts.rounds):
            factories = {"minimal": load.minimal(), "quote": load.quote(), "sale": load.sale(f"r{n}s")}
            servers = {"minimal": baseline, "quote": pos, "sale": pos}
            results = {
                key: run_load(name, servers[key].port, factories[key], opts, servers[key].sampler, db_sampler)
                for key, name in ROUND_PHASES
            }
            by_round.append(results)
            m, q, sl = results["minimal"], results["quote"], results["sale"]
            log(
                f"  round {n + 1}: minimal {m.rps:.0f}/s, quote {q.rps:.0f}/s p99 {q.p99_ms:.1f} ms, "
                f"sale {sl.rps:.0f}/s p99 {sl.p99_ms:.1f} ms; sale/minimal {sl.rps / m.rps:.2f}"
            )
        return by_round, baseline.log_tail() + pos.log_tail()


def round_rows(by_round: list[dict[str, PhaseResult]]) -> list[dict[str, Any]]:
    rows = []
    for n, r in enumerate(by_round, 1):
        m, q, sl = r["minimal"], r["quote"], r["sale"]
        rows.append(
            {
                "round": n,
                "minimal_rps": round(m.rps, 1),
                "quote_rps": round(q.rps, 1),
                "sale_rps": round(sl.rps, 1),
                "sale_vs_minimal": round(sl.rps / m.rps, 3),
                "quote_p99_ms": round(q.p99_ms, 1),
                "sale_p99_ms": round(sl.p99_ms, 1),
                "other_share_max": round(max((p.other_share or 0) for p in r.values()), 3),
            }
        )
    return rows


def print_rounds(rows: list[dict[str, Any]]) -> None:
    print(f"\nrounds ({len(rows)}):")
    print(f"  {'round':>5}{'minimal/s':>11}{'quote/s':>9}{'sale/s':>8}{'sale/min':>10}{'quote p99':>11}"
          f"{'sale p99':>10}{'other':>7}")  # fmt: skip
    for r in rows:
        print(
            f"  {r['round']:>5}{r['minimal_rps']:>11.0f}{r['quote_rps']:>9.0f}{r['sale_rps']:>8.0f}"
            f"{r['sale_vs_minimal']:>10.2f}{r['quote_p99_ms']:>11.1f}{r['sale_p99_ms']:>10.1f}"
            f"{100 * r['other_share_max']:>6.0f}%"
        )
    met = {
        "sale/minimal ≥ 0.50": sum(r["sale_vs_minimal"] >= TARGETS["sale_vs_minimal"] for r in rows),
        "quote p99 < 50 ms": sum(r["quote_p99_ms"] < TARGETS["quote_p99_ms"] for r in rows),
        "sale p99 < 100 ms": sum(r["sale_p99_ms"] < TARGETS["sale_p99_ms"] for r in rows),
    }
    print("  targets met in: " + "; ".join(f"{k} {v}/{len(rows)} rounds" for k, v in met.items()))


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    started = time.monotonic()
    env = server_env(opts)
    os.environ.update({k: env[k] for k in SETTINGS_ENV})
    workdir = Path(tempfile.mkdtemp(prefix="pos_bench-"))
    facts: dict[str, Any] = {
        "nproc": NCPU,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "cpu": next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if "model name" in ln
            ),
            "?",
        ),
        "python": sys.version.split()[0],
        "packages": {name: metadata.version(name) for name in ("django", "django-ninja", "gunicorn", "psycopg")},
        "postgres": pg_facts(opts),
        "git": git_state(),
    }
    log(f"measuring {facts['git']}")
    log(
        f"{facts['nproc']} cores ({facts['cpu']}), {facts['memory_gib']} GiB, PostgreSQL "
        f"{facts['postgres']['server_version']}; {opts.clients} clients, {opts.workers} sync workers, "
        f"{opts.warmup:g} s warm-up + {opts.duration:g} s per phase"
    )
    facts["busy_at_start"] = 0.0 if opts.capture_only else wait_for_quiet(opts.wait_quiet)
    phases: dict[str, PhaseResult] = {}
    captured: dict[str, Any] = {}
    profile: dict[str, Any] = {}
    mix: dict[str, int] = {}
    by_round: list[dict[str, PhaseResult]] = []
    server_log = ""
    db_sampler = CpuSampler(postgres_pids)
    try:
        recreate_database(opts, DB_NAME)
        log(f"{DB_NAME}: migrate, seed {opts.members} members, tier ladder, {opts.clients} POS keys …")
        fixture = prepare(opts)
        log(
            f"  migrated in {fixture.migrate_seconds:.1f} s, seeded in {fixture.seed_seconds:.1f} s; "
            f"{len(fixture.cards)} member cards; {len(fixture.keys)} terminals at {len(fixture.keys)} merchants"
        )
        load = PosLoad(fixture.keys, fixture.cards)

        if opts.capture_only:
            captured = capture_queries(keys=fixture.keys, mall_id=fixture.mall_id)
            print_queries(captured)
            return 0
        if not opts.skip_pgbench:
            log(f"baseline (a): pgbench -i -s {opts.pgbench_scale}, then TPC-B -c {opts.clients} …")
            phases["pgbench"] = run_pgbench(opts, db_sampler, workdir)
            drop_database(opts, PGBENCH_DB)
            log(f"  {phases['pgbench'].rps:.0f} tps, p99 {phases['pgbench'].p99_ms:.1f} ms")

        if opts.rounds > 1:
            by_round, server_log = run_rounds(opts, env, workdir, load, db_sampler)
            for key in ("minimal", "quote", "sale"):
                phases[key] = merge(by_round[0][key].name, [r[key] for r in by_round])
        else:
            log("baseline (b): the minimal Django write endpoint (bench/baseline) …")
            with gunicorn("bench.baseline.wsgi:application", opts, env, workdir, "baseline") as server:
                phases["minimal"] = run_load(
                    "minimal Django write (lock, update, insert)", server.port, load.minimal(), opts, server.sampler,
                    db_sampler,
                )  # fmt: skip
                server_log += server.log_tail()
            log(f"  {phases['minimal'].rps:.0f} req/s, p99 {phases['minimal'].p99_ms:.1f} ms")

            log("POS API (config.wsgi): quotes, then sales …")
            with gunicorn("config.wsgi:application", opts, env, workdir, "pos") as server:
                phases["quote"] = run_load(
                    "POS quote  POST /api/v1/pos/quote", server.port, load.quote(), opts, server.sampler, db_sampler
                )
                log(f"  quote: {phases['quote'].rps:.0f} req/s, p99 {phases['quote'].p99_ms:.1f} ms")
                phases["sale"] = run_load(
                    "POS sale   POST /api/v1/pos/sales", server.port, load.sale("s"), opts, server.sampler, db_sampler
                )
                log(f"  sale: {phases['sale'].rps:.0f} req/s, p99 {phases['sale'].p99_ms:.1f} ms")
                if opts.profile:
                    log(f"py-spy on the workers during {opts.profile_duration:g} s of sales (not a result) …")
                    profile = run_profile(server, load, opts, db_sampler, workdir)
                server_log += server.log_tail()

        mix = sale_mix()
        log("capturing the SQL of one quote and two sales in process …")
        captured = capture_queries(keys=fixture.keys, mall_id=fixture.mall_id)
    finally:
        db_sampler.close()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if opts.keep:
            log(f"kept {pg_url(opts, DB_NAME)}")
        else:
            for name in (DB_NAME, PGBENCH_DB):
                with contextlib.suppress(Exception):
                    drop_database(opts, name)

    order = [phases[k] for k in ("pgbench", "minimal", "quote", "sale") if k in phases]
    print(
        f"\n=== POS API benchmark: {opts.clients} clients, {opts.workers} sync workers on {NCPU} cores, "
        f"{opts.members} members, {opts.duration:g} s per phase"
        f"{f' × {opts.rounds} rounds' if opts.rounds > 1 else ''} ===\n{facts['git']}; settings {opts.settings}\n"
    )
    print_table(order)
    if by_round:
        print("  (minimal, quote and sale: all rounds together)")
        print_rounds(round_rows(by_round))
    ratio_rows = ratios(phases, captured, opts.clients)
    print("\nratios and targets:")
    print_ratios(ratio_rows)
    if mix:
        s = mix["sales"] or 1
        print(
            f"\nsales written: {mix['sales']}; a member's first sale in this run: {mix['first_sale_of_member']} "
            f"({100 * mix['first_sale_of_member'] / s:.0f}%); a member's first at that merchant: "
            f"{mix['first_sale_at_merchant']} ({100 * mix['first_sale_at_merchant'] / s:.0f}%)"
        )
    print_queries(captured)
    if profile:
        print_profile(profile)
    failures = [p for p in order if p.errors]
    for p in failures:
        print(f"\n{p.name}: {p.errors} errors; the first bodies:")
        for sample in p.error_samples:
            print(f"  {sample}")
    if server_log.strip():
        print(f"\ngunicorn error log (tail):\n{server_log}")

    opts.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = opts.out / f"pos_bench-{stamp}.json"
    if profile.get("raw"):
        shutil.copy(profile["raw"], opts.out / f"pos_bench-{stamp}-pyspy-sale.txt")
        profile["raw"] = str(opts.out / f"pos_bench-{stamp}-pyspy-sale.txt")
    payload = {
        "when": stamp,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()},
        "machine": facts,
        "phases": {k: phase_json(v) for k, v in phases.items()},
        "rounds": round_rows(by_round),
        "ratios": ratio_rows,
        "sale_mix": mix,
        "queries": captured,
        "profile": {k: phase_json(v) if isinstance(v, PhaseResult) else v for k, v in profile.items()},
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str))
    shutil.rmtree(workdir, ignore_errors=True)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"\nwrote {shown} ({payload['wall_seconds']} s wall)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
