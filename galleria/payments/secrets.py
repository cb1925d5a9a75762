"""Gateway secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key derived with HKDF from
GALLERIA_SECRETS_KEY (or, when unset, SECRET_KEY). Rotating that key makes stored secrets unreadable: enter them
again in the console (docs/payments.md). A secret can also come from the environment: a stored value of the form
`env:NAME` is read from the variable NAME at use and never stored at all."""

from __future__ import annotations

import base64
import functools
import os

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

ENV_PREFIX = "env:"


class SecretUnavailableError(Exception):
    """A stored secret cannot be read (another key, or its environment variable is missing)."""


def _root() -> bytes:
    return (getattr(settings, "GALLERIA_SECRETS_KEY", "") or settings.SECRET_KEY).encode()


@functools.lru_cache(maxsize=8)
def _fernet_for(root: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"galleria-payments", info=b"credentials").derive(root)
    return Fernet(base64.urlsafe_b64encode(key))


def _fernet() -> Fernet:
    return _fernet_for(_root())


@functools.lru_cache(maxsize=256)
def _decrypt(root: bytes, token: str) -> str:
    """A stored secret in clear, once per process (every gateway call of every payment unseals its credential's
    two secrets: HKDF and Fernet each time cost ~1 ms). Keyed by the root key too: another key never reads it."""
    return _fernet_for(root).decrypt(token.encode()).decode()


def seal(value: str) -> str:
    """What to store for `value`: `env:NAME` references are kept as they are, anything else is encrypted."""
    if not value:
        return ""
    if value.startswith(ENV_PREFIX):
        return value
    return _fernet().encrypt(value.encode()).decode()


def unseal(stored: str) -> str:
    if not stored:
        return ""
    if stored.startswith(ENV_PREFIX):
        value = os.environ.get(stored[len(ENV_PREFIX) :], "")
        if not value:
            raise SecretUnavailableError(f"environment variable {stored[len(ENV_PREFIX) :]} is not set")
        return value
    try:
        return _decrypt(_root(), stored)
    except InvalidToken as exc:
        raise SecretUnavailableError("stored secret was sealed under another key") from exc
