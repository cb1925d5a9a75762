"""Pure rules of staff sign-in: failure windows, TOTP codes (RFC 6238), recovery codes, the sealed TOTP secret.

No database here. Keys come in as arguments (the services pass the configured key).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOTP_DIGITS = 6
TOTP_INTERVAL = 30
TOTP_DRIFT_STEPS = 1  # accept the previous and the next 30-second step too (clock drift of the phone)
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper
RECOVERY_GROUP = 5


# ---------------------------------------------------------------- failure windows


@dataclass(frozen=True)
class Limit:
    max_failures: int
    window_seconds: int
    lock_seconds: int


@dataclass(frozen=True)
class ThrottleState:
    failures: int
    window_started_at: dt.datetime
    locked_until: dt.datetime | None


def is_locked(state: ThrottleState, *, now: dt.datetime) -> bool:
    return state.locked_until is not None and state.locked_until > now


def after_failure(state: ThrottleState, *, now: dt.datetime, limit: Limit) -> ThrottleState:
    """Count one failure: a window older than `window_seconds` starts again at this failure; reaching
    `max_failures` inside the window locks for `lock_seconds` and starts a fresh window after the lock."""
    if now - state.window_started_at >= dt.timedelta(seconds=limit.window_seconds):
        state = ThrottleState(failures=0, window_started_at=now, locked_until=state.locked_until)
    failures = state.failures + 1
    if failures >= limit.max_failures:
        until = now + dt.timedelta(seconds=limit.lock_seconds)
        return ThrottleState(failures=0, window_started_at=until, locked_until=until)
    return ThrottleState(failures=failures, window_started_at=state.window_started_at, locked_until=state.locked_until)


def account_key(username: str) -> str:
    """The account counter's key: the username as typed (whether or not it exists), so a lock reveals nothing."""
    return (username or "").strip().casefold()[:150]


# ---------------------------------------------------------------- TOTP


def totp_new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters = 160 bits, as RFC 4226 recommends


def totp_uri(*, secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL).provisioning_uri(
        name=account, issuer_name=issuer
    )


def totp_step(now: dt.datetime) -> int:
    return int(now.timestamp()) // TOTP_INTERVAL


def totp_code(*, secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL).at(step * TOTP_INTERVAL)


def totp_match(*, secret: str, code: str, now: dt.datetime, after_step: int) -> int | None:
    """The time step `code` belongs to (now ± drift), if it is later than `after_step`, else None.

    Refusing steps at or before the last accepted one is what stops a code (or an older one) being replayed."""
    code = normalize_totp(code)
    if len(code) != TOTP_DIGITS:
        return None
    current = totp_step(now)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if step > after_step and hmac.compare_digest(totp_code(secret=secret, step=step), code):
            return step
    return None


def normalize_totp(code: str) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace())[:12]


def looks_like_totp(code: str) -> bool:
    value = normalize_totp(code)
    return len(value) == TOTP_DIGITS and value.isdigit()


# ---------------------------------------------------------------- recovery codes


def recovery_codes_new(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """`count` codes like `k7fq2-m9xte` (10 characters from 30 = 49 bits each)."""
    codes: list[str] = []
    while len(codes) < count:
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(2 * RECOVERY_GROUP))
        code = f"{raw[:RECOVERY_GROUP]}-{raw[RECOVERY_GROUP:]}"
        if code not in codes:
            codes.append(code)
    return codes


def recovery_normalize(code: str) -> str:
    return "".join(ch for ch in (code or "").casefold() if ch.isalnum())[:40]


def recovery_hash(*, key: str, code: str) -> str:
    return hmac.new(_subkey(key, "recovery"), recovery_normalize(code).encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- sealed secret (encrypt-then-MAC)
#
# The TOTP secret must be readable by the server (to check codes) but not by someone holding only a database dump:
# AES-256-GCM (the `cryptography` package) under a sub-key of the configured key, a random 12-byte nonce per seal,
# the version as associated data.

_SEAL_VERSION = "v2"


def _subkey(key: str, label: str) -> bytes:
    return hmac.new(key.encode(), f"galleria.accounts.two-step.{label}".encode(), hashlib.sha256).digest()


def seal(plaintext: str, *, key: str) -> str:
    if not key:
        raise ValueError("a key is required")
    nonce = secrets.token_bytes(12)
    cipher = AESGCM(_subkey(key, "aead")).encrypt(nonce, plaintext.encode(), _SEAL_VERSION.encode())
    return f"{_SEAL_VERSION}${base64.urlsafe_b64encode(nonce + cipher).decode()}"


def unseal(sealed: str, *, key: str) -> str:
    """The plaintext; ValueError when the value was altered or sealed with another key."""
    version, _sep, body = sealed.partition("$")
    if version != _SEAL_VERSION or not body:
        raise ValueError("unknown seal")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
    except (ValueError, TypeError) as exc:
        raise ValueError("malformed seal") from exc
    if len(raw) < 12 + 16:
        raise ValueError("truncated seal")
    try:
        return AESGCM(_subkey(key, "aead")).decrypt(raw[:12], raw[12:], version.encode()).decode()
    except InvalidTag as exc:
        raise ValueError("seal does not verify") from exc
