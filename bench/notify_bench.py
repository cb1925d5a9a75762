"""Payment-notification benchmark: signed, encrypted WeChat Pay v3 TRANSACTION.SUCCESS notifications fired at the
real notify URL through gunicorn + production settings, against the minimal Django write measured in the same run.

    .venv/bin/python bench/notify_bench.py                           # 4,000 attempts, 16 clients: ~5 min
    .venv/bin/python bench/notify_bench.py --attempts 3000 --rounds 3 --profile
    .venv/bin/python bench/notify_bench.py --duration 20 --rounds 2   # time-bounded phases (leftovers drained)

The bench plays the gateway (issue #15, "notification handling: ≥ 200/s, p99 ≤ 100 ms on this machine, ratio to
the minimal write reported"). Loopback only. Steps:

1. drops and creates `galleria_bench_notify`, migrates it with the server's settings and fills it
   (bench/notify_data.py): the demo group (malls, merchants, stores, N members with points accounts, entry tiers
   and wallets), its loyalty rules, coupon templates and the running promotion, points for a share of the members,
   a claimed coupon for another share, sandbox keys generated locally with the credentials installed, and the
   attempts in state `paying` — pay at store (the heavy path: the notification records the sale through the
   checkout pipeline; some use points, some a coupon, the promotion applies above ¥500) and wallet top-ups;
2. in process (bench/notify_capture.py): the SQL of one notification of each kind, then the CPU per notification
   of each kind (this process + its PostgreSQL backend, --cpu-sample of them: splits the mixed phase's CPU);
3. waits (up to --wait-quiet seconds) for a quiet machine, then serves the baseline (bench/baseline: lock a row,
   update it, insert one) and the product (config.wsgi:application) with the same gunicorn command (sync workers =
   cores, --preload, no access log);
4. per round: the minimal write for --minimal-duration seconds, then the round's share of the attempts, each
   notified once, plus --redeliver of them delivered again (the same event, re-signed) at a later point of the
   same stream (bench/notify_load.py);
5. a redeliveries-only phase (events already applied, once more): what a redelivery costs, and proof that it
   changes nothing (sales, ledger transactions, notices, paid attempts, receipts queued: counted before and after);
6. --profile: py-spy on the workers during an extra, unmeasured notification phase (its own attempts);
7. the checks: every attempt paid exactly once (one verified notice, `applied`), every pay-at-store attempt
   fulfilled by exactly one pay_at_store sale for its amount, every top-up paid, one e-receipt task per payment,
   no forged notice, `galleria ledger check` clean; exit status 1 on a violation or any non-2xx answer;
8. the table, the split first/redelivery, the ratios, the SQL, the JSON under var/bench/notify_bench-<time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `galleria` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import LOOPBACK, NCPU, ROOT, Options, drop_database, log, pg_facts, pg_url, recreate_database
from bench.measure import CpuSampler, PhaseResult, PosLoad, merge, percentile, phase_json, run_load
from bench.notify_capture import ORDER, capture, cpu_per_kind, cpu_sample, pick
from bench.notify_data import REDELIVERY, STORE, TOPUP, Attempt, Notifier, prepare
from bench.notify_load import (
    NotifyPhase,
    build_sequence,
    kinds_json,
    kinds_table,
    merge_latencies,
    postgres_pids_of,
    redeliveries,
    run_notify,
)
from bench.pos_bench import BASELINE_SQL, SETTINGS_ENV, fmt, git_state, print_table, server_env, wait_for_quiet
from bench.profiling import WAITING, summarize_profile
from bench.reliability import ledger_check
from bench.servers import Gunicorn, gunicorn
from bench.sqlcapture import print_queries

DB_NAME = "galleria_bench_notify"
TARGETS = {"rps": 200.0, "p99_ms": 100.0}
DISTURBED = 0.05  # a phase is flagged when other processes used more than 5 % of the machine
RECEIPT_TASK = "galleria.payments.tasks.payment_receipt_task"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--attempts", type=int, default=4000, help="attempts notified in the measured rounds (4000)")
    p.add_argument("--store-share", type=float, default=0.75, help="share of pay-at-store attempts (0.75)")
    p.add_argument("--points-share", type=float, default=0.4, help="store attempts whose member has points (0.4)")
    p.add_argument("--coupon-share", type=float, default=0.3, help="store attempts whose member holds a coupon (0.3)")
    p.add_argument("--redeliver", type=float, default=0.2, help="share of events delivered twice in a round (0.2)")
    p.add_argument("--members", type=int, default=0, help="members (default: 15 %% more than the store attempts)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients (default %(default)s)")
    p.add_argument("--count", type=int, default=0, help="first deliveries per round (default: the round's share)")
    p.add_argument("--duration", type=float, default=0.0, help="time-bound each notify phase instead (seconds)")
    p.add_argument("--minimal-duration", type=float, default=20.0, help="seconds of the minimal write per round (20)")
    p.add_argument("--warmup", type=float, default=3.0, help="discarded seconds at the start of each phase (3)")
    p.add_argument("--rounds", type=int, default=1, help="minimal write + notifications, N times in turn (1)")
    p.add_argument("--redelivery-phase", type=int, default=1500, help="redeliveries in their own phase (1500; 0: skip)")
    p.add_argument("--cpu-sample", type=int, default=60, help="store notifications (and half as many top-ups) "
                   "measured in process for CPU by kind (60; 0: skip)")  # fmt: skip
    p.add_argument("--workers", type=int, default=NCPU, help="gunicorn sync workers (default: cores)")
    p.add_argument("--settings", default="config.settings.production", help="settings module of the servers")
    p.add_argument("--profile", action="store_true", help="py-spy on the workers during an extra notify phase")
    p.add_argument("--profile-count", type=int, default=1500, help="attempts of the profiled phase (1500)")
    p.add_argument("--py-spy", default="", help="the py-spy executable (default: the venv's or PATH's)")
    p.add_argument("--keep", action="store_true", help=f"keep the database {DB_NAME} afterwards")
    p.add_argument("--wait-quiet", type=float, default=60.0, help="wait up to this long for an idle machine (60)")
    p.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    p.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    p.add_argument("--out", type=Path, default=ROOT / "var" / "bench", help="where the JSON goes (var/bench)")
    p.add_argument("--seed", type=int, default=7, help="random seed of the data and the load (default 7)")
    a = p.parse_args(argv)
    if a.pg_host not in LOOPBACK:
        p.error("the benchmark runs on loopback only (--pg-host 127.0.0.1)")
    if not (100 <= a.attempts <= 200_000 and 1 <= a.clients <= 256 and 1 <= a.rounds <= 20):
        p.error("out of range: --attempts 100..200000, --clients 1..256, --rounds 1..20")
    if not (0 < a.store_share <= 1 and 0 <= a.redeliver <= 1 and 0 <= a.points_share + a.coupon_share <= 1.3):
        p.error("shares: 0 < --store-share <= 1, 0 <= --redeliver <= 1")
    if a.duration < 0 or a.count < 0 or not 0 < a.minimal_duration <= 600 or not 0 <= a.warmup <= 60:
        p.error("--duration, --count >= 0; --minimal-duration 0..600; --warmup 0..60")
    if a.duration and a.count:
        p.error("--count or --duration, not both")
    return a


def options(a: argparse.Namespace) -> Options:
    """The shared Options the reused pieces read (gunicorn workers, the baseline load's clients and duration)."""
    return Options(
        members=a.members, clients=a.clients, duration=a.minimal_duration, warmup=a.warmup, workers=a.workers,
        pg_host=a.pg_host, pg_port=a.pg_port, pg_user=a.pg_user, pgbench_scale=1, skip_pgbench=True, tiers=True,
        prime=True, keep=a.keep, profile=a.profile, profile_duration=0.0, wait_quiet=a.wait_quiet,
        settings=a.settings, out=a.out, seed=a.seed, rounds=a.rounds,
    )  # fmt: skip


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------- what the database says


def snapshot() -> dict[str, int]:
    """What a notification can change, counted (compared around the redeliveries-only phase)."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from galleria.ledger.models import Entry, Transaction
    from galleria.payments.models import AttemptState, PaymentAttempt, PaymentNotice
    from galleria.sales.models import Sale
    from galleria.wallet.models import TopUp, TopUpStatus

    out = {
        "sales": Sale.objects.count(),
        "ledger_transactions": Transaction.objects.count(),
        "ledger_entries": Entry.objects.count(),
        "notices": PaymentNotice.objects.count(),
        "attempts_paid": PaymentAttempt.objects.filter(state=AttemptState.PAID).count(),
        "topups_paid": TopUp.objects.filter(status=TopUpStatus.PAID).count(),
        "tasks_queued": DBTaskResult.objects.count(),
    }
    connection.close()
    return out


def checks(attempts: list[Attempt]) -> tuple[list[str], dict[str, Any]]:
    """Every attempt paid exactly once; every store attempt one sale for its amount; every top-up paid."""
    from django.db import connection
    from django.db.models import Count, Q
    from django_tasks_db.models import DBTaskResult

    from galleria.ledger.models import Transaction, TransactionKind
    from galleria.payments.models import AttemptState, Fulfilment, NoticeOutcome, PaymentAttempt, PaymentNotice
    from galleria.sales.models import Sale
    from galleria.wallet.models import TopUp, TopUpStatus

    violations: list[str] = []
    ours = {a.out_trade_no: a for a in attempts}
    rows = {
        r["out_trade_no"]: r
        for r in PaymentAttempt.objects.values(
            "out_trade_no", "purpose", "state", "fulfilment", "sale_id", "topup_id", "amount_fen", "paid_fen", "pk"
        )
    }
    states = Counter(r["state"] for r in rows.values())
    fulfilment = Counter(r["fulfilment"] for r in rows.values())
    missing = [n for n in ours if n not in rows]
    if missing:
        violations.append(f"{len(missing)} attempts of the run are not in the database (e.g. {missing[0]})")
    unpaid = [n for n, r in rows.items() if r["state"] != AttemptState.PAID]
    if unpaid:
        violations.append(f"{len(unpaid)} attempts not paid (e.g. {unpaid[0]}: {rows[unpaid[0]]['state']})")
    notices = {
        r["out_trade_no"]: r
        for r in PaymentNotice.objects.filter(verified=True)
        .values("out_trade_no")
        .annotate(n=Count("id"), applied=Count("id", filter=Q(outcome=NoticeOutcome.APPLIED)))
    }
    not_once = [n for n in rows if notices.get(n, {}).get("n") != 1 or notices[n]["applied"] != 1]
    if not_once:
        n = not_once[0]
        violations.append(f"{len(not_once)} attempts without exactly one applied notice (e.g. {n}: {notices.get(n)})")
    forged = PaymentNotice.objects.filter(verified=False).count()
    if forged:
        violations.append(f"{forged} notifications refused as forged")
    outcomes = Counter(PaymentNotice.objects.values_list("outcome", flat=True))
    stores = [r for r in rows.values() if r["purpose"] == "store"]
    undone = [r for r in stores if r["fulfilment"] != Fulfilment.DONE or r["sale_id"] is None]
    if undone:
        r = undone[0]
        violations.append(f"{len(undone)} store attempts not fulfilled by a sale (e.g. {r['out_trade_no']}: {r})")
    sales = {
        s["pk"]: s
        for s in Sale.objects.filter(channel="pay_at_store").values("pk", "paid_fen", "pos_sale_id", "member_id")
    }
    linked = [r["sale_id"] for r in stores if r["sale_id"] is not None]
    if len(set(linked)) != len(linked):
        violations.append("two store attempts share a sale")
    if len(sales) != len(stores):
        violations.append(f"{len(sales)} pay_at_store sales for {len(stores)} paid store attempts")
    wrong = [r for r in stores if r["sale_id"] in sales and sales[r["sale_id"]]["paid_fen"] != r["amount_fen"]]
    if wrong:
        violations.append(f"{len(wrong)} sales whose paid amount differs from their attempt's")
    bad_pos = [
        r for r in stores if r["sale_id"] in sales and sales[r["sale_id"]]["pos_sale_id"] != f"pay:{r['out_trade_no']}"
    ]
    if bad_pos:
        violations.append(f"{len(bad_pos)} sales not named after their attempt")
    topups = [r for r in rows.values() if r["purpose"] == "topup"]
    paid_topups = TopUp.objects.filter(pk__in=[r["topup_id"] for r in topups], status=TopUpStatus.PAID).count()
    if paid_topups != len(topups):
        violations.append(f"{paid_topups} top-ups paid for {len(topups)} top-up attempts")
    posted = (
        Transaction.objects.filter(kind=TransactionKind.TOPUP).values("source").annotate(n=Count("id")).filter(n__gt=1)
    )
    if posted.exists():
        violations.append(f"{posted.count()} top-ups posted more than once")
    receipts = DBTaskResult.objects.filter(task_path=RECEIPT_TASK).count()
    if receipts != len(rows):
        violations.append(f"{receipts} e-receipt tasks queued for {len(rows)} payments")
    facts = {
        "attempts": len(rows),
        "attempt_states": dict(states),
        "fulfilment": dict(fulfilment),
        "notice_outcomes": dict(outcomes),
        "store_attempts": len(stores),
        "pay_at_store_sales": len(sales),
        "topup_attempts": len(topups),
        "topups_paid": paid_topups,
        "receipt_tasks": receipts,
        "forged": forged,
    }
    connection.close()
    return violations, facts


# ---------------------------------------------------------------- profile


def py_spy(explicit: str) -> str | None:
    if explicit:
        return explicit if Path(explicit).exists() else None
    return shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")


def extra_inclusive(raw: Path) -> dict[str, int]:
    """In-request CPU samples (not waiting in libpq) whose stack passes through these layers."""
    needles = {
        "signature + decryption (wechatpayv3 callback, cryptography)": ("wechatpayv3/", "cryptography/"),
        "notice_parse (adapter, whole)": ("wechat_notice.py",),
        "credential unseal (Fernet, HKDF)": ("payments/secrets.py",),
        "checkout pipeline (sales/checkout/)": ("sales/checkout/",),
        "wallet top-up confirm": ("wallet/services/topups.py",),
        "task enqueue (django_tasks)": ("django_tasks",),
        "json / jsonfield encoding": ("json/encoder.py",),
    }
    counts = dict.fromkeys(needles, 0)
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit() or "WSGIHandler.__call__" not in stack:
            continue
        leaf = stack.rsplit(";", 1)[-1]
        if "psycopg" in leaf and any(c in leaf for c in ("Connection.wait", "_execute_send", "_exec_command")):
            continue
        for name, parts in needles.items():
            if any(p in stack for p in parts):
                counts[name] += int(n)
    return counts


def run_profile(
    exe: str, server: Gunicorn, sequence: Any, a: argparse.Namespace, db: CpuSampler, notifier: Notifier, path: str,
    workdir: Path,
) -> dict[str, Any]:  # fmt: skip
    raw = workdir / "profile-notify.txt"
    command = [
        exe,
        "record",
        "--pid",
        str(server.proc.pid),
        "--subprocesses",
        "--nonblocking",
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        str(raw),
    ]  # fmt: skip  (no --duration: stopped with SIGINT when the phase is over)
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    phase = run_notify(
        "notifications under py-spy (not a result)", server.port, path, sequence, clients=a.clients, warmup=0,
        duration=None, server=server.sampler, db=db, notifier=notifier,
    )  # fmt: skip
    spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
    try:
        _out, err = spy.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        spy.terminate()
        _out, err = spy.communicate(timeout=10)
    if not raw.exists():
        return {"error": f"py-spy wrote nothing: {err[-800:]}", "phase": phase.result}
    summary = summarize_profile(raw)
    summary["layers"] = extra_inclusive(raw)
    summary["phase"] = phase.result
    summary["raw"] = str(raw)
    return summary


def print_profile(profile: dict[str, Any]) -> None:
    if "error" in profile:
        print(f"\nprofile: {profile['error']}")
        return
    phase: PhaseResult = profile["phase"]
    total = profile["in_request_samples"] or 1
    cpu = max(1, total - profile["waiting_samples"])
    per = phase.server_cpu_ms or 0.0
    print(
        f"\nWhere a notification's worker time goes (py-spy, {profile['in_request_samples']} in-request samples; "
        f"profiled phase {phase.rps:.0f}/s, {per:.2f} ms server CPU per notification, mixed kinds):"
    )
    print("  by layer of the innermost frame  (% of in-request samples; ≈ ms of CPU per notification)")
    for bucket, n in profile["exclusive"]:
        ms = "" if bucket == WAITING else f"≈{per * n / cpu:5.2f} ms"
        print(f"    {100 * n / total:5.1f}%  {ms:>10}  {bucket}")
    n = profile["orm_and_driver_inclusive"]
    print(f"    inside the ORM or the driver, inclusive, excluding waits: {100 * n / cpu:.1f}% of CPU samples")
    print("  layers, inclusive, excluding waits  (% of CPU samples; ≈ ms per notification)")
    for name, n in profile["layers"].items():
        print(f"    {100 * n / cpu:5.1f}%  ≈{per * n / cpu:5.2f} ms  {name}")
    print("  galleria functions, inclusive, excluding waits")
    for name, n in profile["galleria_inclusive"][:28]:
        print(f"    {100 * n / cpu:5.1f}%  ≈{per * n / cpu:5.2f} ms  {name}")


# ---------------------------------------------------------------- report


def p95(phase: PhaseResult) -> float:
    return 1000 * percentile(phase.latencies, 0.95)


def print_split(table: dict[str, Any], cost: dict[str, Any]) -> None:
    print(f"\n  {'deliveries':<34}{'n':>7}{'share':>7}{'mean':>7}{'p50':>7}{'p95':>7}{'p99':>7}{'max':>8}   ms")
    total = sum(v.requests for k, v in table.items() if k != "first")
    labels = {
        "first": "first deliveries (all)",
        STORE: "  pay at store (sale via pipeline)",
        TOPUP: "  wallet top-up",
        REDELIVERY: "redeliveries (acknowledged dupes)",
    }
    for key in ("first", STORE, TOPUP, REDELIVERY):
        s = table.get(key)
        if s is None:
            continue
        print(
            f"  {labels[key]:<34}{s.requests:>7}{100 * s.requests / max(1, total):>6.0f}%{s.mean_ms:>7.1f}"
            f"{s.p50_ms:>7.1f}{s.p95_ms:>7.1f}{s.p99_ms:>7.1f}{s.max_ms:>8.1f}"
        )
    if cost:
        print(
            f"  CPU per delivery (server + PostgreSQL): redelivery {fmt(cost.get('redelivery_server_ms'), '.2f')} + "
            f"{fmt(cost.get('redelivery_db_ms'), '.2f')} ms (its own phase); first delivery ≈ "
            f"{fmt(cost.get('first_server_ms'), '.2f')} + {fmt(cost.get('first_db_ms'), '.2f')} ms (the mixed phase "
            "less its redeliveries)"
        )


def ratio_rows(notify: PhaseResult, minimal: PhaseResult, clients: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(what: str, value: str, target: str = "—", met: bool | None = None) -> None:
        rows.append({"what": what, "value": value, "target": target, "met": met})

    add("notifications/s", f"{notify.rps:.0f}", "≥ 200", notify.rps >= TARGETS["rps"])
    add("notification p99", f"{notify.p99_ms:.1f} ms", "≤ 100 ms", notify.p99_ms <= TARGETS["p99_ms"])
    add("notification throughput / minimal-write throughput", f"{notify.rps / minimal.rps:.2f}")
    if notify.capacity_rps and minimal.capacity_rps:
        add("  the same by CPU cost (capacity / capacity)", f"{notify.capacity_rps / minimal.capacity_rps:.2f}")
    if notify.server_cpu_ms and minimal.server_cpu_ms:
        add("notification / minimal server CPU per request", f"{notify.server_cpu_ms / minimal.server_cpu_ms:.1f}×")
    if notify.db_cpu_ms and minimal.db_cpu_ms:
        add("notification / minimal PostgreSQL CPU per request", f"{notify.db_cpu_ms / minimal.db_cpu_ms:.1f}×")
    add(f"notifications/s a mean latency under 100 ms needs at {clients} clients", f"≥ {clients / 0.1:.0f}")
    if notify.cpu_ms:
        add("total CPU per notification that 200/s allows on this machine", f"≤ {NCPU * 1000 / 200:.1f} ms",
            f"now {notify.cpu_ms:.1f}")  # fmt: skip
    return rows


def print_ratios(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        verdict = "" if r["met"] is None else ("MET" if r["met"] else "MISSED")
        print(f"  {r['what']:<66}{r['value']:>12}   target {r['target']:<9}{verdict}")


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    opts = options(a)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="notify_bench-"))
    env = server_env(opts, DB_NAME)
    env.update(STATIC_ROOT=str(workdir / "static"), GALLERIA_SECRETS_KEY=secrets.token_urlsafe(48))
    os.environ.update({k: env[k] for k in (*SETTINGS_ENV, "STATIC_ROOT", "GALLERIA_SECRETS_KEY")})
    rng = random.Random(f"{a.seed}:load")
    reserved_profile = a.profile_count if a.profile else 0
    sample_store, sample_topup = a.cpu_sample, a.cpu_sample // 2
    total_attempts = a.attempts + reserved_profile + 9 + sample_store + sample_topup  # + capture 6, warm-up 3
    store_n = round(a.store_share * total_attempts)
    members = max(a.members, math.ceil(store_n * 1.15) + 50)
    facts: dict[str, Any] = {
        "nproc": NCPU,
        "cpu": next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if "model name" in ln
            ),
            "?",
        ),
        "python": sys.version.split()[0],
        "packages": {n: metadata.version(n) for n in ("django", "gunicorn", "psycopg", "wechatpayv3", "cryptography")},
        "postgres": pg_facts(opts),
        "git": git_state(),
        "loadavg": {"start": loadavg()},
    }
    log(f"measuring {facts['git']}")
    log(
        f"{NCPU} cores ({facts['cpu']}), PostgreSQL {facts['postgres']['server_version']}; {a.clients} clients, "
        f"{a.workers} sync workers; load average {facts['loadavg']['start']}"
    )
    db_sampler = CpuSampler(postgres_pids_of(DB_NAME))
    minimal_rounds: list[PhaseResult] = []
    notify_rounds: list[NotifyPhase] = []
    round_rows: list[dict[str, Any]] = []
    redo: NotifyPhase | None = None
    drained: NotifyPhase | None = None
    unchanged: dict[str, Any] = {}
    profile: dict[str, Any] = {}
    captured: dict[str, Any] = {}
    cpu_kinds: dict[str, Any] = {}
    server_log = ""
    violations: list[str] = []
    check_facts: dict[str, Any] = {}
    ledger: tuple[int, str] = (0, "")
    prepared = None
    sign_seconds = 0.0
    try:
        recreate_database(opts, DB_NAME)
        log(
            f"{DB_NAME}: migrate, seed {members} members, rules, coupons, points, credentials, "
            f"{store_n} store + {total_attempts - store_n} top-up attempts …"
        )
        prepared = prepare(
            members=members, store_attempts=store_n, topup_attempts=total_attempts - store_n,
            points_share=a.points_share, coupon_share=a.coupon_share, seed=a.seed, baseline_sql=BASELINE_SQL,
        )  # fmt: skip
        log(f"  prepared in {sum(prepared.seconds.values()):.0f} s {prepared.seconds}; {prepared.counts}")
        notifier = Notifier(prepared.keys)
        path = prepared.notify_path
        pool = list(prepared.attempts)
        home: int | None = None
        if a.cpu_sample:
            warm, groups = cpu_sample(pool, stores=sample_store, topups=sample_topup)
            log(f"CPU per kind in process: {sample_store} store, {sample_topup} top-up notifications, "
                f"{sample_store} redeliveries …")  # fmt: skip
            cpu_kinds = cpu_per_kind(groups, notifier, path, warm=warm)
            log(f"  {cpu_kinds}")
            taken = {x.pk for v in groups.values() for x in v} | {x.pk for x in warm}
            pool = [x for x in pool if x.pk not in taken]
            home = warm[0].merchant_id if warm else None
        chosen = pick(pool, home=home)
        log(f"capturing the SQL of one notification of each kind in process ({', '.join(chosen)}) …")
        captured = capture(chosen, notifier, path)
        taken = {x.pk for x in chosen.values()}
        pool = [x for x in pool if x.pk not in taken]
        profile_slice, pool = pool[:reserved_profile], pool[reserved_profile:]
        per_round = len(pool) // a.rounds
        if a.count:
            per_round = min(per_round, a.count)
        slices = [pool[i * per_round : (i + 1) * per_round] for i in range(a.rounds)]
        leftovers = pool[a.rounds * per_round :]  # not part of a round (--count): drained at the end
        load = PosLoad([("bench", "unused")], [])
        facts["busy_before_load"] = wait_for_quiet(a.wait_quiet)  # after the (long) preparation, not before it
        facts["loadavg"]["before_load"] = loadavg()
        with (
            gunicorn("bench.baseline.wsgi:application", opts, env, workdir, "baseline") as baseline,
            gunicorn("config.wsgi:application", opts, env, workdir, "app") as app,
        ):
            for n, part in enumerate(slices, 1):
                facts["loadavg"][f"round{n}"] = loadavg()
                m = run_load("minimal Django write (lock, update, insert)", baseline.port, load.minimal(), opts,
                             baseline.sampler, db_sampler)  # fmt: skip
                minimal_rounds.append(m)
                t0 = time.perf_counter()
                sequence = build_sequence(part, notifier, share=a.redeliver, clients=a.clients, rng=rng)
                sign_seconds += time.perf_counter() - t0
                log(
                    f"round {n}: minimal {m.rps:.0f}/s p99 {m.p99_ms:.1f} ms; firing {len(sequence)} notifications "
                    f"({len(part)} attempts + {len(sequence) - len(part)} redeliveries; signed in "
                    f"{time.perf_counter() - t0:.1f} s) …"
                )
                phase = run_notify(
                    "WeChat Pay notifications (mixed)", app.port, path, sequence, clients=a.clients,
                    warmup=a.warmup, duration=a.duration or None, server=app.sampler, db=db_sampler,
                    notifier=notifier,
                )  # fmt: skip
                notify_rounds.append(phase)
                sent = {d.out_trade_no for d in sequence[: phase.sent] if d.kind != REDELIVERY}
                leftovers += [x for x in part if x.out_trade_no not in sent]
                r = phase.result
                log(f"  {r.rps:.0f} notifications/s, p99 {r.p99_ms:.1f} ms, {r.errors} errors; "
                    f"notify/minimal {r.rps / m.rps:.2f}; {phase.resigned} re-signed by the clients")  # fmt: skip
                round_rows.append({
                    "round": n, "minimal_rps": round(m.rps, 1), "notify_rps": round(r.rps, 1),
                    "notify_p99_ms": round(r.p99_ms, 1), "ratio": round(r.rps / m.rps, 3),
                    "other_share_max": round(max(m.other_share or 0, r.other_share or 0), 3),
                    "deliveries_sent": phase.sent, "resigned_by_client": phase.resigned,
                })  # fmt: skip
            left = {x.out_trade_no for x in leftovers}
            applied = [x for part in slices for x in part if x.out_trade_no not in left]
            if a.redelivery_phase and applied:
                again = rng.sample(applied, k=min(a.redelivery_phase, len(applied)))
                before = snapshot()
                facts["loadavg"]["redeliveries"] = loadavg()
                log(f"redeliveries only: {len(again)} events already applied, once more …")
                redo = run_notify(
                    "redeliveries only (already applied)", app.port, path, redeliveries(again, notifier),
                    clients=a.clients, warmup=0.0, duration=None, server=app.sampler, db=db_sampler,
                    notifier=notifier,
                )  # fmt: skip
                after = snapshot()
                unchanged = {"before": before, "after": after, "same": before == after}
                if not unchanged["same"]:
                    violations.append(f"the redeliveries changed the database: {before} → {after}")
                log(
                    f"  {redo.result.rps:.0f}/s, p99 {redo.result.p99_ms:.1f} ms; database unchanged: {before == after}"
                )
            if a.profile and profile_slice:
                exe = py_spy(a.py_spy)
                if exe is None:
                    profile = {"error": "py-spy not found (.venv/bin/pip install py-spy, or --py-spy PATH)"}
                    leftovers += profile_slice
                else:
                    log(f"py-spy on the workers during {len(profile_slice)} notifications (not a result) …")
                    seq = build_sequence(profile_slice, notifier, share=a.redeliver, clients=a.clients, rng=rng)
                    profile = run_profile(exe, app, seq, a, db_sampler, notifier, path, workdir)
            if leftovers:
                log(f"drain: the {len(leftovers)} attempts not notified in the measured phases (not a result) …")
                drained = run_notify(
                    "drain (not a result)", app.port, path, [notifier.delivery(x) for x in leftovers],
                    clients=a.clients, warmup=0, duration=None, server=app.sampler, db=db_sampler, notifier=notifier,
                )  # fmt: skip
            server_log = baseline.log_tail() + app.log_tail()
        facts["loadavg"]["end"] = loadavg()
        log("checks: every attempt paid once, sales, top-ups, receipts; galleria ledger check …")
        found, check_facts = checks(prepared.attempts)
        violations += found
        ledger = ledger_check(env)
        if ledger[0] != 0:
            violations.append(f"galleria ledger check exited {ledger[0]}")
    finally:
        db_sampler.close()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if a.keep:
            log(f"kept {pg_url(opts, DB_NAME)}")
        else:
            with contextlib.suppress(Exception):
                drop_database(opts, DB_NAME)

    minimal = merge(minimal_rounds[0].name, minimal_rounds)
    notify = merge(notify_rounds[0].result.name, [p.result for p in notify_rounds])
    latencies = merge_latencies(notify_rounds)
    table = kinds_table(latencies)
    cost: dict[str, Any] = {}
    if redo is not None and redo.result.requests:
        n_re = len(latencies.get(REDELIVERY, []))
        n_first = notify.requests - n_re
        cost = {"redelivery_server_ms": redo.result.server_cpu_ms, "redelivery_db_ms": redo.result.db_cpu_ms}
        if n_first > 0 and notify.server_cpu_ms is not None and notify.db_cpu_ms is not None:
            cost["first_server_ms"] = (
                notify.server_cpu_ms * notify.requests - (redo.result.server_cpu_ms or 0) * n_re
            ) / n_first
            cost["first_db_ms"] = (notify.db_cpu_ms * notify.requests - (redo.result.db_cpu_ms or 0) * n_re) / n_first
    phases = [minimal, notify] + ([redo.result] if redo else []) + ([drained.result] if drained else [])
    print(
        f"\n=== payment notifications: {a.clients} clients, {a.workers} sync workers on {NCPU} cores, "
        f"{len(prepared.attempts) if prepared else 0} attempts"
        f"{f' × {a.rounds} rounds' if a.rounds > 1 else ''} ===\n{facts['git']}; settings {a.settings}; "
        f"load average {facts['loadavg']}\n"
    )
    print_table(phases)
    print(
        f"  (here PG = the backends of {DB_NAME} + the cluster's background processes: other sessions' backends on\n"
        "  the same PostgreSQL — other jobs' test databases — count as other)"
    )
    print(f"  notifications p95 {p95(notify):.1f} ms (minimal write p95 {p95(minimal):.1f} ms)")
    print_split(table, cost)
    if cpu_kinds:
        print("\n  in process (test client, no HTTP; CPU per notification):")
        print(f"  {'kind':<12}{'n':>5}{'Python ms':>11}{'PG backend ms':>15}{'statements':>12}")
        for kind, v in cpu_kinds.items():
            py, pg = v["python_ms"], v["postgres_backend_ms"]
            print(f"  {kind:<12}{v['n']:>5}{py:>11.2f}{pg:>15.2f}{v['statements']:>12.1f}")
    if a.rounds > 1:
        print("\nrounds:")
        for row in round_rows:
            print(
                f"  {row['round']:>3}  minimal {row['minimal_rps']:>6.0f}/s  notify {row['notify_rps']:>6.0f}/s  "
                f"p99 {row['notify_p99_ms']:>6.1f} ms  ratio {row['ratio']:.2f}  "
                f"other {100 * row['other_share_max']:.0f}%"
            )
    rows = ratio_rows(notify, minimal, a.clients)
    print("\nratios and targets:")
    print_ratios(rows)
    disturbed = [p.name for p in phases[:3] if (p.other_share or 0) > DISTURBED]
    if disturbed:
        print(f"  WARNING: other processes used more than {100 * DISTURBED:.0f}% of the machine during: "
              f"{', '.join(disturbed)} — throughput and latency understate this machine; compare ratios.")  # fmt: skip
    if prepared:
        print(f"\ndata: {prepared.counts}; prepared in {sum(prepared.seconds.values()):.0f} s; "
              f"deliveries signed in {sign_seconds:.1f} s before the load")  # fmt: skip
    print(f"checks: {check_facts}")
    if unchanged:
        print(f"redeliveries-only phase changed nothing: {unchanged['same']} ({unchanged['after']})")
    print(f"galleria ledger check: exit {ledger[0]} — {ledger[1].splitlines()[-1] if ledger[1] else ''}")
    print_queries(captured, ordered=ORDER)
    if profile:
        print_profile(profile)
    failures = [p for p in phases if p.errors]
    for p in failures:
        print(f"\n{p.name}: {p.errors} errors; the first bodies:")
        for sample in p.error_samples:
            print(f"  {sample}")
    for v in violations:
        print(f"VIOLATION: {v}")
    if server_log.strip():
        print(f"\ngunicorn error log (tail):\n{server_log}")

    a.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = a.out / f"notify_bench-{stamp}.json"
    if profile.get("raw"):
        shutil.copy(profile["raw"], a.out / f"notify_bench-{stamp}-pyspy.txt")
        profile["raw"] = str(a.out / f"notify_bench-{stamp}-pyspy.txt")
    payload = {
        "when": stamp,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(a).items()},
        "machine": facts,
        "data": {"counts": prepared.counts, "seconds": prepared.seconds} if prepared else {},
        "phases": {
            "minimal": phase_json(minimal),
            "notify": {**phase_json(notify), "p95_ms": p95(notify)},
            "redeliveries_only": phase_json(redo.result) if redo else None,
            "drain": phase_json(drained.result) if drained else None,
        },
        "split": kinds_json(table),
        "cpu_split": cost,
        "cpu_in_process": cpu_kinds,
        "rounds": round_rows,
        "rounds_detail": [
            {"minimal": phase_json(m), "notify": phase_json(p.result)}
            for m, p in zip(minimal_rounds, notify_rounds, strict=True)
        ],
        "ratios": rows,
        "checks": {
            **check_facts,
            "violations": violations,
            "ledger_check": ledger,
            "redeliveries_unchanged": unchanged,
        },
        "queries": captured,
        "profile": {k: phase_json(v) if isinstance(v, PhaseResult) else v for k, v in profile.items()},
        "sign_seconds": round(sign_seconds, 1),
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    out.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str))
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nwrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} ({payload['wall_seconds']} s wall)")
    return 1 if failures or violations else 0


if __name__ == "__main__":
    sys.exit(main())
