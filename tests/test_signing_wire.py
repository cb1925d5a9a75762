"""Signed POS requests over a real socket, as integrators send them: requests, httpx and curl against gunicorn (the
server production runs) and against Django's runserver (pytest-django's live_server).

The bug this pins: the server checked a signature against Django's re-encoding of the path, not the request target as
sent, so a client that signed exactly what it sent (as docs/api.md says) got 401 for `%7E`, lower-case escapes,
unescaped `;`, `=`, `[ ]` — and a sale whose receipt number holds `=` could never be read or refunded with requests.

Each client signs the target *it* sends (requests: the prepared request's `path_url`; httpx: `url.raw_path`; curl:
the URL as given, with globbing off), or the canonical form (merchants/rules.py), which any of them may use.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from django.db import connection

from galleria.audit.types import Actor
from galleria.members import services as member_services
from galleria.merchants.models import PosTerminal
from galleria.merchants.rules import canonical_target_of
from galleria.merchants.services import pos_key_create
from galleria.sales import services as sale_services
from galleria.sales.tests.helpers import sale_in
from galleria.testing_pos import PosSigner

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent
ACTOR = Actor.system()

# receipt numbers, and how a client writes each into the URL
RECEIPTS = {
    "A=1": ["A=1", "A%3D1"],
    "B;1": ["B;1", "B%3b1"],
    "C[1]": ["C[1]", "C%5B1%5D"],
    "D~1": ["D~1", "D%7E1", "D%7e1"],
    "Eü1": ["Eü1", "E%C3%BC1", "E%c3%bc1"],
    "F 1": ["F%201"],
    "G+1": ["G+1", "G%2B1"],
    "H:@!$'()*,1": ["H:@!$'()*,1"],
}


@dataclass
class Server:
    url: str
    signer: PosSigner
    member_phone: str


@dataclass
class Sent:
    status: int
    body: Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url(tmp: Path) -> str:
    """A database the server process can open: the test's own on PostgreSQL; on SQLite (in memory, not shareable
    with another process) a file copy of it, made after the test data was committed."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user = settings.get("USER") or "postgres"
        password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
        host, port = settings.get("HOST") or "127.0.0.1", settings.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"
    path = tmp / "wire.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return f"sqlite:///{path}"


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start: {log.read_text()[-3000:]}")


def _world(world: Any) -> tuple[PosSigner, str]:
    terminal = PosTerminal.objects.create(store=world.store, name="wire")
    key, secret = pos_key_create(actor=ACTOR, terminal_id=terminal.pk)
    member = member_services.member_register(mall=world.mall, phone="13812345678", channel="desk", actor=ACTOR)
    for receipt in RECEIPTS:
        sale_services.sale_commit(data=sale_in(world, member_id=member.pk, pos_id=receipt), actor=ACTOR)
    return PosSigner(key.key_id, secret), "13812345678"


@pytest.fixture
def gunicorn(world: Any) -> Iterator[Server]:
    signer, phone = _world(world)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        port = _free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(tmp),
        }
        log = tmp / "gunicorn.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_for(port, process, log)
            yield Server(f"http://127.0.0.1:{port}", signer, phone)
        finally:
            process.terminate()
            process.wait(timeout=30)
            print(log.read_text()[-6000:])  # the server's log (its tracebacks): pytest shows it when a test fails


@pytest.fixture
def runserver(world: Any, live_server: Any) -> Server:
    signer, phone = _world(world)
    return Server(live_server.url, signer, phone)


# ---------------------------------------------------------------- the three clients: each signs what it sends

Sign = Callable[[str], str]  # the target a client sends → the target it signs
AS_SENT: Sign = lambda target: target  # noqa: E731
CANONICAL: Sign = canonical_target_of


def with_requests(server: Server, method: str, target: str, body: bytes, sign: Sign) -> Sent:
    prepared = requests.Request(method, server.url + target, data=body or None).prepare()
    signed = sign(prepared.path_url)  # what requests sends (it re-escapes some characters itself)
    prepared.headers.update(server.signer.headers(method, signed, body))
    prepared.headers["Content-Type"] = "application/json"
    with requests.Session() as session:
        resp = session.send(prepared, timeout=30)
    return Sent(resp.status_code, resp.json())


def with_httpx(server: Server, method: str, target: str, body: bytes, sign: Sign) -> Sent:
    with httpx.Client(timeout=30) as client:
        request = client.build_request(method, server.url + target, content=body)
        signed = sign(request.url.raw_path.decode("ascii"))  # what httpx sends
        request.headers.update(server.signer.headers(method, signed, body))
        request.headers["Content-Type"] = "application/json"
        resp = client.send(request)
    return Sent(resp.status_code, resp.json())


