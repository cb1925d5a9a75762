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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sales", type=int, default=400)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--profile", help="write a cProfile of the sale phase to this file")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from galleria.audit.types import Actor
        from galleria.members import services as member_services
        from galleria.merchants.models import PosTerminal
        from galleria.merchants.services import pos_key_create
        from galleria.testing import build_world
        from galleria.testing_pos import PosSigner, PosTestClient
        from galleria.tiers.services import tier_ladder_ensure_default

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
                {"sku": f"S{k}", "name": "item", "quantity": 1, "unit_price_fen": 1000 + 100 * k, "amount_fen": 1000 + 100 * k}
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

        def phase(path: str, count: int, start: int) -> tuple[float, float, float]:
            with CaptureQueriesContext(connection) as ctx:
                client.post(path, body(start))
            statements = len(ctx.captured_queries)
            cpu0, pg0 = time.process_time(), _backend_cpu(pid) if pid else 0.0
            for n in range(start + 1, start + 1 + count):
                r = client.post(path, body(n))
                assert r.status_code in (200, 201), r.content
            cpu = (time.process_time() - cpu0) / count * 1000
            pg = ((_backend_cpu(pid) - pg0) / count * 1000) if pid else 0.0
            return cpu, pg, statements

        q = phase("/api/v1/pos/quote", args.sales, 100_000)
        if args.profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
            s = phase("/api/v1/pos/sales", args.sales, 200_000)
            prof.disable()
            prof.dump_stats(args.profile)
        else:
            s = phase("/api/v1/pos/sales", args.sales, 200_000)
        print(f"{'':8} {'python ms':>10} {'postgres ms':>12} {'statements':>11}")
        print(f"{'quote':8} {q[0]:10.2f} {q[1]:12.2f} {q[2]:11d}")
        print(f"{'sale':8} {s[0]:10.2f} {s[1]:12.2f} {s[2]:11d}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
