"""POS request signing (pure). See docs/api.md for the integrator's side.

string_to_sign = METHOD + "\n" + PATH_WITH_QUERY + "\n" + TIMESTAMP + "\n" + NONCE + "\n" + hex(sha256(BODY))
signature      = hex(HMAC-SHA256(secret, string_to_sign))
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MAX_SKEW_SECONDS = 300


def derive_secret(*, master: str, key_id: str, salt: str) -> str:
    digest = hmac.new(master.encode(), f"pos-key:{key_id}:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def string_to_sign(*, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])


def sign(*, secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method=method, path=path, timestamp=timestamp, nonce=nonce, body=body)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signature_valid(
    *, secret: str, signature: str, method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> bool:
    expected = sign(secret=secret, method=method, path=path, timestamp=timestamp, nonce=nonce, body=body)
    return hmac.compare_digest(expected, signature.lower())


def timestamp_fresh(*, timestamp: str, now: float, max_skew: int = MAX_SKEW_SECONDS) -> bool:
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(int(timestamp) - now) <= max_skew
