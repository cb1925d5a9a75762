"""What the console and the member app both show of a points-mall item and order: the member card (the console's
editor previews exactly what the app lists), state labels and the problem codes in words. No business logic: the
numbers come from galleria.commerce."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from galleria.core.money import format_cny

PROBLEMS: dict[str, Promise] = {
    "commerce.not_found": _("This item is not in the points mall."),
    "commerce.not_on_sale": _("This item is not on sale now."),
    "commerce.out_of_stock": _("Sorry, this item has run out."),
    "commerce.limit_reached": _("You have reached the limit for this item."),
    "commerce.daily_limit_reached": _("You have reached today's limit for this item. Come back tomorrow."),
    "commerce.tier_required": _("This item is for members of a higher tier."),
    "commerce.closed": _("The points mall is not open."),
    "commerce.quantity_invalid": _("Choose a quantity between 1 and 10."),
    "commerce.address_required": _("Enter the name, phone and address to deliver to."),
    "commerce.fulfilment_invalid": _("This item cannot be received that way."),
    "commerce.points_price_invalid": _("This item cannot be exchanged now. Please ask the service desk."),
    "commerce.price_changed": _("The price of this item changed. Please check it and confirm again."),
    "commerce.cannot_cancel": _("This order can no longer be cancelled."),
    "commerce.coupon_used": _("The coupon of this order has been used: the order cannot be cancelled."),
    "commerce.wrong_state": _("This order is not in a state that allows this."),
    "commerce.pickup_code_invalid": _("No order has this pickup code. Check the digits and try again."),
    "commerce.pickup_code_used": _("This pickup code has already been used: the gift was handed over."),
    "commerce.idempotency_conflict": _("This form was already sent with other details. Please start again."),
    "commerce.nothing_to_pay": _("Points pay it all: choose the wallet to confirm."),
    "points.insufficient": _("You do not have enough points."),
    "ledger.insufficient": _("Your wallet or points balance does not hold enough."),
    "wallet.insufficient": _("Your wallet does not hold enough. Top it up, or pay by WeChat Pay or Alipay."),
    "coupon.sold_out": _("The coupons of this item have run out."),
    "payments.provider_not_configured": _("This way of paying is not available now. Please choose another."),
    "payments.gateway_unavailable": _("The payment service did not answer. Please try again in a moment."),
    "payments.gateway_refused": _("The payment service refused this payment. Nothing was charged."),
    "payments.idempotency_conflict": _("This form has expired. Please check and confirm again."),
}

# (state, fulfilment) → what the member and the desk read
STATE_LABELS: dict[tuple[str, str], Promise] = {
    ("paid", "pickup"): pgettext_lazy("points mall order", "Ready for pickup"),
    ("paid", "delivery"): pgettext_lazy("points mall order", "To be shipped"),
    ("shipped", "delivery"): pgettext_lazy("points mall order", "Shipped"),
    ("completed", "pickup"): pgettext_lazy("points mall order", "Picked up"),
    ("completed", "delivery"): pgettext_lazy("points mall order", "Delivered"),
    ("completed", "coupon"): pgettext_lazy("points mall order", "Coupon issued"),
    ("pending_payment", ""): pgettext_lazy("points mall order", "Waiting for payment"),
}
STATE_BADGES = {"paid": "badge-primary", "shipped": "badge-primary", "completed": "badge-ok", "cancelled": ""}


def problem_text(code: str, default: Any = "") -> str:
    return str(PROBLEMS.get(code, default or code))


def state_label(state: str, fulfilment: str) -> str:
    if state == "cancelled":
        return str(pgettext_lazy("points mall order", "Cancelled"))
    label = STATE_LABELS.get((state, fulfilment)) or STATE_LABELS.get((state, ""))
    return str(label) if label is not None else state


def price_text(points: int, fen: int) -> str:
    """1,000 points (+ ¥9.90)."""
    text = _("%(points)s points") % {"points": f"{points:,}"}
    return f"{text} + {format_cny(fen)}" if fen else str(text)


def image_url(product: Any) -> str:
    if not getattr(product, "image_sha", ""):
        return ""
    return reverse("app:points_mall_image", args=[product.pk, product.image_sha])


@dataclass(frozen=True)
class Card:
    """An item as the app lists it (and the console's preview shows it)."""

    product_id: int | None
    title: str
    subtitle: str
    kind: str
    points: int
    cash_fen: int
    stock: int
    tier_name: str
    category: str
    image: str
    on_sale: bool

    @property
    def price(self) -> str:
        return price_text(self.points, self.cash_fen)

    @property
    def cash_text(self) -> str:
        return format_cny(self.cash_fen) if self.cash_fen else ""

    @property
    def sold_out(self) -> bool:
        return self.stock <= 0

    @property
    def low_stock(self) -> bool:
        return 0 < self.stock <= 10


def card_of(product: Any, sku: Any, *, on_sale: bool = True) -> Card:
    return Card(
        product_id=product.pk,
        title=product.title,
        subtitle=product.subtitle,
        kind=product.kind,
        points=sku.price_points if sku else 0,
        cash_fen=sku.price_fen if sku else 0,
        stock=sku.stock if sku else 0,
        tier_name=product.min_tier.name if product.min_tier_id and product.min_tier else "",
        category=product.category.name if product.category_id and product.category else "",
        image=image_url(product),
        on_sale=on_sale,
    )
