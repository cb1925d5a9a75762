from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record, diff
from galleria.audit.types import Actor
from galleria.core import sql
from galleria.core.errors import ConflictError
from galleria.core.locking import lock_one

from . import rules
from . import sql as merchants_sql
from .models import Merchant, MerchantStatus, PosKey, PosNonce, PosTerminal, Store

MERCHANT_FIELDS = (
    "name",
    "category",
    "status",
    "legal_name",
    "credit_code",
    "contact_name",
    "contact_phone",
    "contract_no",
    "contract_starts_on",
    "contract_ends_on",
    "commission_bp",
    "area_m2",
    "short_description",
    "opens_at",
    "closes_at",
)
STORE_FIELDS = ("name", "floor", "unit_no", "phone", "is_active")


def _audit(actor: Actor, action: str, obj: Merchant | Store, group_id: int, changes: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=action,
        target_type=obj._meta.model_name or "",
        target_id=obj.pk,
        target_label=str(obj),
        mall_group_id=group_id,
        changes=changes,
    )


def merchant_create(*, actor: Actor, mall_id: int, values: Mapping[str, Any]) -> Merchant:
    data = {k: v for k, v in values.items() if k in MERCHANT_FIELDS}
    try:
        with transaction.atomic(durable=True):
            merchant = Merchant(mall_id=mall_id, **data)
            merchant.full_clean()
            merchant.save()
            _audit(actor, "merchant.create", merchant, merchant.mall.group_id, diff({}, data))
    except IntegrityError as exc:
        raise ConflictError(
            _("A merchant with this name already exists in this mall."),
            code="merchants.name_taken",
            fields={"name": "taken"},
        ) from exc
    return merchant


def merchant_update(*, actor: Actor, merchant_id: int, values: Mapping[str, Any]) -> Merchant:
    try:
        with transaction.atomic(durable=True):
            merchant = lock_one(Merchant.objects.filter(pk=merchant_id))
            data = {k: v for k, v in values.items() if k in MERCHANT_FIELDS}
            before = {k: getattr(merchant, k) for k in data}
            for key, value in data.items():
                setattr(merchant, key, value)
            merchant.full_clean()
            merchant.save()
            changes = diff(before, data)
            if changes:
                _audit(actor, "merchant.update", merchant, merchant.mall.group_id, changes)
    except IntegrityError as exc:
        raise ConflictError(
            _("A merchant with this name already exists in this mall."),
            code="merchants.name_taken",
            fields={"name": "taken"},
        ) from exc
    return merchant


def store_save(*, actor: Actor, merchant_id: int, store_id: int | None, values: Mapping[str, Any]) -> Store:
    data = {k: v for k, v in values.items() if k in STORE_FIELDS}
    try:
        with transaction.atomic(durable=True):
            merchant = lock_one(Merchant.objects.select_related("mall").filter(pk=merchant_id))
            if store_id is None:
                store = Store(merchant=merchant, **data)
                before: dict[str, Any] = {}
            else:
                store = Store.objects.get(pk=store_id, merchant=merchant)
                before = {k: getattr(store, k) for k in data}
                for key, value in data.items():
                    setattr(store, key, value)
            store.full_clean()
            store.save()
            _audit(actor, "store.save", store, merchant.mall.group_id, diff(before, data))
    except IntegrityError as exc:
        raise ConflictError(
            _("This unit already has a store of this merchant."),
            code="merchants.unit_taken",
            fields={"unit_no": "taken"},
        ) from exc
    return store


# ---------------------------------------------------------------- POS API keys


def pos_key_secret(key: PosKey) -> str:
    return rules.derive_secret(master=_pos_master(), key_id=key.key_id, salt=key.salt)


def _pos_master() -> str:
    return settings.GALLERIA_POS_KEY_SECRET or settings.SECRET_KEY


