"""The sandbox's HTTP server: one ThreadingHTTPServer, one port, three namespaces without clashes —
WeChat Pay at `/v3/…` (so the WeChat base URL is the server root, as the SDK signs `/v3/…` paths), Alipay at
`/gateway.do`, and the sandbox's own cashier pages, bill files and control endpoints under `/sandbox/…`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .dispatch import Dispatcher
from .keys import GatewayKeys
from .state import Store

log = logging.getLogger("galleria.payments.sandbox")


@dataclass(frozen=True)
class Request:
    method: str
    raw_path: str  # path with the query, exactly as sent (WeChat signs it)
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # from the route's named groups

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        data = json.loads(self.body)
        if not isinstance(data, dict):
            raise ValueError("JSON object expected")
        return data

    def form(self) -> dict[str, str]:
        """Query and (for POST) form fields together, the way Alipay's gateway reads a request."""
        fields = dict(self.query)
        if self.method == "POST" and "x-www-form-urlencoded" in self.headers.get("content-type", ""):
            fields.update(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        return fields


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, obj: Any) -> Response:
        return cls(status, json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode(), "text/html; charset=utf-8")

    @classmethod
    def redirect(cls, url: str) -> Response:
        return cls(302, b"", "text/plain; charset=utf-8", {"Location": url})


Handler = Callable[["Sandbox", Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def route(method: str, pattern: str, handler: Handler) -> Route:
    return Route(method, re.compile(pattern + r"\Z"), handler)


class Sandbox:
    """Everything a handler needs: keys, the store, the dispatcher, the base URL and the tunables."""

    def __init__(
        self,
        *,
        keys: GatewayKeys,
        store: Store,
        time_scale: float,
        share_max_bp: int = 3000,
        base_url: str = "",
    ) -> None:
        self.keys = keys
        self.store = store
        self.dispatcher = Dispatcher(time_scale=time_scale)
        self.time_scale = time_scale
        self.share_max_bp = share_max_bp
        self.base_url = base_url.rstrip("/")
        self.routes: list[Route] = []

    def add_routes(self, routes: Iterable[Route]) -> None:
        self.routes.extend(routes)

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for candidate in self.routes:
            match = candidate.pattern.match(request.path)
            if match is None:
                continue
            allowed = True
            if candidate.method not in (request.method, "*"):
                continue
            bound = Request(
                request.method,
                request.raw_path,
                request.path,
                request.query,
                request.headers,
                request.body,
                match.groupdict(),
            )
            return candidate.handler(self, bound)
        if allowed:
            return Response.json(405, {"code": "METHOD_NOT_ALLOWED", "message": "method not allowed"})
        return Response.json(404, {"code": "NOT_FOUND", "message": "no such API in the sandbox"})


def _make_handler(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class SandboxHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "GalleriaPaymentsSandbox/1"

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
                query=dict(parse_qsl(split.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            try:
                response = sandbox.dispatch(request)
            except Exception:
                log.exception("sandbox handler failed for %s %s", self.command, self.path)
                response = Response.json(500, {"code": "SYSTEM_ERROR", "message": "sandbox error"})
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.body or response.status not in (204, 302):
                self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_HEAD = _serve

    return SandboxHandler


def build(
    *,
    keys_path: Path,
    state_path: Path | None,
    time_scale: float,
    share_max_bp: int,
    host: str,
    port: int,
    base_url: str = "",
) -> tuple[ThreadingHTTPServer, Sandbox]:
    from . import alipay_api, control, keys, pages, wechat_api, wechat_mall, wechat_oauth

    sandbox = Sandbox(
        keys=GatewayKeys.from_raw(keys.load(keys_path)),
        store=Store(state_path),
        time_scale=time_scale,
        share_max_bp=share_max_bp,
    )
    server = ThreadingHTTPServer((host, port), _make_handler(sandbox))
    server.daemon_threads = True
    sandbox.base_url = (base_url or f"http://{host}:{server.server_address[1]}").rstrip("/")
    for module in (wechat_api, wechat_mall, wechat_oauth, alipay_api, pages, control):
        sandbox.add_routes(module.ROUTES)
    return server, sandbox
