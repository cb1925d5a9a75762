from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from galleria.malls.models import Mall, MallGroup

from . import sql as merchants_sql
from .models import Category, Merchant, MerchantStatus, PosKey, PosTerminal, Store


def merchant_list(
    *, mall_group_id: int | None, query: str = "", category: str = "", mall_id: int | None = None, status: str = ""
) -> QuerySet[Merchant]:
    qs = Merchant.objects.select_related("mall").annotate(store_count=Count("stores")).order_by("mall_id", "name")
    if mall_group_id is not None:
        qs = qs.filter(mall__group_id=mall_group_id)
    if query:
        q = query.strip()[:50]
        qs = qs.filter(Q(name__icontains=q) | Q(contract_no__icontains=q) | Q(stores__unit_no__icontains=q)).distinct()
    if category:
        qs = qs.filter(category=category)
    if mall_id:
        qs = qs.filter(mall_id=mall_id)
    if status:
        qs = qs.filter(status=status)
    return qs


def merchant_get(*, mall_group_id: int | None, merchant_id: int) -> Merchant:
    qs = Merchant.objects.select_related("mall")
    if mall_group_id is not None:
        qs = qs.filter(mall__group_id=mall_group_id)
    return qs.get(pk=merchant_id)


def store_list(*, merchant_id: int) -> QuerySet[Store]:
    return Store.objects.filter(merchant_id=merchant_id).order_by("floor", "unit_no")


# ---------------------------------------------------------------- console: malls, pickers, form checks
# (mall reads live here until galleria.malls grows a selectors module)


def mall_group_list(*, mall_group_id: int | None) -> QuerySet[MallGroup]:
    """The mall groups a scope sees: its own, or every group (platform admins)."""
    qs = MallGroup.objects.order_by("name", "id")
    if mall_group_id is not None:
        qs = qs.filter(pk=mall_group_id)
    return qs


def mall_list(*, mall_group_id: int | None) -> QuerySet[Mall]:
    """The malls of a scope's group (every mall for platform admins), grouped and by name."""
    qs = Mall.objects.select_related("group").order_by("group__name", "group_id", "name", "id")
    if mall_group_id is not None:
        qs = qs.filter(group_id=mall_group_id)
    return qs


def merchant_options(*, mall_group_id: int | None) -> QuerySet[Merchant]:
    """Merchants for a picker (staff roles, filters): plain rows, mall and group joined, by mall then name."""
    qs = Merchant.objects.select_related("mall", "mall__group").order_by("mall__group_id", "mall_id", "name", "id")
    if mall_group_id is not None:
        qs = qs.filter(mall__group_id=mall_group_id)
    return qs


def merchant_name_taken(*, mall_id: int, name: str, exclude_id: int | None = None) -> bool:
    qs = Merchant.objects.filter(mall_id=mall_id, name=name.strip())
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


def store_get(*, merchant_id: int, store_id: int) -> Store:
    return Store.objects.get(pk=store_id, merchant_id=merchant_id)


def store_for_payments(*, store_id: int, mall_group_id: int) -> Store | None:
    """An active store of an active merchant of the group (with merchant, mall and group loaded), or None: where a
    member may pay in the app (pay at store)."""
    return (
        Store.objects.select_related("merchant__mall__group")
        .filter(
            pk=store_id,
            is_active=True,
            merchant__status=MerchantStatus.ACTIVE,
            merchant__mall__group_id=mall_group_id,
        )
        .first()
    )


def stores_for_payments(*, mall_group_id: int) -> QuerySet[Store]:
    """Every store where members may pay in the app, by mall, floor and unit."""
    return (
        Store.objects.select_related("merchant__mall")
        .filter(is_active=True, merchant__status=MerchantStatus.ACTIVE, merchant__mall__group_id=mall_group_id)
        .order_by("merchant__mall_id", "floor", "unit_no", "pk")
    )


def store_unit_taken(*, merchant_id: int, unit_no: str, exclude_id: int | None = None) -> bool:
    qs = Store.objects.filter(merchant_id=merchant_id, unit_no=unit_no.strip())
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


_loaded_keys: dict[str, tuple[PosKey, str]] = {}


def pos_key_active(*, key_id: str) -> PosKey | None:
    """A usable key (not revoked; terminal and store active; merchant not terminated) with its terminal, store,
    merchant, mall and mall group. Usability and the group's config token are read on every call (one small
    query: a revocation takes effect at once); the related rows are loaded once per process and reloaded when
    the group's configuration token changes (malls are part of the configuration)."""
    if not key_id or len(key_id) > 40:
        return None
    usable = merchants_sql.usable_key(key_id, terminated=MerchantStatus.TERMINATED)
    if usable is None:
        _loaded_keys.pop(key_id, None)
        return None
    pk, last_used_at, token = usable
    hit = _loaded_keys.get(key_id)
    if hit is None or hit[0].pk != pk or hit[1] != token:
        key = PosKey.objects.select_related("terminal__store__merchant__mall__group").get(pk=pk)
        if len(_loaded_keys) > 10_000:
            _loaded_keys.clear()
        _loaded_keys[key_id] = (key, token)
    else:
        key = hit[0]
    key.last_used_at = last_used_at
    key.terminal.store.merchant.mall.group.config_token = token
    return key


def pos_key_cached(*, key_id: str) -> PosKey | None:
    """The key as this process last loaded it (with its terminal, store, merchant, mall and group), without a
    query; None when not loaded yet. Usability is NOT checked: a caller must check it in its own statement (the
    signed-write gate does, see merchants.services.pos_gate_claim) before anything counts."""
    hit = _loaded_keys.get(key_id) if key_id and len(key_id) <= 40 else None
    return hit[0] if hit is not None else None


def pos_key_sync_token(*, key: PosKey, token: str) -> None:
    """After a statement read the key's group's current config token: when it moved, the cached mall, group,
    merchant, store and terminal rows are re-read in place (the request's context holds those objects)."""
    group = key.terminal.store.merchant.mall.group
    if group.config_token != token:
        for row in (key.terminal, key.terminal.store, key.terminal.store.merchant, key.terminal.store.merchant.mall):
            row.refresh_from_db()
        group.refresh_from_db()
    group.config_token = token
    _loaded_keys[key.key_id] = (key, token)


def pos_key_list(*, mall_group_id: int | None = None, merchant_id: int | None = None) -> QuerySet[PosKey]:
    qs = PosKey.objects.select_related("terminal__store__merchant").order_by("-created_at")
    if merchant_id is not None:
        qs = qs.filter(terminal__store__merchant_id=merchant_id)
    if mall_group_id is not None:
        qs = qs.filter(terminal__store__merchant__mall__group_id=mall_group_id)
    return qs


def pos_terminal_list(*, merchant_id: int) -> QuerySet[PosTerminal]:
    return PosTerminal.objects.select_related("store").filter(store__merchant_id=merchant_id).order_by("store_id", "id")


def merchant_categories() -> list[tuple[str, str]]:
    """(code, label) of every merchant category."""
    return [(str(code), str(label)) for code, label in Category.choices]
