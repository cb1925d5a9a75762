"""Webhooks rules without a database: the signature a receiver verifies, the retry schedule over 24 hours."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random

from galleria.webhooks import rules


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body_and_verifies():
    body = b'{"type":"member.joined","data":{"member_id":7}}'
    header = rules.sign(secret="whsec_x", timestamp=1_700_000_000, body=body)
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert rules.verify(secret="whsec_x", header=header, body=body, now=1_700_000_100)
    assert not rules.verify(secret="whsec_y", header=header, body=body, now=1_700_000_100)
    assert not rules.verify(secret="whsec_x", header=header, body=body + b" ", now=1_700_000_100)
    assert not rules.verify(secret="whsec_x", header=header, body=body, now=1_700_000_000 + 301)  # too old
    assert not rules.verify(secret="whsec_x", header="garbage", body=body, now=1_700_000_000)


def test_the_retry_delay_doubles_from_30_seconds_to_a_4_hour_cap_with_up_to_25_percent_jitter():
    rng = random.Random(1)
    for failures, base in [(1, 30), (2, 60), (3, 120), (9, 7680), (10, 14400), (30, 14400)]:
        delay = rules.retry_delay(failures=failures, rng=rng).total_seconds()
        assert base <= delay <= base * 1.25, (failures, delay)


def test_a_dead_receiver_is_tried_about_a_dozen_times_then_given_up_within_24_hours():
    rng = random.Random(7)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    now, failures = start, 0
    while True:
        failures += 1
        nxt = rules.next_attempt(failures=failures, event_at=start, now=now, rng=rng)
        if nxt is None:
            break
        now = nxt
    assert now - start <= rules.GIVE_UP_AFTER
    assert now - start > dt.timedelta(hours=18)  # the schedule uses most of the window
    assert 10 <= failures <= 16


def test_event_types_are_stored_so_one_like_finds_them_and_unknown_ones_are_dropped():
    stored = rules.event_types_field(["tier.changed", "member.joined", "nope"])
    assert stored == ",member.joined,tier.changed,"
    assert rules.event_types_of(stored) == ["member.joined", "tier.changed"]
    assert rules.event_types_field([]) == ""


def test_urls():
    assert rules.url_problem("https://erp.example.com/hook", allow_http=False) is None
    assert rules.url_problem("http://erp.example.com/hook", allow_http=False) is not None
    assert rules.url_problem("http://127.0.0.1:9/hook", allow_http=True) is None
    assert rules.url_problem("ftp://x/y", allow_http=True) is not None
    assert rules.url_problem("https://u:p@x.example/y", allow_http=True) is not None
    assert rules.url_problem("not a url", allow_http=True) is not None


def test_every_published_domain_event_maps_to_a_listed_type():
    assert set(rules.WEBHOOK_TYPE_OF.values()) <= set(rules.EVENT_TYPES)
    assert len(rules.truncate("x" * 5000)) == rules.RESPONSE_KEEP + 1
