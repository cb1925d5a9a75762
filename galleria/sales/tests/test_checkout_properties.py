"""Properties of the checkout pipeline (issue #13, item 2), over random baskets, coupons, promotions, points,
wallet payments, tiers and sale times around mall-local midnight:

1. quote ≡ sale: what the quote says — discount, the discount of each line, the coupons and promotions applied,
   points value, amount paid, points to earn — is what the committed sale records; a basket the quote refuses
   (coupons that do not combine, a threshold not met…) the sale refuses with the same code, writing nothing.
2. a full refund (after an optional partial one) returns every balance to where it was before the sale: points,
   wallet principal and bonus, the coupons used (available again), the member's qualifying tier spend.

The examples share one database (the services own durable transactions, so an example cannot be rolled back):
each example has its own member; the promotions exist once and each example switches a random subset on.
Examples are derandomized so CI runs the same ones on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from dataclasses import dataclass, replace

import pytest
import time_machine
from django.db.models import Sum
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from galleria.core import configcache
from galleria.core.errors import ApplicationError
from galleria.coupons.models import Coupon, CouponRedemption, Promotion
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.selectors import ledger_check
from galleria.points.selectors import points_balance
from galleria.sales import services
from galleria.sales.models import Sale, SaleLine
from galleria.sales.selectors import sale_quote
from galleria.sales.types import LineIn, PaymentIn, RefundLineIn, SaleIn
from galleria.tiers.models import TierSpend
from galleria.tiers.services import tier_ladder_ensure_default
from galleria.wallet import services as wallet_services
from galleria.wallet.selectors import wallet_balance

from .helpers import ACTOR, member

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
_phones = itertools.count(20000000)
_receipts = itertools.count(1)

LINE = st.tuples(
    st.sampled_from(["A", "B", "C", "D"]),  # sku (A: 每件减 coupon, C: 特价 promotion)
    st.sampled_from(["", "food", "fashion"]),  # category (food: 每件减 promotion)
    st.integers(min_value=1, max_value=3),  # quantity
    st.one_of(st.sampled_from([990, 4500, 12000, 25800]), st.integers(min_value=100, max_value=40000)),  # unit fen
    st.integers(min_value=0, max_value=99),  # line discount at the till, in fen per line (amount ≤ qty × unit)
)


@dataclass
class Shop:
    templates: list  # CouponTemplate rows
    promotions: list[int]
    base: dt.datetime  # a mall-local midnight, in UTC


def _setup(world) -> Shop:
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    kinds = [
        {"name": "满200减30", "kind": "threshold", "value_fen": 3000, "threshold_fen": 20000},
        {"name": "代金券20", "kind": "cash_off", "value_fen": 2000, "threshold_fen": 0},
        {"name": "9折券", "kind": "percent", "value_fen": 0, "threshold_fen": 0, "percent_off_bp": 1000},
        {"name": "每满100减10", "kind": "per_threshold", "value_fen": 1000, "threshold_fen": 10000},
        {
            "name": "2件85折",
            "kind": "n_items",
            "value_fen": 0,
            "threshold_fen": 0,
            "min_items": 2,
            "percent_off_bp": 1500,
        },
        {
            "name": "A每件减5",
            "kind": "per_item",
            "value_fen": 500,
            "threshold_fen": 0,
            "scope_kind": "skus",
            "scope_skus": ["A"],
        },
    ]
    now = dt.datetime.now(tz=dt.UTC)
    templates = [
        template(world, valid_from=now - dt.timedelta(days=1), valid_until=now + dt.timedelta(days=30), **k)
        for k in kinds
    ]
    base = (dt.datetime.now(tz=TZ) + dt.timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=30)
    common = {"mall_group": world.group, "status": "paused", "starts_at": start, "ends_at": end}
    promotions = [
        Promotion.objects.create(
            name="满300减50", kind="spend_threshold", value_fen=5000, threshold_fen=30000, **common
        ),
        Promotion.objects.create(
            name="食品每件减3",
            kind="per_item",
            value_fen=300,
            scope_kind="categories",
            scope_categories=["food"],
            **common,
        ),
        Promotion.objects.create(
            name="C特价9.9", kind="unit_price", unit_price_fen=990, scope_kind="skus", scope_skus=["C"], **common
        ),
        Promotion.objects.create(name="3件9折", kind="n_items", min_items=3, percent_off_bp=1000, **common),
        # member day on the local weekday of `base`: applies after midnight, not before
        Promotion.objects.create(
            name="会员日95折", kind="member_day", percent_off_bp=500, days_of_week=[base.isoweekday()], **common
        ),
    ]
    return Shop(templates=templates, promotions=[p.pk for p in promotions], base=base.astimezone(dt.UTC))


@dataclass(frozen=True)
class Balances:
    points: int
    wallet: tuple[int, int]
    coupons: dict[int, str]
    tier_spend: tuple[int, int]


def _balances(member_id: int) -> Balances:
    w = wallet_balance(member_id=member_id)
    spend = TierSpend.objects.filter(member_id=member_id).aggregate(a=Sum("amount_fen"), p=Sum("points"))
    return Balances(
        points=points_balance(member_id=member_id),
        wallet=(w.principal_fen, w.bonus_fen),
        coupons=dict(Coupon.objects.filter(member_id=member_id).values_list("pk", "status")),
        tier_spend=(spend["a"] or 0, spend["p"] or 0),
    )


def _lines(raw) -> tuple[LineIn, ...]:
    return tuple(
        LineIn(
            sku=sku,
            name=f"item {sku}",
            quantity=qty,
            unit_price_fen=unit,
            amount_fen=max(unit * qty - cut, 0),
            category=category,
        )
        for sku, category, qty, unit, cut in raw
    )


def _payments(paid: int, wallet_share: float, wallet: int) -> tuple[PaymentIn, ...]:
    from_wallet = min(int(paid * wallet_share), wallet)
    parts = [PaymentIn("wallet", from_wallet), PaymentIn("wechat", paid - from_wallet)]
    return tuple(p for p in parts if p.amount_fen > 0)


def _sale(world, m, lines, *, at, coupon_ids=(), points=0, payments=()) -> SaleIn:
    return SaleIn(
        merchant_id=world.merchant.pk,
        store_id=world.store.pk,
        terminal_id=None,
        pos_sale_id=f"P{next(_receipts):06d}",
        occurred_at=at,
        lines=lines,
        payments=payments,
        member_id=m.pk,
        points_to_use=points,
        coupon_ids=tuple(coupon_ids),
    )


def _prepare(world, shop: Shop, draw, at: dt.datetime):
    """A new member with some history (points, tier spend), wallet money and coupons; some promotions on."""
    configcache.clear()
    Promotion.objects.filter(pk__in=shop.promotions).update(status="paused")
    m = member(world, phone=f"136{next(_phones):08d}")
    topup = draw(st.sampled_from([50000, 0, 5000]))
    if topup:
        intent = wallet_services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=topup)
        wallet_services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=topup)
    history = draw(st.sampled_from([30000, 0, 1500000]))  # points to use, and maybe a higher tier
    if history:
        past = _sale(world, m, _lines([("H", "", 1, history, 0)]), at=at - dt.timedelta(hours=5))
        services.sale_commit(data=replace(past, payments=(PaymentIn("cash", history),)), actor=ACTOR)
    on = draw(st.lists(st.sampled_from(shop.promotions), unique=True, min_size=1, max_size=3))
    Promotion.objects.filter(pk__in=on).update(status="active")
    held = draw(st.lists(st.sampled_from(shop.templates), unique=True, min_size=2, max_size=5))
    coupons = [claim(m, t, at=at - dt.timedelta(hours=6)).coupon_id for t in sorted(held, key=lambda t: t.pk)]
    chosen = draw(st.lists(st.sampled_from(coupons), unique=True, min_size=1, max_size=2))
    return m, chosen


def _quote(world, m, data: SaleIn):
    return sale_quote(
        merchant_id=world.merchant.pk,
        member_id=m.pk,
        lines=data.lines,
        payments=data.payments,
        points_to_use=data.points_to_use,
        at=data.occurred_at,
        coupon_ids=list(data.coupon_ids),
    )


def _assert_sale_is_the_quote(quote, result, data: SaleIn) -> None:
    sale = Sale.objects.get(pk=result.sale_id)
    lines = list(SaleLine.objects.filter(sale=sale).order_by("line_no"))
    assert (sale.total_fen, sale.discount_fen, sale.points_value_fen, sale.paid_fen) == (
        quote.total_fen,
        quote.discount_fen,
        quote.points_value_fen,
        quote.paid_fen,
    )
    assert sale.points_earned == result.points_earned == quote.points_to_earn
    assert tuple(ln.discount_fen for ln in lines) == quote.line_discounts
    assert result.discount_fen == quote.discount_fen
    applied = [
        (a.coupon_id, a.promotion_id, a.kind, a.discount_fen, a.mall_fen, a.merchant_fen, a.lines)
        for a in result.applied
    ]
    assert applied == [
        (a.coupon_id, a.promotion_id, a.kind, a.discount_fen, a.mall_fen, a.merchant_fen, a.lines)
        for a in quote.applied
    ]
    rows = CouponRedemption.objects.filter(sale_id=sale.pk).order_by("pk")
    assert [(r.pk, r.coupon_id, r.promotion_id, r.discount_fen) for r in rows] == [
        (a.redemption_id, a.coupon_id, a.promotion_id, a.discount_fen) for a in result.applied
    ]
    assert set(data.coupon_ids) <= {r.coupon_id for r in rows}


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each example costs real transactions
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_the_sale_records_what_the_quote_said_and_a_full_refund_restores_every_balance(world, data):
    shop = getattr(world, "_checkout_shop", None)
    if shop is None:
        shop = world._checkout_shop = _setup(world)
    minutes = data.draw(st.integers(min_value=-150, max_value=150), label="minutes from local midnight")
    at = shop.base + dt.timedelta(minutes=minutes)
    with time_machine.travel(at + dt.timedelta(minutes=2), tick=False):
        m, chosen = _prepare(world, shop, data.draw, at)
        lines = _lines(data.draw(st.lists(LINE, min_size=1, max_size=4), label="lines"))
        sale = _sale(world, m, lines, at=at, coupon_ids=chosen)
        try:
            quote = _quote(world, m, sale)
        except ApplicationError as exc:  # the sale refuses it the same way, writing nothing
            event(f"refused: {exc.code}")
            before = _balances(m.pk)
            with pytest.raises(ApplicationError) as refused:
                total = sum(ln.amount_fen for ln in lines)
                services.sale_commit(data=replace(sale, payments=(PaymentIn("cash", total),)), actor=ACTOR)
            assert refused.value.code == exc.code
            assert _balances(m.pk) == before
            return
        fraction = data.draw(st.sampled_from([1, 0.5, 0]), label="share of the usable points")
        points = int(quote.max_points_usable * fraction)
        if points:
            step = 100  # a multiple every default configuration accepts (it is ≥ the minimum)
            points -= points % step
            points = points if points >= 100 else 0
        if points:
            quote = _quote(world, m, replace(sale, points_to_use=points))
        wallet = wallet_balance(member_id=m.pk).principal_fen
        share = data.draw(st.sampled_from([0.5, 0.0, 1.0]), label="share paid from the wallet")
        sale = replace(sale, points_to_use=points, payments=_payments(quote.paid_fen, share, wallet))
        before = _balances(m.pk)
        result = services.sale_commit(data=sale, actor=ACTOR)
        event(f"applied: {len(result.applied)}, points used: {bool(points)}, wallet: {'wallet' in str(sale.payments)}")
        _assert_sale_is_the_quote(quote, result, sale)
        if data.draw(st.booleans(), label="partial refund first"):
            line_no = data.draw(st.integers(min_value=1, max_value=len(lines)))
            partial = [RefundLineIn(line_no=line_no, quantity=1)]
            try:
                services.sale_refund(
                    merchant_id=world.merchant.pk, pos_sale_id=sale.pos_sale_id, pos_refund_id="R1", lines=partial
                )
            except ApplicationError as exc:  # what the shopper keeps lost more discount than this refund returns
                assert exc.code == "refund.discount_exceeds_refund"
        if Sale.objects.get(pk=result.sale_id).status != "refunded":  # the partial refund may have taken it all
            services.sale_refund(
                merchant_id=world.merchant.pk, pos_sale_id=sale.pos_sale_id, pos_refund_id="R2", lines=None
            )
        after = _balances(m.pk)
        assert after.points == before.points
        assert after.wallet == before.wallet
        assert after.tier_spend == before.tier_spend
        assert after.coupons == before.coupons  # the coupons used are available again
        assert Sale.objects.get(pk=result.sale_id).status == "refunded"
    assert ledger_check().ok
