"""The demo's SMS gateway: the SMS sandbox process (Aliyun Dysmsapi and Tencent Cloud SMS wire protocols, locally
generated keys) started beside the web server, and the environment that points Galleria's processes at it.

`galleria demo` calls `sms_sandbox_prepare(port, web_port)` before serving: the keys are generated once into
var/sandbox/sms-keys.json (kept), a receipt token once into var/sandbox/sms-receipt-token, and the plan's `env` is
given to every child process: GALLERIA_SMS_BACKEND=aliyun (or GALLERIA_DEMO_SMS_PROVIDER=tencent) with the
sandbox's endpoint, sign name and template codes, GALLERIA_SMS_ECHO=1 so the sign-in codes still show in the demo's
terminal, and the receipt token, so the sandbox's receipts reach /hooks/sms/… and mark the messages delivered.
The sandbox's outbox (every text it received, with its signed request and receipt) is at /sandbox/outbox.
The same process speaks WeChat: unless a WeChat app is configured, the plan's `env` also points Galleria's WeChat
adapters at it (its generated appids, secrets, server-URL tokens and templates) and the sandbox pushes WeChat's
events to /hooks/wechat/mini/ and /hooks/wechat/mp/.
Nothing happens when an SMS provider is configured (GALLERIA_SMS_BACKEND other than the outbox) or
GALLERIA_DEMO_SMS_SANDBOX is off."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

from django.conf import settings

from galleria.demo.payments import sandbox_dir
from galleria.messaging.sandbox import keys as sms_keys
from galleria.messaging.sms import ALIASES
from galleria.messaging.testing import sandbox_env, sms_sandbox_argv, wechat_sandbox_env

HOST = "127.0.0.1"


@dataclass(frozen=True)
class SmsSandboxPlan:
    argv: list[str]
    base_url: str
    provider: str
    env: dict[str, str] = field(default_factory=dict)


def sms_sandbox_prepare(port: int, web_port: int) -> SmsSandboxPlan | None:
    backend = ALIASES.get(settings.GALLERIA_SMS_BACKEND, settings.GALLERIA_SMS_BACKEND)
    if not settings.GALLERIA_DEMO_SMS_SANDBOX or backend != ALIASES["outbox"]:
        return None
    provider = os.environ.get("GALLERIA_DEMO_SMS_PROVIDER", "aliyun")
    if provider not in ("aliyun", "tencent"):
        provider = "aliyun"
    folder = sandbox_dir()
    keys_path = folder / "sms-keys.json"
    if not keys_path.exists():
        sms_keys.write(keys_path)
    token_path = folder / "sms-receipt-token"
    if not token_path.exists():
        token_path.write_text(secrets.token_urlsafe(24))
        token_path.chmod(0o600)
    token = token_path.read_text().strip()
    base_url = f"http://{HOST}:{port}"
    receipt_url = f"http://{HOST}:{web_port}/hooks/sms/{provider}/{token}/"
    keys = sms_keys.load(keys_path)  # adds the WeChat side to a keys file written before it existed
    wechat = not (settings.GALLERIA_WECHAT["MINI_APPID"] or settings.GALLERIA_WECHAT["MP_APPID"])
    events = {app: f"http://{HOST}:{web_port}/hooks/wechat/{app}/" for app in ("mini", "mp")} if wechat else {}
    argv = sms_sandbox_argv(
        keys_path=keys_path,
        port=port,
        receipt_urls={provider: receipt_url},
        report_delay=2.0,
        wechat_event_urls=events,
    )
    env = sandbox_env(keys, endpoint=f"{HOST}:{port}", provider=provider)
    env.update(GALLERIA_SMS_ECHO="1", GALLERIA_SMS_RECEIPT_TOKEN=token)
    if wechat:
        env.update(wechat_sandbox_env(keys, base_url=base_url))
    return SmsSandboxPlan(argv=argv, base_url=base_url, provider=provider, env=env)
