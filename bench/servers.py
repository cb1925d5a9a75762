"""What the benchmark runs besides its own client: gunicorn (the POS API or the baseline) and pgbench."""

from __future__ import annotations

import contextlib
import http.client
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from .common import NCPU, PGBENCH_DB, ROOT, Options, recreate_database
from .measure import CpuMark, CpuSampler, PhaseResult, proc_tree, summarize


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gunicorn:
    """`gunicorn <app> --workers <cores> --worker-class sync --preload` on 127.0.0.1, no access log."""

    def __init__(
        self, app: str, opts: Options, env: dict[str, str], logdir: Path, name: str, port: int | None = None
    ) -> None:
        self.port = free_port() if port is None else port  # a given port: a restart on the same address
        self.logfile = logdir / f"gunicorn-{name}.log"
        command = [
            sys.executable, "-m", "gunicorn", app,
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(opts.workers),
            "--worker-class", "sync",
            "--preload",
            "--timeout", "60",
            "--graceful-timeout", "5",
            "--log-level", "warning",
            "--error-logfile", str(self.logfile),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self.sampler: CpuSampler | None = None
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.sampler = CpuSampler(lambda: proc_tree(self.proc.pid))

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}):\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/")
                conn.getresponse().read()  # any answer will do: the app is loaded and a worker accepts
                conn.close()
                return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the session we started, nothing else
                self.proc.wait(timeout=10)


@contextlib.contextmanager
def gunicorn(app: str, opts: Options, env: dict[str, str], logdir: Path, name: str) -> Iterator[Gunicorn]:
    server = Gunicorn(app, opts, env, logdir, name)
    try:
        yield server
    finally:
        server.stop()


def pgbench_executable() -> str:
    found = shutil.which("pgbench") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))), None)
    if found is None:
        raise RuntimeError("pgbench not found (apt-get install postgresql-client)")
    return str(found)


def run_pgbench(opts: Options, db: CpuSampler, workdir: Path) -> PhaseResult:
    """TPC-B on its own database: -c clients -j cores for warm-up + duration; the warm-up is cut from the
    per-transaction log so that pgbench is measured over the same window as the HTTP phases."""
    exe = pgbench_executable()
    conn = ["-h", opts.pg_host, "-p", str(opts.pg_port), "-U", opts.pg_user]
    recreate_database(opts, PGBENCH_DB)
    init = [exe, "-i", "-q", "-s", str(opts.pgbench_scale), *conn, PGBENCH_DB]
    subprocess.run(init, check=True, capture_output=True, timeout=300)
    seconds = math.ceil(opts.warmup + opts.duration)
    jobs = str(min(NCPU, opts.clients))
    prefix = str(workdir / "pgbench")
    command = [exe, "-c", str(opts.clients), "-j", jobs, "-T", str(seconds), "-l", "--log-prefix", prefix, *conn]
    a = CpuMark.take(None, db, children=True)
    started = time.time()
    done = subprocess.run([*command, PGBENCH_DB], check=False, capture_output=True, text=True, timeout=seconds + 120)
    wall = time.time() - started
    b = CpuMark.take(None, db, children=True)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed: {done.stderr[-2000:]}")
    # per-transaction log lines: client_id transaction_no latency_us script_no epoch_s epoch_us
    ends: list[tuple[float, float]] = []
    for path in workdir.glob("pgbench.*"):
        for line in path.read_text().splitlines():
            f = line.split()
            if len(f) >= 6:
                ends.append((int(f[4]) + int(f[5]) / 1e6, int(f[2]) / 1e6))
    t_measure = min((end for end, _ in ends), default=started) + opts.warmup
    latencies = [lat for end, lat in ends if t_measure <= end <= t_measure + opts.duration]
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    name = f"pgbench TPC-B -s {opts.pgbench_scale} -c {opts.clients} -j {jobs}"
    result = summarize(name, latencies, opts.duration, int(failed.group(1)) if failed else 0, [], a, b)
    # The CPU marks span the whole pgbench run (warm-up included): scale by every transaction, not the window.
    every = len(ends) or 1
    result.client_cpu_ms = 1000 * (b.client - a.client) / every
    result.db_cpu_ms = 1000 * (b.db - a.db) / every
    result.server_cpu_ms = None
    result.client_share = (b.client - a.client) / (wall * NCPU)
    busy = (b.busy - a.busy) / os.sysconf("SC_CLK_TCK")
    result.other_share = max(0.0, busy - (b.client - a.client) - (b.db - a.db)) / (wall * NCPU)
    result.note = f"pgbench's own report over all {seconds} s: {tps.group(1) if tps else '?'} tps"
    return result
