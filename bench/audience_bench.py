"""Audience at 1,000,000 members and 10,000,000 sales on PostgreSQL (issue #18; docs/performance.md).

    .venv/bin/python bench/audience_bench.py                 # generate (~15 min on 2 cores), then measure
    .venv/bin/python bench/audience_bench.py --reuse         # measure again on the database kept last time
    .venv/bin/python bench/audience_bench.py --members 20000 --sales 200000 --database bench_audience_small

A benchmark, not a test: it reports, it asserts nothing. Steps:

1. **Data** (skipped with --reuse): drop and create the database (default `bench_audience`), migrate it and load the
   members exactly as `member_search_bench.py` does (its `generate`: 80 % in the demo group 星河, 20 % in a second
   group; 0.5 % erased, 0.3 % merged; plates for 5 %; a points account for 60 % of the active members and a tier row
   for half of them). Then, in SQL: join dates squeezed to the last 3 years, genders 55/35/10 female/male/unknown,
   a birthday for 75 % (ages 16–70); merchants up to `--merchants` in the large group (13 categories, one store
   each) and 10 in the small one; marketing consent records (SMS for 65 % of the active members, 85 % of them
   granted, 5 % withdrawn later; WeChat for 50 %); and the sales, with `INSERT … SELECT generate_series` into the
   bare table (secondary indexes and constraints dropped, rebuilt after): 35 % of the active members never buy, the
   others are ranked at random and drawn with u⁴ (the top fifth of buyers make about two thirds of the purchases),
   over the last 2 years (never before the member joined), 10:00–22:00 local, at a merchant drawn with category
   weights (dining 4, supermarket 3, fashion 2, others 1), amounts log-normal around the category's typical
   ticket; channels 80 % POS, then pay-at-store, receipt, online, counter, payment link, points mall, parking; 20 %
   with a discount (10 %), 5 % with points; 3 % refunded, 2 % partly refunded. Parking stays (1–10 in the last
   year) for the members with a plate and 3 % of the others. VACUUM ANALYZE.
2. **Nightly pass**: `audience.services.profiles_rebuild` for each group (the large one's steps reported) — the
   whole million —, then again (the second run updates existing profiles). Then the minute pass: the refresh mark
   set to the last sale, `--new-sales` new sales inserted, `profiles_refresh()` timed.
3. **Segment counts** (`audience.selectors.segment_count`, the live count the console shows): typical segments of
   4 conditions over the large group, each warmed up and then timed `--runs` times (fewer when a count takes more
   than a few seconds), interleaved with two baselines measured in the same run: `SELECT COUNT(*)` of the group's
   active members (a scan of the group's members: what "not a scan" is compared with) and a member by primary key
   (ORM). EXPLAIN (ANALYZE, BUFFERS) of every segment's statement; the slowest one's plan goes into the report.

Report: stdout, var/bench/audience-<UTC>.json and the markdown section var/bench/audience-section.md."""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.member_search_bench import (  # noqa: E402
    PG,
    _drop_secondary_indexes,
    admin_sql,
    generate,
    log,
    pct,
)

# the categories' typical ticket (fen) and how often a purchase is in them (the demo seed's weights)
TICKET_FEN = {
    "dining": 9000,
    "supermarket": 15000,
    "fashion": 50000,
    "kids": 30000,
    "cinema": 10000,
    "beauty": 40000,
    "sports": 45000,
    "services": 8000,
    "electronics": 150000,
    "jewelry": 400000,
    "home": 80000,
    "entertainment": 12000,
    "education": 200000,
}
CATEGORY_WEIGHT = {"dining": 4, "supermarket": 3, "fashion": 2}
CHANNELS = (  # cumulative share
    (0.80, "pos"),
    (0.87, "pay_at_store"),
    (0.91, "receipt"),
    (0.94, "online"),
    (0.96, "counter"),
    (0.98, "payment_link"),
    (0.99, "points_mall"),
    (1.01, "parking"),
)


# ---------------------------------------------------------------------------------------------------------- data


def _sql(cursor: Any, text: str, params: Any = None) -> int:
    cursor.execute(text, params)
    return cursor.rowcount


