"""Starting the messaging sandbox (SMS, WeChat, Web Push) as a separate process, and Galleria settings that point the
adapters at it — for the tests (galleria/messaging/tests/conftest.py) and the demo (galleria/demo/sms.py). Plain
Python: no Django."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .sandbox import keys as sandbox_keys

READY_PREFIX = "SMS SANDBOX LISTENING "


@dataclass
class SmsSandboxProcess:
    base_url: str
    keys_path: Path
    keys: dict[str, Any]
    process: subprocess.Popen[str]
    log_path: Path
    pump: threading.Thread

    @property
    def endpoint(self) -> str:
        """host:port, what both SDKs take as their endpoint."""
        return self.base_url.split("://", 1)[1]

    def _call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(  # noqa: S310 - the sandbox on this machine
            self.base_url + path, data=body, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            return json.loads(resp.read() or b"null")

    def outbox(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self._call("GET", "/sandbox/outbox.json")["messages"]
        return messages

    def requests(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call("GET", "/sandbox/requests.json")["requests"]
        return rows

    def fault(self, mode: str, *, provider: str = "*", count: int = 1, delay: float = 3.0) -> None:
        self._call(
            "POST", "/sandbox/control/fault", {"mode": mode, "provider": provider, "count": count, "delay": delay}
        )

    def deliver_receipts(self) -> int:
        pushed: int = self._call("POST", "/sandbox/control/deliver-receipts", {})["pushed"]
        return pushed

    def reset(self) -> None:
        self._call("POST", "/sandbox/control/reset", {})

    # -- WeChat ------------------------------------------------------------------------------------------------
    def wechat_outbox(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call("GET", "/sandbox/outbox.json")["wechat"]
        return rows

    def wechat_quota(self, *, openid: str, template_id: str, count: int = 1) -> None:
        """What wx.requestSubscribeMessage tells WeChat: the user accepted `count` sends of the template."""
        self._call(
            "POST", "/sandbox/control/wechat-quota", {"openid": openid, "template_id": template_id, "count": count}
        )

    def wechat_user(self, openid: str) -> None:
        self._call("POST", "/sandbox/control/wechat-user", {"openid": openid})

    def wechat_expire_tokens(self) -> None:
        self._call("POST", "/sandbox/control/wechat-expire-tokens", {})

    def wechat_push_events(self) -> int:
        pushed: int = self._call("POST", "/sandbox/control/wechat-events", {})["pushed"]
        return pushed

    # -- Web Push ----------------------------------------------------------------------------------------------
    def push_outbox(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call("GET", "/sandbox/outbox.json")["push"]
        return rows

    def push_subscribe(self, application_server_key: str = "") -> dict[str, Any]:
        """A browser's pushManager.subscribe(): PushSubscription.toJSON() of a new subscription."""
        sub: dict[str, Any] = self._call("POST", "/push/subscribe", {"application_server_key": application_server_key})
        return sub

    def push_gone(self, endpoint: str) -> None:
        self._call("POST", "/sandbox/control/push-gone", {"endpoint": endpoint})

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout_s)
        self.pump.join(timeout=timeout_s)
        if self.process.stdout is not None and not self.pump.is_alive():
            self.process.stdout.close()


def sms_sandbox_argv(
    *,
    keys_path: Path,
    port: int = 0,
    receipt_urls: dict[str, str] | None = None,
    report_delay: float = 1.0,
    retry_gap: float = 1.0,
    per_phone_per_minute: int = 5,
    wechat_event_urls: dict[str, str] | None = None,
) -> list[str]:
    argv = [sys.executable, "-m", "galleria.messaging.sandbox", "serve", "--port", str(port), "--keys", str(keys_path)]
    argv += ["--report-delay", str(report_delay), "--retry-gap", str(retry_gap)]
    argv += ["--per-phone-per-minute", str(per_phone_per_minute)]
    for provider, url in (receipt_urls or {}).items():
        argv += [f"--receipt-url-{provider}", url]
    for app, url in (wechat_event_urls or {}).items():
        argv += [f"--wechat-event-url-{app}", url]
    return argv


