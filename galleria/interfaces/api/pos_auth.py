"""POS terminal authentication: every request signed with HMAC-SHA256 (see docs/api.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja.security import APIKeyHeader

from galleria.core.errors import ApplicationError
from galleria.core.idempotency import Gate
from galleria.merchants import rules as signing
from galleria.merchants.models import Merchant, PosKey, PosTerminal, Store
from galleria.merchants.selectors import pos_key_active, pos_key_cached, pos_key_sync_token
from galleria.merchants.services import (
    pos_gate_claim,
    pos_key_secret,
    pos_key_touch,
    pos_nonce_claim,
    pos_nonce_use,
)

from .problems import problem


class SignatureError(ApplicationError):
    status = 401
    code = "auth.signature_invalid"


def nonce_reused() -> SignatureError:
    return SignatureError(_("This nonce was already used (replayed request)."), code="auth.nonce_reused")


def key_unknown() -> SignatureError:
    return SignatureError(_("Unknown or revoked API key."), code="auth.key_unknown")


def nonce_gate(request: HttpRequest) -> Gate | None:
    """The request's pending nonce claim (signed POS writes), for `run_idempotent(gate=…)`."""
    return getattr(request, "galleria_nonce_gate", None)


class PosNonceMiddleware:
    """The safety net of the deferred nonce: a signed POS write whose view did not claim its nonce (it failed before
    `run_idempotent`, or the operation takes no idempotency record) has it claimed here, after the view; if another
    request had already used it, the answer becomes the replay refusal. Such views only read (the quote) or wrote
    nothing, so a replay is refused before anything it did can count."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        gate = nonce_gate(request)
        if gate is not None and not gate.done and not gate.take():
            from .api import api

            exc = gate.refused()
            assert isinstance(exc, SignatureError)
            return problem(request, api, status=exc.status, code=exc.code, title=str(exc.message))
        return response


def _wsgi_bytes(value: str) -> bytes:
    """A WSGI environ string as the bytes the client sent (PEP 3333: latin-1 code points for bytes)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # not from a WSGI server (a test passing text): its UTF-8
        return value.encode()


def _origin_form(target: bytes) -> bytes:
    """The path and query of a request target sent in absolute form (http://host/path?q), as a proxy may."""
    scheme, sep, rest = target.partition(b"://")
    if sep and scheme.lower() in (b"http", b"https"):
        slash = rest.find(b"/")
        return rest[slash:] if slash >= 0 else b"/"
    return target


def request_target_as_sent(request: HttpRequest) -> bytes | None:
    """The request target exactly as the client sent it, when the server passes it on: gunicorn's RAW_URI, the
    REQUEST_URI of uWSGI / mod_wsgi, an ASGI server's raw_path and query_string. None otherwise (Django's
    runserver)."""
    environ = getattr(request, "environ", None) or {}
    for name in ("RAW_URI", "REQUEST_URI"):
        value = environ.get(name)
        if isinstance(value, str) and value:
            return _origin_form(_wsgi_bytes(value).split(b"#", 1)[0])
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and isinstance(scope.get("raw_path"), bytes):
        query = scope.get("query_string") or b""
        return scope["raw_path"] + (b"?" + query if query else b"")
    return None


def signed_targets(request: HttpRequest) -> list[bytes]:
    """The forms of the request target a POS may have signed: as sent (when known) and canonical (rules). The
    canonical form is computed from the path Django decoded (as UTF-8: Django has replaced the WSGI server's
    PATH_INFO with it) and the raw query string."""
    query = _wsgi_bytes(request.META.get("QUERY_STRING", ""))
    targets = [signing.canonical_target(path=request.path.encode(), query=query).encode()]
    sent = request_target_as_sent(request)
    if sent is not None and sent != targets[0]:
        targets.insert(0, sent)
    return targets