def _members_reshape(cursor: Any) -> None:
    """Join dates over 3 years (member_search_bench spreads them over 5), realistic genders and birthdays: every row
    is rewritten, so the members' secondary indexes are dropped first and rebuilt after (updating the name-gram GIN
    row by row is several times slower)."""
    saved = _drop_secondary_indexes(cursor, ("members_member",))
    _sql(
        cursor,
        "UPDATE members_member SET created_at = now() - (now() - created_at) * 0.6,"
        " gender = CASE WHEN status <> 'active' THEN gender WHEN (id * 7919) % 100 < 55 THEN 'female'"
        " WHEN (id * 7919) % 100 < 90 THEN 'male' ELSE 'unknown' END,"
        " birthday = CASE WHEN status = 'active' AND random() < 0.75"
        " THEN (current_date - (16 * 365 + floor(random() * 54 * 365))::int) END",
    )
    cursor.execute("SET maintenance_work_mem = '1GB'")
    for statement in saved:
        cursor.execute(statement)


def _merchants(big_id: int, small_id: int, big_target: int) -> dict[str, int]:
    """Top the groups up to `big_target` merchants (large group) and 10 (small group), one store each, active."""
    from galleria.malls.models import Mall
    from galleria.merchants.models import Category, Merchant, Store

    made = {}
    categories = [c for c, _ in Category.choices]
    for group_id, target in ((big_id, big_target), (small_id, 10)):
        malls = list(Mall.objects.filter(group_id=group_id).order_by("pk"))
        have = Merchant.objects.filter(mall__group_id=group_id).count()
        new = []
        for i in range(max(0, target - have)):
            cat = categories[i % len(categories)] if i % 3 else ("dining", "supermarket", "fashion")[i % 9 // 3]
            new.append(Merchant(mall=malls[i % len(malls)], name=f"基准商户 {i + 1:03d}", category=cat))
        Merchant.objects.bulk_create(new)
        stores = [Store(merchant=m, name=m.name, floor="L1", unit_no=f"B{m.pk}") for m in new]
        Store.objects.bulk_create(stores)
        made[str(group_id)] = Merchant.objects.filter(mall__group_id=group_id).count()
    return made


def _consents(cursor: Any) -> int:
    n = _sql(
        cursor,
        "INSERT INTO members_consent (member_id, purpose, is_granted, policy_version, channel, recorded_at, reason)"
        " SELECT id, 'marketing_sms', random() < 0.85, '2026-01', join_channel, created_at, '' FROM members_member"
        " WHERE status = 'active' AND random() < 0.65",
    )
    n += _sql(
        cursor,
        "INSERT INTO members_consent (member_id, purpose, is_granted, policy_version, channel, recorded_at, reason)"
        " SELECT member_id, purpose, false, '2026-01', channel, recorded_at + interval '100 days', ''"
        " FROM members_consent WHERE purpose = 'marketing_sms' AND is_granted AND random() < 0.05",
    )
    n += _sql(
        cursor,
        "INSERT INTO members_consent (member_id, purpose, is_granted, policy_version, channel, recorded_at, reason)"
        " SELECT id, 'marketing_wechat', random() < 0.8, '2026-01', join_channel, created_at, '' FROM members_member"
        " WHERE status = 'active' AND random() < 0.5",
    )
    return n


def _shop_slots(cursor: Any, group_id: int) -> int:
    """bench_slots(rn, merchant, mall, store, ticket): each active merchant of the group once per weight unit."""
    cursor.execute("DROP TABLE IF EXISTS bench_slots")
    tickets = " ".join(f"WHEN '{c}' THEN {v}" for c, v in TICKET_FEN.items())
    weights = " ".join(f"WHEN '{c}' THEN {v}" for c, v in CATEGORY_WEIGHT.items())
    cursor.execute(
        "CREATE TEMP TABLE bench_slots AS SELECT row_number() OVER (ORDER BY m.id, w) AS rn, m.id AS merchant_id,"
        f" m.mall_id, s.store_id, CASE m.category {tickets} ELSE 20000 END AS ticket"
        " FROM merchants_merchant m JOIN malls_mall ml ON ml.id = m.mall_id"
        " JOIN LATERAL (SELECT MIN(id) AS store_id FROM merchants_store WHERE merchant_id = m.id) s ON true"
        f" CROSS JOIN LATERAL generate_series(1, CASE m.category {weights} ELSE 1 END) w"
        " WHERE ml.group_id = %s AND m.status = 'active' AND s.store_id IS NOT NULL",
        [group_id],
    )
    cursor.execute("CREATE UNIQUE INDEX ON bench_slots (rn)")
    cursor.execute("SELECT COUNT(*) FROM bench_slots")
    return int(cursor.fetchone()[0])


def _buyers(cursor: Any, group_id: int, share: float = 0.65) -> int:
    """bench_buyers(rn, id, since): the group's buying members in a random order (rank 1 buys most)."""
    cursor.execute("DROP TABLE IF EXISTS bench_buyers")
    cursor.execute(
        "CREATE TEMP TABLE bench_buyers AS SELECT row_number() OVER (ORDER BY random()) AS rn, id,"
        " GREATEST(created_at, now() - interval '730 days') AS since FROM members_member"
        " WHERE mall_group_id = %s AND status = 'active' AND random() < %s",
        [group_id, share],
    )
    cursor.execute("CREATE UNIQUE INDEX ON bench_buyers (rn)")
    cursor.execute("ANALYZE bench_buyers")
    cursor.execute("SELECT COUNT(*) FROM bench_buyers")
    return int(cursor.fetchone()[0])


def _insert_sales(cursor: Any, *, group_id: int, first_id: int, n: int, buyers: int, slots: int, recent: bool) -> int:
    """n sales with ids first_id… of the group's buyers (bench_buyers) at its merchants (bench_slots). `recent`:
    in the last hour, written 30 s ago (new sales for the minute refresh)."""
    channel = "CASE " + " ".join(f"WHEN uc < {c} THEN '{name}'" for c, name in CHANNELS) + " END"
    if recent:
        at = "now() - interval '1 hour' * ut"
        created = "now() - interval '30 seconds'"
    else:
        # a day between joining (or 2 years ago) and yesterday, 10:00–22:00 Beijing time (02:00–14:00 UTC)
        at = (
            "LEAST(now() - interval '1 minute', GREATEST(b.since, date_trunc('day', b.since)"
            " + floor(ut * GREATEST(1, extract(epoch FROM now() - b.since) / 86400))::int * interval '1 day'"
            " + interval '2 hours' + uh * interval '12 hours'))"
        )
        created = "at + interval '2 seconds'"
    text = f"""
    INSERT INTO sales_sale (id, mall_group_id, mall_id, merchant_id, store_id, terminal_id, member_id, pos_sale_id,
        occurred_at, created_at, is_offline, channel, status, total_fen, paid_fen, points_used, points_value_fen,
        points_earned, refunded_fen, discount_fen, earn_explanation)
    SELECT id, %(group)s, mall_id, merchant_id, store_id, NULL, member_id, 'B' || id, at, {created}, false, channel,
        CASE WHEN ur < 0.03 THEN 'refunded' WHEN ur < 0.05 THEN 'partially_refunded' ELSE 'completed' END,
        total, total - disc - pts, pts, pts, (total - disc - pts) / 100,
        CASE WHEN ur < 0.03 THEN total WHEN ur < 0.05 THEN total / 3 ELSE 0 END, disc, '{{}}'
    FROM (
        SELECT z.*, CASE WHEN up < 0.05 THEN LEAST((total - disc) / 2, 2000) ELSE 0 END AS pts FROM (
            SELECT y.*, CASE WHEN ud < 0.2 THEN total / 10 ELSE 0 END AS disc FROM (
                SELECT r.id, r.ur, r.ud, r.up, {channel} AS channel, sl.merchant_id, sl.mall_id, sl.store_id,
                    b.id AS member_id, {at} AS at,
                    GREATEST(100, round(sl.ticket * exp(1.6 * (r.a1 + r.a2 + r.a3 - 1.5))))::bigint AS total
                FROM (
                    SELECT g AS id, random() AS um, random() AS us, random() AS ut, random() AS uh, random() AS uc,
                        random() AS ur, random() AS ud, random() AS up, random() AS a1, random() AS a2,
                        random() AS a3
                    FROM generate_series(%(first)s, %(last)s) g OFFSET 0
                ) r
                JOIN bench_buyers b ON b.rn = 1 + LEAST(%(buyers)s - 1, floor(%(buyers)s * power(r.um, 4)))::bigint
                JOIN bench_slots sl ON sl.rn = 1 + LEAST(%(slots)s - 1, floor(%(slots)s * r.us))::bigint
            ) y
        ) z
    ) s"""
    return _sql(
        cursor, text, {"group": group_id, "first": first_id, "last": first_id + n - 1, "buyers": buyers, "slots": slots}
    )


def _parking(cursor: Any, group_id: int) -> int:
    """1–10 stays in the last year for members with a plate and 3 % of the others, at the group's first car park."""
    cursor.execute(
        "SELECT cp.id FROM parking_carpark cp JOIN malls_mall m ON m.id = cp.mall_id WHERE m.group_id = %s"
        " ORDER BY cp.id LIMIT 1",
        [group_id],
    )
    found = cursor.fetchone()
    if not found:
        from galleria.malls.models import Mall
        from galleria.parking.models import CarPark

        mall = Mall.objects.filter(group_id=group_id).order_by("pk").first()
        assert mall is not None, "the group has a mall"
        found = (CarPark.objects.create(mall=mall, code="bench", name="基准停车场", capacity=1000).pk,)
    cursor.execute("DROP TABLE IF EXISTS bench_drivers")
    cursor.execute(
        "CREATE TEMP TABLE bench_drivers AS SELECT m.id, COALESCE(i.value, 'B' || m.id) AS plate,"
        " 1 + floor(random() * 10)::int AS stays FROM members_member m"
        " LEFT JOIN members_memberidentifier i ON i.member_id = m.id AND i.kind = 'plate'"
        " WHERE m.mall_group_id = %s AND m.status = 'active' AND (i.id IS NOT NULL OR random() < 0.03)",
        [group_id],
    )
    return _sql(
        cursor,
        "INSERT INTO parking_parkingsession (car_park_id, plate, member_id, state, exception, entry_at, entry_gate,"
        " entry_event, exit_at, exit_gate, exit_event, paid_fen, plate_was, note, explanation, created_at, updated_at)"
        " SELECT %s, plate, id, 'exited', '', at, '', '', at + interval '2 hours', '', '', 0, '', '', '{}', at, at"
        " FROM (SELECT d.id, d.plate, now() - random() * interval '365 days' AS at FROM bench_drivers d,"
        " generate_series(1, d.stays) k) s",
        [found[0]],
    )


def build(opts: argparse.Namespace, report: dict[str, Any]) -> None:
    from django.core.management import call_command
    from django.db import connection

    from galleria.malls.models import MallGroup

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    log("migrate")
    call_command("migrate", verbosity=0)  # generate() drops the members' indexes (search ones too), rebuilds them
    seconds["migrate"] = time.perf_counter() - t0
    t = time.perf_counter()
    log(f"generate {opts.members:,} members (member_search_bench.generate)")
    gen = generate(opts.members, opts.seed)
    with connection.cursor() as cursor:
        _members_reshape(cursor)
    seconds["members (generate + reshape)"] = time.perf_counter() - t
    log(
        f"  {gen.members:,} members, {gen.accounts:,} points accounts, {gen.tiers:,} tier rows in"
        f" {seconds['members (generate + reshape)']:.0f} s"
    )
    big = MallGroup.objects.get(code="xinghe")
    small = MallGroup.objects.get(code="coastal")
    t = time.perf_counter()
    report["merchants"] = _merchants(big.pk, small.pk, opts.merchants)
    with connection.cursor() as cursor:
        report["consents"] = _consents(cursor)
    seconds["merchants + consents"] = time.perf_counter() - t
    log(f"  merchants {report['merchants']}, {report['consents']:,} consent records")

    t = time.perf_counter()
    sales_counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET work_mem = '256MB'")
        saved = _drop_secondary_indexes(cursor, ("sales_sale",))
        seconds["sales: drop indexes"] = time.perf_counter() - t
        next_id = 1
        for group, share in ((big, 0.8), (small, 0.2)):
            n = round(opts.sales * share)
            buyers = _buyers(cursor, group.pk)
            slots = _shop_slots(cursor, group.pk)
            chunk = 2_000_000
            done = 0
            while done < n:
                k = min(chunk, n - done)
                tc = time.perf_counter()
                _insert_sales(
                    cursor, group_id=group.pk, first_id=next_id, n=k, buyers=buyers, slots=slots, recent=False
                )
                next_id += k
                done += k
                log(
                    f"  sales {group.code}: {done:,}/{n:,} ({buyers:,} buyers, {slots} merchant slots)"
                    f" {time.perf_counter() - tc:.0f} s"
                )
            sales_counts[group.code] = n
        cursor.execute("SELECT setval(pg_get_serial_sequence('sales_sale', 'id'), %s)", [next_id - 1])
        seconds["sales: insert"] = time.perf_counter() - t
        t = time.perf_counter()
        cursor.execute("SET max_parallel_maintenance_workers = 2")
        for statement in saved:
            ts = time.perf_counter()
            cursor.execute(statement)
            log(f"  {time.perf_counter() - ts:5.1f} s  {statement[:110]}")
        seconds["sales: rebuild indexes and constraints"] = time.perf_counter() - t
        t = time.perf_counter()
        report["parking_stays"] = sum(_parking(cursor, g.pk) for g in (big, small))
        seconds["parking stays"] = time.perf_counter() - t
        t = time.perf_counter()
        log("VACUUM ANALYZE")
        cursor.execute("VACUUM ANALYZE")
        seconds["VACUUM ANALYZE"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0
    for k, v in seconds.items():
        log(f"  {k}: {v:.1f} s")
    report["generation"] = {
        "seconds": seconds,
        "sales": sales_counts,
        "members": gen.members,
        "tiers": gen.tiers,
        "accounts": gen.accounts,
        "identifiers": gen.identifiers,
        "member_python_steps": gen.seconds,
    }


# ---------------------------------------------------------------------------------------------------- measuring


def facts(big_id: int) -> dict[str, Any]:
    from django.db import connection

    out: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for name, text in {
            "members": "SELECT COUNT(*) FROM members_member",
            "active members (large group)": f"SELECT COUNT(*) FROM members_member WHERE mall_group_id = {big_id}"
            " AND status = 'active'",
            "sales": "SELECT COUNT(*) FROM sales_sale",
            "buyers": "SELECT COUNT(DISTINCT member_id) FROM sales_sale",
            "parking stays": "SELECT COUNT(*) FROM parking_parkingsession",
            "consent records": "SELECT COUNT(*) FROM members_consent",
            "tier rows": "SELECT COUNT(*) FROM tiers_membertier",
            "points accounts": "SELECT COUNT(*) FROM ledger_account WHERE member_id IS NOT NULL",
            "merchants": "SELECT COUNT(*) FROM merchants_merchant",
        }.items():
            cursor.execute(text)
            out[name] = int(cursor.fetchone()[0])
        # how skewed the purchases are: the share of sales made by the top 20 % of buyers
        cursor.execute(
            "SELECT SUM(n) FILTER (WHERE r <= 0.2) / SUM(n) FROM (SELECT COUNT(*) AS n,"
            " percent_rank() OVER (ORDER BY COUNT(*) DESC) AS r FROM sales_sale WHERE member_id IS NOT NULL"
            " GROUP BY member_id) t"
        )
        out["sales share of the top 20% of buyers"] = round(float(cursor.fetchone()[0]), 3)
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('sales_sale')),"
            " pg_size_pretty(pg_total_relation_size('members_member')),"
            " pg_size_pretty(pg_database_size(current_database()))"
        )
        out["sizes (sales, members, database)"] = list(cursor.fetchone())
    return out


