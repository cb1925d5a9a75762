"""Every key the sandbox and Galleria's sandbox credentials need, generated locally (nothing leaves the machine).

`keys.json` holds both halves of each pair: the sandbox uses the gateway halves (platform private key, Alipay
private key, the merchant's public keys to check request signatures), Galleria's sandbox credentials the merchant
halves. Real credentials never look like this file: in production the gateway keeps its private keys.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_ALPHANUM = string.ascii_letters + string.digits


def rand_ascii(n: int) -> str:
    return "".join(secrets.choice(_ALPHANUM) for _ in range(n))


def rand_digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


def rsa_pair() -> tuple[str, str]:
    """A 2048-bit RSA pair as (PKCS#8 private PEM, SPKI public PEM) — the formats both SDKs load."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def generate() -> dict[str, Any]:
    merchant_priv, merchant_pub = rsa_pair()
    platform_priv, platform_pub = rsa_pair()
    app_priv, app_pub = rsa_pair()
    ali_priv, ali_pub = rsa_pair()
    return {
        "version": 1,
        "wechat": {
            "mchid": "19" + rand_digits(8),
            "appid": "wx" + secrets.token_hex(8),
            "merchant_name": "Galleria 商场 (sandbox)",
            "merchant_serial_no": secrets.token_hex(20).upper(),
            "merchant_private_key": merchant_priv,
            "merchant_public_key": merchant_pub,
            "platform_private_key": platform_priv,
            "platform_public_key": platform_pub,
            "platform_public_key_id": "PUB_KEY_ID_01" + rand_digits(26),
            "apiv3_key": rand_ascii(32),
        },
        "alipay": {
            "app_id": "2021" + rand_digits(12),
            "seller_id": "2088" + rand_digits(12),
            "merchant_name": "Galleria 商场 (sandbox)",
            "app_private_key": app_priv,
            "app_public_key": app_pub,
            "alipay_private_key": ali_priv,
            "alipay_public_key": ali_pub,
        },
    }


def write(path: Path) -> dict[str, Any]:
    """Generate a fresh set and write it (mode 0600: it holds private keys)."""
    data = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
    os.replace(tmp, path)
    return data


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") != 1 or "wechat" not in data or "alipay" not in data:
        raise ValueError(f"{path} is not a sandbox keys file")
    return data


@dataclass(frozen=True)
class GatewayKeys:
    """The gateway's side of keys.json, loaded once (RSA keys parsed)."""

    raw: dict[str, Any]
    merchant_public: rsa.RSAPublicKey
    platform_private: rsa.RSAPrivateKey
    alipay_private: rsa.RSAPrivateKey
    app_public: rsa.RSAPublicKey

    @property
    def wx(self) -> dict[str, str]:
        return dict(self.raw["wechat"])

    @property
    def ali(self) -> dict[str, str]:
        return dict(self.raw["alipay"])

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> GatewayKeys:
        def pub(pem: str) -> rsa.RSAPublicKey:
            key = serialization.load_pem_public_key(pem.encode())
            assert isinstance(key, rsa.RSAPublicKey)
            return key

        def priv(pem: str) -> rsa.RSAPrivateKey:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return key

        return cls(
            raw=raw,
            merchant_public=pub(raw["wechat"]["merchant_public_key"]),
            platform_private=priv(raw["wechat"]["platform_private_key"]),
            alipay_private=priv(raw["alipay"]["alipay_private_key"]),
            app_public=pub(raw["alipay"]["app_public_key"]),
        )
