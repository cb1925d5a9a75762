"""Building an online checkout (docs/design/online-mall.md §5.1, §5.3), the part of placement that needs no lock:
the member's choices as typed values (`PlaceIn`), their checks (the mall and shops open, each SKU on sale, one
fulfilment and one store per merchant, the address), the unsaved orders and lines, the pipeline's cart of them
(`cart_in_of`: placement quotes it, the payment commits it from the stored rows) and the stock rows they take.
services_checkout.py holds the use cases."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from galleria.core import timeutil
from galleria.core.errors import ConflictError, ValidationError
from galleria.sales.types import CartIn, CartPartIn, CartQuote, LineIn

from . import exceptions, rules, selectors_catalog
from .models import Order, OrderLine, Sku, SkuStock
from .types import Address, Fulfilment, OrderState, PayMethod, ProductStatus, ShopChannel

MAX_LINES = 50
GATEWAYS = (PayMethod.WECHAT, PayMethod.ALIPAY)
MAX_UNITS = 99

__all__ = [
    "GATEWAYS",
    "CheckoutLineIn",
    "Part",
    "PlaceIn",
    "ShopChoiceIn",
    "cart_in_of",
    "fill",
    "new_number",
    "order_rows",
    "part_coupons",
    "prepare",
    "rest_method",
    "stock_ids",
    "stock_of",
]


@dataclass(frozen=True)
class CheckoutLineIn:
    sku_id: int
    quantity: int


@dataclass(frozen=True)
class ShopChoiceIn:
    """How one merchant's sub-order is received: `pickup` at `store_id` (one of the shop's pickup stores) or
    `delivery` from the shop's ship-from store; the member's coupons for this shop."""

    merchant_id: int
    fulfilment: str
    store_id: int | None = None
    coupon_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class PlaceIn:
    """A checkout as the member confirmed it: the lines, per shop how it is received and its coupons, the one
    cross-shop coupon, the points, the payment method and `rest_fen`, the money the confirmation page showed
    (a different figure now is PriceChangedError, never a silent charge)."""

    member_id: int
    mall_group_id: int
    lines: tuple[CheckoutLineIn, ...]
    shops: tuple[ShopChoiceIn, ...]
    pay_method: str
    rest_fen: int
    points: int = 0
    cart_coupon_id: int | None = None
    address: Address | None = None


@dataclass
class Part:
    """One merchant's sub-order as prepared (no lock): its store, how it is received, its lines (SKU, units)."""

    merchant_id: int
    store_id: int
    fulfilment: str
    coupon_ids: tuple[int, ...]
    tz_name: str | None
    lines: list[tuple[Sku, int]]
    number: str = ""


# ------------------------------------------------------------------------------------------------- prepare


def new_number(prefix: str, at: dt.datetime, tz_name: str | None) -> str:
    """OC/ON + yymmdd (mall-local) + 10 random digits: unique (a constraint backs it), not guessable."""
    return f"{prefix}{timeutil.local_date(at, tz_name):%y%m%d}{secrets.randbelow(10**10):010d}"


def _units(data: PlaceIn) -> dict[int, int]:
    """{SKU id: units}, the input's lines merged, in the order first named."""
    if not data.lines or len(data.lines) > MAX_LINES:
        raise ValidationError(_("Choose between 1 and %(n)s items.") % {"n": MAX_LINES}, code="commerce.no_lines")
    units: dict[int, int] = {}
    for line in data.lines:
        units[line.sku_id] = units.get(line.sku_id, 0) + line.quantity
    if any(not 1 <= q <= MAX_UNITS for q in units.values()) or any(line.quantity < 1 for line in data.lines):
        message = _("Choose a quantity between 1 and %(n)s.") % {"n": MAX_UNITS}
        raise exceptions.QuantityInvalidError(message, fields={"quantity": message})
    return units


def _skus(data: PlaceIn, units: dict[int, int], at: dt.datetime) -> dict[int, Sku]:
    found = {
        s.pk: s
        for s in Sku.objects.select_related("product__merchant__mall").filter(
            pk__in=list(units), product__mall_group_id=data.mall_group_id, product__shop=ShopChannel.ONLINE
        )
    }
    if len(found) != len(units):
        raise exceptions.ProductNotFoundError(extra={"sku_ids": sorted(set(units) - set(found))})
    for sku in found.values():
        product = sku.product
        if product.is_blocked:
            raise exceptions.ProductBlockedError(extra={"sku_id": sku.pk})
        on_sale = rules.on_sale(
            status=product.status, on_sale_from=product.on_sale_from, on_sale_until=product.on_sale_until, at=at
        )
        if not (sku.is_active and on_sale and product.status == ProductStatus.ON_SALE):
            raise exceptions.NotOnSaleError(extra={"sku_id": sku.pk})
    return found


