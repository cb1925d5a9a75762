"""Endpoint signing secrets at rest: Fernet under a key derived with HKDF from GALLERIA_SECRETS_KEY (or, when unset,
SECRET_KEY) — the scheme messaging uses for the VAPID key (messaging/secrets.py), with webhooks' own salt. The secret
is shown once when the endpoint is created; rotating the root key makes stored secrets unreadable (deliveries then
fail with `webhooks.secret_unreadable` until a new endpoint is created)."""

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
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"galleria-webhooks", info=b"endpoint").derive(root)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def unseal(stored: str) -> str:
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadableError("sealed under another key") from exc
