"""POS request signing (pure). See docs/api.md for the integrator's side.

string_to_sign = METHOD + "\n" + TARGET + "\n" + TIMESTAMP + "\n" + NONCE + "\n" + hex(sha256(BODY))
signature      = hex(HMAC-SHA256(secret, string_to_sign))

TARGET is the request target (path and query) — either exactly as the client sent it, byte for byte, or its
canonical form (`canonical_target`), which does not depend on how an HTTP library escapes a path. The server
accepts a signature over either: it knows the target as sent when its HTTP server passes it on (gunicorn's
RAW_URI, uWSGI's REQUEST_URI, ASGI's raw_path), and it can always compute the canonical form of what it decoded.
Both bind what the server acts on (the decoded path and the query), so accepting either lets nothing else through.

Canonical form (like the canonical URI of AWS Signature Version 4):
- path: percent-decode (%XX with two hex digits; any other % is a literal %), then percent-encode every byte that is
  not an ASCII letter, a digit, "-", ".", "_", "~" or "/", with upper-case hex digits (UTF-8 for non-ASCII text);
- query (the part after the first "?"; left out with the "?" when empty): split on "&", skip empty parts, split each
  at its first "=" (none: an empty value), percent-decode name and value with "+" as a space (what the server's
  query parser does), encode both as the path except that "/" is encoded too, and join them as name=value with
  "&", in the order sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import quote_from_bytes, unquote_to_bytes

MAX_SKEW_SECONDS = 300


def derive_secret(*, master: str, key_id: str, salt: str) -> str:
    digest = hmac.new(master.encode(), f"pos-key:{key_id}:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def string_to_sign(*, method: str, path: str | bytes, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The bytes signed; `path` is the request target (path and query), as sent or in its canonical form."""
    return b"\n".join(
        [
            method.upper().encode(),
            _bytes(path),
            timestamp.encode(),
            nonce.encode(),
            hashlib.sha256(body).hexdigest().encode(),
        ]
    )


def sign(*, secret: str, method: str, path: str | bytes, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method=method, path=path, timestamp=timestamp, nonce=nonce, body=body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_valid(
    *, secret: str, signature: str, method: str, paths: Iterable[str | bytes], timestamp: str, nonce: str, body: bytes
) -> bool:
    """True when `signature` signs the request with any of the forms of its target in `paths` (as sent, canonical)."""
    key = secret.encode()
    given = signature.lower()
    tail = b"\n".join([timestamp.encode(), nonce.encode(), hashlib.sha256(body).hexdigest().encode()])
    head = method.upper().encode()
    found = False
    for path in paths:  # every form is checked (no early exit): the time taken does not tell which one matched
        expected = hmac.new(key, b"\n".join([head, _bytes(path), tail]), hashlib.sha256).hexdigest()
        found |= hmac.compare_digest(expected, given)
    return found


def timestamp_fresh(*, timestamp: str, now: float, max_skew: int = MAX_SKEW_SECONDS) -> bool:
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(int(timestamp) - now) <= max_skew


def canonical_target(*, path: bytes, query: bytes) -> str:
    """The canonical form of a request target from its percent-DECODED path (as a WSGI server hands it on) and
    its raw query string (see the module docstring)."""
    canonical = quote_from_bytes(path, safe="/")
    pairs = []
    for part in query.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        pairs.append(f"{_query_component(name)}={_query_component(value)}")
    return f"{canonical}?{'&'.join(pairs)}" if pairs else canonical


def canonical_target_of(target: str | bytes) -> str:
    """The canonical form of a request target as a client writes it, e.g. "/api/v1/pos/sales/A=1?x=%7e" (what a
    client signs when it cannot know how its HTTP library will escape the path)."""
    raw = _bytes(target)
    path, _, query = raw.partition(b"?")
    return canonical_target(path=unquote_to_bytes(path), query=query)


def _query_component(raw: bytes) -> str:
    return quote_from_bytes(unquote_to_bytes(raw.replace(b"+", b" ")), safe="")
