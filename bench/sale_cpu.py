"""CPU per POS sale and quote, in process: a quick A/B gauge for the checkout path (not a load test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/sale_cpu.py --sales 400

Creates a throw-away test database (`test_<name>`), a world, a POS key and `--members` members, then drives
signed sales and quotes through Django's test client (the whole stack: middleware, django-ninja, auth,
idempotency) and reports, per request, this process's CPU (time.process_time) and the PostgreSQL backend's
CPU (/proc/<pid>/stat of the connection's backend), plus statements per request. CPU time moves less than wall
time when the machine is shared, but compare runs taken back to back, not across days.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.sale_cpu_settings")


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sales", type=int, default=400)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--profile", help="write cProfiles of the quote and sale phases to FILE.quote and FILE.sale")
    parser.add_argument("--server-binding", action="store_true", help="psycopg server-side binding (prepared)")
    parser.add_argument(
        "--explain", action="store_true", help="log EXPLAIN ANALYZE (with trigger times) of one sale to the PG log"
    )
    parser.add_argument(
        "--ab-sql",
        action="append",
        default=[],
        help="an A/B variant: SQL run on the fresh database before the phases (e.g. dropping an index); repeatable",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    if args.server_binding:
        settings.DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from bench.pos_bench import BASELINE_SQL
        from galleria.audit.types import Actor
        from galleria.members import services as member_services
        from galleria.merchants.models import PosTerminal
        from galleria.merchants.services import pos_key_create
        from galleria.testing import build_world
        from galleria.testing_pos import PosSigner, PosTestClient
        from galleria.tiers.services import tier_ladder_ensure_default

        with connection.cursor() as cur:
            for statement in BASELINE_SQL:
                cur.execute(statement)
        with connection.cursor() as cur:
            for statement in args.ab_sql:
                cur.execute(statement)
        world = build_world()
        tier_ladder_ensure_default(mall_group_id=world.group.pk)
        terminal = PosTerminal.objects.create(store=world.store, name="bench")
        key, secret = pos_key_create(actor=Actor.system(), terminal_id=terminal.pk)
        client = PosTestClient(Client(), PosSigner(key.key_id, secret))
        cards = []
        for i in range(args.members):
            m = member_services.member_register(
                mall=world.mall, phone=f"1390000{i:04d}", channel="desk", actor=Actor.system()
            )
            cards.append(m.card_no)
        rng = random.Random(7)

        def body(n: int) -> dict[str, object]:
            lines = [
                {
                    "sku": f"S{k}",
                    "name": "item",
                    "quantity": 1,
                    "unit_price_fen": 1000 + 100 * k,
                    "amount_fen": 1000 + 100 * k,
                }
                for k in range(rng.randint(1, 3))
            ]
            total = sum(int(str(ln["amount_fen"])) for ln in lines)
            return {
                "pos_sale_id": f"b-{n}",
                "member": rng.choice(cards),
                "lines": lines,
                "payments": [{"method": "wechat", "amount_fen": total}],
            }

        for n in range(len(cards)):  # warm: every member has a first sale here
            r = client.post("/api/v1/pos/sales", {**body(n), "member": cards[n]})
            assert r.status_code == 201, r.content
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0")
            pid = cur.fetchone()[0]

        import json as _json

        plain = Client()

        def baseline_post(path: str, n: int) -> Any:
            payload = {"counter": rng.randint(1, 2000), "amount": 1}
            return plain.post(path, _json.dumps(payload), content_type="application/json")

        def phase(path: str, count: int, start: int) -> tuple[float, float, float]:
            post = baseline_post if path == "/bench/write" else (lambda p, n: client.post(p, body(n)))
            with CaptureQueriesContext(connection) as ctx:
                post(path, start)
            statements = len(ctx.captured_queries)
            cpu0, pg0 = time.process_time(), _backend_cpu(pid) if pid else 0.0
            for n in range(start + 1, start + 1 + count):
                r = post(path, n)
                assert r.status_code in (200, 201), r.content
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0")
                assert cur.fetchone()[0] == pid, "the connection was reopened: CPU of other backends is missing"
            cpu = (time.process_time() - cpu0) / count * 1000
            pg = ((_backend_cpu(pid) - pg0) / count * 1000) if pid else 0.0
            return cpu, pg, statements

        if args.explain:
            with connection.cursor() as cur:
                cur.execute("LOAD 'auto_explain'")
                for setting in ("log_min_duration = 0", "log_analyze = on", "log_triggers = on", "log_timing = on"):
                    cur.execute(f"SET auto_explain.{setting}")
                for stats in ("log_parser_stats", "log_planner_stats", "log_executor_stats"):
                    cur.execute(f"SET {stats} = on")
            client.post("/api/v1/pos/sales", body(99_999))
            with connection.cursor() as cur:
                cur.execute("SET auto_explain.log_min_duration = -1")
                for stats in ("log_parser_stats", "log_planner_stats", "log_executor_stats"):
                    cur.execute(f"SET {stats} = off")
        b = phase("/bench/write", args.sales, 0)

        def profiled(path: str, start: int, suffix: str) -> tuple[float, float, float]:
            if not args.profile:
                return phase(path, args.sales, start)
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
            out = phase(path, args.sales, start)
            prof.disable()
            prof.dump_stats(f"{args.profile}.{suffix}")
            return out

        q = profiled("/api/v1/pos/quote", 100_000, "quote")
        s = profiled("/api/v1/pos/sales", 200_000, "sale")
        print(f"{'':8} {'python ms':>10} {'postgres ms':>12} {'statements':>11}")
        print(f"{'minimal':8} {b[0]:10.2f} {b[1]:12.2f} {b[2]:11d}")
        print(f"{'quote':8} {q[0]:10.2f} {q[1]:12.2f} {q[2]:11d}")
        print(f"{'sale':8} {s[0]:10.2f} {s[1]:12.2f} {s[2]:11d}")
        base = b[0] + b[1]
        print(f"total CPU vs the minimal write: quote {(q[0] + q[1]) / base:.2f}x, sale {(s[0] + s[1]) / base:.2f}x")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
