"""Properties of the cart entry (docs/design/online-mall.md §5.3, §12), over random carts of two or three shops,
shop coupons, a cross-shop coupon, promotions, points, wallet or gateway money, tiers and times around mall-local
midnight:

1. cart quote ≡ cart commit: the figures of every sub-order (discount, cross-shop part, points, money, points to
   earn, per-line discounts) are what the committed sales record; a cart the quote refuses the commit refuses with
   the same code, writing nothing.
2. refunding every sub-order in full returns points, wallet, tier spend and coupons to where they were.

Shares the till's property test fixtures (test_checkout_properties.py); derandomized like it."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from galleria.core.errors import ApplicationError
from galleria.coupons.models import Coupon
from galleria.coupons.rules import CART_KINDS
from galleria.ledger.selectors import ledger_check
from galleria.merchants.models import Merchant, Store
from galleria.sales import services
from galleria.sales.models import Sale, SaleLine
from galleria.sales.selectors import cart_quote
from galleria.sales.types import CartIn, CartPartIn
from galleria.wallet.selectors import wallet_balance

from .helpers import ACTOR
from .test_checkout_properties import LINE, _balances, _lines, _prepare, _setup

pytestmark = pytest.mark.django_db

_carts = itertools.count(1)


def _shops(world):
    third = Merchant.objects.filter(mall=world.mall, name="无印良品").first()
    if third is None:
        third = Merchant.objects.create(mall=world.mall, name="无印良品", category="fashion")
        Store.objects.create(merchant=third, name="无印良品 L3", floor="L3", unit_no="L3-001")
    return [(m, Store.objects.filter(merchant=m).first()) for m in (world.merchant, world.other_merchant, third)]


def _cart(draw, m, shops, coupons, at) -> CartIn:
    n = draw(st.integers(min_value=2, max_value=3), label="shops")
    key = f"OCP{next(_carts):06d}"
    kinds = dict(Coupon.objects.filter(pk__in=coupons).values_list("pk", "template__kind"))
    cart_coupon = draw(st.sampled_from([None, *sorted(c for c in kinds if kinds[c] in CART_KINDS)]), label="cross")
    shop_coupons = draw(st.lists(st.sampled_from([c for c in coupons if c != cart_coupon] or [0]), unique=True))
    shop_coupons = [c for c in shop_coupons if c]
    owner = draw(st.integers(min_value=0, max_value=n - 1), label="sub-order with the shop coupons")
    parts = tuple(
        CartPartIn(
            merchant_id=merchant.pk,
            store_id=store.pk,
            pos_sale_id=f"on:{key}-{i}",
            lines=_lines(draw(st.lists(LINE, min_size=1, max_size=3), label=f"lines {i}")),
            coupon_ids=tuple(shop_coupons) if i == owner else (),
        )
        for i, (merchant, store) in enumerate(shops[:n])
    )
    return CartIn(member_id=m.pk, occurred_at=at, parts=parts, cart_key=key, cart_coupon_id=cart_coupon)


def _assert_committed_as_quoted(quote, result) -> None:
    assert result.parts == quote.parts
    for sale_result, part in zip(result.sales, quote.parts, strict=True):
        sale = Sale.objects.get(pk=sale_result.sale_id)
        lines = SaleLine.objects.filter(sale=sale).order_by("line_no")
        assert (sale.total_fen, sale.discount_fen, sale.points_used, sale.paid_fen, sale.points_earned) == (
            part.total_fen,
            part.discount_fen,
            part.points,
            part.rest_fen,
            part.points_to_earn,
        )
        assert tuple(ln.discount_fen for ln in lines) == part.line_discounts
        assert sale.channel == "online"


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_the_cart_commits_what_its_quote_said_and_full_refunds_restore_every_balance(world, data):
    shop = getattr(world, "_checkout_shop", None)
    if shop is None:
        shop = world._checkout_shop = _setup(world)
    shops = _shops(world)
    minutes = data.draw(st.integers(min_value=-150, max_value=150), label="minutes from local midnight")
    at = shop.base + dt.timedelta(minutes=minutes)
    with time_machine.travel(at + dt.timedelta(minutes=2), tick=False):
        m, _chosen = _prepare(world, shop, data.draw, at)
        chosen = list(Coupon.objects.filter(member_id=m.pk).values_list("pk", flat=True))
        cart = _cart(data.draw, m, shops, chosen, at)
        before = _balances(m.pk)
        try:
            quote = cart_quote(data=cart)
        except ApplicationError as exc:  # the commit refuses it the same way, writing nothing
            event(f"refused: {exc.code}")
            with pytest.raises(ApplicationError) as refused, transaction.atomic():
                services.cart_commit_in_tx(data=cart, actor=ACTOR)
            # two chosen coupons that both fail may be named in another order (the till's quote does the same)
            assert refused.value.code == exc.code or (refused.value.code + exc.code).count("coupon.") == 2
            assert _balances(m.pk) == before
            return
        fraction = data.draw(st.sampled_from([1, 0.5, 0]), label="share of the usable points")
        points = int(quote.max_points_usable * fraction)
        points -= points % 100
        cart = CartIn(**{**cart.__dict__, "points_to_use": points if points >= 100 else 0})
        quote = cart_quote(data=cart)
        wallet = wallet_balance(member_id=m.pk).principal_fen
        method = "wallet" if data.draw(st.booleans(), label="wallet") and wallet >= quote.rest_fen else "wechat"
        cart = CartIn(**{**cart.__dict__, "rest_method": method if quote.rest_fen else "", "rest_fen": quote.rest_fen})
        with transaction.atomic():
            result = services.cart_commit_in_tx(data=cart, actor=ACTOR)
        event(f"parts: {len(cart.parts)}, cross-shop: {bool(quote.cart_discount_fen)}, points: {bool(points)}")
        _assert_committed_as_quoted(quote, result)
        for part in cart.parts:
            services.sale_refund(
                merchant_id=part.merchant_id, pos_sale_id=part.pos_sale_id, pos_refund_id="R-all", lines=None
            )
        after = _balances(m.pk)
        assert (after.points, after.wallet, after.tier_spend) == (before.points, before.wallet, before.tier_spend)
        assert after.coupons == before.coupons
    assert ledger_check().ok
