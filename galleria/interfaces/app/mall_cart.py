"""The member's online-mall cart as the screens show it (no views here): lines grouped by shop, each line's picture,
price and whether it can be bought now (on sale, the shop open, enough in stock at the shop's stores), and per shop
how its sub-order may be received (pickup stores, delivery). The cart and checkout views read it; the rules that
decide are galleria.commerce's (selectors_catalog, the services' checks at placement)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from galleria.commerce import selectors_catalog, selectors_checkout
from galleria.core.money import format_cny
from galleria.merchants.selectors import store_list

from .mall_views import image_url


@dataclass
class CartLine:
    sku_id: int
    sku_code: str
    product_id: int
    title: str
    label: str
    image: str
    unit_fen: int
    quantity: int
    available: int
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def amount_fen(self) -> int:
        return self.unit_fen * self.quantity

    @property
    def unit_text(self) -> str:
        return format_cny(self.unit_fen)

    @property
    def amount_text(self) -> str:
        return format_cny(self.amount_fen)


@dataclass
class CartShop:
    merchant_id: int
    name: str
    lines: list[CartLine] = field(default_factory=list)
    is_open: bool = True
    pickup: list[tuple[int, str]] = field(default_factory=list)  # (store id, name) every line may be picked up at
    delivers: bool = False

    @property
    def ok_lines(self) -> list[CartLine]:
        return [line for line in self.lines if line.ok]

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.ok_lines)

    @property
    def total_text(self) -> str:
        return format_cny(self.total_fen)

    def ways(self) -> list[tuple[str, str]]:
        """(form value, words): pickup at each store, then delivery — the ways this sub-order may be received."""
        ways = [(f"pickup:{pk}", _("Pick up at %(store)s") % {"store": name}) for pk, name in self.pickup]
        if self.delivers:
            ways.append(("delivery", _("Delivery to my address")))
        return ways


def _shop(mall_group_id: int, merchant: Any, products: list[Any]) -> CartShop:
    shop_row = selectors_catalog.merchant_shop_get(mall_group_id=mall_group_id, merchant_id=merchant.pk)
    pickup_ids, ship_from = selectors_catalog.shop_store_ids(shop=shop_row)
    shop = CartShop(merchant_id=merchant.pk, name=merchant.name, is_open=bool(shop_row and shop_row.is_open))
    if pickup_ids and all(p.allow_pickup for p in products):
        names = {s.pk: s.name for s in store_list(merchant_id=merchant.pk)}
        shop.pickup = [(pk, names.get(pk, "")) for pk in pickup_ids]
    shop.delivers = ship_from is not None and all(p.allow_delivery for p in products)
    return shop


def cart_shops(*, member_id: int, mall_group_id: int) -> list[CartShop]:
    """The cart by shop (shops in the order their newest line was added), each line checked."""
    items = list(selectors_checkout.cart_items(member_id=member_id))
    if not items:
        return []
    listed = set(
        selectors_catalog.listed(mall_group_id=mall_group_id)
        .filter(pk__in={i.sku.product_id for i in items})
        .values_list("pk", flat=True)
    )
    by_merchant: dict[int, list[Any]] = {}
    for item in items:
        by_merchant.setdefault(int(item.sku.product.merchant_id or 0), []).append(item)
    shops: list[CartShop] = []
    for merchant_id, rows in by_merchant.items():
        merchant = rows[0].sku.product.merchant
        shop = _shop(mall_group_id, merchant, [r.sku.product for r in rows])
        stores = selectors_catalog.sellable_store_ids(mall_group_id=mall_group_id, merchant_id=merchant_id)
        available = selectors_catalog.sku_available(sku_ids=[r.sku_id for r in rows], store_ids=stores)
        for item in rows:
            sku, product = item.sku, item.sku.product
            line = CartLine(
                sku_id=sku.pk,
                sku_code=sku.code,
                product_id=product.pk,
                title=product.title,
                label=sku.name or " / ".join(str(v) for v in dict(sku.options).values()),
                image=image_url(product.pk, product.image_sha),
                unit_fen=sku.price_fen,
                quantity=item.quantity,
                available=available.get(sku.pk, 0),
            )
            if not shop.is_open:
                line.problem = _("The shop is closed now.")
            elif product.pk not in listed or not sku.is_active:
                line.problem = _("No longer on sale.")
            elif line.available <= 0:
                line.problem = _("Sold out.")
            elif line.available < line.quantity:
                line.problem = _("Only %(n)s left: lower the quantity.") % {"n": line.available}
            shop.lines.append(line)
        shops.append(shop)
    return shops