def _store_for(data: PlaceIn, choice: ShopChoiceIn, skus: list[Sku]) -> int:
    """The store a sub-order is allocated at and fulfilled from (the shop open, the way allowed for every line)."""
    shop = selectors_catalog.merchant_shop_get(mall_group_id=data.mall_group_id, merchant_id=choice.merchant_id)
    if shop is None or not shop.is_open:
        raise ConflictError(_("This shop is closed now."), code="commerce.shop_closed")
    pickup, ship_from = selectors_catalog.shop_store_ids(shop=shop)
    refused = exceptions.FulfilmentInvalidError(fields={"fulfilment": exceptions.FulfilmentInvalidError().message})
    if choice.fulfilment == Fulfilment.PICKUP:
        if choice.store_id not in pickup or not all(s.product.allow_pickup for s in skus):
            raise refused
        return int(choice.store_id or 0)
    if choice.fulfilment == Fulfilment.DELIVERY:
        if ship_from is None or not all(s.product.allow_delivery for s in skus):
            raise refused
        if data.address is None:
            raise exceptions.AddressRequiredError()
        return ship_from
    raise refused


def prepare(data: PlaceIn, at: dt.datetime) -> list[Part]:
    """Every check that needs no lock; the sub-orders in merchant-id order, each line once."""
    if not selectors_catalog.online_settings_get(mall_group_id=data.mall_group_id).is_open:
        raise exceptions.OnlineClosedError()
    if data.points < 0 or data.rest_fen < 0:
        raise ValidationError(_("Check the points and the amount."), code="commerce.amount_invalid")
    units = _units(data)
    skus = _skus(data, units, at)
    by_merchant: dict[int, list[Sku]] = defaultdict(list)
    for sku_id in units:
        by_merchant[int(skus[sku_id].product.merchant_id or 0)].append(skus[sku_id])
    choices = {c.merchant_id: c for c in data.shops}
    if set(choices) != set(by_merchant) or len(choices) != len(data.shops):
        message = _("Choose how each shop's items reach you.")
        raise exceptions.FulfilmentInvalidError(message, fields={"fulfilment": message})
    parts: list[Part] = []
    for merchant_id in sorted(by_merchant):
        choice, lines = choices[merchant_id], by_merchant[merchant_id]
        parts.append(
            Part(
                merchant_id=merchant_id,
                store_id=_store_for(data, choice, lines),
                fulfilment=choice.fulfilment,
                coupon_ids=tuple(choice.coupon_ids),
                tz_name=lines[0].product.merchant.mall.timezone if lines[0].product.merchant else None,
                lines=[(sku, units[sku.pk]) for sku in lines],
            )
        )
    return parts


def part_coupons(lines: list[OrderLine]) -> tuple[int, ...]:
    """The sub-order's own coupons, as chosen at placement: kept in its line 1's `coupon_ids` (an online line
    issues no coupons, so the column is free; the payment rebuilds the cart from it)."""
    return tuple(sorted(int(c) for c in lines[0].coupon_ids)) if lines else ()


def rest_method(pay_method: str) -> str:
    """The pipeline's name of what pays the rest: nothing when points and discounts pay it all."""
    return "" if pay_method == PayMethod.POINTS else pay_method


def cart_in_of(
    *,
    member_id: int,
    number: str,
    occurred_at: dt.datetime,
    parts: list[tuple[Order, list[OrderLine]]],
    skus: dict[int, Sku],
    cart_coupon_id: int | None,
    points: int,
    rest_method: str,
    rest_fen: int | None,
    use_holds: bool,
) -> CartIn:
    """The checkout as the pipeline's cart: one part per order (its receipt number `on:<order number>`), its lines
    at the price each SKU had when the order was placed (`OrderLine.unit_fen`). Placement quotes it; the payment
    (O2) commits it from the stored rows with `use_holds`, dated `placed_at` — the same cart, so quote ≡ sale."""
    cart_parts = []
    for order, lines in parts:
        cart_parts.append(
            CartPartIn(
                merchant_id=order.merchant_id,
                store_id=order.store_id,
                pos_sale_id=f"on:{order.number}",
                lines=tuple(
                    LineIn(
                        sku=skus[line.sku_id].code,
                        name=f"{line.title} {line.sku_label}".strip()[:120],
                        quantity=line.quantity,
                        unit_price_fen=line.unit_fen,
                        amount_fen=line.unit_fen * line.quantity,
                    )
                    for line in lines
                ),
                coupon_ids=part_coupons(lines),
            )
        )
    return CartIn(
        member_id=member_id,
        occurred_at=occurred_at,
        parts=tuple(cart_parts),
        cart_key=number,
        cart_coupon_id=cart_coupon_id,
        points_to_use=points,
        rest_method=rest_method,
        rest_fen=rest_fen,
        use_holds=use_holds,
    )


