"""Reads of the online mall's carts and checkouts (docs/design/online-mall.md §3.2, §5.1, §10): a member's cart, a
member's checkout with its orders and lines, and the checkouts whose payment window has passed (the expiry job).
Every read of a member's rows is scoped by that member: another member's id reads as absent."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from .models import CartItem, Checkout, Order, OrderLine
from .types import CheckoutState

MAX_CART_ITEMS = 100


def cart_items(*, member_id: int) -> QuerySet[CartItem]:
    """The member's cart, newest change first, with each SKU's product and its merchant."""
    return (
        CartItem.objects.filter(member_id=member_id)
        .select_related("sku__product__merchant")
        .order_by("-updated_at", "-pk")
    )


def cart_count(*, member_id: int) -> int:
    return CartItem.objects.filter(member_id=member_id).count()


def checkout_get(*, member_id: int, checkout_id: int) -> Checkout | None:
    return Checkout.objects.filter(pk=checkout_id, member_id=member_id).first()


def checkout_by_number(*, member_id: int, number: str) -> Checkout | None:
    return Checkout.objects.filter(number=number, member_id=member_id).first() if number else None


def checkout_by_key(*, member_id: int, key: str) -> Checkout | None:
    return Checkout.objects.filter(member_id=member_id, idempotency_key=key).first()


def checkout_orders(*, checkout_id: int) -> list[Order]:
    """A checkout's orders (one per merchant) in id order, i.e. in sub-order order."""
    return list(Order.objects.filter(checkout_id=checkout_id).order_by("pk"))


def order_lines(*, order_ids: list[int]) -> dict[int, list[OrderLine]]:
    """{order id: its lines by line number}."""
    found: dict[int, list[OrderLine]] = {i: [] for i in order_ids}
    for line in OrderLine.objects.filter(order_id__in=order_ids).order_by("order_id", "line_no"):
        found[line.order_id].append(line)
    return found


def checkouts_due(*, now: dt.datetime, limit: int) -> list[tuple[int, int, str]]:
    """(id, member id, number) of checkouts still waiting for payment past their expiry, oldest first (the partial
    index `commerce_checkout_expiry`); read without a lock — the job locks each one, skipping those held."""
    qs = Checkout.objects.filter(state=CheckoutState.PENDING_PAYMENT, expires_at__lte=now).order_by("expires_at", "pk")
    return [(pk, member_id, number) for pk, member_id, number in qs.values_list("pk", "member_id", "number")[:limit]]
