"""Online mall product search at 100,000 products on PostgreSQL (docs/design/online-mall.md §8, docs/performance.md).

    .venv/bin/python bench/mall_search_bench.py                    # generate 100,000 products, then measure
    .venv/bin/python bench/mall_search_bench.py --products 40000   # a smaller catalogue
    .venv/bin/python bench/mall_search_bench.py --reuse            # measure again on the database kept last time

A benchmark, not a test: it reports, it asserts nothing. Steps:

1. **Data** (skipped with --reuse): drop and create the database (default `bench_mall_search`), migrate it without the
   search index (commerce 0002), create one mall group with 200 merchants, each with a store and an open shop,
   10 top categories × 5 children, then COPY N online products in: titles drawn from a vocabulary of brands,
   adjectives, flavours, nouns and specs (芝士奶茶 大杯, 华为 轻薄 充电宝 20000mAh …), 5 % off sale or taken down,
   sales_30d Zipf-like; `search_text` built by the application's own `rules_catalog.search_text` (title, subtitle,
   categories, merchant name, option values). Then `migrate` builds the gram index on the loaded table (timed) and
   `VACUUM ANALYZE`.
2. **Baselines**, in the same run: `SELECT 1` through Django's cursor, and a product fetched by primary key through
   the ORM.
3. **Query classes** (the design's mix): 2-character (奶茶, 耳机 …), 3–4 characters (芝士奶茶, 充电宝 …),
   1-character (茶, 杯 …), Latin / brand / spec (iphone, 128gb …), and no hit. Each sample is one page of
   `commerce.search.product_search` (open shops, the search statement, the cards) and, separately, the search
   statement alone. p50 / p95 / p99 in ms per class, p95 as a multiple of the primary-key lookup's p50, hits per
   page, CPU of this process and its PostgreSQL backend per search.
4. **Clients**: the same mix from 1 and 4 processes at once for --duration seconds each (closed loop): searches
   per second and p50 / p95 / p99 over all classes. This measures the search in process; the app's HTTP endpoint
   arrives with the screens (build step C3).
5. **Plans**: EXPLAIN ANALYZE of one query per class (the indexes used).

The report: stdout and var/bench/mall_search-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")

BRANDS = (
    "喜茶",
    "奈雪",
    "蜜雪冰城",
    "优衣库",
    "无印良品",
    "华为",
    "小米",
    "apple",
    "李宁",
    "安踏",
    "三只松鼠",
    "良品铺子",
    "完美日记",
    "花西子",
    "耐克",
    "阿迪达斯",
    "美的",
    "苏泊尔",
    "膳魔师",
    "名创优品",
)
ADJECTIVES = (
    "新款",
    "经典",
    "限定",
    "轻薄",
    "加厚",
    "迷你",
    "大容量",
    "便携",
    "复古",
    "清爽",
    "夏季",
    "冬季",
    "网红",
    "进口",
)
FLAVOURS = (
    "芝士",
    "芒果",
    "草莓",
    "抹茶",
    "椰子",
    "柠檬",
    "葡萄",
    "巧克力",
    "香草",
    "焦糖",
    "桂花",
    "乌龙",
    "白桃",
    "荔枝",
)
NOUNS = {
    "饮品": ("奶茶", "冰沙", "果茶", "拿铁", "气泡水"),
    "烘焙": ("蛋糕", "面包", "曲奇", "蛋挞", "月饼"),
    "服饰": ("T恤", "卫衣", "牛仔裤", "连衣裙", "羽绒服"),
    "鞋包": ("运动鞋", "帆布鞋", "背包", "钱包", "拖鞋"),
    "数码": ("手机壳", "耳机", "充电宝", "数据线", "手表"),
    "家居": ("保温杯", "香薰", "抱枕", "收纳盒", "毛巾"),
    "美妆": ("口红", "面膜", "粉底液", "眼影", "香水"),
    "零食": ("坚果", "饼干", "牛肉干", "果干", "薯片"),
    "个护": ("洗发水", "沐浴露", "牙膏", "护手霜", "剃须刀"),
    "运动": ("瑜伽垫", "跳绳", "哑铃", "护膝", "运动水壶"),
}
SPECS = (
    "大杯",
    "中杯",
    "500ml",
    "1l",
    "xl",
    "m",
    "l",
    "128gb",
    "256gb",
    "20000mah",
    "礼盒装",
    "3件套",
    "家庭装",
    "单只装",
)
OPTION_VALUES = ("红色", "黑色", "白色", "蓝色", "粉色", "少糖", "去冰", "s", "m", "l", "xl")
QUERIES = {
    "2 chars": ("奶茶", "芒果", "耳机", "口红", "草莓", "卫衣", "抹茶", "蛋糕", "香薰", "坚果", "面膜", "背包"),
    "3-4 chars": ("芝士奶茶", "充电宝", "保温杯", "运动鞋", "牛仔裤", "草莓蛋糕", "抹茶拿铁", "羽绒服", "沐浴露"),
    "1 char": ("茶", "杯", "鞋", "糖", "包"),
    "latin/brand": ("iphone", "apple", "128gb", "xl", "20000mah", "华为", "喜茶"),
    "no hit": ("钢琴", "飞机模型", "qwerty", "榴莲披萨"),
}
MIX = (("2 chars", 0.45), ("3-4 chars", 0.27), ("1 char", 0.09), ("latin/brand", 0.09), ("no hit", 0.10))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def admin_sql(*statements: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:  # type: ignore[arg-type]
        for statement in statements:
            conn.execute(statement)


# ---------------------------------------------------------------- data


def generate(n_products: int, seed: int) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from galleria.commerce import rules_catalog
    from galleria.commerce.models import Category, MerchantShop
    from galleria.malls.models import Mall, MallGroup
    from galleria.merchants.models import Merchant, Store

    rng = random.Random(seed)
    t0 = time.perf_counter()
    group = MallGroup.objects.create(name="星河商业集团", code="xinghe")
    mall = Mall.objects.create(group=group, name="星河广场", code="xh-plaza", city="深圳")
    merchants = []
    for i in range(200):
        brand = BRANDS[i % len(BRANDS)]
        m = Merchant.objects.create(mall=mall, name=f"{brand}{'' if i < len(BRANDS) else i}", category="fashion")
        store = Store.objects.create(merchant=m, name=f"{m.name} 星河广场店", floor="L1", unit_no=f"L1-{i:03d}")
        MerchantShop.objects.create(
            mall_group=group, merchant=m, is_open=i % 40 != 39, ship_from_store=store
        )  # 5 of 200 shops closed
        merchants.append((m.pk, m.name))
    cats: list[tuple[int, list[str], str]] = []  # (category id, names for the text, top name)
    for top_name in NOUNS:
        top = Category.objects.create(mall_group=group, shop="online", name=top_name)
        for j in range(5):
            child = Category.objects.create(mall_group=group, shop="online", name=f"{top_name}{j + 1}", parent=top)
            cats.append((child.pk, [child.name, top_name], top_name))
    now = timezone.now().isoformat()
    columns = (
        "mall_group_id", "shop", "merchant_id", "category_id", "kind", "title", "subtitle", "description",
        "image_name", "image_sha", "allow_pickup", "allow_delivery", "sort_order", "status", "member_cancellable",
        "created_at", "updated_at", "search_text", "min_price_fen", "max_price_fen", "sales_30d", "rating_sum",
        "rating_count", "is_blocked", "blocked_reason",
    )  # fmt: skip

    def rows() -> Any:
        for _ in range(n_products):
            cat_id, cat_names, top_name = rng.choice(cats)
            merchant_id, merchant_name = rng.choice(merchants)
            noun = rng.choice(NOUNS[top_name])
            parts = [rng.choice(BRANDS)] if rng.random() < 0.3 else []
            if rng.random() < 0.5:
                parts.append(rng.choice(ADJECTIVES))
            if rng.random() < 0.5:
                parts.append(rng.choice(FLAVOURS))
            parts.append(noun)
            if rng.random() < 0.4:
                parts.append(rng.choice(SPECS))
            title = "".join(parts[:-1]) + " " + parts[-1] if len(parts) > 2 else "".join(parts)
            if "iphone" not in title and top_name == "数码" and rng.random() < 0.1:
                title = f"iPhone 15 {title}"
            subtitle = f"{rng.choice(ADJECTIVES)} {rng.choice(FLAVOURS)}" if rng.random() < 0.5 else ""
            values = rng.sample(OPTION_VALUES, rng.randint(0, 3))
            text = rules_catalog.search_text(
                title=title, subtitle=subtitle, categories=cat_names, merchant=merchant_name, values=values
            )
            low = rng.randint(5, 500) * 100
            status = "on_sale" if rng.random() > 0.04 else "off_sale"
            blocked = "t" if rng.random() < 0.01 else "f"
            sales = int(1000 / rng.randint(1, 1000))
            yield (
                group.pk, "online", merchant_id, cat_id, "gift", title[:60], subtitle, "", "", "", "t", "t", 0,
                status, "t", now, now, text, low, low + rng.choice((0, 0, 500, 2000)), sales, 0, 0, blocked, "",
            )  # fmt: skip

    with connection.cursor() as cursor:
        n = 0
        with cursor.copy(f"COPY commerce_product ({', '.join(columns)}) FROM STDIN") as copy:
            buf = io.StringIO()
            for row in rows():
                buf.write("\t".join(str(v).replace("\t", " ") for v in row))
                buf.write("\n")
                n += 1
                if n % 20_000 == 0:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
    return {"group_id": group.pk, "products": n, "merchants": len(merchants), "seconds": time.perf_counter() - t0}


# ---------------------------------------------------------------- measuring


def cpu_ms() -> float:
    from django.db import connection

    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return time.process_time() * 1000 + (int(fields[11]) + int(fields[12])) * TICK_MS


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


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": pct(values, 0.5), "p95": pct(values, 0.95), "p99": pct(values, 0.99), "n": len(values)}


def pick_query(rng: random.Random) -> tuple[str, str]:
    r, total = rng.random(), 0.0
    for name, share in MIX:
        total += share
        if r < total:
            return name, rng.choice(QUERIES[name])
    return "no hit", rng.choice(QUERIES["no hit"])


def client(args: tuple[int, int, float, int]) -> list[tuple[str, float]]:
    """One closed-loop client process: searches the mix for `duration` seconds; (class, ms) per search."""
    group_id, seed, duration, _i = args
    from django.db import connection

    from galleria.commerce.search import product_search

    connection.close()  # a connection of its own (forked)
    rng = random.Random(seed)
    out: list[tuple[str, float]] = []
    for _ in range(20):  # warm-up
        product_search(mall_group_id=group_id, query=pick_query(rng)[1])
    end = time.perf_counter() + duration
    while time.perf_counter() < end:
        kind, q = pick_query(rng)
        t = time.perf_counter()
        product_search(mall_group_id=group_id, query=q)
        out.append((kind, (time.perf_counter() - t) * 1000))
    connection.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--database", default="bench_mall_search")
    parser.add_argument("--reuse", action="store_true", help="measure the database kept by an earlier run")
    parser.add_argument("--samples", type=int, default=100, help="measured searches per query class")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per client count")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    opts = parser.parse_args()

    os.environ["DATABASE_URL"] = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{opts.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["DEBUG"] = "false"
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ["CONN_MAX_AGE"] = "600"
    report: dict[str, Any] = {"products": opts.products, "database": opts.database, "started": time.time()}
    if not opts.reuse:
        admin_sql(f'DROP DATABASE IF EXISTS "{opts.database}" WITH (FORCE)', f'CREATE DATABASE "{opts.database}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from galleria.commerce import search
    from galleria.commerce import sql as commerce_sql
    from galleria.commerce.models import Product
    from galleria.commerce.selectors_catalog import open_shop_merchant_ids
    from galleria.malls.models import MallGroup

    if not opts.reuse:
        log("migrate (without the search index)")
        call_command("migrate", verbosity=0)
        call_command("migrate", "commerce", "0002", verbosity=0)
        log(f"generate {opts.products:,} products")
        gen = generate(opts.products, opts.seed)
        log(f"  {gen['products']:,} products of {gen['merchants']} merchants in {gen['seconds']:.1f} s")
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        gen["index_build_s"] = time.perf_counter() - t
        log(f"migrate: the gram index built on the loaded table in {gen['index_build_s']:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        report["generation"] = gen
    group_id = MallGroup.objects.get(code="xinghe").pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_relation_size('commerce_product_grams')),"
            " pg_size_pretty(pg_total_relation_size('commerce_product')), count(*) FROM commerce_product"
        )
        index_size, table_size, count = cursor.fetchone()
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    report.update(index_size=index_size, table_size=table_size, rows=count)
    log(f"{count:,} products ({table_size}); gram index {index_size}")

    rng = random.Random(opts.seed)
    top = Product.objects.order_by("-pk").values_list("pk", flat=True).first() or 1

    def select1() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    def by_pk() -> None:
        Product.objects.filter(pk=rng.randint(1, top)).first()

    baseline = {"SELECT 1": timed(select1, 300, 30), "product by primary key (ORM)": timed(by_pk, 300, 30)}
    unit = statistics.median(baseline["product by primary key (ORM)"])
    report["baseline"] = {k: summary(v) for k, v in baseline.items()}
    for k, v in baseline.items():
        log(f"baseline {k}: p50 {pct(v, 0.5):.2f} ms, p95 {pct(v, 0.95):.2f} ms")

    merchants = open_shop_merchant_ids(mall_group_id=group_id)
    classes: dict[str, Any] = {}
    for name, _share in MIX:
        queries = QUERIES[name]
        hits: list[int] = []

        def page(queries: tuple[str, ...] = queries, hits: list[int] = hits) -> None:
            hits.append(len(search.product_search(mall_group_id=group_id, query=rng.choice(queries)).cards))

        def statement(queries: tuple[str, ...] = queries) -> None:
            commerce_sql.product_search(
                mall_group_id=group_id,
                query=rng.choice(queries),
                at=dt.datetime.now(dt.UTC),
                merchant_ids=merchants,
                limit=21,
                offset=0,
            )

        c0 = cpu_ms()
        pages = timed(page, opts.samples, opts.warmup)
        cpu = (cpu_ms() - c0) / (opts.samples + opts.warmup)
        sql_only = timed(statement, opts.samples, opts.warmup)
        classes[name] = {
            "page": summary(pages),
            "sql": summary(sql_only),
            "p95_over_pk_p50": pct(pages, 0.95) / unit,
            "cpu_ms": cpu,
            "mean_hits_per_page": statistics.mean(hits) if hits else 0,
        }
        log(
            f"{name:12} page p50 {pct(pages, 0.5):6.2f}  p95 {pct(pages, 0.95):6.2f}  p99 {pct(pages, 0.99):6.2f} ms"
            f" | SQL p50 {pct(sql_only, 0.5):6.2f}  p95 {pct(sql_only, 0.95):6.2f} ms"
            f" | p95 = {pct(pages, 0.95) / unit:5.1f} x pk | cpu {cpu:5.2f} ms"
            f" | hits {classes[name]['mean_hits_per_page']:.1f}"
        )
    report["classes"] = classes

    plans: dict[str, str] = {}
    for name, _share in MIX:
        plans[name] = commerce_sql.search_plan(
            mall_group_id=group_id,
            query=QUERIES[name][0],
            at=dt.datetime.now(dt.UTC),
            merchant_ids=merchants,
            analyze=True,
        )
        uses = "commerce_product_grams" if "commerce_product_grams" in plans[name] else "no gram index"
        log(f"plan {name} ({QUERIES[name][0]}): {uses}; {plans[name].splitlines()[-1].strip()}")
    report["plans"] = plans

    connection.close()
    loads: dict[str, Any] = {}
    for clients in (1, 4):
        with multiprocessing.get_context("fork").Pool(clients) as pool:
            results = pool.map(client, [(group_id, opts.seed + i, opts.duration, i) for i in range(clients)])
        times = [ms for r in results for _kind, ms in r]
        loads[str(clients)] = summary(times) | {"per_second": len(times) / opts.duration}
        log(
            f"{clients} client(s): {len(times) / opts.duration:7.1f} searches/s, p50 {pct(times, 0.5):.2f}, "
            f"p95 {pct(times, 0.95):.2f}, p99 {pct(times, 0.99):.2f} ms (load {os.getloadavg()[0]:.1f})"
        )
    report["clients"] = loads
    report["loadavg"] = os.getloadavg()

    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"mall_search-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    log(f"report: {path.relative_to(ROOT)}")
    if opts.drop:
        connection.close()
        admin_sql(f'DROP DATABASE IF EXISTS "{opts.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
