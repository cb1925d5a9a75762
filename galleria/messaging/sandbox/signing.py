"""Request signatures as the providers check them.

Aliyun, ACS3-HMAC-SHA256 (the V3 signature alibabacloud-tea-openapi sends by default):
    Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2;…>,Signature=<hex>
    CanonicalRequest = METHOD \n URI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HexSHA256(body)
    (query keys sorted, values percent-encoded with only `~` kept; headers `name:value\n`, lower-case names, sorted;
    x-acs-content-sha256 must equal the body's hash), StringToSign = "ACS3-HMAC-SHA256\n" + HexSHA256(CanonicalRequest),
    Signature = Hex(HMAC-SHA256(AccessKeySecret, StringToSign)).

Tencent Cloud, TC3-HMAC-SHA256:
    Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<Date>/<service>/tc3_request, SignedHeaders=content-type;host,
    Signature=<hex>
    CanonicalRequest = METHOD \n / \n query \n CanonicalHeaders \n SignedHeaders \n HexSHA256(body),
    StringToSign = "TC3-HMAC-SHA256\n<X-TC-Timestamp>\n<Date>/<service>/tc3_request\n" + HexSHA256(CanonicalRequest),
    key = HMAC(HMAC(HMAC("TC3" + SecretKey, Date), service), "tc3_request"),
    Signature = Hex(HMAC-SHA256(key, StringToSign)).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import quote

ACS3 = "ACS3-HMAC-SHA256"
TC3 = "TC3-HMAC-SHA256"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Authorization:
    algorithm: str
    credential: str
    signed_headers: list[str]
    signature: str


_ACS3_RE = re.compile(r"^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$")
_TC3_RE = re.compile(r"^TC3-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)$")


def parse_authorization(value: str) -> Authorization | None:
    for algorithm, pattern in ((ACS3, _ACS3_RE), (TC3, _TC3_RE)):
        match = pattern.match(value.strip())
        if match:
            return Authorization(algorithm, match.group(1), match.group(2).split(";"), match.group(3))
    return None


def acs3_canonical_query(pairs: list[tuple[str, str]]) -> str:
    items = sorted(pairs)
    return "&".join(f"{k}={quote(v, safe='~', encoding='utf-8')}" for k, v in items)


def acs3_signature(
    *,
    secret: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    signed_headers: list[str],
    payload_hash: str,
) -> str:
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in sorted(signed_headers))
    canonical = "\n".join(
        [
            method,
            path or "/",
            acs3_canonical_query(query),
            canonical_headers,
            ";".join(sorted(signed_headers)),
            payload_hash,
        ]
    )
    to_sign = f"{ACS3}\n{sha256_hex(canonical.encode('utf-8'))}"
    return hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def tc3_signature(
    *,
    secret_key: str,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    signed_headers: list[str],
    body: bytes,
    timestamp: str,
    date: str,
    service: str,
) -> str:
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed_headers)
    canonical = "\n".join([method, path or "/", query, canonical_headers, ";".join(signed_headers), sha256_hex(body)])
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"{TC3}\n{timestamp}\n{scope}\n{sha256_hex(canonical.encode('utf-8'))}"

    def _hmac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()

    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
