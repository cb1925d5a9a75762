"""Receipt OCR benchmark: field accuracy, seconds per receipt and peak RSS of the real engine (rapidocr) on
receipts the generator renders (three layouts, noise, rotation). No database.

    .venv/bin/python bench/receipt_ocr_bench.py [--count 30]

Prints one line per field with its accuracy, the mean / p95 seconds per receipt (after a warm-up read that
loads the models) and the peak resident memory. Results go into docs/receipts.md, "Measured".
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from galleria.receipts.generator import SHOPS, random_spec, render_receipt  # noqa: E402
from galleria.receipts.ocr import RapidOcrEngine  # noqa: E402
from galleria.receipts.parse import parse_receipt  # noqa: E402
from galleria.receipts.types import MerchantCandidate  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=30)
    args = parser.parse_args()
    merchants = [MerchantCandidate(i, name, (), (tax,)) for i, (name, tax) in enumerate(SHOPS)]
    engine = RapidOcrEngine()
    engine.read(render_receipt(random_spec(10_000)))  # warm-up: loads the models
    hits = {"shop": 0, "amount": 0, "time": 0, "receipt_no": 0, "all four": 0}
    seconds: list[float] = []
    for seed in range(args.count):
        spec = random_spec(seed)
        image = render_receipt(spec)
        started = time.perf_counter()
        lines = engine.read(image)
        parsed = parse_receipt(lines, merchants=merchants, tz=TZ)
        seconds.append(time.perf_counter() - started)
        ok = {
            "shop": parsed.merchant_id is not None and SHOPS[parsed.merchant_id][0] == spec.shop,
            "amount": parsed.amount_fen == spec.paid_fen,
            "time": parsed.occurred_at is not None and parsed.occurred_at.replace(tzinfo=None) == spec.occurred_at,
            "receipt_no": parsed.receipt_no == spec.receipt_no,
        }
        ok["all four"] = all(ok.values())
        for key, good in ok.items():
            hits[key] += int(good)
        if not ok["all four"]:
            print(f"  seed {seed} ({spec.layout}, rot {spec.rotation}, noise {spec.noise}): {ok}", file=sys.stderr)
    print(f"receipts: {args.count} (layouts supermarket/cafe/department, rotation up to 8°, noise 0-1)")
    for key, count in hits.items():
        print(f"{key:>10}: {count}/{args.count} = {100 * count / args.count:.1f}%")
    seconds.sort()
    print(f"seconds per receipt: mean {statistics.mean(seconds):.2f}, p95 {seconds[int(len(seconds) * 0.95) - 1]:.2f}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()
