"""Rate limits of the HTTP API (docs/api.md, "Rate limits"): django-ninja throttles counting requests in Django's
cache (Redis in production through GALLERIA_CACHE_URL, so every worker and machine shares the counts; each process's
memory when unset).

Two throttles run on every operation, after authentication: one per client IP address (`ip`, also before sign-in)
and one per authenticated principal — a POS key (`pos`), a member (`member`, cookie session or bearer token), a
staff user (`staff`), a car park (`car_park`). Rates come from settings.GALLERIA_API_RATES, read at each request
("<n>/<s|min|hour|day>"; a missing or empty rate is no limit). Counting is a fixed window (one `incr` per request:
cheap on the POS path); a client may therefore send up to twice the rate across a window boundary. Over the limit
the answer is `429` problem+json `rate_limited` with `Retry-After` (whole seconds to the window's end)."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from ninja.throttling import BaseThrottle

from ..common import client_ip
from .parking_auth import CarParkContext
from .pos_auth import PosContext

_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'120/min' → (120, 60); '10/5s' → (10, 5)."""
    count, _sep, rest = rate.partition("/")
    for unit in sorted(_PERIODS, key=len, reverse=True):
        if rest.endswith(unit):
            multi = rest[: -len(unit)]
            return int(count), (int(multi) if multi else 1) * _PERIODS[unit]
    return int(count), int(rest)


def _count(key: str, ttl: int) -> int:
    """Add one to the window's counter and return it. On Redis one round trip (INCR + EXPIRE in a pipeline; Django's
    `incr` costs two); elsewhere `add` then `incr`."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full, write=True)  # type: ignore[attr-defined]
        pipe = client.pipeline(transaction=False)
        pipe.incr(full)
        pipe.expire(full, ttl)
        return int(pipe.execute()[0])
    cache.add(key, 0, timeout=ttl)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=ttl)
        return 1


class _Window(BaseThrottle):
    scope = ""
    _local = threading.local()

    def ident(self, request: Any) -> tuple[str, str] | None:
        """(rate name, identity) to count this request under, or None."""
        raise NotImplementedError

    def allow_request(self, request: Any) -> bool:
        found = self.ident(request)
        if found is None:
            return True
        name, ident = found
        rate = getattr(settings, "GALLERIA_API_RATES", {}).get(name)
        if not rate:
            return True
        limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        key = f"rl:{name}:{ident}:{period}:{window}"
        count = _count(key, period + 1)
        if count > limit:
            self._local.wait = max(1.0, (window + 1) * period - now)
            return False
        return True

    def wait(self) -> float | None:
        return math.ceil(getattr(self._local, "wait", 1.0))


class IpThrottle(_Window):
    """Every request, by the client's address (`common.client_ip`: REMOTE_ADDR, or the X-Forwarded-For entry the
    GALLERIA_TRUSTED_PROXIES proxies wrote — never an address the client chose)."""

    def ident(self, request: Any) -> tuple[str, str] | None:
        address = client_ip(request)
        return ("ip", address) if address else None


class PrincipalThrottle(_Window):
    """Every authenticated request, by who made it."""

    def ident(self, request: Any) -> tuple[str, str] | None:
        auth = getattr(request, "auth", None)
        if auth is None:
            return None
        kind = getattr(auth, "throttle_kind", None)  # API tokens and bearer sessions say what they are
        if kind is not None:
            return str(kind), str(auth.throttle_ident)
        if isinstance(auth, PosContext):
            return "pos", str(auth.key.pk)
        if isinstance(auth, CarParkContext):
            return "car_park", str(auth.car_park_id)
        label = getattr(getattr(auth, "_meta", None), "label", "")
        if label == "members.Member":
            return "member", str(auth.pk)
        if isinstance(auth, get_user_model()):
            return "staff", str(auth.pk)
        return None


THROTTLES: list[BaseThrottle] = [IpThrottle(), PrincipalThrottle()]
