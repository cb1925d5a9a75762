"""The cart's quote: `checkout_cart_in_tx` read-only — resolve → load (no locks) → the same pure steps.

Each sub-order's coupons and promotions through the coupons engine's read path (`coupon_quote`, channel `online`,
the member's chosen coupons), the cross-shop coupon through `cart_coupon_evaluate` (the very evaluation the cart's
redeem step runs on the locked coupon), points and money by `sales.rules.split_cart`, and each sub-order through
`pricing.price` — so the quote says exactly what the commit will do (sales/tests/test_cart_properties.py). Nothing is
written; a chosen coupon that does not apply raises its error, as the commit would."""

from __future__ import annotations

from galleria.audit.types import Actor
from galleria.coupons import rules as coupon_rules
from galleria.coupons import selectors as coupon_selectors
from galleria.coupons.exceptions import CouponNotFoundError, error_for
from galleria.coupons.types import CartCouponSplit, CartPartLines, Evaluation
from galleria.ledger import selectors as ledger_selectors
from galleria.points import selectors as points_selectors
from galleria.tiers.selectors import member_tier
from galleria.tiers.types import TierView

from .. import rules
from ..rules import CartSplit
from ..types import CartIn, CartQuote, PartSplit
from .cart import part_redeem_config, part_sale_in, resolve_cart
from .pricing import basket_lines, price
from .quote import _applied, _earned_today
from .types import CheckoutContext, Discounts


def _shop(ctx: CheckoutContext, data: CartIn, tier: TierView) -> Evaluation:
    """A sub-order's own coupons (as chosen) and the promotions in force, as the cart's redeem step applies them."""
    offers = coupon_selectors.coupon_quote(
        member_id=data.member_id,
        merchant=ctx.merchant,
        lines=basket_lines(ctx.data.lines),
        at=data.occurred_at,
        channel="online",
        token=ctx.token,
        tier=(tier.rank, tier.discount_bp),
        coupon_ids=ctx.data.coupon_ids,
        hold_key=data.cart_key if data.use_holds else "",
    )
    for key, reason in offers.best.unmet:
        if key.startswith("coupon:"):
            raise error_for(reason, coupon_id=int(key.split(":")[1]))
    return offers.best


def _cross_shop(data: CartIn, ctxs: list[CheckoutContext], shop: list[Evaluation]) -> CartCouponSplit:
    if data.cart_coupon_id is None:
        return CartCouponSplit(0, tuple(() for _ in ctxs))
    coupon = coupon_selectors.coupon_get(coupon_id=data.cart_coupon_id, mall_group_id=ctxs[0].group_id)
    if coupon is None:
        raise CouponNotFoundError(extra={"coupon_ids": [data.cart_coupon_id]})
    parts = [
        CartPartLines(
            merchant_id=ctx.merchant.pk,
            merchant_category=ctx.merchant.category,
            lines=coupon_rules.residual_lines(basket_lines(ctx.data.lines), found.line_discounts),
        )
        for ctx, found in zip(ctxs, shop, strict=True)
    ]
    split = coupon_selectors.cart_coupon_evaluate(
        coupon=coupon,
        member_id=data.member_id,
        parts=parts,
        at=data.occurred_at,
        token=ctxs[0].token,
        hold_key=data.cart_key if data.use_holds else "",
    )
    if split.reason:
        raise error_for(split.reason, coupon_id=data.cart_coupon_id)
    return split


def _discounts(found: Evaluation, split: CartCouponSplit, i: int) -> Discounts:
    more = {ln.line_no: ln.discount_fen for ln in split.parts[i]}
    return Discounts(
        total_fen=found.total_discount_fen + split.part_fen(i),
        line_fen=tuple(d.discount_fen + more.get(d.line_no, 0) for d in found.line_discounts),
    )


def _available(data: CartIn) -> int:
    """What the member may spend on this cart: balance − held, plus the checkout's own hold (released by the cart)."""
    available = points_selectors.points_available(member_id=data.member_id)
    if data.use_holds:
        hold = ledger_selectors.hold_get(key=f"chk:{data.cart_key}")
        if hold is not None and hold.released_at is None:
            available += hold.amount
    return available


