"""Recommendations (issue #23; docs/performance.md "Recommendations").

    .venv/bin/python bench/recommendations_bench.py --members 200000 --purchases 2000000 --merchants 10000
    DATABASE_URL=postgres://… .venv/bin/python bench/recommendations_bench.py --request --runs 300

A benchmark, not a test: it reports, it asserts nothing.

1. **Training math** (no database): purchases drawn with planted tastes, vectorised (members in 50 taste groups,
   each group's merchants a block, 30 percent of purchases at a Zipf-popular merchant), then exactly the steps of
   `services.model_train` after the read — `rules.interactions`, `rules.cosine_similarity`, `rules.top_neighbours`,
   `rules.popular_by_segment` — each timed. Baseline measured in the same run: `numpy.argsort` of as many floats as
   purchases (what "touching each purchase once" costs in compiled code).
2. **Request path** (`--request`, on the database the settings point at, with a trained model — e.g. the demo after
   `seed_demo`): `selectors.for_member` for `--runs` members drawn at random among those who bought, timed
   (p50 / p95 / max ms) and counted (queries per call); baseline: a member by primary key (ORM) in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np


def training(members: int, purchases: int, merchants: int, seed: int) -> None:
    from galleria.recommendations import rules

    rng = np.random.default_rng(seed)
    groups = 50
    per_group = max(1, (merchants - 100) // groups)
    member_group = rng.integers(groups, size=members)
    who = rng.integers(members, size=purchases)
    popular = rng.random(purchases) < 0.3
    zipf = np.minimum(rng.zipf(1.6, size=purchases), 100) - 1
    in_group = 100 + member_group[who] * per_group + rng.integers(per_group, size=purchases)
    where = np.where(popular, zipf, in_group)
    until = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    ages = rng.integers(0, 730 * 86400, size=purchases)
    rows = [
        (int(m), int(i), until - dt.timedelta(seconds=int(a)))
        for m, i, a in zip(who.tolist(), where.tolist(), ages.tolist(), strict=True)
    ]
    t0 = time.perf_counter()
    np.argsort(rng.random(purchases))
    baseline = time.perf_counter() - t0
    t0 = time.perf_counter()
    data = rules.interactions(rows, until=until, half_life_days=90)
    t1 = time.perf_counter()
    sim = rules.cosine_similarity(data.matrix)
    t2 = time.perf_counter()
    lists = rules.top_neighbours(sim, k=20)
    t3 = time.perf_counter()
    segs = [rules.segment_keys(tier_rank=int(m % 4), band="", mall_id=int(m % 2) + 1) for m in data.member_ids]
    rules.popular_by_segment(data.matrix, segs, k=20)
    t4 = time.perf_counter()
    print(f"training math: {len(data.member_ids)} members x {len(data.item_ids)} merchants, {purchases} purchases")
    print(f"  interactions {t1 - t0:.2f} s | cosine {t2 - t1:.2f} s (nnz {sim.nnz}) | top-20 {t3 - t2:.2f} s")
    print(f"  segment popularity {t4 - t3:.2f} s | total {t4 - t0:.2f} s | entries {sum(len(x) for x in lists)}")
    print(f"  baseline: argsort of {purchases} floats {baseline:.3f} s")


def request(runs: int, seed: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    django.setup()
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from galleria.members.selectors import members_active
    from galleria.recommendations.models import RecModel
    from galleria.recommendations.selectors import for_member

    model = RecModel.objects.filter(is_active=True).first()
    if model is None:
        print("no trained model: run recommendations_train first")
        return
    ids = list(
        members_active(mall_group_id=model.mall_group_id).filter(sales__isnull=False).values_list("pk", flat=True)
    )
    random.Random(seed).shuffle(ids)
    chosen = list(members_active().filter(pk__in=ids[:runs]))
    times, base, queries = [], [], []
    for m in chosen[:20]:
        for_member(member=m)  # warm up
    for m in chosen:
        t0 = time.perf_counter()
        members_active().filter(pk=m.pk).first()
        base.append((time.perf_counter() - t0) * 1000)
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            for_member(member=m)
            times.append((time.perf_counter() - t0) * 1000)
        queries.append(len(ctx.captured_queries))
        reset_queries()
    times.sort()
    base.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"request path: {len(times)} members, model v{model.version}")
    print(f"  for_member p50 {statistics.median(times):.2f} ms | p95 {p95:.2f} ms | max {times[-1]:.2f} ms")
    print(f"  queries per call: max {max(queries)} | baseline member by pk p50 {statistics.median(base):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100000)
    parser.add_argument("--purchases", type=int, default=1000000)
    parser.add_argument("--merchants", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--request", action="store_true")
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    if args.request:
        request(args.runs, args.seed)
    else:
        training(args.members, args.purchases, args.merchants, args.seed)


if __name__ == "__main__":
    main()
