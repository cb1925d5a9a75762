"""The console's parking reads at ~1,000,000 stays on PostgreSQL (docs/performance.md, "Parking reports (issue #16)").

    .venv/bin/python bench/parking_reports_bench.py                       # 1,000,000 stays (~3 min)
    .venv/bin/python bench/parking_reports_bench.py --stays 200000 --keep

A benchmark, not a test: it reports, it asserts nothing. Steps:

1. **Data**: drop and create the database (default `helperc_parking_bench`), migrate, build the test world (two
   malls of one group) with the issue's car park (800 spaces) and a second one, then one INSERT … SELECT FROM
   generate_series writes the stays: a year of traffic (entries spread evenly, 20 min–5 h 20 min, 1 % over a day),
   the cars of the last hours still parked, 0.5 % unpaid exits, 0.2 % exits without an entry, 0.1 % closed without
   an exit; 30 % carry a benefit line in their explanation (tier hours, the mall); the paid stays get a payment row
   (a third paid in points, a third from the wallet, a third at the booth). `VACUUM ANALYZE`.
2. **Baseline**, in the same run: a stay read by primary key through the ORM.
3. **Reads**, as the console's views call them (galleria/parking/selectors_console.py), for the group: the car
   parks list, live occupancy, the exceptions queue (counts + first page), the stays search (the default last 7
   days; a whole plate; part of a plate over 7 days and over all time; a page deep in the list), and the reports
   over 7 and 30 days (utilisation, revenue, income vs benefits). Each: one warm-up, then `--samples` runs; median
   and slowest, and the median as a multiple of the baseline.
4. **The same reads with the indexes in PROPOSED_INDEXES** (none now: the first run's are shipped in parking
   migration 0002), created on the loaded tables (timed).

The report: stdout and var/bench/parking_reports-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}

# Indexes to try on the loaded tables before they go into a migration (the first run's three — stays by car park and
# exit time, payments by payment time, a partial index on exceptions — and the stays list's expression index are
# shipped since parking migration 0002).
PROPOSED_INDEXES: tuple[str, ...] = ()

STAYS_SQL = """
INSERT INTO {sessions} (
    car_park_id, plate, member_id, state, exception, entry_at, entry_gate, entry_event, exit_at, exit_gate,
    exit_event, zone_id, paid_fen, paid_until, leave_by, fee_fen, gross_fen, plate_was, daily_benefits_on, note,
    explanation, created_at, updated_at)
SELECT car_park_id, plate, NULL,
       CASE WHEN kind = 'closed' THEN 'closed' WHEN exit_at > %(now)s THEN 'parked' ELSE 'exited' END,
       CASE kind WHEN 'unpaid' THEN 'unpaid_exit' WHEN 'no_entry' THEN 'no_entry' WHEN 'closed' THEN 'no_exit'
                 ELSE '' END,
       CASE WHEN kind = 'no_entry' THEN NULL ELSE entry_at END, 'E1', '',
       CASE WHEN exit_at > %(now)s AND kind <> 'closed' THEN NULL ELSE exit_at END, 'X1', '', NULL,
       CASE WHEN exit_at > %(now)s OR kind IN ('unpaid', 'no_entry', 'closed') THEN 0 ELSE gross - benefit END,
       NULL, NULL,
       CASE WHEN exit_at > %(now)s OR kind IN ('no_entry', 'closed') THEN NULL ELSE gross - benefit END,
       CASE WHEN exit_at > %(now)s OR kind IN ('no_entry', 'closed') THEN NULL ELSE gross END,
       '', NULL, '',
       CASE WHEN exit_at > %(now)s OR kind IN ('no_entry', 'closed') THEN '{{}}'::jsonb ELSE jsonb_build_object(
           'tariff', 'P1-2026', 'gross_fen', gross, 'benefits_fen', benefit, 'due_fen', 0, 'segments', '[]'::jsonb,
           'benefits', CASE WHEN benefit > 0 THEN jsonb_build_array(jsonb_build_object(
               'kind', 'tier_hours', 'funder', 'mall', 'funder_id', NULL, 'source_id', NULL,
               'minutes_used', 180, 'fen', benefit)) ELSE '[]'::jsonb END) END,
       %(now)s, %(now)s