def _price_part(
    ctx: CheckoutContext, data: CartIn, i: int, *, tier: TierView, discounts: Discounts, split: CartSplit, **known: int
) -> PartSplit:
    """One sub-order priced as its sale will be (`known`: points available before it, points earned before it)."""
    policy = points_selectors.policy_get(mall_group_id=ctx.group_id, token=ctx.token)
    paying = bool(data.rest_method)  # without a method the quote says what is left, whoever pays it
    sale = part_sale_in(data, data.parts[i], points=split.points[i], rest_fen=split.rest_fen[i] if paying else 0)
    earn = points_selectors.earn_config(
        policy=policy,
        merchant=ctx.merchant,
        member_id=data.member_id,
        at=data.occurred_at,
        tz_name=ctx.tz_name,
        token=ctx.token,
        tier=tier,
    )
    before = _earned_today(
        merchant=ctx.merchant, member_id=data.member_id, at=data.occurred_at, daily_cap=earn.daily_cap
    )
    priced = price(
        lines=sale.lines,
        total_fen=ctx.total_fen,
        discounts=discounts,
        points_to_use=sale.points_to_use,
        balance=known["available"],
        redeem=part_redeem_config(points_selectors.redeem_config(policy=policy)),
        payments=sale.payments if paying else None,
        earn=earn,
        earned_today=before + known["earned"],
    )
    return PartSplit(
        merchant_id=ctx.merchant.pk,
        total_fen=ctx.total_fen,
        discount_fen=discounts.total_fen,
        cart_discount_fen=known["cart_fen"],
        points=split.points[i],
        points_value_fen=split.points_value_fen[i],
        rest_fen=split.rest_fen[i],
        points_to_earn=priced.points_earned,
        line_discounts=discounts.line_fen,
    )


def cart_quote(*, data: CartIn, actor: Actor | None = None) -> CartQuote:
    """What the cart would cost and earn, per sub-order and in total — read-only, nothing is written."""
    ctxs = resolve_cart(data, actor or Actor.system("quote"))
    first = ctxs[0]
    policy = points_selectors.policy_get(mall_group_id=first.group_id, token=first.token)
    tier = member_tier(member_id=data.member_id, mall_group_id=first.group_id, token=first.token)
    shop = [_shop(ctx, data, tier) for ctx in ctxs]
    cross = _cross_shop(data, ctxs, shop)
    discounts = [_discounts(found, cross, i) for i, found in enumerate(shop)]
    dues = [ctx.total_fen - d.total_fen for ctx, d in zip(ctxs, discounts, strict=True)]
    available = _available(data)
    redeem = points_selectors.redeem_config(policy=policy)
    split = rules.split_cart(
        dues=dues, points=data.points_to_use, redeem=redeem, available=available, rest_fen=data.rest_fen
    )
    parts: list[PartSplit] = []
    for i, ctx in enumerate(ctxs):
        parts.append(
            _price_part(
                ctx,
                data,
                i,
                tier=tier,
                discounts=discounts[i],
                split=split,
                available=available - sum(split.points[:i]),
                earned=sum(p.points_to_earn for p in parts),
                cart_fen=cross.part_fen(i),
            )
        )
    return CartQuote(
        parts=tuple(parts),
        applied=tuple(tuple(_applied(a) for a in found.applied) for found in shop),
        goods_fen=sum(ctx.total_fen for ctx in ctxs),
        discount_fen=sum(p.discount_fen for p in parts),
        cart_discount_fen=cross.discount_fen,
        points=data.points_to_use,
        points_value_fen=sum(split.points_value_fen),
        rest_fen=sum(split.rest_fen),
        points_to_earn=sum(p.points_to_earn for p in parts),
        points_available=available,
        max_points_usable=rules.cart_max_points(dues=dues, redeem=redeem, available=available),
    )
