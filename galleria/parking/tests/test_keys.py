"""The car-park system's API keys: issued with a secret shown once (derived like a POS key's), revoked, verified; the
nonces of signed requests; the console pages that issue, list and revoke them."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from galleria.audit.models import AuditEvent
from galleria.merchants import rules as signing
from galleria.parking.models import CarPark, CarParkKey, CarParkNonce
from galleria.parking.services_keys import (
    car_park_key_active,
    car_park_key_create,
    car_park_key_revoke,
    car_park_key_secret,
    car_park_key_touch,
    car_park_key_verify,
    car_park_nonce_prune,
    car_park_nonce_use,
)
from galleria.testing import PASSWORD

from .helpers import ACTOR, car_park

pytestmark = pytest.mark.django_db


def test_a_key_is_issued_with_a_secret_derived_not_stored(world):
    park = car_park(world)
    key, secret = car_park_key_create(actor=ACTOR, car_park_id=park.pk, label=" barrier ")
    assert key.key_id.startswith("ck_") and key.label == "barrier" and key.created_by == "test"
    assert secret == car_park_key_secret(key) and len(secret) >= 40
    row = CarParkKey.objects.get()
    assert secret not in {row.key_id, row.salt, row.label}  # only the salt is stored; the secret is derived again
    _other, other_secret = car_park_key_create(actor=ACTOR, car_park_id=park.pk)
    assert other_secret != secret
    event = AuditEvent.objects.get(action="parking_key.create", target_id=str(key.pk))
    assert secret not in str(event.changes)


def test_verification_uses_the_pos_signing_rule(world):
    park = car_park(world)
    key, secret = car_park_key_create(actor=ACTOR, car_park_id=park.pk)
    body = b'{"plate": "\xe7\xb2\xa4B12345"}'
    sig = signing.sign(secret=secret, method="POST", path="/api/v1/parking/entries", timestamp="1", nonce="n" * 8,
                       body=body)  # fmt: skip
    common = {"method": "POST", "targets": [b"/api/v1/parking/entries"], "timestamp": "1", "nonce": "n" * 8}
    assert car_park_key_verify(key=key, signature=sig, body=body, **common)
    assert not car_park_key_verify(key=key, signature=sig, body=body + b" ", **common)
    other = sig[:-1] + ("0" if sig[-1].lower() != "0" else "1")  # one hex digit changed (hex is case-blind)
    assert not car_park_key_verify(key=key, signature=other, body=body, **common)


def test_a_revoked_key_or_a_switched_off_car_park_is_not_usable(world):
    park = car_park(world)
    key, _secret = car_park_key_create(actor=ACTOR, car_park_id=park.pk)
    assert car_park_key_active(key_id=key.key_id).car_park == park
    assert car_park_key_active(key_id="ck_nope") is None
    assert car_park_key_active(key_id="ck_\x00") is None
    CarPark.objects.filter(pk=park.pk).update(is_active=False)
    assert car_park_key_active(key_id=key.key_id) is None
    with pytest.raises(Exception, match="switched off"):
        car_park_key_create(actor=ACTOR, car_park_id=park.pk)
    CarPark.objects.filter(pk=park.pk).update(is_active=True)
    revoked = car_park_key_revoke(actor=ACTOR, key_pk=key.pk)
    assert revoked.revoked_at is not None and car_park_key_active(key_id=key.key_id) is None
    again = car_park_key_revoke(actor=ACTOR, key_pk=key.pk)
    assert again.revoked_at == revoked.revoked_at
    assert AuditEvent.objects.filter(action="parking_key.revoke").count() == 1


def test_a_nonce_is_used_once_per_key_and_old_ones_are_pruned(world):
    park = car_park(world)
    key, _ = car_park_key_create(actor=ACTOR, car_park_id=park.pk)
    other, _ = car_park_key_create(actor=ACTOR, car_park_id=park.pk)
    assert car_park_nonce_use(key=key, nonce="abcdefgh")
    assert not car_park_nonce_use(key=key, nonce="abcdefgh")
    assert car_park_nonce_use(key=other, nonce="abcdefgh")  # per key
    assert car_park_nonce_prune() == 0
    assert car_park_nonce_prune(older_than_seconds=-1) == 2
    assert CarParkNonce.objects.count() == 0


def test_use_is_recorded_at_most_once_a_minute(world, django_assert_num_queries):
    park = car_park(world)
    key, _ = car_park_key_create(actor=ACTOR, car_park_id=park.pk)
    with django_assert_num_queries(1):
        car_park_key_touch(key=key)
    with django_assert_num_queries(0):
        car_park_key_touch(key=key)
    assert CarParkKey.objects.get().last_used_at is not None


# ---------------------------------------------------------------- the console


def signed_in(world, who: str) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    assert client.login(username=world.users[who].username, password=PASSWORD)
    return client


def test_the_console_issues_a_key_shows_its_secret_once_and_revokes_it(world):
    park = car_park(world)
    client = signed_in(world, "group_admin")
    picker = client.get("/console/parking/keys/")
    assert picker.status_code == 200 and f"/console/parking/{park.pk}/keys/" in picker.content.decode()
    page = client.get(f"/console/parking/{park.pk}/keys/").content.decode()
    request_id = re.search(rf'name="t{park.pk}-request_id" value="([0-9a-f]+)"', page).group(1)
    form = {f"t{park.pk}-label": "道闸系统", f"t{park.pk}-request_id": request_id}
    created = client.post(f"/console/parking/{park.pk}/keys/", form)
    assert created.status_code == 200 and "no-store" in created["Cache-Control"]
    key = CarParkKey.objects.get()
    html = created.content.decode()
    secret = car_park_key_secret(key)
    assert secret in html and key.key_id in html and "GALLERIA_CAR_PARK=p1" in html
    again = client.post(f"/console/parking/{park.pk}/keys/", form)  # the same form sent again (a refresh)
    assert again.status_code == 302 and CarParkKey.objects.count() == 1
    listing = client.get(f"/console/parking/{park.pk}/keys/").content.decode()
    assert key.key_id in listing and "道闸系统" in listing and secret not in listing
    revoke_url = f"/console/parking/{park.pk}/keys/{key.pk}/revoke/"
    assert client.post(revoke_url, {}).status_code == 422  # not confirmed
    assert CarParkKey.objects.get().revoked_at is None
    assert client.post(revoke_url, {"confirm": "on"}).status_code == 302
    assert CarParkKey.objects.get().revoked_at is not None


def test_the_keys_pages_need_parking_manage_and_the_car_park_of_ones_group(world):
    park = car_park(world)
    key, _ = car_park_key_create(actor=ACTOR, car_park_id=park.pk)
    for url in (f"/console/parking/{park.pk}/keys/", f"/console/parking/{park.pk}/keys/{key.pk}/revoke/"):
        assert signed_in(world, "finance").get(url).status_code == 403
        assert signed_in(world, "foreign_admin").get(url).status_code == 404
    nav = signed_in(world, "group_admin").get("/console/").content.decode()
    assert 'data-nav="parking_keys"' in nav
    assert 'data-nav="parking_keys"' not in signed_in(world, "finance").get("/console/").content.decode()