FROM (
    SELECT g,
           CASE WHEN g %% 4 = 0 THEN %(p2)s ELSE %(p1)s END AS car_park_id,
           '粤B' || lpad((g %% 100000)::text, 5, '0') AS plate,
           entry_at, entry_at + minutes * interval '1 minute' AS exit_at,
           least(ceil(minutes / 60.0)::bigint * 500, 5000 * (1 + minutes / 1440)) AS gross,
           CASE WHEN g %% 10 < 3 THEN least(1500, least(ceil(minutes / 60.0)::bigint * 500, 5000)) ELSE 0 END
               AS benefit,
           CASE WHEN g %% 1000 < 5 THEN 'unpaid' WHEN g %% 1000 < 7 THEN 'no_entry' WHEN g %% 1000 = 7 THEN 'closed'
                ELSE '' END AS kind
    FROM (
        SELECT g, %(now)s - (%(n)s - g) * (%(span)s::double precision / %(n)s) * interval '1 second' AS entry_at,
               CASE WHEN g %% 100 = 0 THEN 1440 + (g %% 4000) ELSE 20 + (g::bigint * 7919) %% 300 END AS minutes
        FROM generate_series(1, %(n)s) AS g
    ) s
) t
"""

PAYMENTS_SQL = """
INSERT INTO {payments} (session_id, key, source, amount_fen, points_used, wallet_fen, other_fen, reference, sale_id,
                        covers_until, paid_at, benefits)
SELECT id, 'bench-' || id, CASE id %% 3 WHEN 0 THEN 'app' WHEN 1 THEN 'app' ELSE 'third_party' END, paid_fen,
       CASE WHEN id %% 3 = 0 THEN paid_fen ELSE 0 END,
       CASE WHEN id %% 3 = 1 THEN paid_fen ELSE 0 END,
       CASE WHEN id %% 3 = 2 THEN paid_fen ELSE 0 END,
       '', NULL, exit_at - interval '5 minutes', exit_at - interval '5 minutes', '[]'::jsonb