def signature_headers(request: HttpRequest, key: str) -> tuple[str, str, str]:
    """The signed request's timestamp, nonce and signature headers, checked before any database work (the key id
    printable ASCII, the three headers present, the nonce's shape, the timestamp within the skew window): the POS
    API's and the car-park API's signing rule (docs/api.md, docs/parking.md)."""
    if not key.isascii() or not key.isprintable():  # never reaches the database (NUL is a 500 there)
        raise key_unknown()
    timestamp = request.headers.get("X-Galleria-Timestamp", "")
    nonce = request.headers.get("X-Galleria-Nonce", "")
    signature = request.headers.get("X-Galleria-Signature", "")
    if not (timestamp and nonce and signature):
        raise SignatureError(
            _("X-Galleria-Timestamp, X-Galleria-Nonce and X-Galleria-Signature are required."),
            code="auth.signature_missing",
        )
    if not (8 <= len(nonce) <= 64) or not nonce.isascii() or not nonce.isprintable():
        raise SignatureError(_("The nonce must be 8–64 printable ASCII characters."), code="auth.nonce_invalid")
    if not signing.timestamp_fresh(timestamp=timestamp, now=time.time()):
        raise SignatureError(
            _("The request timestamp is more than 5 minutes off the server clock."),
            code="auth.timestamp_skew",
            extra={"server_time": int(time.time())},
        )
    return timestamp, nonce, signature


@dataclass(frozen=True)
class PosContext:
    key: PosKey
    terminal: PosTerminal
    store: Store
    merchant: Merchant
    mall_group_id: int

    @property
    def scope(self) -> str:
        return f"pos:{self.terminal.pk}"


class PosSignature(APIKeyHeader):
    param_name = "X-Galleria-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> PosContext | None:
        if not key:
            return None
        timestamp, nonce, signature = signature_headers(request, key)
        write = request.method == "POST" and bool(request.headers.get("Idempotency-Key"))
        # A signed write on PostgreSQL whose key this process has loaded before checks the key in its gate
        # statement (one round trip fewer); anything else checks it here, first.
        fused = write and connection.vendor == "postgresql"
        pos_key = pos_key_cached(key_id=key) if fused else None
        if pos_key is None:
            fused = False
            pos_key = pos_key_active(key_id=key)
        if pos_key is None:
            raise key_unknown()
        if not signing.signature_valid(
            secret=pos_key_secret(pos_key),
            signature=signature,
            method=request.method or "",
            paths=signed_targets(request),
            timestamp=timestamp,
            nonce=nonce,
            body=request.body,
        ):
            raise SignatureError(_("The signature does not match the request."))
        if fused:
            # The gate claims the nonce only while the key is usable and returns the group's current config token,
            # which the use case then runs on. Refused: tell a revoked key from a replay with one more read (only
            # on that path); claimed on its own (a failed call), it checks the key first too.
            request.galleria_nonce_gate = _fused_gate(pos_key, nonce)  # type: ignore[attr-defined]
        elif write:
            # A write: the nonce is claimed with the idempotency record, in the use case's own transaction (one
            # commit per sale, not two). PosNonceMiddleware claims it after the view if nothing did.
            request.galleria_nonce_gate = Gate(  # type: ignore[attr-defined]
                claim=pos_nonce_claim(key=pos_key, nonce=nonce),
                refused=nonce_reused,
                claim_alone=lambda: pos_nonce_use(key=pos_key, nonce=nonce),
            )
        elif not pos_nonce_use(key=pos_key, nonce=nonce):
            raise nonce_reused()
        pos_key_touch(key=pos_key)
        terminal = pos_key.terminal
        store = terminal.store
        return PosContext(
            key=pos_key,
            terminal=terminal,
            store=store,
            merchant=store.merchant,
            mall_group_id=store.merchant.mall.group_id,
        )


def _fused_gate(pos_key: PosKey, nonce: str) -> Gate:
    key_id = pos_key.key_id

    def refused() -> Exception:
        return nonce_reused() if pos_key_active(key_id=key_id) is not None else key_unknown()

    def claim_alone() -> bool:
        return pos_key_active(key_id=key_id) is not None and pos_nonce_use(key=pos_key, nonce=nonce)

    return Gate(
        claim=pos_gate_claim(key=pos_key, nonce=nonce),
        refused=refused,
        claim_alone=claim_alone,
        claimed=lambda token: pos_key_sync_token(key=pos_key, token=str(token)),
    )


pos_auth = PosSignature()
