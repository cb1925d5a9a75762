"""The gateways' cryptography, as the real ones do it (see docs/design/payments-gateways.md §1–2).

WeChat Pay v3: requests carry `Authorization: WECHATPAY2-SHA256-RSA2048 …` signed by the merchant key over
`METHOD\\nPATH?QUERY\\nts\\nnonce\\nBODY\\n`; answers and notifications carry `Wechatpay-*` headers signed by the
platform key over `ts\\nnonce\\nBODY\\n`; notification resources are AES-256-GCM under the APIv3 key with a 12-ASCII
nonce. Alipay: RSA2 (SHA256withRSA) over the sorted `k=v&…` string — requests include `sign_type`, notifications
and return parameters exclude it; sync answers sign the exact inner JSON substring.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .keys import rand_ascii

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
REQUEST_WINDOW_S = 300
_AUTH = re.compile(r"^WECHATPAY2-SHA256-RSA2048 (.*)$")
_AUTH_KV = re.compile(r'(\w+)="([^"]*)"')


def rsa_sign_b64(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify_b64(key: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def oaep_decrypt(key: rsa.RSAPrivateKey, ciphertext_b64: str) -> str:
    """Sensitive fields (分账 receiver names) arrive RSA-OAEP(SHA1) encrypted with the platform public key."""
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303
    return key.decrypt(base64.b64decode(ciphertext_b64), oaep).decode()


# --- WeChat Pay v3 -------------------------------------------------------------------------------------------------


def wechat_headers(
    key: rsa.RSAPrivateKey, public_key_id: str, body: str, *, ts: int | None = None, nonce: str | None = None
) -> dict[str, str]:
    """The headers WeChat Pay puts on every 2xx answer and every notification attempt."""
    stamp = str(int(time.time()) if ts is None else ts)
    nonce = nonce or rand_ascii(32)
    return {
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": rsa_sign_b64(key, f"{stamp}\n{nonce}\n{body}\n"),
        "Wechatpay-Serial": public_key_id,
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
        "Request-ID": str(uuid.uuid4()),
    }


def wechat_resource(apiv3_key: str, plaintext: Mapping[str, Any], associated_data: str) -> dict[str, str]:
    nonce = rand_ascii(12)
    data = json.dumps(plaintext, ensure_ascii=False, separators=(",", ":")).encode()
    sealed = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), data, associated_data.encode())
    return {
        "original_type": associated_data,
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(sealed).decode(),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def wechat_check_request(
    *,
    authorization: str,
    method: str,
    path_with_query: str,
    body: str,
    mchid: str,
    serial_no: str,
    merchant_key: rsa.RSAPublicKey,
    now: float | None = None,
) -> str:
    """'' when the merchant's request signature is valid, else why not (for the 401 SIGN_ERROR message)."""
    match = _AUTH.match(authorization or "")
    if match is None:
        return "Authorization 缺失或格式错误 / missing or malformed Authorization"
    kv = dict(_AUTH_KV.findall(match.group(1)))
    if kv.get("mchid") != mchid:
        return "商户号不匹配 / mchid does not match"
    if kv.get("serial_no") != serial_no:
        return "商户证书序列号不匹配 / unknown merchant certificate serial_no"
    try:
        stamp = int(kv.get("timestamp", ""))
    except ValueError:
        return "timestamp 格式错误 / bad timestamp"
    if abs((time.time() if now is None else now) - stamp) > REQUEST_WINDOW_S:
        return "请求已过期 / timestamp outside the 5-minute window"
    message = f"{method}\n{path_with_query}\n{stamp}\n{kv.get('nonce_str', '')}\n{body}\n"
    if not rsa_verify_b64(merchant_key, message, kv.get("signature", "")):
        return "签名错误 / signature does not verify"
    return ""


# --- Alipay ----------------------------------------------------------------------------------------------------------


def alipay_string(params: Mapping[str, str], *, exclude: tuple[str, ...]) -> str:
    """Sorted `k=v` pairs joined by `&`, raw values, empty values left out."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in exclude and v != "")


def alipay_check_request(params: Mapping[str, str], app_key: rsa.RSAPublicKey) -> bool:
    """Requests are signed over every parameter but `sign` (sign_type included)."""
    signature = params.get("sign", "")
    return bool(signature) and rsa_verify_b64(app_key, alipay_string(params, exclude=("sign",)), signature)


def alipay_sign_params(params: dict[str, str], key: rsa.RSAPrivateKey) -> dict[str, str]:
    """Notifications and return parameters: signed over everything but `sign` and `sign_type`."""
    signed = dict(params)
    signed["sign"] = rsa_sign_b64(key, alipay_string(params, exclude=("sign", "sign_type")))
    signed["sign_type"] = "RSA2"
    return signed


def alipay_sync_body(method: str, inner: Mapping[str, Any], key: rsa.RSAPrivateKey) -> bytes:
    """`{"<method>_response":{…},"sign":"…"}` with the signature over the exact inner JSON text."""
    name = method.replace(".", "_") + "_response" if method else "error_response"
    inner_text = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
    signature = rsa_sign_b64(key, inner_text)
    return ('{"' + name + '":' + inner_text + ',"sign":"' + signature + '"}').encode()
