"""Coupons of an online cart of several shops (docs/design/online-mall.md §5.3–5.4), inside the cart's transaction.

Each sub-order is a till receipt for the engine: its own coupons and the promotions in force, through
`coupons_redeem_for_sale_in_tx` with the `online` channel. Then at most one cross-shop coupon, evaluated once on the
residuals of every sub-order (`rules.cart_coupon_split`) and recorded as one redemption **part** per sub-order sale
(`CouponRedemption.cart_key`; one active part per (coupon, sale)); the coupon is marked used once. Funding per part:
`mall` all the mall's, `split` the merchant's share rounded half-up per part. A refund rolls a part back in
proportion only (`redemption.coupons_refund_for_sale_in_tx`), and gives the coupon back only once every part is.
Locks: the chosen coupons of each sub-order, then the cross-shop coupon — all the member's, after the member's
accounts, which serialise two carts of one member before any coupon lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from galleria.core.locking import lock_rows

from .. import exceptions, rules, selectors
from ..exceptions import error_for
from ..models import Coupon, CouponRedemption, CouponStatus
from ..types import (
    AppliedDiscount,
    CartCouponSplit,
    CartDiscounts,
    CartPartCoupons,
    CartPartLines,
    LineDiscount,
    SaleDiscounts,
)
from .redemption import coupons_redeem_for_sale_in_tx

if TYPE_CHECKING:
    from ..selectors import MerchantRow

ONLINE = "online"


def residual_parts(
    parts: Sequence[CartPartCoupons], shop: Sequence[SaleDiscounts], merchants: Mapping[int, MerchantRow]
) -> list[CartPartLines]:
    """The sub-orders' lines at their amounts after the shops' own discounts (what the cross-shop coupon sees)."""
    return [
        CartPartLines(
            merchant_id=part.merchant_id,
            merchant_category=merchants[part.merchant_id].category,
            lines=rules.residual_lines(part.lines, found.line_discounts),
        )
        for part, found in zip(parts, shop, strict=True)
    ]


def merge_part(shop: SaleDiscounts, extra: Sequence[LineDiscount], applied: AppliedDiscount | None) -> SaleDiscounts:
    """A sub-order's discounts with its part of the cross-shop coupon added per line."""
    if applied is None:
        return shop
    more = {d.line_no: d.discount_fen for d in extra}
    return SaleDiscounts(
        total_discount_fen=shop.total_discount_fen + applied.discount_fen,
        line_discounts=tuple(
            LineDiscount(d.line_no, d.discount_fen + more.get(d.line_no, 0)) for d in shop.line_discounts
        ),
        applied=(*shop.applied, applied),
        order=shop.order,
    )


def _part_rows(
    split: CartCouponSplit,
    coupon: Coupon,
    *,
    parts: Sequence[CartPartCoupons],
    merchants: Mapping[int, MerchantRow],
    member_id: int,
    occurred_at: dt.datetime,
    cart_key: str,
) -> list[CouponRedemption | None]:
    """One redemption part per sub-order the coupon reaches (None for the others)."""
    template = selectors.templates_by_id(mall_group_id=coupon.mall_group_id, ids=[coupon.template_id])[
        coupon.template_id
    ]
    rows: list[CouponRedemption | None] = []
    for i, part in enumerate(parts):
        amount = split.part_fen(i)
        if not amount:
            rows.append(None)
            continue
        mall_fen, merchant_fen = rules.funding_split(
            discount_fen=amount, funder=template.funder, merchant_share_bp=template.merchant_share_bp
        )
        lines = [
            {
                "line_no": ln.line_no,
                "quantity": ln.quantity,
                "basis_fen": ln.basis_fen,
                "discount_fen": ln.discount_fen,
                "refunded_qty": 0,
                "rolled_back_fen": 0,
            }
            for ln in split.parts[i]
        ]
        explanation = {**split.explanation, "name": template.name, "cart_discount_fen": split.discount_fen}
        rows.append(
            CouponRedemption(
                mall_group_id=coupon.mall_group_id,
                coupon=coupon,
                template_id=coupon.template_id,
                member_id=member_id,
                merchant=merchants[part.merchant_id],
                kind=template.kind,
                redeemed_at=occurred_at,
                discount_fen=amount,
                mall_fen=mall_fen,
                merchant_fen=merchant_fen,
                lines=lines,
                explanation=explanation,
                cart_key=cart_key[:40],
            )
        )
    return rows