def sms_sandbox_start(
    *,
    workdir: Path | None = None,
    keys_path: Path | None = None,
    receipt_urls: dict[str, str] | None = None,
    report_delay: float = 0.2,
    retry_gap: float = 0.2,
    per_phone_per_minute: int = 0,
    ready_timeout_s: float = 20.0,
    wechat_event_urls: dict[str, str] | None = None,
) -> SmsSandboxProcess:
    """Start `python -m galleria.messaging.sandbox serve` on a free port and wait for its LISTENING line."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="galleria-sms-sandbox-"))
    if keys_path is None:
        keys_path = workdir / "keys.json"
        sandbox_keys.write(keys_path)
    log_path = workdir / "sms-sandbox.log"
    command = sms_sandbox_argv(
        keys_path=keys_path,
        receipt_urls=receipt_urls,
        report_delay=report_delay,
        retry_gap=retry_gap,
        per_phone_per_minute=per_phone_per_minute,
        wechat_event_urls=wechat_event_urls,
    )
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH", "")])))
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            command, stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=root
        )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    pumping = threading.Thread(target=pump, name="sms-sandbox-stdout", daemon=True)
    pumping.start()
    deadline = time.monotonic() + ready_timeout_s
    while True:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            line = ""
        if line.startswith(READY_PREFIX):
            base_url = line[len(READY_PREFIX) :].strip()
            keys = sandbox_keys.load(keys_path)
            return SmsSandboxProcess(base_url, keys_path, keys, process, log_path, pumping)
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the SMS sandbox did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")


def sandbox_env(keys: dict[str, Any], *, endpoint: str, provider: str = "aliyun") -> dict[str, str]:
    """Environment variables that configure Galleria's SMS settings for the sandbox (what the demo gives its
    processes; config/settings/base.py reads them)."""
    side = keys[provider]
    templates = sandbox_keys.template_ids(keys, provider)
    env = {
        "GALLERIA_SMS_BACKEND": provider,
        "GALLERIA_SMS_SIGN_NAME": side["sign_names"][0],
        "GALLERIA_SMS_TEMPLATES": json.dumps(templates),
    }
    if provider == "aliyun":
        env.update(
            GALLERIA_SMS_ALIYUN_ACCESS_KEY_ID=side["access_key_id"],
            GALLERIA_SMS_ALIYUN_ACCESS_KEY_SECRET=side["access_key_secret"],
            GALLERIA_SMS_ALIYUN_ENDPOINT=endpoint,
            GALLERIA_SMS_ALIYUN_PROTOCOL="http",
        )
    else:
        env.update(
            GALLERIA_SMS_TENCENT_SECRET_ID=side["secret_id"],
            GALLERIA_SMS_TENCENT_SECRET_KEY=side["secret_key"],
            GALLERIA_SMS_TENCENT_SDK_APP_ID=side["sdk_app_id"],
            GALLERIA_SMS_TENCENT_ENDPOINT=endpoint,
            GALLERIA_SMS_TENCENT_PROTOCOL="http",
        )
    return env


def sandbox_settings(keys: dict[str, Any], *, endpoint: str, provider: str = "aliyun") -> dict[str, Any]:
    """The same configuration as Django settings values (for tests that override settings)."""
    side = keys[provider]
    values: dict[str, Any] = {
        "GALLERIA_SMS_BACKEND": provider,
        "GALLERIA_SMS_SIGN_NAME": side["sign_names"][0],
        "GALLERIA_SMS_TEMPLATES": sandbox_keys.template_ids(keys, provider),
    }
    if provider == "aliyun":
        values["GALLERIA_SMS_ALIYUN"] = {
            "ACCESS_KEY_ID": side["access_key_id"],
            "ACCESS_KEY_SECRET": side["access_key_secret"],
            "ENDPOINT": endpoint,
            "PROTOCOL": "http",
            "REGION": "cn-hangzhou",
        }
    else:
        values["GALLERIA_SMS_TENCENT"] = {
            "SECRET_ID": side["secret_id"],
            "SECRET_KEY": side["secret_key"],
            "SDK_APP_ID": side["sdk_app_id"],
            "ENDPOINT": endpoint,
            "PROTOCOL": "http",
            "REGION": side["region"],
        }
    return values


def wechat_sandbox_values(keys: dict[str, Any], *, base_url: str) -> dict[str, Any]:
    """GALLERIA_WECHAT and GALLERIA_WECHAT_TEMPLATES for the sandbox (tests override settings with them)."""
    side = keys["wechat"]
    return {
        "GALLERIA_WECHAT": {
            "MINI_APPID": side["mini"]["appid"],
            "MINI_SECRET": side["mini"]["secret"],
            "MINI_TOKEN": side["mini"]["token"],
            "MP_APPID": side["mp"]["appid"],
            "MP_SECRET": side["mp"]["secret"],
            "MP_TOKEN": side["mp"]["token"],
            "WECOM_APPID": side["wecom"]["corpid"],
            "WECOM_SECRET": side["wecom"]["secret"],
            "API_BASE_URL": base_url + "/cgi-bin/",
            "WECOM_BASE_URL": base_url + "/cgi-bin/",
        },
        "GALLERIA_WECHAT_TEMPLATES": sandbox_keys.wechat_template_map(keys),
    }


def wechat_sandbox_env(keys: dict[str, Any], *, base_url: str) -> dict[str, str]:
    """The same as environment variables (what the demo gives its processes)."""
    values = wechat_sandbox_values(keys, base_url=base_url)
    conf = values["GALLERIA_WECHAT"]
    return {
        "GALLERIA_WECHAT_MINI_APPID": conf["MINI_APPID"],
        "GALLERIA_WECHAT_MINI_SECRET": conf["MINI_SECRET"],
        "GALLERIA_WECHAT_MINI_TOKEN": conf["MINI_TOKEN"],
        "GALLERIA_WECHAT_MP_APPID": conf["MP_APPID"],
        "GALLERIA_WECHAT_MP_SECRET": conf["MP_SECRET"],
        "GALLERIA_WECHAT_MP_TOKEN": conf["MP_TOKEN"],
        "GALLERIA_WECHAT_WECOM_CORPID": conf["WECOM_APPID"],
        "GALLERIA_WECHAT_WECOM_SECRET": conf["WECOM_SECRET"],
        "GALLERIA_WECHAT_API_BASE_URL": conf["API_BASE_URL"],
        "GALLERIA_WECHAT_WECOM_BASE_URL": conf["WECOM_BASE_URL"],
        "GALLERIA_WECHAT_TEMPLATES": json.dumps(values["GALLERIA_WECHAT_TEMPLATES"]),
    }
