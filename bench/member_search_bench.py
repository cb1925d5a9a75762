"""Member search and the console member list at 1,000,000 members on PostgreSQL (docs/performance.md).

    .venv/bin/python bench/member_search_bench.py                  # generate 1M members, then measure (~10 min)
    .venv/bin/python bench/member_search_bench.py --reuse          # measure again on the database kept last time

A benchmark, not a test: it reports, it asserts nothing. Steps:

1. **Data** (skipped with --reuse): drop and create the database (default `bench_search`), migrate it — all but the
   search indexes (members 0003, ledger 0006) —, seed the demo group's malls, merchants and staff
   (`seed_demo(members=0)`), add a second group with one mall, the default tier ladders, then COPY the members in:
   80 % in the demo group, 20 % in the other; Chinese names drawn with the surname frequencies of Faker's zh_CN
   list (王 7.2 %, 李 7.0 % …) and one- or two-character given names, 6 % nameless (pay = join), 3 % Latin
   names; unique mobile phones and Luhn-valid card numbers; a plate for 5 %; 0.5 % erased and 0.3 % merged
   members; a points account for 60 % of the active members (10 % of them at 0) and a tier row for half of them.
   Then `migrate` builds the search indexes on the loaded tables (timed: that is what the migration costs on a
   database of this size) and `VACUUM ANALYZE`.
2. **Baselines**, in the same run: `SELECT 1` through Django's cursor, and a member fetched by primary key through
   the ORM (`Member.objects.get(pk=…)`).
3. **Search kinds and list views**, for a group admin of the large group and for a platform admin: each sample is
   what the console's list view computes for the page — `member_listing` (identifier lookup, the capped count,
   the page in its order) and `member_rows` (tier and points of the page) — with a value drawn at random from
   the data (a member's full name, surname, phone, last 4 digits, card number, plate, dynamic member code …).
   Warm-up samples are discarded. Besides wall time, the CPU of this process and of its PostgreSQL backend per
   page (from /proc): on a shared machine wall time stretches with the load, the CPU a page needs much less; on an
   idle machine wall ≈ that CPU (the data is in memory). The session runs with max_parallel_workers_per_gather = 0
   so that the backend's CPU is the whole query's. Then a few whole pages through Django's test client (session,
   permissions, form, template) per kind, to show what the page costs around the queries.
4. **Plans**: EXPLAIN of one sample's page query per kind; the report lists the indexes it uses.

The report (stdout and var/bench/member_search-<UTC time>.json): p50 and p95 in ms per kind and scope, p95 as a
multiple of the primary-key lookup's p50 (measured again right before each kind), CPU per page, the share of the
machine other processes took meanwhile ("others"), the indexes each page query uses.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
LATIN_FIRST = ("Emma", "Lucas", "Olivia", "Noah", "Mia", "Leo", "Chloe", "Ethan", "Grace", "Ryan", "Iris", "Kevin")
LATIN_LAST = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Lin", "Ho", "Lam")
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
PHONE_PREFIXES = (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, 166, 176, 177, 178, *range(180, 190))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def admin_sql(*statements: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:  # type: ignore[arg-type]
        for statement in statements:
            conn.execute(statement)


# ---------------------------------------------------------------- data


@dataclass
class Generated:
    members: int = 0
    identifiers: int = 0
    accounts: int = 0
    tiers: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> int:
    n = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buf = io.StringIO()
        for row in rows:
            buf.write("\t".join("\\N" if v is None else str(v) for v in row))
            buf.write("\n")
            n += 1
            if n % 50_000 == 0:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())
    return n


def generate(n_members: int, seed: int) -> Generated:
    from django.db import connection
    from django.utils import timezone
    from faker.providers.person.zh_CN import Provider as ZhNames

    from galleria.core.ids import luhn_check_digit
    from galleria.demo.seed import seed_demo
    from galleria.malls.models import Mall, MallGroup
    from galleria.tiers.services import tier_ladder_ensure_default

    out = Generated()
    rng = random.Random(seed)
    started = time.perf_counter()
    seed_demo(members=0, seed=seed)
    big = MallGroup.objects.get(code="xinghe")
    small = MallGroup.objects.create(name="海岸城集团", code="coastal")
    Mall.objects.create(group=small, name="海岸城", code="coastal-city", city="深圳")
    malls = {g.pk: list(Mall.objects.filter(group=g).values_list("pk", flat=True)) for g in (big, small)}
    ladders = {g.pk: [lvl.pk for lvl in tier_ladder_ensure_default(mall_group_id=g.pk)] for g in (big, small)}

    surnames = list(ZhNames.last_names)
    cum: list[float] = []
    total = 0.0
    for weight in ZhNames.last_names.values():
        total += float(weight)
        cum.append(total)
    given_pool = sorted(set(ZhNames.first_names_male) | set(ZhNames.first_names_female))
    given_pool = [g for g in given_pool if len(g) == 1]
    drawn_surnames = rng.choices(surnames, cum_weights=cum, k=n_members)
    now = timezone.now()
    start = now - dt.timedelta(days=5 * 365)
    span = (now - start).total_seconds()
    channels = ("app",) * 45 + ("pos",) * 30 + ("desk",) * 10 + ("parking",) * 10 + ("import",) * 5

    members: list[tuple[Any, ...]] = []
    identifiers: list[tuple[Any, ...]] = []
    accounts: list[tuple[Any, ...]] = []
    tiers: list[tuple[Any, ...]] = []
    last_active_id: dict[int, int] = {}
    p = len(PHONE_PREFIXES)
    for i in range(1, n_members + 1):
        group = big.pk if rng.random() < 0.8 else small.pk
        created = start + dt.timedelta(seconds=span * (i - 1) / n_members + rng.random() * 30)
        roll = rng.random()
        if roll < 0.06:
            name = ""
        elif roll < 0.09:
            name = f"{rng.choice(LATIN_FIRST)} {rng.choice(LATIN_LAST)}"
        else:
            given = rng.choice(given_pool) + (rng.choice(given_pool) if rng.random() < 0.55 else "")
            name = drawn_surnames[i - 1] + given
        phone = f"+86{PHONE_PREFIXES[i % p]}{((i // p) * 7919 + 12345) % 10**8:08d}"
        body = f"8{(i * 104729 + 7) % 10**10:010d}"
        card = body + luhn_check_digit(body)
        status, merged_into = "active", None
        fate = rng.random()
        if fate < 0.005:
            status, phone, card, name = "erased", "", "", ""
        elif fate < 0.008 and group in last_active_id:
            status, merged_into = "merged", last_active_id[group]
        members.append(
            (
                i,
                group,
                status,
                merged_into,
                phone,
                card,
                name,
                rng.choice(("female", "male", "unknown")),
                "",
                rng.choice(channels),
                rng.choice(malls[group]),
                f"{rng.getrandbits(128):032x}",
                created.isoformat(),
                (created + dt.timedelta(days=rng.random() * 400)).isoformat(),
            )
        )
        if status != "active":
            continue
        last_active_id[group] = i
        stamp = created.isoformat()
        identifiers.append((group, i, "phone", phone, stamp))
        identifiers.append((group, i, "card", card, stamp))
        if rng.random() < 0.05:
            code, k = "", i
            for _ in range(5):
                code, k = PLATE_CHARS[k % 34] + code, k // 34
            identifiers.append((group, i, "plate", f"粤B{code}", stamp))
        if rng.random() < 0.6:
            balance = 0 if rng.random() < 0.1 else int(rng.expovariate(1 / 3000)) + 1
            accounts.append((group, "member_points", "points", i, balance, stamp))
        level_roll = rng.random()
        ladder = ladders[group]
        level = (
            ladder[3]
            if level_roll < 0.015
            else ladder[2]
            if level_roll < 0.065
            else ladder[1]
            if level_roll < 0.185
            else ladder[0]
            if level_roll < 0.6
            else None
        )
        if level is not None:
            tiers.append((i, level, stamp))
    out.seconds["python rows"] = time.perf_counter() - started

    t = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor: COPY
        saved = _drop_secondary_indexes(cursor, LOADED_TABLES)
        out.seconds["drop indexes and constraints"] = time.perf_counter() - t
        t = time.perf_counter()
        member_cols = (
            "id",
            "mall_group_id",
            "status",
            "merged_into_id",
            "phone",
            "card_no",
            "name",
            "gender",
            "email",
            "join_channel",
            "join_mall_id",
            "code_secret",
            "created_at",
            "last_active_at",
        )
        out.members = _copy(raw, "members_member", member_cols, iter(members))
        cursor.execute("SELECT setval(pg_get_serial_sequence('members_member', 'id'), %s)", [n_members])
        out.identifiers = _copy(
            raw,
            "members_memberidentifier",
            ("mall_group_id", "member_id", "kind", "value", "created_at"),
            iter(identifiers),
        )
        out.accounts = _copy(
            raw,
            "ledger_account",
            ("mall_group_id", "kind", "asset", "member_id", "balance", "created_at"),
            iter(accounts),
        )
        out.tiers = _copy(raw, "tiers_membertier", ("member_id", "level_id", "since"), iter(tiers))
        out.seconds["COPY"] = time.perf_counter() - t
        t = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for statement in saved:
            cursor.execute(statement)
        out.seconds["recreate indexes and constraints"] = time.perf_counter() - t
    return out


LOADED_TABLES = ("members_member", "members_memberidentifier", "ledger_account", "tiers_membertier")


def _drop_secondary_indexes(cursor: Any, tables: tuple[str, ...]) -> list[str]:
    """Drop every index and constraint but the primary keys of `tables` (a bulk load into bare tables is several
    times faster); returns the statements that recreate them, indexes first."""
    cursor.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "WHERE c.conrelid::regclass::text = ANY(%s) AND c.contype <> 'p' ORDER BY c.contype = 'f', c.conname",
        [list(tables)],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for table, name, _definition in reversed(constraints):
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _name, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in constraints
    ]


# ---------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Kind:
    name: str
    filters: dict[str, Any]
    page: int = 1
    fresh: Callable[[], str] | None = None  # a query that must be made when used (a dynamic member code)

    def current(self) -> dict[str, Any]:
        return self.filters if self.fresh is None else {**self.filters, "query": self.fresh()}


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def cpu_ms() -> float:
    """CPU spent so far by this process and by its PostgreSQL backend (the page's whole work, both sides: a busy
    machine stretches wall time, much less the CPU a page needs — on an idle machine wall ≈ this CPU)."""
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return time.process_time() * 1000 + (int(fields[11]) + int(fields[12])) * TICK_MS


def machine_busy_ms() -> float:
    """CPU time the whole machine spent busy so far (all cores, /proc/stat), to tell how much other processes
    took while a kind was measured: these development machines are shared."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) * TICK_MS


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def timed(fn: Callable[[], object], n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def base_filters(**kw: Any) -> dict[str, Any]:
    f: dict[str, Any] = {
        "query": "",
        "channel": "",
        "mall_id": None,
        "tier": None,
        "min_points": None,
        "max_points": None,
        "order": "-joined",
    }
    f.update(kw)
    return f


def kinds_for(group_id: int | None, rng: random.Random, samples: int) -> list[tuple[str, list[Kind]]]:
    """Per search kind, `samples` concrete filter sets drawn from the data (in the scope)."""
    from django.conf import settings
    from django.db.models import Q

    from galleria.members import rules
    from galleria.members.models import IdentifierKind, Member, MemberIdentifier
    from galleria.tiers.models import TierLevel

    members = Member.objects.filter(status="active")
    if group_id is not None:
        members = members.filter(mall_group_id=group_id)
    top = members.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = rng.sample(range(1, top + 1), min(top, samples * 6))
    picked = list(members.filter(pk__in=ids).values("pk", "name", "phone", "card_no", "code_secret")[: samples * 3])
    named = [m for m in picked if m["name"] and not m["name"].isascii()]
    latin = list(
        members.filter(name__regex=r"^[A-Za-z]+ [A-Za-z]+$", pk__in=ids).values_list("name", flat=True)[:samples]
    ) or ["Emma Wang"]
    plates_qs = MemberIdentifier.objects.filter(kind=IdentifierKind.PLATE)
    if group_id is not None:
        plates_qs = plates_qs.filter(mall_group_id=group_id)
    plates = list(plates_qs.order_by("?").values_list("value", flat=True)[:samples])
    levels = TierLevel.objects.filter(Q(mall_group_id=group_id) if group_id else Q()).order_by("mall_group_id", "rank")
    level_list = list(levels)
    gold = next(lvl for lvl in level_list if lvl.rank == 2)
    entry = next(lvl for lvl in level_list if lvl.rank == 0)
    key, step_s = settings.GALLERIA_MEMBER_CODE_KEY, settings.GALLERIA_MEMBER_CODE_STEP_SECONDS

    def q(values: list[str]) -> list[Kind]:
        return [Kind("", base_filters(query=values[i % len(values)])) for i in range(samples)]

    def code(m: Any) -> str:
        step = rules.time_step(time.time(), step_s)
        return rules.dynamic_code(key=key, member_id=m["pk"], member_secret=m["code_secret"], step=step)

    chars = "鑫淼焱垚犇骉蠡龘"  # rare characters: a name search that finds (almost) nothing
    return [
        ("name: full name", q([m["name"] for m in named])),
        ("name: surname (1 char)", q([m["name"][0] for m in named])),
        ("name: given name (2nd+ chars)", q([m["name"][1:] for m in named])),
        ("name: Latin, 4+ letters", q([n.split()[1] if len(n.split()[1]) >= 4 else n for n in latin])),
        ("name: no match", q([rng.choice(chars) + rng.choice(chars) for _ in range(samples)])),
        ("phone: full number", q([rules.national_phone(m["phone"]) for m in picked])),
        ("phone: last 4 digits", q([m["phone"][-4:] for m in picked])),
        ("phone: last 6 digits", q([m["phone"][-6:] for m in picked])),
        ("card number", q([m["card_no"] for m in picked])),
        ("licence plate", q(plates or ["粤B00000"])),
        (
            "dynamic member code",
            [Kind("", base_filters(), fresh=partial(code, picked[i % len(picked)])) for i in range(samples)],
        ),
        ("list: newest first", [Kind("", base_filters())] * samples),
        ("list: last page (40), newest first", [Kind("", base_filters(), page=40)] * samples),
        ("list: by name", [Kind("", base_filters(order="name"))] * samples),
        ("list: most points", [Kind("", base_filters(order="-points"))] * samples),
        ("list: fewest points", [Kind("", base_filters(order="points"))] * samples),
        ("list: tier gold, most points", [Kind("", base_filters(tier=gold, order="-points"))] * samples),
        ("list: entry tier, by name", [Kind("", base_filters(tier=entry, order="name"))] * samples),
        (
            "list: points 5,000–10,000, newest",
            [Kind("", base_filters(min_points=5000, max_points=10000))] * samples,
        ),
        ("list: points ≥ 20,000, by name", [Kind("", base_filters(min_points=20000, order="name"))] * samples),
        ("list: points ≤ 100, oldest first", [Kind("", base_filters(max_points=100, order="joined"))] * samples),
        (
            "list: surname 王 + silver tier, most points",
            [Kind("", base_filters(query="王", tier=level_list[1], order="-points"))] * samples,
        ),
    ]


def page_work(group_id: int | None, kind: Kind) -> tuple[int, int]:
    """What the console list view computes for one page (galleria/interfaces/console/views/members.py)."""
    from django.core.paginator import Paginator

    from galleria.interfaces.console.helpers import PAGE_SIZE
    from galleria.interfaces.console.views.members import member_listing, member_rows

    listing = member_listing(mall_group_id=group_id, filters=kind.current())
    page = Paginator(listing, PAGE_SIZE).get_page(kind.page)
    rows = member_rows(list(page.object_list))
    return listing.count(), len(rows)


def plan_indexes(group_id: int | None, kind: Kind) -> tuple[list[str], str]:
    """The indexes that the count and the page query of one sample use (EXPLAIN) and the first plan's first line."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        page_work(group_id, kind)
    used: list[str] = []
    first = ""
    with connection.cursor() as cursor:
        for query in ctx.captured_queries:
            sql = query["sql"]
            if "members_member" not in sql:
                continue
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(r[0] for r in cursor.fetchall())
            first = first or plan.splitlines()[0]
            used += re.findall(r"Index (?:Only )?Scan(?: Backward)? using (\w+)", plan)
            used += re.findall(r"Bitmap Index Scan on (\w+)", plan)
            if re.search(r"Seq Scan on members_member", plan):
                used.append("SEQ SCAN members_member")
    return sorted(set(used)), first


def http_pages(username: str, kinds: list[tuple[str, list[Kind]]], n: int) -> dict[str, list[float]]:
    from django.conf import settings
    from django.test import Client, override_settings

    from galleria.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    out: dict[str, list[float]] = {}
    plain = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=plain):  # no collectstatic manifest needed
        for name, samples in kinds:
            out[name] = _pages(client, name, samples, n)
    return out


def _pages(client: Any, name: str, samples: list[Kind], n: int) -> list[float]:
    times = []
    for kind in samples[: n + 2]:  # the first two warm up
        params: dict[str, Any] = {k: v for k, v in kind.current().items() if v not in (None, "")}
        if "query" in params:
            params["q"] = params.pop("query")
        if "tier" in params:
            params["tier"] = params["tier"].pk
        if kind.page != 1:
            params["page"] = kind.page
        t = time.perf_counter()
        resp = client.get("/console/members/", params)
        times.append((time.perf_counter() - t) * 1000)
        if resp.status_code != 200:
            raise RuntimeError(f"{name}: HTTP {resp.status_code}")
    return times[2:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--database", default="bench_search")
    parser.add_argument("--reuse", action="store_true", help="measure the database kept by an earlier run")
    parser.add_argument("--samples", type=int, default=100, help="measured samples per kind and scope")
    parser.add_argument("--warmup", type=int, default=15)
    parser.add_argument("--http", type=int, default=20, help="whole pages per kind and scope (0: none)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    opts = parser.parse_args()

    os.environ["DATABASE_URL"] = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{opts.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["DEBUG"] = "false"
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ["CONN_MAX_AGE"] = "600"
    report: dict[str, Any] = {"members": opts.members, "database": opts.database, "started": time.time()}
    if not opts.reuse:
        admin_sql(f'DROP DATABASE IF EXISTS "{opts.database}" WITH (FORCE)', f'CREATE DATABASE "{opts.database}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if not opts.reuse:
        t0 = time.perf_counter()
        log("migrate (without the search indexes)")
        call_command("migrate", verbosity=0)
        call_command("migrate", "ledger", "0005", verbosity=0)
        call_command("migrate", "members", "0002", verbosity=0)
        log(f"generate {opts.members:,} members")
        gen = generate(opts.members, opts.seed)
        for step, s in gen.seconds.items():
            log(f"  {step}: {s:.1f} s")
        log(
            f"  {gen.members:,} members, {gen.identifiers:,} identifiers, {gen.accounts:,} points accounts, "
            f"{gen.tiers:,} tier rows"
        )
        t = time.perf_counter()
        log("migrate: build the search indexes on the loaded tables")
        call_command("migrate", verbosity=0)
        gen.seconds["migrate: search indexes"] = time.perf_counter() - t
        log(f"  {gen.seconds['migrate: search indexes']:.1f} s")
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        gen.seconds["VACUUM ANALYZE"] = time.perf_counter() - t
        gen.seconds["total"] = time.perf_counter() - t0
        log(f"  VACUUM ANALYZE {gen.seconds['VACUUM ANALYZE']:.1f} s; data ready in {gen.seconds['total']:.0f} s")
        report["generation"] = gen.__dict__

    from galleria.malls.models import MallGroup
    from galleria.members.models import Member

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('members_member')), count(*) FROM members_member")
        size, count = cursor.fetchone()
        cursor.execute(
            "SELECT indexrelname, pg_size_pretty(pg_relation_size(indexrelid)) FROM pg_stat_user_indexes "
            "WHERE indexrelname IN ('member_name_grams_idx', 'member_phone_reversed_idx', 'member_name_idx', "
            "'account_member_balance_idx') ORDER BY 1"
        )
        report["index_sizes"] = dict(cursor.fetchall())
    report["member_rows"], report["member_table_size"] = count, size
    big = MallGroup.objects.get(code="xinghe")
    log(f"{count:,} members ({size}); search index sizes {report['index_sizes']}")

    rng = random.Random(opts.seed)
    top = Member.objects.order_by("-pk").values_list("pk", flat=True).first() or 1

    def select1() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    def by_pk() -> None:
        Member.objects.filter(pk=rng.randint(1, top)).first()

    with connection.cursor() as cursor:
        # the backend's CPU is then the whole query's (no parallel workers; a page's queries are small and counts
        # are capped, parallel plans only add start-up cost under load)
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    c0 = cpu_ms()
    baseline = {"SELECT 1": timed(select1, 500, 50)}
    c1 = cpu_ms()
    baseline["member by primary key (ORM)"] = timed(by_pk, 500, 50)
    c2 = cpu_ms()
    report["baseline_cpu_ms"] = {"SELECT 1": (c1 - c0) / 550, "member by primary key (ORM)": (c2 - c1) / 550}
    unit = statistics.median(baseline["member by primary key (ORM)"])
    report["baseline"] = {k: {"p50": pct(v, 0.5), "p95": pct(v, 0.95)} for k, v in baseline.items()}
    for k, v in baseline.items():
        log(
            f"baseline {k}: p50 {pct(v, 0.5):.2f} ms, p95 {pct(v, 0.95):.2f} ms, "
            f"cpu {report['baseline_cpu_ms'][k]:.2f} ms; load {os.getloadavg()[0]:.1f}"
        )

    results: dict[str, Any] = {}
    for scope, group_id, username in (("group admin", big.pk, "group-admin"), ("platform admin", None, "admin")):
        kinds = kinds_for(group_id, rng, opts.samples + opts.warmup)
        rows = []
        for name, samples in kinds:
            for kind in samples[: opts.warmup]:
                page_work(group_id, kind)
            local_pk = pct(timed(by_pk, 60, 10), 0.5)  # the baseline again, right before this kind
            times, found = [], []
            cpu_before, busy_before, wall_before = cpu_ms(), machine_busy_ms(), time.perf_counter()
            for kind in samples[opts.warmup :]:
                t = time.perf_counter()
                n, _shown = page_work(group_id, kind)
                times.append((time.perf_counter() - t) * 1000)
                found.append(n)
            ours = cpu_ms() - cpu_before
            cpu = ours / len(times)
            elapsed_ms = (time.perf_counter() - wall_before) * 1000
            others = max(0.0, machine_busy_ms() - busy_before - ours) / (elapsed_ms * NCPU)
            indexes, first = plan_indexes(group_id, samples[-1])
            row: dict[str, Any] = {
                "kind": name,
                "p50": pct(times, 0.5),
                "p95": pct(times, 0.95),
                "max": max(times),
                "p95_x_pk": pct(times, 0.95) / local_pk,
                "pk_p50": local_pk,
                "cpu_ms": cpu,
                "others": others,
                "load": os.getloadavg()[0],
                "matches_median": statistics.median(found),
                "indexes": indexes,
                "plan": first,
            }
            rows.append(row)
            log(
                f"{scope:14} {name:45} p50 {row['p50']:6.1f}  p95 {row['p95']:6.1f} ms  ×{row['p95_x_pk']:5.1f}"
                f"  cpu {cpu:5.1f} ms  others {others:4.0%}"
                f"  matches~{row['matches_median']:>7,.0f}  {', '.join(indexes)}"
            )
        pages: dict[str, list[float]] = http_pages(username, kinds, opts.http) if opts.http else {}
        for row in rows:
            if row["kind"] in pages:
                row["http_p50"] = pct(pages[row["kind"]], 0.5)
                row["http_p95"] = pct(pages[row["kind"]], 0.95)
        results[scope] = rows

    print()
    print(
        f"{'kind':45} {'scope':15} {'p50 ms':>7} {'p95 ms':>7} {'p95/pk':>7} {'cpu ms':>7} {'others':>7}"
        f" {'page p50':>9} {'page p95':>9}"
    )
    for scope, rows in results.items():
        for row in rows:
            print(
                f"{row['kind']:45} {scope:15} {row['p50']:7.1f} {row['p95']:7.1f} {row['p95_x_pk']:7.1f}"
                f" {row['cpu_ms']:7.1f} {row['others']:7.0%} {row.get('http_p50', 0):9.1f}"
                f" {row.get('http_p95', 0):9.1f}"
            )
    worst = max(row["p95"] for rows in results.values() for row in rows)
    print(f"\nworst p95 {worst:.1f} ms (target ≤ 50 ms); primary-key lookup p50 {unit:.2f} ms")
    report["results"] = results
    out = ROOT / "var" / "bench" / f"member_search-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    log(f"wrote {out}")
    if opts.drop:
        connection.close()
        admin_sql(f'DROP DATABASE IF EXISTS "{opts.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