def order_rows(data: PlaceIn, parts: list[Part], *, key: str, at: dt.datetime) -> list[tuple[Order, list[OrderLine]]]:
    """The unsaved orders and lines of the checkout (figures filled from the quote afterwards)."""
    address = data.address
    rows: list[tuple[Order, list[OrderLine]]] = []
    for part in parts:
        part.number = new_number("ON", at, part.tz_name)
        order = Order(
            mall_group_id=data.mall_group_id,
            shop=ShopChannel.ONLINE,
            number=part.number,
            member_id=data.member_id,
            merchant_id=part.merchant_id,
            store_id=part.store_id,
            state=OrderState.PENDING_PAYMENT,
            fulfilment=part.fulfilment,
            local_day=timeutil.local_date(at, part.tz_name),
            pay_method=data.pay_method,
            pos_sale_id=f"on:{part.number}",
            idempotency_key=f"{key}:{part.merchant_id}",
            ship_name=address.name if address and part.fulfilment == Fulfilment.DELIVERY else "",
            ship_phone=address.phone if address and part.fulfilment == Fulfilment.DELIVERY else "",
            ship_address=address.address if address and part.fulfilment == Fulfilment.DELIVERY else "",
        )
        lines = [
            OrderLine(
                line_no=i + 1,
                product=sku.product,
                sku=sku,
                title=sku.product.title[:60],
                sku_label=(sku.name or " / ".join(str(v) for v in dict(sku.options).values()))[:60],
                quantity=quantity,
                unit_fen=sku.price_fen,
                amount_fen=sku.price_fen * quantity,
                coupon_ids=sorted(part.coupon_ids) if i == 0 else [],
            )
            for i, (sku, quantity) in enumerate(part.lines)
        ]
        rows.append((order, lines))
    return rows


def fill(rows: list[tuple[Order, list[OrderLine]]], quote: CartQuote) -> None:
    """Each order's and line's figures from the quote (per sub-order, in sub-order order)."""
    for (order, lines), part in zip(rows, quote.parts, strict=True):
        order.goods_fen = part.total_fen
        order.discount_fen = part.discount_fen
        order.cart_discount_fen = part.cart_discount_fen
        order.total_points = part.points
        order.points_value_fen = part.points_value_fen
        order.cash_fen = part.rest_fen
        order.wallet_fen = part.rest_fen if order.pay_method == PayMethod.WALLET else 0
        order.gateway_fen = part.rest_fen if order.pay_method in GATEWAYS else 0
        order.points_earned = part.points_to_earn
        for line, discount in zip(lines, part.line_discounts, strict=True):
            line.discount_fen = discount


def stock_ids(pairs: dict[tuple[int, int], int]) -> dict[int, int]:
    """{stock row id: units} of {(SKU, store): units}; a pair with no stock row there is out of stock."""
    rows = SkuStock.objects.filter(sku_id__in={s for s, _ in pairs}, store_id__in={st for _, st in pairs}).values_list(
        "pk", "sku_id", "store_id"
    )
    ids = {(sku_id, store_id): pk for pk, sku_id, store_id in rows}
    missing = sorted(sku for sku, store in pairs if (sku, store) not in ids)
    if missing:
        raise exceptions.OutOfStockError(extra={"sku_ids": missing})
    return {ids[pair]: q for pair, q in pairs.items()}


def stock_of(rows: list[tuple[Order, list[OrderLine]]]) -> dict[tuple[int, int], int]:
    pairs: dict[tuple[int, int], int] = defaultdict(int)
    for order, lines in rows:
        for line in lines:
            pairs[(line.sku_id, order.store_id)] += line.quantity
    return dict(pairs)
