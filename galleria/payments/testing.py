"""Helpers for tests and the demo around the sandbox gateway (galleria.payments.sandbox), no Django needed.

    proc = sandbox_start(time_scale=0.001)          # a subprocess on a free port, keys in a temp dir
    wx = wechat_config(proc.keys, proc.base_url, notify_url="http://127.0.0.1:8000/payments/notify/wechat")
    ali = alipay_config(proc.keys, proc.base_url, notify_url="http://127.0.0.1:8000/payments/notify/alipay")
    proc.control.pay(provider="wechat", out_trade_no="GA1")   # the member pays
    proc.stop()

`NotifyReceiver` is a tiny HTTP server standing in for Galleria's notify views in protocol tests: it records what
arrives and answers with whatever its `answer` callable returns.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from galleria.payments.gateways.base import GatewayConfig, Provider
from galleria.payments.sandbox import keys as sandbox_keys

READY_PREFIX = "SANDBOX LISTENING "


# --- configs ---------------------------------------------------------------------------------------------------------


def load_keys(path: Path) -> dict[str, Any]:
    return sandbox_keys.load(path)


def wechat_config(keys: dict[str, Any], base_url: str, *, notify_url: str, timeout_s: float = 5.0) -> GatewayConfig:
    wx = keys["wechat"]
    return GatewayConfig(
        provider=Provider.WECHAT,
        base_url=base_url.rstrip("/"),
        app_id=wx["appid"],
        mch_id=wx["mchid"],
        private_key=wx["merchant_private_key"],
        cert_serial_no=wx["merchant_serial_no"],
        platform_public_key=wx["platform_public_key"],
        platform_public_key_id=wx["platform_public_key_id"],
        apiv3_key=wx["apiv3_key"],
        notify_url=notify_url,
        timeout_s=timeout_s,
    )


def alipay_config(keys: dict[str, Any], base_url: str, *, notify_url: str, timeout_s: float = 5.0) -> GatewayConfig:
    ali = keys["alipay"]
    return GatewayConfig(
        provider=Provider.ALIPAY,
        base_url=base_url.rstrip("/") + "/gateway.do",
        app_id=ali["app_id"],
        private_key=ali["app_private_key"],
        platform_public_key=ali["alipay_public_key"],
        notify_url=notify_url,
        timeout_s=timeout_s,
    )


# --- control client ------------------------------------------------------------------------------------------------


class SandboxControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class SandboxControl:
    """The sandbox's /sandbox/control/ endpoints (not a real protocol: tests and the demo only)."""

    def __init__(self, base_url: str, *, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def _post(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = requests.post(f"{self.base_url}/sandbox/control/{name}", json=body, timeout=self.timeout_s)
        return self._read(answer)

    def _get(self, name: str, params: dict[str, str]) -> dict[str, Any]:
        answer = requests.get(f"{self.base_url}/sandbox/control/{name}", params=params, timeout=self.timeout_s)
        return self._read(answer)

    @staticmethod
    def _read(answer: requests.Response) -> dict[str, Any]:
        data: dict[str, Any] = answer.json()
        if answer.status_code != 200:
            raise SandboxControlError(answer.status_code, str(data.get("error", data)))
        return data

    def pay(self, *, provider: str, out_trade_no: str, amount_fen: int | None = None, url: str = "") -> dict[str, Any]:
        """The member pays (amount_fen overrides the amount paid; url = an Alipay WAP/PAGE URL not opened yet)."""
        body: dict[str, Any] = {"provider": provider, "out_trade_no": out_trade_no}
        if amount_fen is not None:
            body["amount_fen"] = amount_fen
        if url:
            body["url"] = url
        return self._post("pay", body)

    def mall_auth(self, *, openid: str, notify_url: str, **extra: Any) -> dict[str, Any]:
        return self._post("mall-auth", {"openid": openid, "notify_url": notify_url, **extra})

    def mall_payment(
        self, *, mchid: str, shop_number: str, openid: str, amount_fen: int, notify_url: str, **extra: Any
    ) -> dict[str, Any]:
        body = {"mchid": mchid, "shop_number": shop_number, "openid": openid, "amount_fen": amount_fen}
        return self._post("mall-payment", {**body, "notify_url": notify_url, **extra})

    def mall_refund(self, *, transaction_id: str, refund_fen: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"transaction_id": transaction_id}
        if refund_fen is not None:
            body["refund_fen"] = refund_fen
        return self._post("mall-refund", body)

    def deliveries(self, event_id: str = "") -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._get("deliveries", {"event_id": event_id} if event_id else {})["deliveries"]
        return rows

    def deliver_due(self, *, everything: bool = False) -> list[dict[str, Any]]:
        attempts: list[dict[str, Any]] = self._post("deliver-due", {"all": everything})["attempts"]
        return attempts

    def replay(self, event_id: str) -> dict[str, Any]:
        return self._post("replay", {"event_id": event_id})

    def forge(self, *, how: str, out_trade_no: str, provider: str = "wechat", url: str = "") -> dict[str, Any]:
        body = {"how": how, "out_trade_no": out_trade_no, "provider": provider}
        return self._post("forge", {**body, "url": url} if url else body)

    def bill_extra(self, *, provider: str, amount_fen: int, **extra: Any) -> dict[str, Any]:
        return self._post("bill-extra", {"provider": provider, "amount_fen": amount_fen, **extra})

    def clock(self, *, offset_s: float) -> dict[str, Any]:
        return self._post("clock", {"offset_s": offset_s})

    def fail_next(self, *, count: int = 1, status: int = 503, prefix: str = "/") -> dict[str, Any]:
        return self._post("fail-next", {"count": count, "status": status, "prefix": prefix})

    def trade(self, *, provider: str, out_trade_no: str) -> dict[str, Any]:
        return self._get("trade", {"provider": provider, "out_trade_no": out_trade_no})

    def wait_delivered(self, event_id: str, *, timeout_s: float = 10.0) -> dict[str, Any]:
        """Poll the delivery log until the event was accepted by its receiver (or give up)."""
        deadline = time.monotonic() + timeout_s
        while True:
            rows = self.deliveries(event_id)
            if rows and rows[0]["state"] != "pending":
                return rows[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"notification {event_id} still pending: {rows}")
            time.sleep(0.02)


# --- the sandbox process -------------------------------------------------------------------------------------------


@dataclass
class SandboxProcess:
    base_url: str
    keys_path: Path
    keys: dict[str, Any]
    process: subprocess.Popen[str]
    log_path: Path
    pump: threading.Thread | None = None
    control: SandboxControl = field(init=False)

    def __post_init__(self) -> None:
        self.control = SandboxControl(self.base_url)

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout_s)
        if self.pump is not None:
            self.pump.join(timeout=timeout_s)  # the child is gone: its stdout reaches EOF and the pump ends
        if self.process.stdout is not None and (self.pump is None or not self.pump.is_alive()):
            self.process.stdout.close()


def sandbox_start(
    *,
    workdir: Path | None = None,
    keys_path: Path | None = None,
    time_scale: float = 0.001,
    state_path: Path | None = None,
    share_max_bp: int = 3000,
    port: int = 0,
    ready_timeout_s: float = 20.0,
) -> SandboxProcess:
    """Start `python -m galleria.payments.sandbox serve` as a subprocess and wait for its LISTENING line.
    Without `keys_path`, fresh keys are generated into `workdir` (a new temp dir by default)."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="galleria-sandbox-"))
    if keys_path is None:
        keys_path = workdir / "keys.json"
        sandbox_keys.write(keys_path)
    log_path = workdir / "sandbox.log"
    command = [sys.executable, "-m", "galleria.payments.sandbox", "serve", "--port", str(port)]
    command += ["--keys", str(keys_path), "--time-scale", str(time_scale), "--share-max-bp", str(share_max_bp)]
    if state_path is not None:
        command += ["--state", str(state_path)]
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH", "")])))
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            command, stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=root
        )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:  # keep reading stdout so the child never blocks on a full pipe
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    pumping = threading.Thread(target=pump, name="sandbox-stdout", daemon=True)
    pumping.start()
    deadline = time.monotonic() + ready_timeout_s
    while True:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            line = ""
        if line.startswith(READY_PREFIX):
            base_url = line[len(READY_PREFIX) :].strip()
            return SandboxProcess(base_url, keys_path, sandbox_keys.load(keys_path), process, log_path, pumping)
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the sandbox did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")


# --- a receiver standing in for Galleria's notify views --------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered


Answer = tuple[int, str, bytes]  # status, content type, body


class NotifyReceiver:
    """An HTTP server on a free port; `answer(received)` decides what to send back (default 204)."""

    def __init__(self, answer: Callable[[Received], Answer] | None = None) -> None:
        self.answer: Callable[[Received], Answer] = answer or (lambda r: (204, "application/json", b""))
        self.received: list[Received] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                got = Received(self.path, dict(self.headers.items()), body, 0)
                try:
                    status, content_type, payload = receiver.answer(got)
                except Exception as exc:  # a bug in the test's answer must show, not hang the sandbox
                    status, content_type, payload = 599, "text/plain", repr(exc).encode()
                got.status = status
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                with receiver._cond:
                    receiver.received.append(got)
                    receiver._cond.notify_all()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/notify"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, *, timeout_s: float = 10.0) -> list[Received]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.received) >= count, timeout=timeout_s):
                raise TimeoutError(f"{len(self.received)} of {count} notifications arrived")
            return list(self.received)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def json_body(received: Received) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(received.body)
    return data
