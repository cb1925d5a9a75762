"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291) on `pywebpush` + `py-vapid`.

`push_send` encrypts the payload to the subscription's keys, signs a VAPID JWT (ES256; `aud` = the push service's
origin, `exp` 12 h ahead, `sub` = the installation's contact) and POSTs it to the subscription's endpoint — the
browser vendor's push service, or the local sandbox in the demo and the tests; nothing else differs. Answers:
201/202 accepted; 404/410 the subscription is gone (delete it); 429 and 5xx retry later (honouring Retry-After);
anything else (400 bad request, 401/403 VAPID refused, 413 payload too large) is final. Plain Python: no Django.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

# pywebpush (which brings aiohttp, ≈ 0.2 s) and py-vapid are imported where they are used: every process that imports
# messaging's services need not pay for them, only the ones that send.

MAX_PAYLOAD = 3800  # of the 4096 bytes a push message may carry, after the aes128gcm header and padding


@dataclass(frozen=True)
class PushTarget:
    endpoint: str
    p256dh: str
    auth: str


class PushError(Exception):
    """`gone`: the subscription no longer exists (404/410). `retryable`: worth another attempt (429, 5xx, network),
    after `retry_after_s` when the push service said so."""

    def __init__(
        self, code: str, detail: str = "", *, retryable: bool, gone: bool = False, retry_after: str | None = None
    ) -> None:
        super().__init__(f"{code}: {detail}"[:300])
        self.code = code[:80]
        self.retryable = retryable
        self.gone = gone
        self.retry_after = retry_after


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def p256_point_ok(value: str) -> bool:
    """Whether a base64url string is an uncompressed P-256 public key (a subscription's p256dh)."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except (ValueError, TypeError):
        return False
    return len(raw) == 65


def vapid_generate() -> tuple[str, str]:
    """A new VAPID key pair: (private key PEM, public key as the browser's applicationServerKey — base64url of the
    uncompressed P-256 point)."""
    from py_vapid import Vapid02

    vapid = Vapid02()
    vapid.generate_keys()
    return vapid.private_pem().decode(), vapid_public_key(vapid.private_pem().decode())


def vapid_public_key(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    raw = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(raw)


def push_send(
    *,
    target: PushTarget,
    payload: dict[str, Any],
    private_pem: str,
    subject: str,
    ttl_s: int = 86400,
    timeout_s: float = 10.0,
    session: requests.Session | None = None,
) -> int:
    """Encrypt and deliver one message; returns the push service's status (201/202). Raises PushError."""
    from py_vapid import Vapid02
    from pywebpush import WebPushException, webpush

    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    if len(data.encode()) > MAX_PAYLOAD:
        raise PushError("payload_too_large", f"{len(data.encode())} bytes", retryable=False)
    try:
        response = webpush(
            subscription_info={"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
            data=data,
            vapid_private_key=Vapid02.from_pem(private_pem.encode()),
            vapid_claims={"sub": subject},
            content_encoding="aes128gcm",
            ttl=ttl_s,
            timeout=timeout_s,
            headers={"Urgency": "normal"},
            requests_session=session,
        )
    except WebPushException as exc:
        status = exc.status_code
        if status is None:  # pywebpush's own refusal (bad keys in the subscription)
            raise PushError("invalid_subscription", exc.message, retryable=False) from exc
        retry_after = exc.response.headers.get("Retry-After") if exc.response is not None else None
        if status in (404, 410):
            raise PushError(f"http_{status}", "subscription gone", retryable=False, gone=True) from exc
        raise PushError(
            f"http_{status}", "push service refused", retryable=status == 429 or status >= 500, retry_after=retry_after
        ) from exc
    except requests.RequestException as exc:
        raise PushError("network", type(exc).__name__, retryable=True) from exc
    except (ValueError, TypeError) as exc:  # keys that are not valid base64url / not a P-256 point
        raise PushError("invalid_subscription", str(exc)[:100], retryable=False) from exc
    return 0 if isinstance(response, str) else int(response.status_code)  # a str only in pywebpush's curl mode


__all__ = ["PushError", "PushTarget", "b64url", "p256_point_ok", "push_send", "vapid_generate", "vapid_public_key"]
