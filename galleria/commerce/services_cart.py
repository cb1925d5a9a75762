"""The member's cart of the online mall (docs/design/online-mall.md §3.2, §9): SKUs and quantities, nothing else.

A cart line is a row per (member, SKU) (a unique constraint), 1–99 units (a CHECK), at most 100 rows per member.
The cart promises nothing: prices, stock, coupons and points are decided by the checkout's quote and placement
(services_checkout.py), which deletes the lines it bought. Adding checks that the SKU is on sale in the member's
mall group now; a line whose product went off sale later stays, and the cart page shows it as unavailable.
Setting a quantity is idempotent (a retried request sets the same number); adding adds (the "+" button)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from galleria.core import timeutil
from galleria.core.errors import ConflictError

from . import exceptions, rules
from .models import CartItem, Sku
from .selectors_checkout import MAX_CART_ITEMS, cart_count
from .types import ProductStatus, ShopChannel

MAX_UNITS = 99

__all__ = ["MAX_UNITS", "cart_add", "cart_clear", "cart_remove", "cart_set"]


def _quantity_error() -> exceptions.QuantityInvalidError:
    message = _("Choose a quantity between 1 and %(n)s.") % {"n": MAX_UNITS}
    return exceptions.QuantityInvalidError(message, fields={"quantity": message})


def _sellable_sku(*, mall_group_id: int, sku_id: int) -> Sku:
    """An active SKU of an online product of the group that is on sale now and not taken down."""
    sku = (
        Sku.objects.select_related("product")
        .filter(pk=sku_id, product__mall_group_id=mall_group_id, product__shop=ShopChannel.ONLINE)
        .first()
    )
    if sku is None:
        raise exceptions.ProductNotFoundError()
    product = sku.product
    if product.is_blocked:
        raise exceptions.ProductBlockedError()
    on_sale = rules.on_sale(
        status=product.status,
        on_sale_from=product.on_sale_from,
        on_sale_until=product.on_sale_until,
        at=timeutil.now(),
    )
    if not sku.is_active or not on_sale or product.status != ProductStatus.ON_SALE:
        raise exceptions.NotOnSaleError()
    return sku


def _full() -> ConflictError:
    return ConflictError(
        _("Your cart is full (%(n)s items). Remove something first.") % {"n": MAX_CART_ITEMS}, code="commerce.cart_full"
    )


def cart_set(*, member_id: int, mall_group_id: int, sku_id: int, quantity: int) -> CartItem | None:
    """The cart holds `quantity` of the SKU (0 removes it; None comes back then). Idempotent."""
    if quantity == 0:
        cart_remove(member_id=member_id, sku_ids=[sku_id])
        return None
    if not 1 <= quantity <= MAX_UNITS:
        raise _quantity_error()
    sku = _sellable_sku(mall_group_id=mall_group_id, sku_id=sku_id)
    with transaction.atomic(durable=True):
        if CartItem.objects.filter(member_id=member_id, sku_id=sku.pk).update(quantity=quantity):
            return CartItem.objects.get(member_id=member_id, sku_id=sku.pk)
        if cart_count(member_id=member_id) >= MAX_CART_ITEMS:
            raise _full()
        try:
            with transaction.atomic():
                return CartItem.objects.create(member_id=member_id, sku_id=sku.pk, quantity=quantity)
        except IntegrityError:  # a concurrent request added it first: set it
            CartItem.objects.filter(member_id=member_id, sku_id=sku.pk).update(quantity=quantity)
            return CartItem.objects.get(member_id=member_id, sku_id=sku.pk)


def cart_add(*, member_id: int, mall_group_id: int, sku_id: int, quantity: int = 1) -> CartItem:
    """Add `quantity` units of the SKU (a new line, or more of an existing one: never above 99 in all)."""
    if not 1 <= quantity <= MAX_UNITS:
        raise _quantity_error()
    sku = _sellable_sku(mall_group_id=mall_group_id, sku_id=sku_id)
    with transaction.atomic(durable=True):
        rows = CartItem.objects.filter(member_id=member_id, sku_id=sku.pk, quantity__lte=MAX_UNITS - quantity)
        if rows.update(quantity=F("quantity") + quantity):
            return CartItem.objects.get(member_id=member_id, sku_id=sku.pk)
        if CartItem.objects.filter(member_id=member_id, sku_id=sku.pk).exists():
            raise _quantity_error()
        if cart_count(member_id=member_id) >= MAX_CART_ITEMS:
            raise _full()
        try:
            with transaction.atomic():
                return CartItem.objects.create(member_id=member_id, sku_id=sku.pk, quantity=quantity)
        except IntegrityError:  # a concurrent add created the line: add to it
            rows.update(quantity=F("quantity") + quantity)
            return CartItem.objects.get(member_id=member_id, sku_id=sku.pk)


def cart_remove(*, member_id: int, sku_ids: list[int]) -> int:
    """Remove the member's lines of these SKUs; returns how many were there."""
    deleted, _rows = CartItem.objects.filter(member_id=member_id, sku_id__in=sku_ids).delete()
    return deleted


def cart_clear(*, member_id: int) -> int:
    deleted, _rows = CartItem.objects.filter(member_id=member_id).delete()
    return deleted
