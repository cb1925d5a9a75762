"""API rate limits (docs/api.md, "Rate limits"): per member, per POS key, per staff user and per IP address; over
the limit a 429 problem+json `rate_limited` with Retry-After, others unaffected, allowed again in the next window;
the counts live in Django's cache — shared through Redis when GALLERIA_CACHE_URL points at one."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
import time_machine
from django.core.cache import cache

from galleria.audit.types import Actor
from galleria.interfaces.api.auth import MEMBER_SESSION_KEY
from galleria.interfaces.api.throttles import parse_rate
from galleria.members.services import member_register
from galleria.merchants.models import PosTerminal
from galleria.merchants.services import pos_key_create
from galleria.testing import PASSWORD
from galleria.testing_pos import PosSigner, PosTestClient

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
T0 = dt.datetime(2026, 5, 1, 10, 0, 5, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def _member_client(client, world, phone: str):
    member = member_register(mall=world.mall, phone=phone, channel="desk", actor=ACTOR)
    session = client.session
    session[MEMBER_SESSION_KEY] = member.pk
    session.save()
    return client


def _limited(resp) -> int:
    assert resp.status_code == 429, resp.content
    assert resp["Content-Type"] == "application/problem+json"
    assert resp.json()["code"] == "rate_limited"
    return int(resp["Retry-After"])


def test_rates_parse():
    assert parse_rate("120/min") == (120, 60)
    assert parse_rate("10/5s") == (10, 5)
    assert parse_rate("1000/day") == (1000, 86400)
    assert parse_rate("7/30") == (7, 30)


def test_a_member_over_the_limit_gets_429_with_retry_after_and_another_member_does_not(
    client, world, settings, django_user_model
):
    from django.test import Client

    settings.GALLERIA_API_RATES = {"member": "3/min"}
    first = _member_client(client, world, "13700000001")
    second = _member_client(Client(), world, "13700000002")
    with time_machine.travel(T0, tick=False) as clock:
        assert [first.get("/api/v1/app/me").status_code for _ in range(3)] == [200, 200, 200]
        assert _limited(first.get("/api/v1/app/me")) == 55  # to the end of the minute
        assert second.get("/api/v1/app/me").status_code == 200
        clock.shift(dt.timedelta(seconds=56))
        assert first.get("/api/v1/app/me").status_code == 200  # the next window


def _verify(client, **extra):
    body = {"phone": "13700000009", "code": "000000"}
    return client.post("/api/v1/app/otp/verify", body, content_type="application/json", **extra)


def test_per_ip_before_sign_in(client, settings):
    settings.GALLERIA_API_RATES = {"ip": "2/min"}
    with time_machine.travel(T0, tick=False):
        assert 429 not in [_verify(client).status_code for _ in range(2)]
        _limited(_verify(client))
        assert _verify(client, REMOTE_ADDR="10.1.2.3").status_code != 429


def test_per_pos_key(client, world, settings):
    settings.GALLERIA_API_RATES = {"pos": "2/min"}
    terminal = PosTerminal.objects.create(store=world.store, name="收银台1")
    key, secret = pos_key_create(actor=ACTOR, terminal_id=terminal.pk)
    pos = PosTestClient(client, PosSigner(key.key_id, secret))
    other_terminal = PosTerminal.objects.create(store=world.store, name="收银台2")
    key2, secret2 = pos_key_create(actor=ACTOR, terminal_id=other_terminal.pk)
    other = PosTestClient(client, PosSigner(key2.key_id, secret2))
    with time_machine.travel(T0, tick=False):
        codes = [pos.get("/api/v1/pos/members/lookup?code=13800000000").status_code for _ in range(2)]
        assert 429 not in codes
        _limited(pos.get("/api/v1/pos/members/lookup?code=13800000000"))
        assert other.get("/api/v1/pos/members/lookup?code=13800000000").status_code != 429


def test_per_staff_user(client, world, settings):
    settings.GALLERIA_API_RATES = {"staff": "1/min"}
    user = world.users["group_admin"]
    assert client.login(username=user.username, password=PASSWORD)
    with time_machine.travel(T0, tick=False):
        assert client.get(f"/api/v1/console/members/{0}").status_code == 404
        _limited(client.get(f"/api/v1/console/members/{0}"))


def _redis_url() -> str | None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return None
    return "redis://127.0.0.1:6379/15"


@pytest.mark.skipif(_redis_url() is None, reason="no Redis at 127.0.0.1:6379")
def test_the_counts_are_shared_through_redis(client, world, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url()}}
    settings.GALLERIA_API_RATES = {"ip": "2/min"}
    from django.core.cache import caches

    caches["default"].clear()
    with time_machine.travel(T0, tick=False):
        _verify(client)
        _verify(client)
        # what another worker process sees: the count is in Redis, not in this process
        import redis

        keys = redis.Redis.from_url(_redis_url()).keys("*rl:ip:127.0.0.1:*")
        assert keys
        _limited(_verify(client))
    caches["default"].clear()


def test_a_client_cannot_choose_the_address_it_is_counted_under(client, settings):
    settings.GALLERIA_API_RATES = {"ip": "2/min"}
    settings.GALLERIA_TRUSTED_PROXIES = 0
    with time_machine.travel(T0, tick=False):
        for n in range(2):
            _verify(client, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
        _limited(_verify(client, HTTP_X_FORWARDED_FOR="10.9.9.99"))  # the header is ignored: same REMOTE_ADDR