def with_curl(server: Server, method: str, target: str, body: bytes, sign: Sign) -> Sent:
    # curl sends an ASCII target as written (-g: no globbing of [ ]); it escapes non-ASCII itself, in lower case
    sent = "".join(c if c.isascii() else "".join(f"%{b:02x}" for b in c.encode()) for c in target)
    headers = server.signer.headers(method, sign(sent), body)
    args = ["curl", "-sS", "-g", "-X", method, server.url + target, "-w", "\n%{http_code}"]
    args += ["-H", "Content-Type: application/json"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    if body:
        args += ["--data-binary", "@-"]
    out = subprocess.run(args, input=body, capture_output=True, timeout=30, check=True).stdout
    content, _, status = out.rpartition(b"\n")
    return Sent(int(status), json.loads(content))


CLIENTS = {"requests": with_requests, "httpx": with_httpx, "curl": with_curl}


def _cases() -> list[tuple[str, str]]:
    return [(receipt, written) for receipt, ways in RECEIPTS.items() for written in ways]


# One server start per client (a start costs seconds): each test runs every check for its client.


@pytest.mark.parametrize("client", CLIENTS)
def test_gunicorn_verifies_what_each_client_sends(gunicorn: Server, client: str) -> None:
    send = CLIENTS[client]
    failures = []
    # paths with = ; [ ] ~ %7E %7e, upper- and lower-case escapes, non-ASCII, a space, a plus, sub-delimiters
    for receipt, written in _cases():
        for sign_name, sign in (("as sent", AS_SENT), ("canonical", CANONICAL)):
            got = send(gunicorn, "GET", f"/api/v1/pos/sales/{written}", b"", sign)
            if got.status != 200 or got.body.get("pos_sale_id") != receipt:
                failures.append((written, sign_name, got.status, got.body))
    # query strings
    phone = gunicorn.member_phone
    for query in (
        f"member={phone}&limit=50",
        f"limit=50&member={phone}&note=a+b%7e",
        f"member=%2B86{phone}&x=[1]&y=%c3%bc&z=;",
    ):
        for sign_name, sign in (("as sent", AS_SENT), ("canonical", CANONICAL)):
            got = send(gunicorn, "GET", f"/api/v1/pos/sales?{query}", b"", sign)
            if got.status != 200 or {s["pos_sale_id"] for s in got.body} != set(RECEIPTS):
                failures.append((query, sign_name, got.status, got.body))
    assert not failures, failures


@pytest.mark.parametrize("client", CLIENTS)
def test_gunicorn_refunds_a_sale_whose_receipt_holds_an_equals_sign(gunicorn: Server, client: str) -> None:
    send = CLIENTS[client]
    body = f'{{"pos_refund_id": "R-{client}", "lines": null}}'.encode()
    got = send(gunicorn, "POST", "/api/v1/pos/sales/A=1/refunds", body, AS_SENT)
    assert got.status == 201 and got.body["pos_sale_id"] == "A=1", got.body
    got = send(gunicorn, "GET", "/api/v1/pos/sales/A=1", b"", AS_SENT)
    assert got.status == 200 and got.body["status"] == "refunded", got.body
    # both forms bind the path and the query the server acts on: a signature over another target fails
    for sent, signed in (
        ("/api/v1/pos/sales/A=1", "/api/v1/pos/sales/A=2"),
        ("/api/v1/pos/sales/A%3D1", "/api/v1/pos/sales/A%3D1?x=1"),
        ("/api/v1/pos/sales/G+1", "/api/v1/pos/sales/G%201"),  # a + in a path is a plus, not a space
        ("/api/v1/pos/sales?member=13812345678&limit=1", "/api/v1/pos/sales?member=13812345678&limit=2"),
    ):
        got = send(gunicorn, "GET", sent, b"", _signing(signed))
        assert got.status == 401 and got.body["code"] == "auth.signature_invalid", (sent, got.body)


def _signing(target: str) -> Sign:
    """A client that signs `target` whatever it sends."""
    return lambda _sent: target


def test_runserver_accepts_the_canonical_form_from_every_client(runserver: Server) -> None:
    """Django's runserver does not pass the target as sent: the canonical form is what a client signs there."""
    failures = []
    for client, send in CLIENTS.items():
        for receipt, written in _cases():
            got = send(runserver, "GET", f"/api/v1/pos/sales/{written}", b"", CANONICAL)
            if got.status != 200 or got.body.get("pos_sale_id") != receipt:
                failures.append((client, written, got.status, got.body))
    assert not failures, failures
