"""Webhooks rules, pure (no database): the event catalogue, how a domain event becomes a webhook event, the
signature, the retry schedule and what the delivery log keeps (docs/api.md, "Webhooks").

Signature: `X-Galleria-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>` over the exact
body bytes sent. Retry schedule: exponential backoff with jitter (30 s, 1 min, 2 min … capped at 4 h, each +0–25 %)
until 24 hours after the event, then the delivery is given up. The schedule must survive restarts, so it is stored
per delivery (`next_attempt_at`) rather than run by an in-process retry loop such as `stamina`'s decorator (which
retries inside one call); the formula is the same capped exponential with jitter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _

# The webhook event types that something publishes today, with their labels (the console's checkboxes). The issue's
# other types (sale.*, points.*, coupon.*, wallet.changed) are listed in docs/api.md as not yet available.
EVENT_TYPES: dict[str, object] = {
    "member.joined": _("A member joined"),
    "member.updated": _("A member's profile changed"),
    "member.erased": _("A member's account was deleted (personal data erased)"),
    "member.merged": _("Two member accounts were merged into one"),
    "tier.changed": _("A member's tier changed"),
    "event.registered": _("A member registered for an event"),
    "event.attended": _("A member checked in at an event"),
    "receipt.rejected": _("A receipt photo was rejected"),
}
TEST_EVENT = "webhook.test"

# domain event (galleria.core.events.publish) → webhook event type
WEBHOOK_TYPE_OF: dict[str, str] = {
    "member.joined": "member.joined",
    "member.profile_updated": "member.updated",
    "member.erased": "member.erased",
    "member.merged": "member.merged",
    "member.tier_changed": "tier.changed",
    "event.registered": "event.registered",
    "event.attended": "event.attended",
    "receipt.rejected": "receipt.rejected",
}

GIVE_UP_AFTER = dt.timedelta(hours=24)  # a delivery is retried for this long after its event, then given up
DISABLE_AFTER = dt.timedelta(hours=24)  # an endpoint failing (no success) this long is disabled
FIRST_DELAY_S = 30.0
MAX_DELAY_S = 4 * 3600.0
JITTER = 0.25
RESPONSE_KEEP = 2000  # characters of a response body kept in the delivery log
TIMEOUT_S = 10.0
LEASE = dt.timedelta(minutes=2)  # a claimed delivery whose worker died is sent again after this
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-Galleria-Signature header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(*, secret: str, header: str, body: bytes, now: int, tolerance_s: int = 300) -> bool:
    """What a receiver does (docs/api.md has the same in Python and JavaScript)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - ts) > tolerance_s:
        return False
    expected = sign(secret=secret, timestamp=ts, body=body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def retry_delay(*, failures: int, rng: random.Random | None = None) -> dt.timedelta:
    """The wait before the next attempt after `failures` failed ones (1, 2, …): capped exponential + jitter."""
    base = min(FIRST_DELAY_S * 2 ** max(failures - 1, 0), MAX_DELAY_S)
    return dt.timedelta(seconds=base * (1 + JITTER * (rng or random).random()))


def next_attempt(
    *, failures: int, event_at: dt.datetime, now: dt.datetime, rng: random.Random | None = None
) -> dt.datetime | None:
    """When to try again, or None when the next try would fall past the 24-hour window (give up)."""
    at = now + retry_delay(failures=failures, rng=rng)
    return None if at > event_at + GIVE_UP_AFTER else at


def is_success(status_code: int) -> bool:
    return 200 <= status_code < 300


def truncate(text: str) -> str:
    return text if len(text) <= RESPONSE_KEEP else text[:RESPONSE_KEEP] + "…"


def event_types_field(types: list[str]) -> str:
    """Stored as ",a,b," so one LIKE finds the endpoints subscribed to a type on every database."""
    return "," + ",".join(sorted(t for t in set(types) if t in EVENT_TYPES)) + "," if types else ""


def event_types_of(stored: str) -> list[str]:
    return [t for t in stored.split(",") if t]


def url_problem(url: str, *, allow_http: bool) -> object | None:
    """Why an endpoint URL is refused (a message), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return _("Enter a full URL starting with https://.")
    if parts.scheme == "http" and not allow_http:
        return _("Use https:// (plain http is allowed only in development).")
    if parts.username or parts.password:
        return _("Do not put a user name or password in the URL.")
    return None


def envelope(
    *, event_id: str, kind: str, created_at: dt.datetime, mall_group_id: int, data: Mapping[str, object]
) -> dict[str, object]:
    """The JSON body of a webhook: the event's id (receivers de-duplicate on it), type, time, group and data."""
    return {
        "id": event_id,
        "type": kind,
        "created_at": created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "mall_group_id": mall_group_id,
        "data": dict(data),
    }
