"""A Web Push service (RFC 8030) as the sandbox speaks it, standing in for the browser vendors' push services.

    POST /push/subscribe            {"application_server_key": "<base64url P-256 point>"} — what a browser does in
                                    pushManager.subscribe(): a P-256 key pair and a 16-byte auth secret are
                                    generated, the answer is PushSubscription.toJSON(): {endpoint, expirationTime,
                                    keys: {p256dh, auth}}
    POST /push/send/<id>            a push message: checked and decrypted like a push service and a browser would

A push message must carry `TTL` (else 400), `Content-Encoding: aes128gcm` (else 415) and
`Authorization: vapid t=<JWT>, k=<public key>` (RFC 8292): the JWT must be ES256, signed by the key `k`, `aud` the
push service's origin, `exp` in the future and at most 24 h ahead, `sub` a mailto: or https: contact (else 401);
`k` must be the applicationServerKey the subscription was made with (else 403). The body is decrypted with the
subscription's private key and auth secret (RFC 8291; else 400) and shown on the outbox page. Unknown subscription:
404; one a test marked gone (`POST /sandbox/control/push-gone {"endpoint"}`): 410. Faults (`{"provider": "push",
"mode": "throttle"|"unavailable"}`): 429 with `Retry-After: 1`, 503. Accepted: 201 with a `Location`.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .common import Request, Response

if TYPE_CHECKING:
    from .server import Sandbox

MAX_EXP_AHEAD_S = 24 * 3600


def b64d(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Subscription:
    id: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    server_key: str  # the applicationServerKey it was made with ("" = any)
    gone: bool = False


@dataclass
class Delivered:
    subscription: str
    payload: str
    ttl: str
    urgency: str
    accepted_at: float

    def as_json(self) -> dict[str, Any]:
        return {
            "subscription": self.subscription,
            "payload": self.payload,
            "ttl": self.ttl,
            "urgency": self.urgency,
            "accepted_at": self.accepted_at,
        }


@dataclass
class PushState:
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    delivered: list[Delivered] = field(default_factory=list)


def subscribe(sandbox: Sandbox, request: Request) -> Response:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return Response.json(400, {"error": "JSON body expected"})
    server_key = str(data.get("application_server_key") or "") if isinstance(data, dict) else ""
    if server_key:
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(server_key))
        except (ValueError, TypeError):
            return Response.json(400, {"error": "applicationServerKey is not a P-256 public key"})
    key = ec.generate_private_key(ec.SECP256R1())
    sub = Subscription(
        id=secrets.token_urlsafe(24), private_key=key, auth=secrets.token_bytes(16), server_key=server_key
    )
    with sandbox.store.lock:
        sandbox.push.subscriptions[sub.id] = sub
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return Response.json(
        201,
        {
            "endpoint": f"{sandbox.base_url}/push/send/{sub.id}",
            "expirationTime": None,
            "keys": {"p256dh": b64e(public), "auth": b64e(sub.auth)},
        },
    )


def _vapid_problem(sandbox: Sandbox, header: str) -> tuple[str, str]:
    """("", k) when the Authorization header is a valid VAPID token for this push service, else (why, k)."""
    if not header.lower().startswith("vapid "):
        return "not a vapid authorization", ""
    parts = {}
    for item in header[6:].split(","):
        name, _, value = item.strip().partition("=")
        parts[name.strip().lower()] = value.strip()
    token, k = parts.get("t", ""), parts.get("k", "")
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(k))
        head_b64, claims_b64, sig_b64 = token.split(".")
        head = json.loads(b64d(head_b64))
        claims = json.loads(b64d(claims_b64))
        sig = b64d(sig_b64)
    except (ValueError, TypeError):
        return "malformed token or key", k
    if head.get("alg") != "ES256" or len(sig) != 64:
        return "not ES256", k
    try:
        public.verify(
            encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
            f"{head_b64}.{claims_b64}".encode(),
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature:
        return "bad signature", k
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(sandbox.base_url))
    if claims.get("aud") != origin:
        return f"aud is not {origin}", k
    now = sandbox.store.now()
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now or exp > now + MAX_EXP_AHEAD_S:
        return "exp outside (now, now + 24 h]", k
    sub = str(claims.get("sub") or "")
    if not sub.startswith(("mailto:", "https:")):
        return "sub is not a mailto: or https: contact", k
    return "", k


def send(sandbox: Sandbox, request: Request, sub_id: str) -> Response:
    verdict = "refused"
    try:
        with sandbox.store.lock:
            sub = sandbox.push.subscriptions.get(sub_id)
        if sub is None:
            return Response.json(404, {"errno": 102, "error": "Not Found"})
        if sub.gone:
            return Response.json(410, {"errno": 106, "error": "Gone", "message": "subscription expired"})
        fault = sandbox.store.take_fault("push")
        if fault is not None and fault.mode in ("throttle", "unavailable"):
            verdict = f"fault: {fault.mode}"
            status = 429 if fault.mode == "throttle" else 503
            response = Response.json(status, {"error": "Too Many Requests" if status == 429 else "Unavailable"})
            response.headers["Retry-After"] = "1"
            return response
        if "ttl" not in request.headers:
            return Response.json(400, {"errno": 111, "error": "Missing TTL header"})
        problem, k = _vapid_problem(sandbox, request.headers.get("authorization", ""))
        verdict = problem or verdict
        if problem:
            return Response.json(401, {"errno": 109, "error": "Unauthorized", "message": problem})
        if sub.server_key and k != sub.server_key:
            verdict = "key is not the subscription's applicationServerKey"
            return Response.json(403, {"errno": 109, "error": "Forbidden", "message": verdict})
        if request.headers.get("content-encoding", "").lower() != "aes128gcm":
            return Response.json(415, {"errno": 110, "error": "Unsupported Media Type"})
        try:
            plain = http_ece.decrypt(
                request.body, private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm"
            )
        except Exception:  # any failure of the RFC 8291 decryption
            verdict = "payload does not decrypt"
            return Response.json(400, {"errno": 110, "error": "Bad Request", "message": verdict})
        with sandbox.store.lock:
            sandbox.push.delivered.append(
                Delivered(
                    subscription=sub_id,
                    payload=plain.decode("utf-8", "replace"),
                    ttl=request.headers.get("ttl", ""),
                    urgency=request.headers.get("urgency", ""),
                    accepted_at=time.time(),
                )
            )
        verdict = "accepted"
        response = Response(201, b"", "text/plain")
        response.headers["Location"] = f"{sandbox.base_url}/push/message/{secrets.token_urlsafe(12)}"
        return response
    finally:
        sandbox.store.log_request(
            {"provider": "push", "action": f"send {sub_id[:8]}…", "verdict": verdict, "authorization": ""}
        )


def control(sandbox: Sandbox, name: str, data: dict[str, Any]) -> Response | None:
    if name == "push-gone":
        sub_id = str(data.get("endpoint") or "").rstrip("/").rsplit("/", 1)[-1]
        with sandbox.store.lock:
            sub = sandbox.push.subscriptions.get(sub_id)
            if sub is None:
                return Response.json(404, {"error": "no such subscription"})
            sub.gone = True
        return Response.json(200, {"ok": True})
    return None
