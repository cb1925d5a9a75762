"""The online mall's checkout form, read and quoted (no views here; docs/design/online-mall.md §5.1, §9).

The form is plain HTML that works without a script: per shop how its sub-order is received (`way_<merchant>`:
`pickup:<store>` or `delivery`) and its coupon (`coupon_<merchant>`), the one cross-shop coupon (`cart_coupon`), the
points, the address when something is delivered, how to pay, the form's idempotency key, and the figures the page
showed (`shown_rest`): placement refuses a different amount (`commerce.price_changed`), and the page then shows the
new figures. The quote, the coupons' reasons and every rule are galleria.commerce's and the pipeline's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from galleria.commerce import services_checkout as checkout
from galleria.commerce.types import Address
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.coupons import selectors as coupon_selectors
from galleria.coupons.rules import CART_KINDS
from galleria.coupons.types import BasketLine
from galleria.sales.types import CartQuote

from ..coupon_text import error_text, reason_message
from .mall_cart import CartShop

MAX_POINTS_INPUT = 10**9
MAX_CART_COUPONS = 6  # cross-shop coupons evaluated on the page (each is one quote)


@dataclass
class Choices:
    ways: dict[int, str]
    coupons: dict[int, int | None]
    cart_coupon: int | None
    points: int
    name: str
    phone: str
    address: str
    method: str
    key: str
    shown_rest: int | None
    errors: dict[str, str] = field(default_factory=dict)


def _int_or_none(raw: object, limit: int = 10**12) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 13 and int(text) <= limit else None


def read_choices(data: Mapping[str, Any], shops: list[CartShop], *, first: bool) -> Choices:
    """The form as typed (`first`: the page's first view, nothing typed yet: each shop's first way, no points)."""
    ways: dict[int, str] = {}
    coupons: dict[int, int | None] = {}
    for shop in shops:
        allowed = [value for value, _words in shop.ways()]
        wanted = str(data.get(f"way_{shop.merchant_id}") or "")
        ways[shop.merchant_id] = wanted if wanted in allowed else (allowed[0] if allowed else "")
        coupons[shop.merchant_id] = _int_or_none(data.get(f"coupon_{shop.merchant_id}"))
    errors: dict[str, str] = {}
    raw_points = str(data.get("points") or "").strip()
    points = _int_or_none(raw_points, MAX_POINTS_INPUT) if raw_points else 0
    if points is None:
        errors["points"] = _("Enter a whole number of points.")
        points = 0
    key = str(data.get("key") or "")
    return Choices(
        ways=ways,
        coupons=coupons,
        cart_coupon=_int_or_none(data.get("cart_coupon")),
        points=points,
        name=str(data.get("name") or "").strip()[:40],
        phone=str(data.get("phone") or "").strip()[:20],
        address=str(data.get("address") or "").strip()[:200],
        method=str(data.get("method") or "")[:10],
        key=key if 16 <= len(key) <= 40 and key.isalnum() else uuid.uuid4().hex,
        shown_rest=None if first else _int_or_none(data.get("shown_rest")),
        errors=errors,
    )


def delivers(choices: Choices) -> bool:
    return any(way == "delivery" for way in choices.ways.values())


QUOTE_ADDRESS = Address("-", "-", "-")  # a quote needs no address: placement asks for the real one


def place_in(
    *,
    member_id: int,
    mall_group_id: int,
    shops: list[CartShop],
    choices: Choices,
    pay_method: str,
    rest_fen: int,
    for_quote: bool = False,
) -> checkout.PlaceIn:
    lines = [checkout.CheckoutLineIn(line.sku_id, line.quantity) for shop in shops for line in shop.ok_lines]
    picks = []
    for shop in shops:
        way = choices.ways.get(shop.merchant_id, "")
        store = int(way.split(":", 1)[1]) if way.startswith("pickup:") and way[7:].isdigit() else None
        coupon = choices.coupons.get(shop.merchant_id)
        picks.append(
            checkout.ShopChoiceIn(
                merchant_id=shop.merchant_id,
                fulfilment="pickup" if store is not None else "delivery",
                store_id=store,
                coupon_ids=(coupon,) if coupon else (),
            )
        )
    address = None
    if delivers(choices) and choices.name and choices.phone and choices.address:
        address = Address(choices.name, choices.phone, choices.address)
    elif delivers(choices) and for_quote:
        address = QUOTE_ADDRESS
    return checkout.PlaceIn(
        member_id=member_id,
        mall_group_id=mall_group_id,
        lines=tuple(lines),
        shops=tuple(picks),
        pay_method=pay_method,
        rest_fen=rest_fen,
        points=choices.points,
        cart_coupon_id=choices.cart_coupon,
        address=address,
    )


def error_field(exc: ApplicationError) -> str:
    """Where the page shows a quote's or placement's refusal."""
    code = exc.code
    if code.startswith("points."):
        return "points"
    if code.startswith("coupon."):
        return "coupons"
    if code in ("commerce.address_required",):
        return "address"
    if code in ("commerce.fulfilment_invalid", "commerce.shop_closed"):
        return "ways"
    if code == "commerce.pay_method_invalid":
        return "method"
    return "form"


def problem_text(exc: ApplicationError) -> str:
    return error_text(exc)


@dataclass
class Quoted:
    quote: CartQuote | None
    errors: dict[str, str]
    dropped: list[str]  # what the page left out to show figures at all (a refused coupon, the points)


def quote(*, member_id: int, mall_group_id: int, shops: list[CartShop], choices: Choices, pay_method: str) -> Quoted:
    """The quote of the choices; when a chosen coupon or the points are refused, the reason goes next to them and
    the figures are those without them (the member sees why and what it costs otherwise)."""
    errors = dict(choices.errors)
    attempts: list[tuple[Choices, list[str]]] = [(choices, [])]
    if choices.points:
        attempts.append((_replace(choices, points=0), ["points"]))
    if choices.cart_coupon or any(choices.coupons.values()):
        no_coupons = _replace(choices, cart_coupon=None, coupons={k: None for k in choices.coupons})
        attempts.append((no_coupons, ["coupons"]))
        attempts.append((_replace(no_coupons, points=0), ["coupons", "points"]))
    for attempt, dropped in attempts:
        data = place_in(
            member_id=member_id,
            mall_group_id=mall_group_id,
            shops=shops,
            choices=attempt,
            pay_method=pay_method,
            rest_fen=0,
            for_quote=True,
        )
        try:
            return Quoted(checkout.checkout_quote(data), errors, dropped)
        except ApplicationError as exc:
            errors.setdefault(error_field(exc), problem_text(exc))
            if error_field(exc) not in ("points", "coupons"):
                break
    return Quoted(None, errors, [])


def _replace(choices: Choices, **changes: Any) -> Choices:
    values = {**choices.__dict__, **changes}
    values["errors"] = {}
    return Choices(**values)


# ------------------------------------------------------------------------------------------------- coupons


@dataclass(frozen=True)
class CouponChoice:
    coupon_id: int
    name: str
    ok: bool
    text: str  # the discount, or why it cannot be used here


def shop_coupons(*, member_id: int, mall_group_id: int, shop: CartShop, at: Any = None) -> list[CouponChoice]:
    """The member's coupons for one shop's sub-order (online): usable ones with their discount alone, then the
    shop's own coupons that cannot be used here with the reason. Other shops' coupons are not listed."""
    merchants = coupon_selectors.merchants_by_id(mall_group_id=mall_group_id, ids=[shop.merchant_id])
    lines = [
        BasketLine(
            line_no=i + 1,
            sku=line.sku_code,
            quantity=line.quantity,
            unit_price_fen=line.unit_fen,
            amount_fen=line.amount_fen,
        )
        for i, line in enumerate(shop.ok_lines)
    ]
    if not lines:
        return []
    found = coupon_selectors.coupon_quote(
        member_id=member_id, merchant=merchants[shop.merchant_id], lines=lines, at=at, channel="online"
    )
    owner = {c.pk: c.template.merchant_id for c in _held(member_id, mall_group_id)}
    usable = [
        CouponChoice(o.coupon_id, o.name, True, _("%(amount)s off") % {"amount": format_cny(o.discount_fen)})
        for o in found.coupons
        if o.is_applicable and o.discount_fen > 0
    ]
    refused = [
        CouponChoice(o.coupon_id, o.name, False, reason_message(o.reason_code))
        for o in found.coupons
        if not (o.is_applicable and o.discount_fen > 0) and owner.get(o.coupon_id) == shop.merchant_id
    ]
    return usable + refused


def _held(member_id: int, mall_group_id: int) -> list[Any]:
    return coupon_selectors.held_coupons(member_id=member_id, at=timeutil.now(), mall_group_id=mall_group_id)


def cart_coupons(
    *, member_id: int, mall_group_id: int, shops: list[CartShop], choices: Choices, pay_method: str
) -> list[CouponChoice]:
    """The member's mall coupons that may span shops (cash off / threshold, owned by the mall), each quoted on the
    cart as chosen: its discount, or the reason it does not apply."""
    candidates = [
        c for c in _held(member_id, mall_group_id) if c.template.merchant_id is None and c.template.kind in CART_KINDS
    ][:MAX_CART_COUPONS]
    out = []
    for coupon in candidates:
        data = place_in(
            member_id=member_id,
            mall_group_id=mall_group_id,
            shops=shops,
            choices=_replace(choices, cart_coupon=coupon.pk, points=0),
            pay_method=pay_method,
            rest_fen=0,
            for_quote=True,
        )
        try:
            q = checkout.checkout_quote(data)
        except ApplicationError as exc:
            out.append(CouponChoice(coupon.pk, coupon.template.name, False, problem_text(exc)))
            continue
        if q.cart_discount_fen > 0:
            text = _("%(amount)s off") % {"amount": format_cny(q.cart_discount_fen)}
            out.append(CouponChoice(coupon.pk, coupon.template.name, True, text))
        else:
            out.append(CouponChoice(coupon.pk, coupon.template.name, False, _("The order does not reach it yet.")))
    return sorted(out, key=lambda c: not c.ok)
