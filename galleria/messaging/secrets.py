"""Secrets at rest in messaging's tables (the VAPID private key): Fernet under a key derived with HKDF from
GALLERIA_SECRETS_KEY (or, when unset, SECRET_KEY) — the scheme the payments app uses for gateway keys
(payments/secrets.py), with messaging's own derivation salt (messaging sits below payments and cannot import it).
Rotating that key makes the stored VAPID key unreadable: a new pair is generated and browsers must subscribe again."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SecretUnreadableError(Exception):
    """Sealed under another key."""


def _fernet() -> Fernet:
    root = (getattr(settings, "GALLERIA_SECRETS_KEY", "") or settings.SECRET_KEY).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"galleria-messaging", info=b"vapid").derive(root)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def unseal(stored: str) -> str:
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadableError("sealed under another key") from exc
