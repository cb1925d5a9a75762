"""The cart entry of the pipeline: an online cart of several shops, one sale per sub-order, all in one transaction.

`checkout_cart_in_tx(data: CartIn)` (docs/design/online-mall.md §5.3): resolve every sub-order as a sale (merchant,
store, time, lines) → lock the buyer once (accounts, then tier row) and, for a checkout paying now what it held at
placement, release its points hold `chk:<key>` → coupons (`coupons_redeem_for_cart_in_tx`: each sub-order's own as
at a till, channel `online`, then the one cross-shop coupon over every sub-order's residuals) → the pure split of
points and money over the sub-orders (`sales.rules.split_cart`) → for each sub-order the ordinary price → persist →
post → settlement of `sale.commit_sale`. `cart_quote` runs the same steps read-only (no lock, nothing written) with
the same pure functions, so quote ≡ commit (sales/tests/test_cart_properties.py). Either all sub-order sales commit
or none (the caller's transaction). A refund is per sub-order sale, `sale_refund_in_tx`, as for every sale."""

from __future__ import annotations

from dataclasses import replace

from django.utils.translation import gettext_lazy as _

from galleria.audit.types import Actor
from galleria.core.errors import ValidationError
from galleria.coupons import services as coupon_services
from galleria.coupons.types import CartDiscounts, CartPartCoupons
from galleria.ledger import services as ledger
from galleria.points import selectors as points_selectors
from galleria.points.types import RedeemConfig

from .. import rules
from ..models import PaymentMethod
from ..rules import CartSplit
from ..types import CartIn, CartPartIn, CartResult, PartSplit, PaymentIn, SaleIn, SaleResult
from .lock import lock_buyer
from .pricing import basket_lines
from .resolve import resolve_sale
from .sale import commit_sale, spendable
from .types import Buyer, CheckoutContext

MAX_PARTS = 20
REST_METHODS = frozenset({"", PaymentMethod.WALLET, "wechat", "alipay"})


def part_redeem_config(config: RedeemConfig) -> RedeemConfig:
    """A sub-order's points rules: the minimum is checked once on the cart's total (split_cart), so a part may
    carry any whole multiple."""
    return replace(config, min_points=0)


def part_sale_in(data: CartIn, part: CartPartIn, *, points: int = 0, rest_fen: int = 0) -> SaleIn:
    """A sub-order as the sale the pipeline commits (server-dated: the checkout's placement time)."""
    if rest_fen and not data.rest_method:
        raise ValidationError(_("Nothing pays what is left of this order."), code="sale.payments_mismatch")
    return SaleIn(
        merchant_id=part.merchant_id,
        store_id=part.store_id,
        terminal_id=None,
        pos_sale_id=part.pos_sale_id,
        occurred_at=data.occurred_at,
        lines=part.lines,
        payments=(PaymentIn(data.rest_method, rest_fen),) if rest_fen else (),
        member_id=data.member_id,
        points_to_use=points,
        coupon_ids=part.coupon_ids,
        client_dated=False,
        channel=data.channel,
    )


def resolve_cart(data: CartIn, actor: Actor) -> list[CheckoutContext]:
    """Every sub-order resolved as a sale (no lock); one merchant once, all of one mall group."""
    if not data.parts or len(data.parts) > MAX_PARTS:
        raise ValidationError(_("An order needs one to twenty shops."), code="sale.no_lines")
    if len({p.merchant_id for p in data.parts}) != len(data.parts):
        raise ValidationError(_("Each shop appears once in an order."), code="sale.invalid")
    chosen = [cid for p in data.parts for cid in p.coupon_ids]
    if data.cart_coupon_id is not None:
        chosen.append(data.cart_coupon_id)
    if len(chosen) != len(set(chosen)):
        raise ValidationError(_("A coupon can be used once in an order."), code="coupon.not_combinable")
    if data.rest_method not in REST_METHODS:
        raise ValidationError(_("Unknown payment method."), code="sale.invalid", fields={"rest_method": "unknown"})
    ctxs = [resolve_sale(data=part_sale_in(data, part), actor=actor) for part in data.parts]
    if len({ctx.group_id for ctx in ctxs}) != 1:
        raise ValidationError(_("Every shop of an order belongs to one mall."), code="sale.invalid")
    return ctxs


