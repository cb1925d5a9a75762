"""Where a worker's time goes during sales: py-spy (if installed in the venv) sampling the gunicorn workers during an
extra, unmeasured sale phase (py-spy itself takes CPU from the same two cores, so nothing it overlaps is a result).

py-spy drops samples of threads it sees idle, but a worker inside libpq — sending a query (on loopback the send
wakes the PostgreSQL backend, which often takes the core at once), waiting for the answer, or runnable and waiting
for a core — is often sampled anyway. Those samples are kept apart as "in libpq" so that the rest reads as the
worker's CPU. Shares are of the worker's in-request samples; "≈ ms" scales a share of the CPU samples by the measured
server CPU per request of the profiled phase.

    .venv/bin/python -m bench.profiling var/bench/pos_bench-<time>-pyspy-sale.txt [server CPU ms per sale]
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .common import Options
from .measure import CpuSampler, PhaseResult, PosLoad, run_load
from .servers import Gunicorn

WAITING = "in libpq: sending, waiting for PostgreSQL or for a core (not CPU)"
LIBPQ_CALLS = frozenset({"Connection.wait", "ClientCursorMixin._execute_send", "BaseConnection._exec_command"})
BUCKETS = (
    ("psycopg driver", "psycopg"),
    ("Django ORM: build + compile SQL, make model instances", "django/db/"),
    ("Django: handler, middleware, i18n, http", "django/"),
    ("django-ninja", "ninja/"),
    ("pydantic", "pydantic"),
    ("galleria's own lines", "galleria/"),
    ("gunicorn", "gunicorn/"),
)
FRAME_RE = re.compile(r"^(?P<func>.+?) \((?P<file>[^()]+?):(?P<line>\d+)\)$")


def summarize_profile(raw: Path) -> dict[str, Any]:
    exclusive: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    orm = outside = in_request = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        frames = [m for m in (FRAME_RE.match(f) for f in stack.split(";")) if m]
        if not any("gunicorn/workers/" in m.group("file") for m in frames):
            continue  # the arbiter
        count = int(count_text)
        if not any(m.group("func") == "WSGIHandler.__call__" for m in frames):
            outside += count  # between requests: accept, select, close
            continue
        in_request += count
        leaf = frames[-1]
        if "psycopg" in leaf.group("file") and leaf.group("func") in LIBPQ_CALLS:
            exclusive[WAITING] += count
            continue
        exclusive[next((b for b, needle in BUCKETS if needle in leaf.group("file")), "stdlib and other")] += count
        if any("django/db/" in m.group("file") or "psycopg" in m.group("file") for m in frames):
            orm += count
        seen: set[str] = set()
        for m in frames:
            if m.group("file").startswith("galleria/"):
                key = f"{m.group('func')} ({m.group('file')})"
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += count
    return {
        "in_request_samples": in_request,
        "between_requests_samples": outside,
        "waiting_samples": exclusive[WAITING],
        "exclusive": exclusive.most_common(),
        "orm_and_driver_inclusive": orm,
        "galleria_inclusive": inclusive.most_common(40),
    }


def run_profile(server: Gunicorn, load: PosLoad, opts: Options, db: CpuSampler, workdir: Path) -> dict[str, Any]:
    pyspy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if pyspy is None:
        return {"error": "py-spy is not installed (.venv/bin/pip install py-spy)"}
    raw = workdir / "profile-sale.txt"
    command = [
        pyspy, "record", "--pid", str(server.proc.pid), "--subprocesses", "--nonblocking", "--rate", "200",
        "--duration", str(int(opts.profile_duration) + 1), "--format", "raw", "--output", str(raw),
    ]  # fmt: skip
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    phase = run_load(
        "POS sale under py-spy (not a result)",
        server.port,
        load.sale("p"),
        opts,
        server.sampler,
        db,
        duration=opts.profile_duration,
        warmup=0,
    )
    try:
        _out, err = spy.communicate(timeout=opts.profile_duration + 30)
    except subprocess.TimeoutExpired:
        spy.terminate()
        _out, err = spy.communicate(timeout=10)
    if not raw.exists():
        return {"error": f"py-spy wrote nothing: {err[-800:]}"}
    summary = summarize_profile(raw)
    summary["phase"] = phase
    summary["raw"] = str(raw)
    return summary


def print_profile(profile: dict[str, Any]) -> None:
    if "error" in profile:
        print(f"\nprofile: {profile['error']}")
        return
    phase: PhaseResult | None = profile.get("phase")
    total = profile["in_request_samples"] or 1
    cpu = max(1, total - profile["waiting_samples"])
    per_req = (phase.server_cpu_ms if phase else profile.get("server_cpu_ms")) or 0.0
    print(
        f"\nWhere a sale's worker time goes (py-spy, {profile['in_request_samples']} in-request samples"
        + (f"; profiled phase: {phase.rps:.0f} sales/s" if phase else "")
        + f"; {per_req:.1f} ms server CPU per sale):"
    )
    print("  by layer of the innermost frame  (% of in-request samples; ≈ ms of CPU per sale)")
    for bucket, n in profile["exclusive"]:
        ms = "" if bucket == WAITING else f"≈{per_req * n / cpu:5.2f} ms"
        print(f"    {100 * n / total:5.1f}%  {ms:>10}  {bucket}")
    n = profile["orm_and_driver_inclusive"]
    print(f"    inside the ORM or the driver, inclusive, excluding waits: {100 * n / cpu:.1f}% of CPU samples")
    print("  galleria functions, inclusive, excluding waits  (% of CPU samples; ≈ ms per sale)")
    for name, n in profile["galleria_inclusive"][:24]:
        print(f"    {100 * n / cpu:5.1f}%  ≈{per_req * n / cpu:5.2f} ms  {name}")


if __name__ == "__main__":
    raw_file = Path(sys.argv[1])
    result = summarize_profile(raw_file)
    result["server_cpu_ms"] = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    print_profile(result)
