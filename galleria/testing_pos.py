"""A signing POS client for tests and benchmarks: what an integrator's code does (see docs/api.md)."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from typing import Any

from galleria.merchants.rules import sign


class PosSigner:
    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id = key_id
        self.secret = secret

    def headers(
        self,
        method: str,
        path: str,
        body: bytes,
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(12)
        headers = {
            "X-Galleria-Key": self.key_id,
            "X-Galleria-Timestamp": ts,
            "X-Galleria-Nonce": nonce,
            "X-Galleria-Signature": sign(
                secret=self.secret, method=method, path=path, timestamp=ts, nonce=nonce, body=body
            ),
        }
        if method.upper() == "POST":
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        return headers


class PosTestClient:
    """Wraps Django's test client: signs every request."""

    def __init__(self, client: Any, signer: PosSigner) -> None:
        self.client = client
        self.signer = signer

    def get(self, path: str, **kw: Any) -> Any:
        headers = self.signer.headers("GET", path, b"", **kw)
        return self.client.get(path, headers=headers)

    def post(self, path: str, payload: Any, *, raw: bytes | None = None, **kw: Any) -> Any:
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = self.signer.headers("POST", path, body, **kw)
        return self.client.generic("POST", path, body, content_type="application/json", headers=headers)