def _applied(row: CouponRedemption) -> AppliedDiscount:
    return AppliedDiscount(
        redemption_id=row.pk,
        coupon_id=row.coupon_id,
        promotion_id=None,
        kind=row.kind,
        name=str(row.explanation.get("name", "")),
        discount_fen=row.discount_fen,
        mall_fen=row.mall_fen,
        merchant_fen=row.merchant_fen,
        lines=tuple(LineDiscount(int(ln["line_no"]), int(ln["discount_fen"])) for ln in row.lines),
        explanation=dict(row.explanation),
    )


def _cart_coupon(
    coupon_id: int,
    *,
    member_id: int,
    mall_group_id: int,
    residual: Sequence[CartPartLines],
    occurred_at: dt.datetime,
    token: str | None,
    hold_key: str,
) -> tuple[Coupon, CartCouponSplit]:
    """Lock the cross-shop coupon, re-validate it and split it over the residual lines (its error otherwise)."""
    locked = lock_rows(Coupon.objects.filter(pk=coupon_id, mall_group_id=mall_group_id))
    if not locked:
        raise exceptions.CouponNotFoundError(extra={"coupon_ids": [coupon_id]})
    split = selectors.cart_coupon_evaluate(
        coupon=locked[0], member_id=member_id, parts=residual, at=occurred_at, token=token, hold_key=hold_key
    )
    if split.reason:
        raise error_for(split.reason, coupon_id=coupon_id)
    return locked[0], split


def coupons_redeem_for_cart_in_tx(
    *,
    parts: Sequence[CartPartCoupons],
    merchants: Mapping[int, MerchantRow],
    member_id: int,
    mall_group_id: int,
    cart_coupon_id: int | None,
    occurred_at: dt.datetime,
    cart_key: str,
    token: str | None = None,
    tier: tuple[int, int] | None = None,
    hold_key: str = "",
) -> CartDiscounts:
    """Inside the cart's transaction (after the member's accounts and tier row): each sub-order's own coupons and
    promotions as at a till (channel `online`), then the cross-shop coupon on what is left, recorded per sub-order
    with `cart_key` (the checkout's number). Redemptions are recorded with `sale_id=None`; the cart links each
    sub-order's with `coupons_attach_sale_in_tx` once its sale exists. `hold_key`: the checkout whose held coupons
    these are. Raises the coupon's error; the whole cart then rolls back."""
    shop = [
        coupons_redeem_for_sale_in_tx(
            sale_id=None,
            merchant=merchants[part.merchant_id],
            member_id=member_id,
            lines=part.lines,
            coupon_ids=part.coupon_ids,
            occurred_at=occurred_at,
            channel=ONLINE,
            token=token,
            tier=tier,
            hold_key=hold_key,
        )
        for part in parts
    ]
    if cart_coupon_id is None:
        return CartDiscounts(parts=tuple(shop), cart_fen=tuple(0 for _ in parts))
    residual = residual_parts(parts, shop, merchants)
    coupon, split = _cart_coupon(
        cart_coupon_id,
        member_id=member_id,
        mall_group_id=mall_group_id,
        residual=residual,
        occurred_at=occurred_at,
        token=token,
        hold_key=hold_key,
    )
    rows = _part_rows(
        split, coupon, parts=parts, merchants=merchants, member_id=member_id, occurred_at=occurred_at, cart_key=cart_key
    )
    CouponRedemption.objects.bulk_create([r for r in rows if r is not None])
    Coupon.objects.filter(pk=coupon.pk).update(
        status=CouponStatus.USED, used_at=occurred_at, hold_key="", hold_until=None
    )
    merged = [
        merge_part(found, _line_discounts(split, i), _applied(row) if row else None)
        for i, (found, row) in enumerate(zip(shop, rows, strict=True))
    ]
    return CartDiscounts(parts=tuple(merged), cart_fen=tuple(split.part_fen(i) for i in range(len(parts))))


def _line_discounts(split: CartCouponSplit, i: int) -> tuple[LineDiscount, ...]:
    return tuple(LineDiscount(ln.line_no, ln.discount_fen) for ln in split.parts[i])
