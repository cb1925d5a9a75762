"""Settlement statements at scale on PostgreSQL (docs/settlement.md, docs/performance.md): 100 merchants × one month
× 100,000 sales. Target: generating the month's statements in ≤ 30 s.

    .venv/bin/python bench/settlement_bench.py                       # ~2 min: load, then measure
    .venv/bin/python bench/settlement_bench.py --sales 20000 --merchants 40 --keep

A benchmark, not a test: it reports, it asserts nothing. Steps:

1. **Data**: drop and create the database (default `helper_settle_bench`), migrate, one group with one mall,
   `--merchants` merchants (commission 3–15 %, every fourth funds its own points) and a few members; then COPY the
   rows a month of checkout would have written: `--sales` sales in the month plus 10 % in the month before (so the
   period filter has something to leave out), with what the checkout posts for each — the points earned (member
   and funder legs), and the `settlement` transaction when there is something to settle: pay-at-store money
   (25 % of sales, WeChat Pay / Alipay), points paid with (10 %), coupons (15 %, mall- or merchant-funded),
   merchant-funded points; wallet payments (8 %); and 3 % of sales refunded in full a few days later (a refund row
   and the reversing legs, some in the next month). The ledger's balance trigger is switched off during the COPY
   and the balance of every transaction is checked with one query after it. `VACUUM ANALYZE`.
2. **Baseline**, in the same run: what PostgreSQL must read at least — the period's legs on the merchants'
   settlement accounts grouped by merchant and kind, and the sales and refunds grouped by merchant — as plain SQL
   through Django's cursor (median of 5).
3. **Generation** through `settlement.services.statements_generate` (the command's and the console's path):
   the first run (creates the statements), a second run with no new postings (changes nothing), then half the
   statements confirmed, 200 late sales dated in the month through the real checkout, and a third run (the open
   statements regenerated, supplementary statements for the confirmed ones). Time, SQL statements, ratio to the
   baseline. Then the finance export (XLSX: summary + every leg) of the month, against its floor measured in the
   same run — reading every leg behind the statements and writing nothing — and the CSV of the legs.

The report goes to stdout and var/bench/settlement-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
SH = ZoneInfo("Asia/Shanghai")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def admin_sql(*statements: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:  # type: ignore[arg-type]
        for statement in statements:
            conn.execute(statement)


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


class Ledger:
    """Transactions and legs to COPY, with ids handed out here (the sequence is moved past them afterwards)."""

    def __init__(self, first_id: int) -> None:
        self.next_id = first_id
        self.txs: list[tuple[Any, ...]] = []
        self.legs: list[tuple[Any, ...]] = []

    def post(
        self, *, group: int, kind: str, at: dt.datetime, source: str, legs: list[tuple[int, str, int]], memo: str = ""
    ) -> int:
        assert sum(a for _acc, asset, a in legs if asset == "cny") == 0
        assert sum(a for _acc, asset, a in legs if asset == "points") == 0
        tx = self.next_id
        self.next_id += 1
        when = at.isoformat()
        self.txs.append((tx, group, kind, when, when, memo, source, "{}", None))
        self.legs.extend((tx, acc, asset, amount, when) for acc, asset, amount in legs if amount)
        return tx


def generate(opts: argparse.Namespace, period: Any) -> dict[str, Any]:
    from django.db import connection, transaction

    from galleria.audit.types import Actor
    from galleria.ledger import services as ledger
    from galleria.ledger.models import Entry
    from galleria.ledger.models import Transaction as LedgerTx
    from galleria.malls.models import Mall, MallGroup
    from galleria.members.services import member_register
    from galleria.merchants.models import Merchant, Store
    from galleria.sales.models import Refund, Sale
    from galleria.settlement import rules

    rng = random.Random(opts.seed)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    group = MallGroup.objects.create(name="基准集团", code="bench")
    mall = Mall.objects.create(group=group, name="基准广场", code="bench-plaza")
    merchants = [
        Merchant.objects.create(
            mall=mall, name=f"商户{i:03d}", category="dining", commission_bp=rng.randrange(300, 1501, 50)
        )
        for i in range(opts.merchants)
    ]
    stores = {
        m.pk: Store.objects.create(merchant=m, name=f"{m.name}店", floor="L1", unit_no=f"U{m.pk}") for m in merchants
    }
    funds_points = {m.pk for i, m in enumerate(merchants) if i % 4 == 0}
    members = [
        member_register(mall=mall, phone=f"1390000{i:04d}", channel="desk", actor=Actor.system("bench"))
        for i in range(opts.members)
    ]
    with transaction.atomic():
        acc: dict[tuple[str, int | None], int] = {}

        def system(kind: str, merchant_id: int | None = None) -> int:
            key = (kind, merchant_id)
            if key not in acc:
                acc[key] = ledger.system_account_id(mall_group_id=group.pk, kind=kind, merchant_id=merchant_id)
            return acc[key]

        points_acc = {
            m.pk: ledger.member_account(mall_group_id=group.pk, member_id=m.pk, kind="member_points").pk
            for m in members
        }
        wallet_acc = {
            m.pk: ledger.member_account(mall_group_id=group.pk, member_id=m.pk, kind="member_wallet").pk
            for m in members
        }
        for m in merchants:
            for kind in (
                "merchant_collected",
                "points_value_redeemed",
                "coupon_mall_funded",
                "merchant_points_cost",
                "coupon_merchant_funded",
                "wallet_spent",
                "points_issued",
            ):
                system(kind, m.pk)
        for kind in (
            "gateway_clearing",
            "points_value_fund",
            "coupon_fund",
            "points_cost_receivable",
            "coupon_merchant_memo",
            "points_issued",
            "wallet_float",
        ):
            system(kind)
    out["setup_s"] = time.perf_counter() - t0

    since, until = rules.period_bounds(period, "Asia/Shanghai")
    before = since - dt.timedelta(days=30)
    last_tx = LedgerTx.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    book = Ledger(last_tx + 1000)
    sale_rows: list[tuple[Any, ...]] = []
    refund_rows: list[tuple[Any, ...]] = []
    counts = {"pay_at_store": 0, "points": 0, "coupon": 0, "wallet": 0, "refunds": 0, "settlement_txs": 0}
    sale_id = (Sale.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    refund_id = (Refund.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    n_total = opts.sales + opts.sales // 10
    # every member gets a big top-up first, so the wallet payments never take a balance below zero
    for holder in members:
        amount = 10**9
        book.post(
            group=group.pk,
            kind="topup",
            at=before - dt.timedelta(days=1),
            source=f"bench-topup:{holder.pk}",
            legs=[(wallet_acc[holder.pk], "cny", amount), (system("wallet_float"), "cny", -amount)],
        )
    t = time.perf_counter()
    for i in range(n_total):
        in_period = i < opts.sales
        start, span = (since, until - since) if in_period else (before, since - before)
        at = start + dt.timedelta(seconds=rng.random() * span.total_seconds())
        merchant = merchants[rng.randrange(len(merchants))]
        member = members[rng.randrange(len(members))]
        total = rng.randrange(1000, 100_000)
        channel = "pay_at_store" if rng.random() < 0.25 else "pos"
        points_value = (total // 10) // 100 * 100 if rng.random() < 0.10 else 0
        discount = min(rng.randrange(500, 3000), total // 3) if rng.random() < 0.15 else 0
        mall_funded = discount if rng.random() < 0.6 else 0
        merchant_funded = discount - mall_funded
        paid = total - points_value - discount
        wallet = paid if channel == "pos" and rng.random() < 0.08 else 0
        earned = paid // 100
        refunded = rng.random() < 0.03
        sale_rows.append(
            (
                sale_id,
                group.pk,
                mall.pk,
                merchant.pk,
                stores[merchant.pk].pk,
                None,
                member.pk,
                f"B{sale_id:08d}",
                at.isoformat(),
                at.isoformat(),
                "f",
                channel,
                "refunded" if refunded else "completed",
                total,
                paid,
                points_value,  # 1 point = 1 fen at the default rate
                points_value,
                earned,
                total if refunded else 0,
                discount,
                "{}",
            )
        )
        source = f"sale:{sale_id}"
        if earned:
            funder = system("points_issued", merchant.pk) if merchant.pk in funds_points else system("points_issued")
            book.post(
                group=group.pk,
                kind="earn",
                at=at,
                source=source,
                legs=[(points_acc[member.pk], "points", earned), (funder, "points", -earned)],
            )
        if wallet:
            counts["wallet"] += 1
            book.post(
                group=group.pk,
                kind="wallet_pay",
                at=at,
                source=source,
                legs=[(wallet_acc[member.pk], "cny", -wallet), (system("wallet_spent", merchant.pk), "cny", wallet)],
            )
        pairs = [
            ("merchant_collected", "gateway_clearing", paid - wallet if channel == "pay_at_store" else 0),
            ("points_value_redeemed", "points_value_fund", points_value),
            ("coupon_mall_funded", "coupon_fund", mall_funded),
            ("merchant_points_cost", "points_cost_receivable", -earned if merchant.pk in funds_points else 0),
            ("coupon_merchant_funded", "coupon_merchant_memo", -merchant_funded),
        ]
        settle_legs = [
            leg
            for mine, theirs, amount in pairs
            if amount
            for leg in ((system(mine, merchant.pk), "cny", amount), (system(theirs), "cny", -amount))
        ]
        counts["pay_at_store"] += channel == "pay_at_store"
        counts["points"] += bool(points_value)
        counts["coupon"] += bool(discount)
        if settle_legs:
            counts["settlement_txs"] += 1
            book.post(
                group=group.pk, kind="settlement", at=at, source=source, legs=settle_legs, memo=f"{merchant.name}"
            )
        if refunded:
            counts["refunds"] += 1
            back_at = min(at + dt.timedelta(days=rng.randrange(1, 6)), until + dt.timedelta(days=5))
            payments = json.dumps({"wechat": paid - wallet, "wallet": wallet} if wallet else {"wechat": paid})
            refund_rows.append(
                (
                    refund_id,
                    sale_id,
                    f"RB{refund_id}",
                    back_at.isoformat(),
                    back_at.isoformat(),
                    total,
                    paid,
                    payments,
                    earned,
                    0,
                    points_value,
                    0,
                    "[]",
                )
            )
            rsource = f"refund:{refund_id}"
            if settle_legs:
                book.post(
                    group=group.pk,
                    kind="settlement",
                    at=back_at,
                    source=rsource,
                    legs=[(a, asset, -amount) for a, asset, amount in settle_legs],
                )
            if wallet:
                book.post(
                    group=group.pk,
                    kind="refund",
                    at=back_at,
                    source=rsource,
                    legs=[
                        (wallet_acc[member.pk], "cny", wallet),
                        (system("wallet_spent", merchant.pk), "cny", -wallet),
                    ],
                )
            refund_id += 1
        sale_id += 1
    out["rows_built_s"] = time.perf_counter() - t
    t = time.perf_counter()
    sale_cols = (
        "id", "mall_group_id", "mall_id", "merchant_id", "store_id", "terminal_id", "member_id", "pos_sale_id",
        "occurred_at", "created_at", "is_offline", "channel", "status", "total_fen", "paid_fen", "points_used",
        "points_value_fen", "points_earned", "refunded_fen", "discount_fen", "earn_explanation",
    )  # fmt: skip
    refund_cols = (
        "id", "sale_id", "pos_refund_id", "occurred_at", "created_at", "amount_fen", "money_fen", "payments",
        "points_clawed_back", "points_shortfall", "points_returned", "coupon_deduct_fen", "lines",
    )  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {Entry._meta.db_table} DISABLE TRIGGER USER")
        raw = cursor.cursor
        out["sales"] = _copy(raw, Sale._meta.db_table, sale_cols, iter(sale_rows))
        out["refunds"] = _copy(raw, Refund._meta.db_table, refund_cols, iter(refund_rows))
        tx_cols = (
            "id",
            "mall_group_id",
            "kind",
            "occurred_at",
            "created_at",
            "memo",
            "source",
            "explanation",
            "reverses_id",
        )
        out["transactions"] = _copy(raw, LedgerTx._meta.db_table, tx_cols, iter(book.txs))
        leg_cols = ("transaction_id", "account_id", "asset", "amount", "occurred_at")
        out["legs"] = _copy(raw, Entry._meta.db_table, leg_cols, iter(book.legs))
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys' deferred checks run now
        cursor.execute(f"ALTER TABLE {Entry._meta.db_table} ENABLE TRIGGER USER")
        for model in (Sale, Refund, LedgerTx):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute(
            "UPDATE ledger_account a SET balance = COALESCE((SELECT sum(amount) FROM ledger_entry e "
            "WHERE e.account_id = a.id), 0) WHERE a.member_id IS NOT NULL"
        )
        cursor.execute(
            "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entry GROUP BY transaction_id, asset "
            "HAVING sum(amount) <> 0) x"
        )
        out["unbalanced_transactions"] = cursor.fetchone()[0]
    out["copy_s"] = time.perf_counter() - t
    with connection.cursor() as cursor:
        t = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")
        out["vacuum_s"] = time.perf_counter() - t
    out["counts"] = counts
    out["group_id"] = group.pk
    return out


def baseline(group_id: int, period: Any) -> Callable[[], None]:
    """The floor: the same three aggregates generation needs, as plain SQL (no ORM, no Python per row)."""
    from django.db import connection

    from galleria.settlement import rules

    since, until = rules.period_bounds(period, "Asia/Shanghai")
    kinds = (
        "merchant_collected",
        "wallet_spent",
        "points_value_redeemed",
        "coupon_mall_funded",
        "merchant_points_cost",
        "coupon_merchant_funded",
    )

    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.merchant_id, a.kind, sum(e.amount) FROM ledger_entry e JOIN ledger_account a ON a.id = "
                "e.account_id WHERE a.mall_group_id = %s AND a.kind = ANY(%s) AND a.member_id IS NULL AND "
                "a.merchant_id IS NOT NULL AND e.occurred_at >= %s AND e.occurred_at < %s GROUP BY 1, 2",
                [group_id, list(kinds), since, until],
            )
            cursor.fetchall()
            cursor.execute(
                "SELECT merchant_id, count(*), sum(total_fen) FROM sales_sale WHERE mall_group_id = %s AND "
                "occurred_at >= %s AND occurred_at < %s GROUP BY 1",
                [group_id, since, until],
            )
            cursor.fetchall()
            cursor.execute(
                "SELECT s.merchant_id, count(*), sum(r.amount_fen) FROM sales_refund r JOIN sales_sale s ON "
                "s.id = r.sale_id WHERE s.mall_group_id = %s AND r.occurred_at >= %s AND r.occurred_at < %s "
                "GROUP BY 1",
                [group_id, since, until],
            )
            cursor.fetchall()

    return run


def timed(fn: Callable[[], Any]) -> tuple[float, Any, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        t = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t
    return seconds, result, len(ctx.captured_queries)


def late_sales(group_id: int, period: Any, n: int, seed: int) -> None:
    """`n` sales dated in the period, through the real checkout (offline uploads that arrived after the month)."""
    from django.utils import timezone

    from galleria.audit.types import Actor
    from galleria.merchants.models import Store
    from galleria.sales.services import sale_commit
    from galleria.sales.types import LineIn, PaymentIn, SaleIn
    from galleria.settlement import rules

    rng = random.Random(seed)
    stores = list(Store.objects.filter(merchant__mall__group_id=group_id).select_related("merchant"))
    since, until = rules.period_bounds(period, "Asia/Shanghai")
    until = min(until, timezone.now())
    for i in range(n):
        store = stores[rng.randrange(len(stores))]
        amount = rng.randrange(1000, 50000)
        at = since + dt.timedelta(seconds=rng.random() * (until - since).total_seconds())
        sale_commit(
            data=SaleIn(
                merchant_id=store.merchant_id,
                store_id=store.pk,
                terminal_id=None,
                pos_sale_id=f"LATE{i:06d}",
                occurred_at=at,
                lines=(LineIn(sku="L", name="late", quantity=1, unit_price_fen=amount, amount_fen=amount),),
                payments=(PaymentIn("alipay", amount),),
                channel="pay_at_store",
            ),
            actor=Actor.system("bench"),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sales", type=int, default=100_000, help="sales in the measured month")
    parser.add_argument("--merchants", type=int, default=100)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--period", default="2026-11")
    parser.add_argument("--late", type=int, default=200, help="late sales through the checkout before the 3rd run")
    parser.add_argument("--database", default="helper_settle_bench")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    opts = parser.parse_args()

    os.environ["DATABASE_URL"] = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{opts.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["DEBUG"] = "false"
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ["CONN_MAX_AGE"] = "600"
    admin_sql(f'DROP DATABASE IF EXISTS "{opts.database}" WITH (FORCE)', f'CREATE DATABASE "{opts.database}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone, translation

    from galleria.audit.types import Actor
    from galleria.interfaces.settlement_ui import export_csv, export_xlsx
    from galleria.settlement import rules, selectors, services
    from galleria.settlement.models import Statement

    report: dict[str, Any] = {"options": vars(opts), "started": dt.datetime.now(dt.UTC).isoformat()}
    log("migrate")
    call_command("migrate", verbosity=0)
    period = rules.parse_period(opts.period)
    log(f"generate {opts.sales:,} sales in {period.label} (+10 % in the month before) for {opts.merchants} merchants")
    data = generate(opts, period)
    report["data"] = data
    log(
        f"  {data['sales']:,} sales, {data['refunds']:,} refunds, {data['transactions']:,} ledger transactions, "
        f"{data['legs']:,} legs (unbalanced: {data['unbalanced_transactions']}); COPY {data['copy_s']:.1f} s"
    )
    group_id = data["group_id"]
    actor = Actor.system("bench")

    floor = baseline(group_id, period)
    floor()  # warm
    samples = []
    for _ in range(5):
        t = time.perf_counter()
        floor()
        samples.append(time.perf_counter() - t)
    base = statistics.median(samples)
    report["baseline_s"] = base
    log(f"baseline (the three aggregates as plain SQL): {base * 1000:.0f} ms")

    def gen() -> Any:
        return services.statements_generate(mall_group_id=group_id, period=period, actor=actor)

    runs: dict[str, Any] = {}
    seconds, result, queries = timed(gen)
    runs["first"] = {"s": seconds, "queries": queries, "created": result.created}
    log(f"generation, first run: {seconds:.2f} s, {queries} SQL statements, {result.created} statements created")
    seconds, result, queries = timed(gen)
    runs["unchanged"] = {"s": seconds, "queries": queries, "unchanged": result.unchanged}
    log(f"generation, nothing new: {seconds:.2f} s, {queries} SQL statements, {result.unchanged} unchanged")
    drafts = list(Statement.objects.filter(mall_group_id=group_id).order_by("pk"))
    if rules.period_has_ended(period, "Asia/Shanghai", now=timezone.now()):
        for s in drafts[::2]:
            services.statement_confirm(statement_id=s.pk, merchant_id=s.merchant_id, actor=actor, version=s.version)
    else:  # a month not over yet gives previews, which cannot be confirmed (docs/settlement.md)
        log(f"{period.label} is not over yet: its statements are previews, none confirmed, no supplementary ones")
    t = time.perf_counter()
    late_sales(group_id, period, opts.late, opts.seed)
    runs["late_sales_s"] = time.perf_counter() - t
    seconds, result, queries = timed(gen)
    runs["late"] = {
        "s": seconds,
        "queries": queries,
        "regenerated": result.regenerated,
        "supplements": result.supplements,
    }
    log(
        f"generation after {opts.late} late sales (half confirmed): {seconds:.2f} s, {queries} SQL statements, "
        f"{result.regenerated} regenerated, {result.supplements} supplementary"
    )
    report["runs"] = runs
    report["ratio_first_to_baseline"] = runs["first"]["s"] / base
    statements = list(selectors.statement_list(mall_group_id=group_id, period_start=period.start))
    with translation.override("zh-hans"):
        # the export's floor: reading every leg behind the statements (the detail sheet's query), nothing written
        legs_s, legs, _q = timed(lambda: sum(1 for _leg in selectors.export_legs(statements=statements)))
        seconds, response, queries = timed(lambda: export_xlsx(statements, title="bench", filename="bench"))
        csv_s, csv_response, _q = timed(lambda: export_csv(statements, detail=True, filename="bench"))
    report["export"] = {
        "s": seconds,
        "queries": queries,
        "bytes": len(response.content),
        "statements": len(statements),
        "legs": legs,
        "legs_read_s": legs_s,
        "ratio_to_legs_read": seconds / legs_s,
        "csv_detail_s": csv_s,
        "csv_detail_bytes": len(csv_response.content),
    }
    log(f"reading the {legs:,} legs behind {len(statements)} statements (the export's floor): {legs_s:.1f} s")
    log(
        f"export XLSX of {len(statements)} statements with every leg: {seconds:.1f} s "
        f"({seconds / legs_s:.1f}× the legs' read), {len(response.content):,} bytes; CSV of the legs {csv_s:.1f} s"
    )

    log("")
    log(f"RESULT: {opts.merchants} merchants × {period.label} × {opts.sales:,} sales")
    first = runs["first"]
    log(f"  generation (first run)      {first['s']:7.2f} s   target ≤ 30 s   {first['queries']} SQL statements")
    log(f"  regeneration, nothing new   {runs['unchanged']['s']:7.2f} s")
    log(f"  regeneration after late     {runs['late']['s']:7.2f} s")
    ratio = report["ratio_first_to_baseline"]
    log(f"  baseline (plain SQL)        {base:7.2f} s   ratio first run / baseline = {ratio:.1f}×")
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"settlement-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    log(f"report: {path.relative_to(ROOT)}")
    if not opts.keep:
        from django.db import connections

        connections.close_all()
        admin_sql(f'DROP DATABASE IF EXISTS "{opts.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