def pos_key_create(*, actor: Actor, terminal_id: int, label: str = "") -> tuple[PosKey, str]:
    """Create a key for a terminal. Returns the key and its secret — the only time the secret is available."""
    with transaction.atomic(durable=True):
        terminal = PosTerminal.objects.select_related("store__merchant__mall").get(pk=terminal_id)
        key = PosKey.objects.create(
            terminal=terminal,
            key_id="pk_" + secrets.token_hex(12),
            salt=secrets.token_hex(16),
            label=label.strip()[:60],
            created_by=actor.label[:100],
        )
        audit_record(
            actor=actor,
            action="pos_key.create",
            target_type="poskey",
            target_id=key.pk,
            target_label=key.key_id,
            mall_group_id=terminal.store.merchant.mall.group_id,
            changes={"terminal": [None, terminal.name]},
        )
    return key, pos_key_secret(key)


def pos_key_revoke(*, actor: Actor, key_pk: int) -> PosKey:
    with transaction.atomic(durable=True):
        key = lock_one(PosKey.objects.select_related("terminal__store__merchant__mall").filter(pk=key_pk))
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                action="pos_key.revoke",
                target_type="poskey",
                target_id=key.pk,
                target_label=key.key_id,
                mall_group_id=key.terminal.store.merchant.mall.group_id,
            )
    return key


def pos_nonce_use(*, key: PosKey, nonce: str) -> bool:
    """Record a nonce; False if this key already used it (a replay). One statement: the unique index decides.

    On its own (autocommit, PostgreSQL) the insert commits asynchronously: a read-only request (a lookup, a quote)
    or one that wrote nothing (a failed or replayed write) does not wait for the WAL flush. A database crash can
    then forget the last fraction of a second of such nonces, so those exact requests could be sent again within
    their five minutes and change nothing. A write's nonce commits with the write (core.idempotency.Gate).
    """
    relaxed = connection.vendor == "postgresql" and not connection.in_atomic_block
    return merchants_sql.insert_nonce(key_pk=key.pk, nonce=nonce, at=timezone.now(), relaxed=relaxed)


def pos_gate_claim(*, key: PosKey, nonce: str) -> sql.Claim:
    """The nonce claim of a signed write, run inside the idempotency record's statement, that also re-checks the
    key: the nonce is inserted only if the key, its terminal, store and merchant are still usable (a revocation
    takes effect at once, with the key's rows taken from the process cache), and the statement hands back the
    group's current config token. Not granted: the nonce was used, or the key is no longer usable (the caller
    tells which)."""
    return merchants_sql.usable_key_nonce_claim(
        key_id=key.key_id, terminated=MerchantStatus.TERMINATED, nonce=nonce, at=timezone.now()
    )


def pos_nonce_claim(*, key: PosKey, nonce: str) -> sql.Claim:
    """The nonce's claim, for a caller that runs it inside its own statement (core.idempotency.Gate): granted
    when the nonce is new, not when this key already used it."""
    return merchants_sql.nonce_claim(key_pk=key.pk, nonce=nonce, at=timezone.now())


def pos_key_touch(*, key: PosKey) -> None:
    """Record use at most once a minute (keeps a write off most requests)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > dt.timedelta(minutes=1):
        PosKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now  # the process cache's copy too


def pos_nonce_prune(*, older_than_seconds: int = 2 * rules.MAX_SKEW_SECONDS) -> int:
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    deleted, _ = PosNonce.objects.filter(seen_at__lt=cutoff).delete()
    return deleted


def pos_terminal_create(*, actor: Actor, store_id: int, name: str) -> PosTerminal:
    with transaction.atomic(durable=True):
        store = Store.objects.select_related("merchant__mall").get(pk=store_id)
        terminal = PosTerminal.objects.create(store=store, name=name.strip()[:60] or "POS")
        audit_record(
            actor=actor,
            action="pos_terminal.create",
            target_type="posterminal",
            target_id=terminal.pk,
            target_label=terminal.name,
            mall_group_id=store.merchant.mall.group_id,
        )
    return terminal