def lock_cart_buyer(data: CartIn, ctxs: list[CheckoutContext]) -> Buyer:
    """The buyer locked once (accounts — the wallet's when it pays — then the tier row); then the checkout's own
    points hold released, so what it reserved is spendable by this very cart."""
    wallet = 1 if data.rest_method == PaymentMethod.WALLET else 0
    buyer = lock_buyer(replace(ctxs[0], wallet_fen=wallet))
    if data.use_holds:
        ledger.hold_release_in_tx(key=f"chk:{data.cart_key}", locked={a.pk: a for a in buyer.accounts.values()})
    return buyer


def redeem_cart(data: CartIn, ctxs: list[CheckoutContext], buyer: Buyer) -> CartDiscounts:
    tier = buyer.tier
    assert tier is not None and buyer.member_id is not None
    ctx = ctxs[0]
    return coupon_services.coupons_redeem_for_cart_in_tx(
        parts=[CartPartCoupons(c.merchant.pk, tuple(basket_lines(c.data.lines)), c.data.coupon_ids) for c in ctxs],
        merchants={c.merchant.pk: c.merchant for c in ctxs},
        member_id=buyer.member_id,
        mall_group_id=ctx.group_id,
        cart_coupon_id=data.cart_coupon_id,
        occurred_at=data.occurred_at,
        cart_key=data.cart_key,
        token=ctx.token,
        tier=(tier.rank, tier.discount_bp),
        hold_key=data.cart_key if data.use_holds else "",
    )


def _commit_parts(
    data: CartIn, ctxs: list[CheckoutContext], buyer: Buyer, discounts: CartDiscounts, split: CartSplit
) -> CartResult:
    """Each sub-order's sale with its share of points and money, in sub-order order."""
    policy = points_selectors.policy_get(mall_group_id=ctxs[0].group_id, token=ctxs[0].token)
    redeem = part_redeem_config(points_selectors.redeem_config(policy=policy))
    sales: list[SaleResult] = []
    parts: list[PartSplit] = []
    for i, (ctx, part) in enumerate(zip(ctxs, data.parts, strict=True)):
        found, rest = discounts.parts[i], split.rest_fen[i]
        sale_data = part_sale_in(data, part, points=split.points[i], rest_fen=rest)
        wallet = rest if data.rest_method == PaymentMethod.WALLET else 0
        result = commit_sale(replace(ctx, data=sale_data, wallet_fen=wallet), buyer, policy, found, redeem=redeem)
        sales.append(result)
        parts.append(
            PartSplit(
                merchant_id=ctx.merchant.pk,
                total_fen=ctx.total_fen,
                discount_fen=found.total_discount_fen,
                cart_discount_fen=discounts.cart_fen[i],
                points=split.points[i],
                points_value_fen=split.points_value_fen[i],
                rest_fen=rest,
                points_to_earn=result.points_earned,
                line_discounts=tuple(d.discount_fen for d in found.line_discounts),
            )
        )
    return CartResult(sales=tuple(sales), parts=tuple(parts))


def checkout_cart_in_tx(*, data: CartIn, actor: Actor) -> CartResult:
    """Commit a cart: one sale per sub-order, in the caller's transaction (all or nothing)."""
    ctxs = resolve_cart(data, actor)
    buyer = lock_cart_buyer(data, ctxs)
    policy = points_selectors.policy_get(mall_group_id=ctxs[0].group_id, token=ctxs[0].token)
    discounts = redeem_cart(data, ctxs, buyer)
    split = rules.split_cart(
        dues=[c.total_fen - d.total_discount_fen for c, d in zip(ctxs, discounts.parts, strict=True)],
        points=data.points_to_use,
        redeem=points_selectors.redeem_config(policy=policy),
        available=spendable(buyer),
        rest_fen=data.rest_fen,
    )
    return _commit_parts(data, ctxs, buyer, discounts, split)
