"""The long-running commands as real processes: they start, serve, and stop cleanly on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from galleria.core.management.commands.scheduler import JOBS

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")


class Proc:
    """A `python -m galleria …` child whose combined output is collected by a thread."""

    def __init__(self, args, *, settings, database, static_root=None):
        env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings, DATABASE_URL=f"sqlite:///{database}")
        if static_root is not None:  # collectstatic writes here, not into the var/static/ other tests read
            env["STATIC_ROOT"] = str(static_root)
            env["GALLERIA_SANDBOX_DIR"] = str(Path(static_root).parent / "sandbox")  # nor into the demo's gateway
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "galleria", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.popen.stdout:
            self.output += line

    def wait_for(self, needle, timeout):
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            assert self.popen.poll() is None, f"exited {self.popen.returncode}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {needle!r} within {timeout} s:\n{self.output}"
            time.sleep(0.2)

    def stop(self, timeout=30):
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        finally:
            if self.popen.poll() is None:
                self.popen.kill()


def children_of(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_scheduler_runs_until_sigterm(tmp_path):
    proc = Proc(["scheduler", "--skip-checks"], settings="config.settings.test", database=tmp_path / "s.sqlite3")
    proc.wait_for(f"scheduler: {len(JOBS)} job(s)", timeout=60)
    assert proc.stop() == 0, proc.output
    assert "stopping" in proc.output


def test_demo_serves_and_stops_its_children(tmp_path):
    port, gateway_port, sms_port = free_port(), free_port(), free_port()
    ports = ["--port", str(port), "--gateway-port", str(gateway_port), "--sms-port", str(sms_port)]
    proc = Proc(
        ["demo", *ports, "--members", "30", "--sales", "10"],
        settings="config.settings.dev",
        database=tmp_path / "d.sqlite3",
        static_root=tmp_path / "static",
    )
    try:
        proc.wait_for(f"http://127.0.0.1:{port}/console/", timeout=180)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/console/login/", timeout=5) as resp:
                    assert resp.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                assert proc.popen.poll() is None, proc.output
                assert time.monotonic() < deadline, proc.output
                time.sleep(0.5)
        children = children_of(proc.popen.pid)
        assert len(children) == 5, proc.output  # web server, task worker, scheduler, payment gateway, SMS sandbox
        health = f"http://127.0.0.1:{gateway_port}/sandbox/control/health"
        with urllib.request.urlopen(health, timeout=5) as resp:
            assert resp.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{sms_port}/sandbox/outbox.json", timeout=5) as resp:
            assert resp.status == 200  # sign-in codes go to the SMS sandbox
        assert f"http://127.0.0.1:{sms_port}/sandbox/outbox" in proc.output
        # the demo group takes WeChat Pay and Alipay at that sandbox
        assert f"sandbox gateway at http://127.0.0.1:{gateway_port}" in proc.output
        assert (tmp_path / "static" / ".galleria-collected").is_file(), proc.output  # its own static files
    finally:
        status = proc.stop()
    assert status == 0, proc.output
    assert "Demo stopped." in proc.output
    time.sleep(0.5)
    assert not [pid for pid in children if alive(pid)], proc.output
