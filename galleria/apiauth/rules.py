"""API credentials, pure: token formats, hashing and lifetimes (docs/api.md, "Tokens").

Tokens are 32 random bytes (URL-safe base64) behind a prefix that says what they are — `gat_` member access,
`grt_` member refresh, `gst_` staff API token. Only their SHA-256 is stored (a token is as strong as a 256-bit key,
so a plain hash is enough: no salt or slow hash needed, and a lookup is one index probe)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

ACCESS_PREFIX = "gat_"
REFRESH_PREFIX = "grt_"
STAFF_PREFIX = "gst_"
ACCESS_TTL = dt.timedelta(minutes=15)
REFRESH_TTL = dt.timedelta(days=30)
LAST_USED_EVERY = dt.timedelta(minutes=1)  # last-used is written at most this often (not on every request)
STAFF_MAX_DAYS = 366


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def shown_prefix(token: str) -> str:
    """What the console shows of a staff token after creation: enough to recognise it."""
    return token[:10]