def segments(big_id: int) -> list[tuple[str, dict[str, Any]]]:
    from galleria.audience.models import Tag
    from galleria.merchants.models import Merchant
    from galleria.tiers.models import TierLevel

    levels = list(TierLevel.objects.filter(mall_group_id=big_id).order_by("rank").values_list("pk", "name"))
    top2 = [pk for pk, _ in levels[-2:]]
    tags = dict(Tag.objects.filter(mall_group_id=big_id, kind="auto").values_list("code", "pk"))
    some_fashion = list(
        Merchant.objects.filter(mall__group_id=big_id, category="fashion").order_by("pk").values_list("pk", flat=True)
    )[:5]
    return [
        (
            "gold/platinum + dining ≥ ¥300 in 90 d + active/won back + SMS consent",
            {
                "match": "all",
                "conditions": [
                    {"field": "tier", "in": top2},
                    {"field": "spend", "days": 90, "categories": ["dining"], "min": 30000},
                    {"field": "lifecycle", "in": ["active", "won_back"]},
                    {"field": "consent", "channel": "sms", "granted": True},
                ],
            },
        ),
        (
            "women 25–35 + RFM important value/develop + tag weekend or favourite fashion",
            {
                "match": "all",
                "conditions": [
                    {"field": "gender", "in": ["female"]},
                    {"field": "age", "min": 25, "max": 35},
                    {"field": "rfm", "in": ["important_value", "important_develop"]},
                    {"field": "tag", "any": [tags["habit:weekend"], tags["favourite:fashion"]]},
                ],
            },
        ),
        (
            "points ≥ 5,000 + ≥ 2 visits in 30 d + parked in 90 d + active",
            {
                "match": "all",
                "conditions": [
                    {"field": "points", "min": 5000},
                    {"field": "visits", "days": 30, "min": 2},
                    {"field": "parking", "days": 90, "min": 1},
                    {"field": "lifecycle", "in": ["active", "won_back", "new"]},
                ],
            },
        ),
        (
            "at risk/dormant + (gold/platinum OR spend ≥ ¥2,000 in 365 d) + SMS consent + age ≤ 45",
            {
                "match": "all",
                "conditions": [
                    {"field": "lifecycle", "in": ["at_risk", "dormant"]},
                    {
                        "match": "any",
                        "conditions": [
                            {"field": "tier", "in": top2},
                            {"field": "spend", "days": 365, "min": 200000},
                        ],
                    },
                    {"field": "consent", "channel": "sms", "granted": True},
                    {"field": "age", "max": 45},
                ],
            },
        ),
        (
            "spend at 5 fashion shops ≥ ¥1,000 in 180 d + m_score ≥ 4 + joined > 1 year + men",
            {
                "match": "all",
                "conditions": [
                    {"field": "spend", "days": 180, "merchants": some_fashion, "min": 100000},
                    {"field": "m_score", "min": 4},
                    {"field": "joined", "before_days": 365},
                    {"field": "gender", "in": ["male"]},
                ],
            },
        ),
    ]


