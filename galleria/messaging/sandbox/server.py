"""The SMS sandbox's HTTP server: both providers' APIs on the root (told apart by their signed headers), the
developer's outbox under `/sandbox/outbox` (HTML) and `/sandbox/outbox.json`, the request log under
`/sandbox/requests.json`, and control endpoints for tests and the demo under `/sandbox/control/…`:

    POST /sandbox/control/fault             {"provider": "aliyun"|"tencent"|"*", "mode": "throttle"|"limit"|
                                             "unavailable"|"timeout_after_accept", "count": 1, "delay": 3.0}
    POST /sandbox/control/deliver-receipts  push every scheduled receipt now
    POST /sandbox/control/reset             forget messages, requests and faults

The same process speaks WeChat (`/cgi-bin/…`, sandbox/wechat.py) and a Web Push service (`/push/…`,
sandbox/webpush.py); their controls: `wechat-login` (mini-program sign-in codes), `wechat-quota`, `wechat-user`,
`wechat-expire-tokens`, `wechat-events`, `push-gone`, and faults `{"provider": "wechat", "mode": "busy"}`,
`{"provider": "push", "mode": "throttle"|"unavailable"}`.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import aliyun, keys, tencent, webpush, wechat
from .common import Request, Response
from .receipts import ReceiptPusher
from .state import Fault, Store

log = logging.getLogger("galleria.messaging.sandbox")
FAULT_MODES = {"throttle", "limit", "unavailable", "timeout_after_accept", "busy"}
PROVIDERS = ("aliyun", "tencent", "wechat", "push", "*")
WECHAT_SENDS = {
    "/cgi-bin/message/subscribe/send",
    "/cgi-bin/message/template/send",
    "/cgi-bin/externalcontact/add_msg_template",
}


class Sandbox:
    def __init__(self, *, keys_data: dict[str, Any], store: Store, receipts: ReceiptPusher) -> None:
        self.keys = keys_data
        self.store = store
        self.receipts = receipts
        self.base_url = ""
        self.wechat = wechat.WechatState()
        self.wechat_events = wechat.EventPusher(self)
        self.push = webpush.PushState()

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path in ("/cgi-bin/stable_token", "/cgi-bin/token", "/cgi-bin/gettoken"):
            return wechat.token_endpoint(self, request)
        if path in WECHAT_SENDS and request.method == "POST":
            return wechat.send_endpoint(self, request)
        if path == "/sns/jscode2session" and request.method == "GET":
            return wechat.jscode2session(self, request)
        if path == "/wxa/business/getuserphonenumber" and request.method == "POST":
            return wechat.getuserphonenumber(self, request)
        if path == "/push/subscribe" and request.method == "POST":
            return webpush.subscribe(self, request)
        if path.startswith("/push/send/") and request.method == "POST":
            return webpush.send(self, request, path.rsplit("/", 1)[1])
        if path == "/" and request.method == "POST":
            if "x-tc-action" in request.headers:
                return tencent.handle(self, request)
            return aliyun.handle(self, request)
        if path == "/sandbox/outbox" and request.method == "GET":
            return Response(200, self.outbox_html().encode(), "text/html; charset=utf-8")
        if path == "/sandbox/outbox.json" and request.method == "GET":
            now = self.store.now()
            with self.store.lock:
                rows = [m.as_json(now) for m in reversed(self.store.messages)]
                wechat_rows = [m.as_json() for m in reversed(self.wechat.messages)]
                push_rows = [d.as_json() for d in reversed(self.push.delivered)]
            return Response.json(
                200, {"messages": rows, "wechat": wechat_rows, "push": push_rows}, "application/json; charset=utf-8"
            )
        if path == "/sandbox/requests.json" and request.method == "GET":
            with self.store.lock:
                rows = list(reversed(self.store.requests))
            return Response.json(200, {"requests": rows}, "application/json; charset=utf-8")
        if path == "/sandbox/health":
            return Response.json(200, {"ok": True})
        if path.startswith("/sandbox/control/") and request.method == "POST":
            return self.control(path.rsplit("/", 1)[1], request)
        return Response.json(404, {"Code": "NotFound", "Message": "no such path in the SMS sandbox"})

    def control(self, name: str, request: Request) -> Response:
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return Response.json(400, {"error": "JSON body expected"})
        if not isinstance(data, dict):
            return Response.json(400, {"error": "JSON object expected"})
        answered = wechat.control(self, name, data) or webpush.control(self, name, data)
        if answered is not None:
            return answered
        if name == "fault":
            mode = data.get("mode")
            provider = data.get("provider", "*")
            if mode not in FAULT_MODES or provider not in PROVIDERS:
                return Response.json(400, {"error": f"mode must be one of {sorted(FAULT_MODES)}"})
            with self.store.lock:
                self.store.faults.append(
                    Fault(
                        provider=provider, mode=mode, count=int(data.get("count", 1)), delay=float(data.get("delay", 3))
                    )
                )
            return Response.json(200, {"ok": True})
        if name == "deliver-receipts":
            return Response.json(200, {"pushed": self.receipts.push_due_now()})
        if name == "reset":
            with self.store.lock:
                self.store.messages.clear()
                self.store.requests.clear()
                self.store.faults.clear()
                self.wechat.messages.clear()
                self.wechat.quota.clear()
                self.push.delivered.clear()
            return Response.json(200, {"ok": True})
        return Response.json(404, {"error": "no such control"})

    def outbox_html(self) -> str:
        now = self.store.now()
        with self.store.lock:
            messages = list(reversed(self.store.messages))[:200]
            requests = list(reversed(self.store.requests))[:50]
            wechat_messages = list(reversed(self.wechat.messages))[:100]
            pushes = list(reversed(self.push.delivered))[:100]
        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><b>{}</b></td><td>{}</td><td>{}</td></tr>".format(
                time.strftime("%H:%M:%S", time.localtime(m.accepted_at)),
                m.provider,
                html.escape(m.phone),
                html.escape(m.template),
                html.escape(m.ref),
                html.escape(m.text),
                html.escape(m.out_id),
                ("—" if not m.reported(now) else ("✔ " if m.delivered else "✘ ") + html.escape(m.receipt_code))
                + (
                    f" (pushed ×{m.receipt_pushes}{', acked' if m.receipt_acked_at else ''})"
                    if m.receipt_pushes
                    else ""
                ),
            )
            for m in messages
        )
        wechat_rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><b>{}</b></td><td>{}</td></tr>".format(
                time.strftime("%H:%M:%S", time.localtime(m.accepted_at)),
                m.app,
                html.escape(m.recipient),
                html.escape(m.template_id[:12]),
                html.escape(m.text),
                html.escape(f"{m.msgid} · event {'acked' if m.event_acked else f'×{m.event_pushes}'}"),
            )
            for m in wechat_messages
        )
        push_rows = "".join(
            "<tr><td>{}</td><td>{}</td><td><b>{}</b></td><td>{}</td></tr>".format(
                time.strftime("%H:%M:%S", time.localtime(d.accepted_at)),
                html.escape(d.subscription[:10]) + "…",
                html.escape(d.payload),
                html.escape(f"TTL {d.ttl} {d.urgency}"),
            )
            for d in pushes
        )
        log_rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>".format(
                time.strftime("%H:%M:%S", time.localtime(r["at"])),
                r["provider"],
                html.escape(str(r["action"])),
                html.escape(str(r["verdict"])),
                html.escape(str(r["authorization"])),
            )
            for r in requests
        )
        return f"""<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5"><title>SMS sandbox outbox</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;font-size:.9rem}}</style></head><body>
