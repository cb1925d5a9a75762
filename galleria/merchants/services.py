from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction

from galleria.audit.services import audit_record, diff
from galleria.audit.types import Actor
from galleria.core.errors import ConflictError
from galleria.core.locking import lock_one

from .models import Merchant, Store

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
            "A merchant with this name already exists in this mall.",
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
            "A merchant with this name already exists in this mall.",
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
            "This unit already has a store of this merchant.", code="merchants.unit_taken", fields={"unit_no": "taken"}
        ) from exc
    return store
