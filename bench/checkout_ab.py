"""In-process CPU of one checkout channel's request, for A/B comparisons on a shared machine: pay-at-store payment
notifications (`notify`) or frictionless parking exits (`parking`), through the whole Django stack (test client, no
HTTP, no gunicorn), with this process's CPU (`time.process_time`) and its PostgreSQL backend's (/proc) per request.

    .venv/bin/python bench/checkout_ab.py prepare notify            # once: a template database (~1.5 min)
    .venv/bin/python bench/checkout_ab.py run notify                # clone it, warm up, measure
    .venv/bin/python bench/checkout_ab.py run notify --tree /path/to/other/checkout   # the same on other code
    .venv/bin/python bench/checkout_ab.py run parking --cprofile var/parking.prof    # + a CPU-time profile

The database is prepared once by the benchmarks' own preparation (notify_data.prepare, parking_exit_bench.prepare)
into `galleria_ab_<kind>_tpl`; every run clones it (CREATE DATABASE … TEMPLATE), so runs of two trees interleaved a
few seconds apart see the same rows and the same machine: on a machine other people share, CPU per request measured
minutes apart varied by 2×, interleaved runs by a few per cent (docs/performance.md, issues #15 and #16).
`--tree` runs another checkout of the code (its `galleria` package first on the path) against the same database."""

from __future__ import annotations

import argparse
import json
import os
import pickle
import secrets
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def _setup_path(tree: str) -> None:
    sys.path.insert(0, str(HERE))
    if tree:
        sys.path.insert(0, tree)


def _opts():
    from bench.common import Options

    return Options(
        members=0, clients=1, duration=1, warmup=0, workers=1, pg_host="127.0.0.1", pg_port=5432, pg_user="postgres",
        pgbench_scale=1, skip_pgbench=True, tiers=True, prime=True, keep=True, profile=False, profile_duration=0,
        wait_quiet=0, settings="config.settings.production", out=Path("/tmp"), seed=7,
    )  # fmt: skip


def _env(db: str, state: Path) -> None:
    from bench.pos_bench import server_env

    env = server_env(_opts(), db)
    keys = state.with_suffix(".keys")
    if not keys.exists():
        keys.write_text("\n".join(secrets.token_urlsafe(48) for _ in range(3)))
    secret, code_key, secrets_key = keys.read_text().split()
    env.update(SECRET_KEY=secret, GALLERIA_MEMBER_CODE_KEY=code_key, GALLERIA_SECRETS_KEY=secrets_key,
               STATIC_ROOT=str(state.parent / "static"), ALLOWED_HOSTS="*")  # fmt: skip
    os.environ.update(env)


def prepare(kind: str, state: Path) -> None:
    from bench.common import admin_sql

    tpl = f"galleria_ab_{kind}_tpl"
    admin_sql(_opts(), f"DROP DATABASE IF EXISTS {tpl} WITH (FORCE)", f"CREATE DATABASE {tpl}")
    _env(tpl, state)
    if kind == "notify":
        from bench.notify_bench import BASELINE_SQL
        from bench.notify_data import prepare as prep

        prepared: object = prep(members=700, store_attempts=600, topup_attempts=100, points_share=0.4,
                                coupon_share=0.3, seed=7, baseline_sql=BASELINE_SQL)  # fmt: skip
    else:
        from bench import parking_exit_bench as peb

        args = peb.parse_args(
            ["--stays", "1200", "--members", "800", "--mix", "paid=20,free=10,frictionless=50,pay_first=20"]
        )
        prepared = peb.prepare(args)
    from django.db import connections

    connections.close_all()
    state.write_bytes(pickle.dumps(prepared))