<h1>SMS sandbox — outbox</h1>
<p>Aliyun Dysmsapi and Tencent Cloud SMS, spoken locally. Messages accepted by this sandbox (newest first);
JSON: <a href="/sandbox/outbox.json">/sandbox/outbox.json</a>, signed requests:
<a href="/sandbox/requests.json">/sandbox/requests.json</a>.</p>
<table><tr><th>time</th><th>provider</th><th>phone</th><th>template</th><th>ref</th><th>text</th><th>out id</th>
<th>receipt</th></tr>{rows}</table>
<h2>WeChat</h2><table><tr><th>time</th><th>app</th><th>to</th><th>template</th><th>data</th><th>msgid</th></tr>
{wechat_rows}</table>
<h2>Web Push (decrypted)</h2><table><tr><th>time</th><th>subscription</th><th>payload</th><th>headers</th></tr>
{push_rows}</table>
<h2>Requests</h2><table><tr><th>time</th><th>provider</th><th>action</th><th>verdict</th><th>authorization</th></tr>
{log_rows}</table></body></html>"""


def _make_handler(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "GalleriaSmsSandbox/1"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), format % args)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            request = Request(
                method=self.command,
                raw_path=self.path,
                path=split.path,
                raw_query=split.query,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            try:
                response = sandbox.dispatch(request)
            except Exception:
                log.exception("SMS sandbox handler failed for %s %s", self.command, self.path)
                response = Response.json(500, {"Code": "InternalError", "Message": "sandbox error"})
            if response.delay:
                time.sleep(response.delay)  # accepted, but the answer comes too late for the client
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up waiting (an injected timeout)
                self.wfile.write(response.body)

        do_GET = do_POST = _serve

    return Handler


def build(
    *,
    keys_path: Path,
    host: str,
    port: int,
    receipt_urls: dict[str, str],
    report_delay: float = 1.0,
    retry_gap: float = 1.0,
    per_phone_per_minute: int = 5,
    wechat_event_urls: dict[str, str] | None = None,
) -> tuple[ThreadingHTTPServer, Sandbox]:
    store = Store(report_delay=report_delay, per_phone_per_minute=per_phone_per_minute)
    pusher = ReceiptPusher(store=store, urls=receipt_urls, retry_gap=retry_gap)
    sandbox = Sandbox(keys_data=keys.load(keys_path), store=store, receipts=pusher)
    server = ThreadingHTTPServer((host, port), _make_handler(sandbox))
    server.daemon_threads = True
    sandbox.base_url = f"http://{host}:{server.server_address[1]}"
    sandbox.wechat.event_urls = {k: v for k, v in (wechat_event_urls or {}).items() if v}
    sandbox.wechat_events.delay = report_delay
    return server, sandbox
