"""Import benchmark: a generated 100,000-row members CSV through upload, dry run and real run, in process.

Prints rows/s of each phase, the process's resident memory (VmRSS before/after, VmHWM peak) and, with
--tracemalloc, the Python heap growth and peak of each phase. Results go to docs/import.md.

    .venv/bin/python bench/import_bench.py                      # PostgreSQL: database galleria_import_bench
    .venv/bin/python bench/import_bench.py --sqlite             # a temporary SQLite file instead
    .venv/bin/python bench/import_bench.py --rows 20000 --tracemalloc

PostgreSQL on 127.0.0.1 (user postgres) by default; the database is dropped and created (and dropped at the end
unless --keep). Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_kb(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Members with name, gender, birthday, points (+expiry on some), tier on some, a plate on 1 in 10 rows, and
    about 1 bad row in 200 (bad phone or date) so the error path is measured too."""
    rnd = random.Random(seed)
    tiers = ["普卡", "银卡", "金卡", "黑金"]
    provinces = "京沪粤浙苏"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["手机号", "姓名", "性别", "生日", "积分", "积分有效期", "会员等级", "车牌号", "入会日期"])
        for i in range(rows):
            phone = f"13{rnd.randint(0, 9)}{i:08d}"
            bad = rnd.random() < 0.005
            writer.writerow(
                [
                    "12345" if bad and i % 2 else phone,
                    f"会员{i}",
                    rnd.choice(["男", "女", ""]),
                    "1990-13-01"
                    if bad and not i % 2
                    else f"{rnd.randint(1950, 2005)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                    rnd.choice(["", "0", str(rnd.randint(1, 50000))]),
                    rnd.choice(["", "2031-12-31"]),
                    rnd.choice(["", "", *tiers]),
                    f"{rnd.choice(provinces)}B{i % 100000:05d}" if i % 10 == 0 else "",
                    f"20{rnd.randint(10, 25)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}",
                ]
            )


def admin_sql(statement: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", statement], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument("--database", default="galleria_import_bench")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true", help="Python heap growth per phase (slower)")
    opts = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="import-bench-"))
    if opts.sqlite:
        os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    else:
        admin_sql(f'DROP DATABASE IF EXISTS "{opts.database}" WITH (FORCE)')
        admin_sql(f'CREATE DATABASE "{opts.database}"')
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{opts.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ["DEBUG"] = "false"

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.GALLERIA_IMPORT_DIR = str(work / "imports")
    call_command("migrate", verbosity=0)

    from galleria.audit.types import Actor
    from galleria.imports import services
    from galleria.imports.models import ImportJob
    from galleria.ledger.selectors import ledger_check
    from galleria.malls.models import Mall, MallGroup
    from galleria.tiers.services import tier_ladder_ensure_default

    group = MallGroup.objects.create(name="基准集团", code="bench")
    mall = Mall.objects.create(group=group, name="基准广场", code="bench-plaza")
    tier_ladder_ensure_default(mall_group_id=group.pk)
    source = work / "members.csv"
    started = time.perf_counter()
    generate(source, opts.rows)
    print(
        f"generated {opts.rows:,} rows ({source.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s"
    )
    actor = Actor.system("bench")
    load_before = f"{os.getloadavg()[0]:.1f}"
    report: list[tuple[str, float, float, int, int, int, str]] = []

    def phase(name: str, fn: Callable[[], object]) -> None:
        before = rss_kb()
        if opts.tracemalloc:
            tracemalloc.start()
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        fn()
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        heap = ""
        if opts.tracemalloc:
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            heap = f"heap +{current / 1e6:.1f} MB, peak {peak / 1e6:.1f} MB"
        report.append((name, elapsed, cpu, before, rss_kb(), rss_kb("VmHWM"), heap))

    holder: dict[str, ImportJob] = {}

    def upload() -> None:
        with source.open("rb") as handle:
            holder["job"] = services.import_upload(
                mall_group_id=group.pk,
                kind="members",
                filename="members.csv",
                stream=handle,
                size=source.stat().st_size,
                actor=actor,
                default_mall_id=mall.pk,
            )

    phase("upload", upload)
    job = holder["job"]
    phase("dry run", lambda: services.import_dry_run(job_id=job.pk))
    services.import_start(job_id=job.pk, mall_group_id=group.pk, actor=actor)
    phase("real run", lambda: services.import_run(job_id=job.pk))
    job.refresh_from_db()
    check = ledger_check(mall_group_id=group.pk)

    engine = "SQLite" if opts.sqlite else "PostgreSQL"
    print(f"\n{opts.rows:,} rows, {engine}, {os.cpu_count()} cores, batch {services.jobs.conf.batch_rows()} rows")
    print(f"load average before: {load_before}, after: {os.getloadavg()[0]:.1f}")
    head = f"{'phase':<10} {'seconds':>8} {'rows/s':>8} {'CPU s':>7} {'rows/CPU s':>10}"
    print(f"{head} {'RSS before':>11} {'RSS after':>10} {'RSS peak':>9}  heap")
    for name, elapsed, cpu, before, after, peak, heap in report:
        rate = f"{opts.rows / elapsed:,.0f}" if name != "upload" else "-"
        per_cpu = f"{opts.rows / cpu:,.0f}" if name != "upload" and cpu else "-"
        memory = f"{before / 1024:9.0f}MB {after / 1024:8.0f}MB {peak / 1024:7.0f}MB"
        print(f"{name:<10} {elapsed:8.1f} {rate:>8} {cpu:7.1f} {per_cpu:>10} {memory}  {heap}")
    print(f"dry run: {job.dry_counts}")
    print(f"real run: {job.counts}")
    print(f"ledger check: {'clean' if check.ok else 'DRIFT'} ({check.transactions_checked:,} transactions)")
    if not opts.sqlite and not opts.keep:
        from django.db import connections

        connections.close_all()
        admin_sql(f'DROP DATABASE IF EXISTS "{opts.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