FROM {sessions} WHERE paid_fen > 0
"""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def admin_sql(*statements: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:  # type: ignore[arg-type]
        for statement in statements:
            conn.execute(statement)


def measure(fn: Callable[[], Any], samples: int) -> dict[str, float]:
    fn()  # warm-up
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return {"median_ms": statistics.median(times), "max_ms": max(times)}


def generate(n: int) -> dict[str, Any]:
    from django.db import connection

    from galleria.parking.models import CarPark, ParkingPayment, ParkingSession, Zone
    from galleria.parking.tests.helpers import car_park
    from galleria.testing import build_world

    world = build_world()
    p1 = car_park(world)
    p2 = CarPark.objects.create(mall=world.mall2, code="p2", name="星河天地停车场", capacity=300)
    Zone.objects.create(car_park=p2, code="A", name="A 区", capacity=300)
    tables = {"sessions": ParkingSession._meta.db_table, "payments": ParkingPayment._meta.db_table}
    now = dt.datetime.now(dt.UTC)
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(STAYS_SQL.format(**tables), {"now": now, "n": n, "span": 365 * 86400, "p1": p1.pk, "p2": p2.pk})
        stays = cursor.rowcount
        cursor.execute(PAYMENTS_SQL.format(**tables), ())
        payments = cursor.rowcount
    insert_s = time.perf_counter() - t
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {tables['sessions']}")
        cursor.execute(f"VACUUM ANALYZE {tables['payments']}")
    parked = ParkingSession.objects.filter(state="parked").count()
    return {
        "group_id": world.group.pk,
        "car_parks": [p1.pk, p2.pk],
        "stays": stays,
        "payments": payments,
        "parked_now": parked,
        "insert_s": insert_s,
        "vacuum_s": time.perf_counter() - t,
        "tables": tables,
    }


def reads(group_id: int, car_park_ids: list[int]) -> dict[str, Callable[[], Any]]:
    from galleria.core import timeutil
    from galleria.parking import selectors_console as sc

    now = timeutil.now()
    tz = "Asia/Shanghai"
    today = timeutil.local_date(now, tz)
    since_7 = timeutil.local_day_bounds(today - dt.timedelta(days=6), tz)[0]
    since_30 = timeutil.local_day_bounds(today - dt.timedelta(days=29), tz)[0]
    parks = sc.car_parks(mall_group_id=group_id)

    def page(qs: Any, offset: int = 0) -> None:
        qs.count()
        list(qs[offset : offset + 25])

    def stays(**kwargs: Any) -> Callable[[], None]:
        return lambda: page(sc.stay_search(mall_group_id=group_id, f=sc.StayFilters(**kwargs)))

    def scope(days: int) -> Any:
        return sc.report_scope(car_parks=parks, first=today - dt.timedelta(days=days - 1), last=today)

    def queue() -> None:
        stale = now - dt.timedelta(hours=24)
        sc.exception_counts(mall_group_id=group_id, car_park_id=None, since=since_30, stale_before=stale)
        page(
            sc.exception_list(
                mall_group_id=group_id, car_park_id=None, kind="unpaid_exit", since=since_30, stale_before=stale
            )
        )

    return {
        "car parks list (today's figures)": lambda: sc.car_park_rows(mall_group_id=group_id, at=now),
        "live occupancy": lambda: sc.live_occupancy(mall_group_id=group_id, at=now),
        "exceptions queue (30 days: counts + page)": queue,
        "stays: default (last 7 days), page 1": stays(since=since_7, until=now),
        "stays: last 7 days, page 40": lambda: page(
            sc.stay_search(mall_group_id=group_id, f=sc.StayFilters(since=since_7, until=now)), offset=975
        ),
        "stays: whole plate, all time": stays(plate="粤B12345", plate_exact=True),
        "stays: part of a plate, 7 days": stays(plate="2345", since=since_7, until=now),
        "stays: part of a plate, all time": stays(plate="2345"),
        "stays: unpaid exits, 30 days": stays(exception="unpaid_exit", since=since_30, until=now),
        "report: utilisation, 7 days": lambda: sc.utilisation(scope(7)),
        "report: utilisation, 30 days": lambda: sc.utilisation(scope(30)),
        "report: revenue by day, 30 days": lambda: sc.revenue_by_day(scope(30)),
        "report: income vs benefits, 30 days": lambda: sc.income_vs_benefits(scope(30)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stays", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--database", default="helperc_parking_bench")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    opts = parser.parse_args()

    os.environ["DATABASE_URL"] = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{opts.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["DEBUG"] = "false"
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    admin_sql(f'DROP DATABASE IF EXISTS "{opts.database}" WITH (FORCE)', f'CREATE DATABASE "{opts.database}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from galleria.parking.models import ParkingSession

    report: dict[str, Any] = {"options": vars(opts), "started": dt.datetime.now(dt.UTC).isoformat()}
    try:
        log("migrate")
        call_command("migrate", verbosity=0)
        log(f"generate {opts.stays:,} stays")
        data = generate(opts.stays)
        report["data"] = {k: v for k, v in data.items() if k != "tables"}
        log(
            f"  {data['stays']:,} stays, {data['payments']:,} payments, {data['parked_now']} parked now; "
            f"INSERT {data['insert_s']:.1f} s, VACUUM ANALYZE {data['vacuum_s']:.1f} s"
        )
        with connection.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")
        ids = list(ParkingSession.objects.values_list("pk", flat=True)[:: max(opts.stays // 50, 1)])
        counter = iter(range(10**9))

        def baseline() -> None:
            ParkingSession.objects.get(pk=ids[next(counter) % len(ids)])

        base = measure(baseline, 50)["median_ms"]
        report["baseline_pk_read_ms"] = base
        log(f"baseline: a stay by primary key (ORM) {base:.2f} ms")
        runs: dict[str, dict[str, Any]] = {}
        for phase in ("as shipped",) + (("with the proposed indexes",) if PROPOSED_INDEXES else ()):
            if phase != "as shipped":
                t = time.perf_counter()
                with connection.cursor() as cursor:
                    for statement in PROPOSED_INDEXES:
                        cursor.execute(statement.format(**data["tables"]))
                    cursor.execute(f"ANALYZE {data['tables']['sessions']}")
                    cursor.execute(f"ANALYZE {data['tables']['payments']}")
                report["proposed_indexes_build_s"] = time.perf_counter() - t
                log(f"proposed indexes built in {report['proposed_indexes_build_s']:.1f} s")
            log(phase)
            results = {}
            for name, fn in reads(data["group_id"], data["car_parks"]).items():
                r = measure(fn, opts.samples)
                r["x_baseline"] = r["median_ms"] / base
                results[name] = r
                log(f"  {name:45s} median {r['median_ms']:8.1f} ms  max {r['max_ms']:8.1f} ms  ×{r['x_baseline']:.0f}")
            runs[phase] = results
        report["runs"] = runs
    finally:
        connection.close()
        if not opts.keep:
            admin_sql(f'DROP DATABASE IF EXISTS "{opts.database}" WITH (FORCE)')
    out = ROOT / "var" / "bench" / f"parking_reports-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    log(f"report: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