def _requests(kind: str, prepared, n: int):
    """(path, body, headers) of the warm-up requests and of the measured ones."""
    if kind == "notify":
        from bench.notify_data import STORE, Notifier

        notifier = Notifier(prepared.keys)
        by_merchant: dict = {}
        for a in prepared.attempts:
            if a.kind == STORE:
                by_merchant.setdefault(a.merchant_id, []).append(a)
        pools = sorted(by_merchant.values(), key=len, reverse=True)[:4]  # the busiest merchants: their accounts exist
        warm = [a for pool in pools for a in pool[:2]]
        measured = [a for pool in pools for a in pool[2:]][:n]

        def one(a):
            d = notifier.delivery(a)
            return prepared.notify_path, d.body, {k: v for k, v in d.headers.items() if k != "Content-Type"}

        return [one(a) for a in warm], [one(a) for a in measured]
    from bench.measure import signed_headers
    from bench.parking_exit_bench import PATH

    stays = list(prepared.stays["frictionless"])

    def exit_(i: int, stay) -> tuple:
        rid = f"ab-{i}-{secrets.token_hex(3)}"
        body = json.dumps({"plate": stay.plate, "gate": "X1", "request_id": rid, "occurred_at": stay.asked_at},
                          ensure_ascii=False).encode()  # fmt: skip
        headers = signed_headers(prepared.key_id, prepared.secret, PATH, body, rid)
        return PATH, body, {k: v for k, v in headers.items() if k != "Content-Type"}

    return [exit_(i, s) for i, s in enumerate(stays[:4])], [(i, s) for i, s in enumerate(stays[4 : 4 + n], 4)], exit_


def run(kind: str, state: Path, n: int, profile: str) -> None:
    from bench.common import admin_sql

    db, tpl = f"galleria_ab_{kind}", f"galleria_ab_{kind}_tpl"
    admin_sql(_opts(), f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", f"CREATE DATABASE {db} TEMPLATE {tpl}")
    _env(db, state)
    import django

    django.setup()
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.notify_capture import _backend_cpu

    prepared = pickle.loads(state.read_bytes())
    got = _requests(kind, prepared, n + 1)
    warm, measured = got[0], got[1]
    if kind == "parking":  # signed when sent: the car-park API refuses an old timestamp
        make = got[2]
        measured = [make(i, s) for i, s in measured]
    client = Client()
    ok = 204 if kind == "notify" else 200

    def fire(request: tuple, captured: list[int] | None = None) -> None:
        path, body, headers = request
        close_old_connections()  # what request_started does
        if captured is None:
            response = client.generic("POST", path, body, content_type="application/json", headers=headers)
        else:
            with CaptureQueriesContext(connection) as queries:
                response = client.generic("POST", path, body, content_type="application/json", headers=headers)
            captured.append(len(queries))
        if response.status_code != ok:
            raise RuntimeError(f"{response.status_code} {response.content[:300]!r}")

    for request in warm:
        fire(request)
    captured: list[int] = []
    fire(measured[0], captured)
    measured = measured[1:]
    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
    py0, pg0 = time.process_time(), _backend_cpu(backend)
    if profiler:
        profiler.enable()
    for request in measured:
        fire(request)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    py1, pg1 = time.process_time(), _backend_cpu(backend)
    k = len(measured)
    python_ms, postgres_ms = round(1000 * (py1 - py0) / k, 2), round(1000 * (pg1 - pg0) / k, 2)
    facts = {"kind": kind, "tree": sys.path[0], "n": k, "statements_of_one": captured[0]}
    print(json.dumps({**facts, "python_ms": python_ms, "postgres_ms": postgres_ms}))
    connection.close()


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("what", choices=["prepare", "run"])
    p.add_argument("kind", choices=["notify", "parking"])
    p.add_argument("--n", type=int, default=100, help="measured requests (notify: at most what 4 merchants have)")
    p.add_argument("--tree", default="", help="another checkout of the code to run (its galleria first on the path)")
    p.add_argument("--cprofile", default="", help="write a cProfile (CPU time) of the measured requests here")
    p.add_argument("--state", type=Path, default=HERE / "var" / "bench", help="where the prepared facts are kept")
    a = p.parse_args()
    _setup_path(a.tree)
    a.state.mkdir(parents=True, exist_ok=True)
    state = a.state / f"checkout_ab_{a.kind}.pickle"
    if a.what == "prepare":
        prepare(a.kind, state)
    else:
        run(a.kind, state, a.n, a.cprofile)


if __name__ == "__main__":
    main()
