"""Property-based fuzzing of every API operation with schemathesis, from the project's own OpenAPI document.

Each operation gets a bounded, derandomized run of generated requests (valid and invalid: schemathesis' positive
and negative modes), sent through Django's test client as the caller the operation is for:

- `/pos/…` by a signed terminal of 喜茶: every request signed afresh (timestamp, nonce, body hash) over the request
  target exactly as an HTTP client (requests) sends it — generated path parameters full of `=`, `;`, `[ ]`, `~`,
  non-ASCII — and every POST with a new `Idempotency-Key`, exactly as docs/api.md tells integrators;
- `/app/…` with a fresh member session (so `POST /app/logout` cannot starve later examples);
- `/console/…` as the group admin, `/merchant/…` as 喜茶's clerk (staff sessions).

Every response must pass: no 5xx; a status code the operation documents; the documented content type (problem
responses are `application/problem+json`); a body that validates against the documented schema; documented headers.
A failure prints the request to reproduce it. Runs against PostgreSQL in CI like the rest of the suite.
"""

from __future__ import annotations

import http.client
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from galleria.interfaces.api.api import api

from .evidence_world import EvidenceWorld, fast_client, member_session, module_world

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())


@pytest.fixture(scope="module")
def ew(django_db_setup: Any, django_db_blocker: Any) -> Iterator[EvidenceWorld]:
    with django_db_blocker.unblock(), module_world() as world:
        yield world


def _raw_path(case: Any) -> str:
    """The operation's path with its parameters put in as they are (an HTTP library escapes them)."""
    path = str(case.path)
    for name, value in (case.path_parameters or {}).items():
        path = path.replace("{" + name + "}", str(value))
    return path


def _query(case: Any) -> str:
    if not case.query:
        return ""
    pairs = []
    for name, value in case.query.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            pairs.append((name, json.dumps(v) if isinstance(v, (dict, bool)) or v is None else str(v)))
    return urlencode(pairs)


def request_target(case: Any) -> str:
    """The request target exactly as an HTTP client (requests) sends it: its own escaping of the path, not
    Django's. This is what the POS signs, as docs/api.md tells integrators."""
    query = _query(case)
    raw = _raw_path(case) + (f"?{query}" if query else "")
    return str(requests.Request("GET", "http://testserver" + raw).prepare().path_url)


def send(ew: EvidenceWorld, case: Any) -> tuple[Any, bytes, dict[str, str], str]:
    """Send a generated case as its intended caller; return the Django response, the body, headers and URL."""
    if str(case.path).startswith("/api/v1/parking/"):  # the car-park system names its own car park (a key acts
        # only on its car park: another code is a 403 that proves nothing about the handler)
        if isinstance(case.body, dict) and "car_park" in case.body:
            case.body["car_park"] = ew.terminals["car-park"].terminal.code
        if case.query and "car_park" in case.query:
            case.query["car_park"] = ew.terminals["car-park"].terminal.code
    url = request_target(case)
    path = url.partition("?")[0]
    method = case.method.upper()
    has_body = case.body is not None and type(case.body).__name__ != "NotSet"
    if not has_body:
        body = b""
    elif isinstance(case.body, bytes):  # negative mode: raw payloads that are not JSON at all
        body = case.body
    else:
        body = json.dumps(case.body).encode()
    headers = {str(k): str(v) for k, v in (case.headers or {}).items() if k.lower() != "content-type"}
    session = None
    if path.startswith("/api/v1/pos/"):
        terminal = ew.terminals["pos-heytea"]
        headers.update(terminal.signer.headers(method, url, body, timestamp=int(time.time())))
    elif path.startswith("/api/v1/parking/"):  # the car-park system, signed with its car park's key (docs/parking.md)
        signer = ew.terminals["car-park"].signer
        headers.update(signer.headers(method, url, body, timestamp=int(time.time())))
    elif path.startswith("/api/v1/app/"):
        session = member_session(ew.member)
        if method == "POST":
            headers.setdefault("Idempotency-Key", uuid.uuid4().hex)
    elif path.startswith("/api/v1/console/"):
        session = ew.sessions["admin"]
    elif path.startswith("/api/v1/merchant/"):
        session = ew.sessions["heytea-clerk"]
    client = fast_client(session_key=session)
    # RAW_URI: the target as sent, which gunicorn (production) hands to Django and the test client does not;
    # the signature is checked against it (tests/test_signing_wire.py sends real requests to gunicorn)
    resp = client.generic(method, url, body, content_type="application/json", headers=headers, RAW_URI=url)
    return resp, body, headers, url


def as_schemathesis_response(resp: Any, method: str, url: str, headers: dict[str, str], body: bytes) -> Response:
    request = requests.Request(method=method, url="http://testserver" + url, headers=headers, data=body).prepare()
    return Response(
        status_code=resp.status_code,
        headers={name.lower(): [value] for name, value in resp.headers.items()},
        content=resp.content,
        request=request,
        elapsed=0.0,
        verify=False,
        message=http.client.responses.get(resp.status_code, "Unknown"),
        encoding="utf-8",
    )


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api(case: Any, ew: EvidenceWorld) -> None:
    resp, body, headers, url = send(ew, case)
    # every request is made as a caller the operation accepts: a 401/403 would mean the fuzzing never got past
    # authentication (a bad signature, an expired session) and proved nothing about the handler
    assert resp.status_code not in (401, 403), resp.content
    response = as_schemathesis_response(resp, case.method.upper(), url, headers, body)
    case.validate_response(response, checks=CHECKS)
