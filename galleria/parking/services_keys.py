"""The car-park system's API keys (docs/parking.md, "Integration API (car-park vendors)"): issue, revoke, verify,
and the nonces of signed requests.

A key works exactly like a POS key (galleria/merchants): its secret is derived from GALLERIA_POS_KEY_SECRET (or
SECRET_KEY) and the key's random salt with the same rule (`merchants.rules.derive_secret`), shown once when the key
is issued and re-derived to verify a request; Galleria never stores it. A key belongs to one car park and acts only
on it; it stops working at once when it is revoked or its car park is switched off.

Nonces: a signed request's nonce is recorded once per key (the unique index decides, in one statement); a nonce seen
before is a replayed request. On PostgreSQL the insert commits without waiting for the WAL flush: a database crash
could forget the last fraction of a second of nonces, so exactly those requests could be sent again within their five
minutes — harmless here, because every car-park event is idempotent by its event id and a frictionless charge, once
made, leaves the stay paid.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import sql
from galleria.core.errors import NotFoundError, ValidationError
from galleria.core.locking import lock_one
from galleria.merchants import rules as signing

from . import sql as parking_sql
from .models import CarPark, CarParkKey, CarParkNonce

KEY_PREFIX = "ck_"
TOUCH_EVERY = dt.timedelta(minutes=1)


def _master() -> str:
    return settings.GALLERIA_POS_KEY_SECRET or settings.SECRET_KEY


def car_park_key_secret(key: CarParkKey) -> str:
    """The key's secret, derived again (the same rule as a POS key's)."""
    return signing.derive_secret(master=_master(), key_id=key.key_id, salt=key.salt)


def car_park_key_create(*, actor: Actor, car_park_id: int, label: str = "") -> tuple[CarParkKey, str]:
    """Issue a key for a car park. Returns the key and its secret — the only time the secret is available."""
    with transaction.atomic(durable=True):
        car_park = CarPark.objects.select_related("mall").filter(pk=car_park_id).first()
        if car_park is None:
            raise NotFoundError(_("No such car park."), code="parking.car_park_not_found")
        if not car_park.is_active:
            raise ValidationError(
                _("This car park is switched off, so a key for it would not work."), code="parking.car_park_inactive"
            )
        key = CarParkKey.objects.create(
            car_park=car_park,
            key_id=KEY_PREFIX + secrets.token_hex(12),
            salt=secrets.token_hex(16),
            label=label.strip()[:60],
            created_by=actor.label[:100],
        )
        audit_record(
            actor=actor,
            action="parking_key.create",
            target_type="carparkkey",
            target_id=key.pk,
            target_label=key.key_id,
            mall_group_id=car_park.mall.group_id,
            changes={"car_park": [None, car_park.name], "label": [None, key.label]},
        )
    return key, car_park_key_secret(key)


def car_park_key_revoke(*, actor: Actor, key_pk: int) -> CarParkKey:
    """Revoke a key: requests signed with it are refused from the next one on. Revoking twice changes nothing."""
    with transaction.atomic(durable=True):
        key = lock_one(CarParkKey.objects.select_related("car_park__mall").filter(pk=key_pk))
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                action="parking_key.revoke",
                target_type="carparkkey",
                target_id=key.pk,
                target_label=key.key_id,
                mall_group_id=key.car_park.mall.group_id,
            )
    return key


def car_park_key_list(*, car_park_id: int) -> QuerySet[CarParkKey]:
    """The car park's keys, usable ones first, newest first."""
    return (
        CarParkKey.objects.filter(car_park_id=car_park_id)
        .select_related("car_park")
        .order_by("revoked_at", "-created_at", "-pk")
    )


def car_park_key_get(*, key_pk: int, car_park_id: int) -> CarParkKey | None:
    return CarParkKey.objects.select_related("car_park").filter(pk=key_pk, car_park_id=car_park_id).first()


_loaded: dict[str, tuple[CarParkKey, tuple[object, object]]] = {}


def car_park_key_active(*, key_id: str) -> CarParkKey | None:
    """A usable key (not revoked, its car park active) with its car park and mall. Usability is read on every call
    (one fixed statement: a revocation or a car park switched off takes effect at once); the key's car park and mall
    rows are loaded once per process and again whenever either was saved since (their `updated_at`)."""
    if not key_id or len(key_id) > 40 or not key_id.isascii() or not key_id.isprintable():
        return None
    row = parking_sql.key_usable(key_id)
    if row is None:
        _loaded.pop(key_id, None)
        return None
    pk, last_used_at, stamps = int(row[0]), sql.read_when(row[1]), (sql.read_when(row[2]), sql.read_when(row[3]))
    hit = _loaded.get(key_id)
    if hit is None or hit[0].pk != pk or hit[1] != stamps:
        key = CarParkKey.objects.select_related("car_park", "car_park__mall").get(pk=pk)
        if len(_loaded) > 1000:
            _loaded.clear()
        _loaded[key_id] = (key, stamps)
    else:
        key = hit[0]
    key.last_used_at = last_used_at
    return key


def car_park_key_verify(
    *, key: CarParkKey, signature: str, method: str, targets: list[bytes], timestamp: str, nonce: str, body: bytes
) -> bool:
    """Whether `signature` signs the request with the key's secret, over any of the forms of its target (as sent,
    canonical): the POS API's signing rule (merchants.rules), not a copy of it."""
    return signing.signature_valid(
        secret=car_park_key_secret(key),
        signature=signature,
        method=method,
        paths=targets,
        timestamp=timestamp,
        nonce=nonce,
        body=body,
    )


def car_park_nonce_use(*, key: CarParkKey, nonce: str) -> bool:
    """Record a request's nonce; False if this key already used it (a replayed request). One statement."""
    return parking_sql.nonce_insert(key_pk=key.pk, nonce=nonce[:64], at=timezone.now())


def car_park_key_touch(*, key: CarParkKey) -> None:
    """Record use at most once a minute (keeps a write off most requests)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
        CarParkKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def car_park_nonce_prune(*, older_than_seconds: int = 2 * signing.MAX_SKEW_SECONDS) -> int:
    """Forget nonces older than the signature's time window (twice it by default): such a request is refused for
    its timestamp anyway."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    deleted, _rows = CarParkNonce.objects.filter(seen_at__lt=cutoff).delete()
    return deleted


__all__ = [
    "car_park_key_active",
    "car_park_key_create",
    "car_park_key_get",
    "car_park_key_list",
    "car_park_key_revoke",
    "car_park_key_secret",
    "car_park_key_touch",
    "car_park_key_verify",
    "car_park_nonce_prune",
    "car_park_nonce_use",
]