def segment_sql(big_id: int, definition: dict[str, Any]) -> str:
    """The statement segment_count runs (captured, parameters inlined)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from galleria.audience import selectors

    with CaptureQueriesContext(connection) as ctx:
        selectors.segment_count(mall_group_id=big_id, definition=definition)
    return [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(*)")][-1]


def explain(text: str) -> tuple[str, float]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + text)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    m = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return plan, float(m.group(1)) if m else 0.0


def write_section(report: dict[str, Any], path: Path) -> None:
    """The measured part of the docs/performance.md section (tables; the analysis is written by hand)."""
    lines: list[str] = []
    gen = report.get("generation")
    f = report.get("facts", {})
    lines.append(
        f"Data: {f.get('members', 0):,} members ({f.get('active members (large group)', 0):,} active in the large"
        f" group), {f.get('sales', 0):,} sales by {f.get('buyers', 0):,} members (top 20 % of buyers:"
        f" {f.get('sales share of the top 20% of buyers', 0):.0%} of the sales), {f.get('parking stays', 0):,}"
        f" parking stays, {f.get('consent records', 0):,} consent records; sizes (sales, members, database)"
        f" {', '.join(f.get('sizes (sales, members, database)', []))}."
    )
    if gen:
        lines.append("")
        lines.append("| generation step | s |")
        lines.append("|---|---:|")
        for k, v in gen["seconds"].items():
            lines.append(f"| {k} | {v:.0f} |")
    rebuilds = report.get("rebuilds", [])
    if rebuilds:
        lines += [
            "",
            "| nightly pass | group | profiles | wall s | profiles s | remove s | rfm s | stages s | tags s |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rebuilds:
            st = r.get("steps", {})
            lines.append(
                f"| run {r['run']} | {r['group']} | {r.get('profiles', '') and format(r['profiles'], ',')} |"
                f" {r['wall_s']:.1f} | "
                + " | ".join(f"{st[k]:.1f}" if k in st else "" for k in ("profiles", "remove", "rfm", "stages", "tags"))
                + " |"
            )
    if "refresh" in report:
        r = report["refresh"]
        lines += [
            "",
            f"Minute pass (`profiles_refresh`) after {r['new_sales']:,} new sales: {r['members']:,} members"
            f" in {r['wall_s']:.2f} s.",
        ]
    segs = report.get("segments", [])
    if segs:
        lines += [
            "",
            "| segment (4 conditions) | members | p50 ms | p95 ms | runs | × group COUNT(*) | × pk lookup |"
            " seq scans in the plan |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in segs:
            lines.append(
                f"| {r['segment']} | {r['count']:,} | {r['p50']:,.0f} | {r['p95']:,.0f} | {r['runs']} |"
                f" {r['p50_x_group_count']:.1f} | {r['p50_x_pk']:,.0f} | {', '.join(r['seq_scans']) or '—'} |"
            )
        b = segs[0]
        lines += [
            "",
            f"Baselines in the same run (before the first segment): `SELECT COUNT(*)` of the group's active"
            f" members p50 {b['baseline_group_count_p50']:.1f} ms, a member by primary key (ORM) p50"
            f" {b['baseline_pk_p50']:.2f} ms.",
        ]
        slow = max(segs, key=lambda r: r["p50"])
        lines += [
            "",
            f"EXPLAIN (ANALYZE, BUFFERS) of the slowest, “{slow['segment']}”:",
            "",
            "```",
            report["plans"][slow["segment"]]["plan"],
            "```",
        ]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--sales", type=int, default=10_000_000)
    parser.add_argument("--merchants", type=int, default=100, help="merchants in the large group")
    parser.add_argument("--database", default="bench_audience")
    parser.add_argument("--reuse", action="store_true", help="measure the database kept by an earlier run")
    parser.add_argument("--runs", type=int, default=15, help="timed counts per segment (fewer for slow ones)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--new-sales", type=int, default=2000)
    parser.add_argument("--rebuilds", type=int, default=2, help="nightly passes (0: skip; then profiles must exist)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--section-from", type=Path, help="only write the markdown tables of this JSON report")
    opts = parser.parse_args()
    section = ROOT / "var" / "bench" / "audience-section.tables.md"
    if opts.section_from:
        write_section(json.loads(opts.section_from.read_text()), section)
        return

    os.environ["DATABASE_URL"] = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{opts.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["DEBUG"] = "false"
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ["CONN_MAX_AGE"] = "600"
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    report: dict[str, Any] = {"database": opts.database, "started": stamp, "reuse": opts.reuse}
    out = ROOT / "var" / "bench" / f"audience-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        out.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))

    if not opts.reuse:
        admin_sql(f'DROP DATABASE IF EXISTS "{opts.database}" WITH (FORCE)', f'CREATE DATABASE "{opts.database}"')
    import django

    django.setup()
    from django.db import connection

    from galleria.audience import selectors, services
    from galleria.audience.models import RefreshMark
    from galleria.malls.models import MallGroup
    from galleria.members.models import Member

    if not opts.reuse:
        build(opts, report)
        save()
    big = MallGroup.objects.get(code="xinghe")
    small = MallGroup.objects.get(code="coastal")
    report["facts"] = facts(big.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        report["postgres"] = cursor.fetchone()[0]
        for name in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit"):
            cursor.execute(f"SHOW {name}")
            report.setdefault("settings", {})[name] = cursor.fetchone()[0]
    log(f"facts {report['facts']}")
    save()

    # ------------------------------------------------------------------ the nightly pass
    rebuilds: list[dict[str, Any]] = []
    for run in range(1, opts.rebuilds + 1):
        total = 0.0
        for group in (big, small):
            log(f"profiles_rebuild {group.code} (run {run}); load {os.getloadavg()[0]:.1f}")
            t = time.perf_counter()
            result = services.profiles_rebuild(mall_group_id=group.pk)
            wall = time.perf_counter() - t
            total += wall
            row = {"run": run, "group": group.code, "wall_s": wall, **result.__dict__, "load": os.getloadavg()[0]}
            rebuilds.append(row)
            log(
                f"  {wall:.1f} s: {result.profiles:,} profiles, {result.scored:,} scored, {result.tagged:,} tag"
                f" changes; steps {result.steps}"
            )
        rebuilds.append({"run": run, "group": "both (1M members)", "wall_s": total})
        log(f"  run {run}: both groups {total:.1f} s (target ≤ 300 s)")
        report["rebuilds"] = rebuilds
        save()

    # ------------------------------------------------------------------ the minute pass
    if opts.new_sales:
        with connection.cursor() as cursor:
            cursor.execute("SELECT MAX(id) FROM sales_sale")
            top = int(cursor.fetchone()[0])
            RefreshMark.objects.update_or_create(key="sales", defaults={"last_sale_id": top})
            buyers = _buyers(cursor, big.pk)
            slots = _shop_slots(cursor, big.pk)
            _insert_sales(
                cursor, group_id=big.pk, first_id=top + 1, n=opts.new_sales, buyers=buyers, slots=slots, recent=True
            )
            cursor.execute("SELECT setval(pg_get_serial_sequence('sales_sale', 'id'), %s)", [top + opts.new_sales])
        t = time.perf_counter()
        refreshed = services.profiles_refresh()
        wall = time.perf_counter() - t
        report["refresh"] = {"new_sales": opts.new_sales, "members": refreshed.members, "wall_s": wall}
        log(f"profiles_refresh after {opts.new_sales:,} new sales: {refreshed.members:,} members in {wall:.2f} s")
        save()

    # ------------------------------------------------------------------ segment counts
    top_member = Member.objects.order_by("-pk").values_list("pk", flat=True).first() or 1
    import random

    rng = random.Random(opts.seed)

    def by_pk() -> None:
        Member.objects.filter(pk=rng.randint(1, top_member)).first()

    def group_count() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM members_member WHERE mall_group_id = %s AND status = 'active'", [big.pk]
            )
            return int(cursor.fetchone()[0])

    def times(fn: Any, n: int, warmup: int) -> list[float]:
        for _ in range(warmup):
            fn()
        found = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            found.append((time.perf_counter() - t) * 1000)
        return found

    rows: list[dict[str, Any]] = []
    plans: dict[str, Any] = {}
    for name, definition in segments(big.pk):
        base_pk = times(by_pk, 50, 5)
        base_count = times(group_count, 5, 1)
        t = time.perf_counter()
        n = selectors.segment_count(mall_group_id=big.pk, definition=definition)
        first = time.perf_counter() - t
        runs = opts.runs if first < 2 else max(3, min(opts.runs, int(60 / max(first, 0.1))))
        ms = times(
            lambda d=definition: selectors.segment_count(mall_group_id=big.pk, definition=d),
            runs,
            max(0, opts.warmup - 1),
        )
        text = segment_sql(big.pk, definition)
        plan, exec_ms = explain(text)
        count_p50 = statistics.median(base_count)
        row = {
            "segment": name,
            "count": n,
            "first_ms": first * 1000,
            "runs": runs,
            "p50": pct(ms, 0.5),
            "p95": pct(ms, 0.95),
            "max": max(ms),
            "baseline_group_count_p50": count_p50,
            "baseline_pk_p50": statistics.median(base_pk),
            "p50_x_group_count": pct(ms, 0.5) / count_p50,
            "p50_x_pk": pct(ms, 0.5) / statistics.median(base_pk),
            "explain_ms": exec_ms,
            "seq_scans": sorted(set(re.findall(r"Seq Scan on (\w+)", plan))),
            "indexes": sorted(
                set(re.findall(r"(?:Index (?:Only )?Scan(?: Backward)? using|Bitmap Index Scan on) (\w+)", plan))
            ),
            "load": os.getloadavg()[0],
            "definition": definition,
        }
        plans[name] = {"sql": text, "plan": plan}
        rows.append(row)
        log(
            f"{name[:70]:70} n={n:>8,} p50 {row['p50']:8.1f} p95 {row['p95']:8.1f} ms"
            f" ×count {row['p50_x_group_count']:5.2f} ×pk {row['p50_x_pk']:7.0f}  seq: {', '.join(row['seq_scans'])}"
        )
        report["segments"] = rows
        report["plans"] = plans
        save()
    slowest = max(rows, key=lambda r: r["p50"])
    report["slowest"] = slowest["segment"]
    save()
    write_section(report, section)
    log(f"wrote {out} and {section}")


if __name__ == "__main__":
    main()
