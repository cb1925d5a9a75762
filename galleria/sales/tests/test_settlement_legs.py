"""The settlement legs the checkout writes (docs/settlement.md): one balanced `settlement` transaction per sale with
something to settle between the mall and the merchant — money the mall's gateway collected (pay at store), points
paid with, mall- and merchant-funded discounts, merchant-funded points — and, per refund, the proportional
reversal; a plain till sale writes nothing more."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.db.models import Sum
from django.utils import timezone

from galleria.coupons.models import Promotion
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.models import Entry, Transaction
from galleria.ledger.selectors import ledger_check
from galleria.points.models import EarnRule, PointsPolicy
from galleria.sales import services
from galleria.sales.checkout import settle
from galleria.sales.types import Channel, PaymentIn, RefundLineIn

from .helpers import ACTOR, member, sale_in

pytestmark = pytest.mark.django_db

MERCHANT_KINDS = (
    "merchant_collected",
    "points_value_redeemed",
    "coupon_mall_funded",
    "merchant_points_cost",
    "coupon_merchant_funded",
)


def commit(data):
    return services.sale_commit(data=data, actor=ACTOR)


def refund(world, data, key, lines=None):
    return services.sale_refund(
        merchant_id=world.merchant.pk, pos_sale_id=data.pos_sale_id, pos_refund_id=key, lines=lines
    )


def legs(source: str) -> dict[str, int]:
    """{account kind: sum} of the settlement legs written with this source (merchant and group accounts)."""
    rows = (
        Entry.objects.filter(transaction__source=source, transaction__kind="settlement")
        .values("account__kind")
        .annotate(total=Sum("amount"))
    )
    return {r["account__kind"]: r["total"] for r in rows}


def merchant_totals(world) -> dict[str, int]:
    rows = (
        Entry.objects.filter(account__merchant=world.merchant, account__kind__in=MERCHANT_KINDS)
        .values("account__kind")
        .annotate(total=Sum("amount"))
    )
    return {r["account__kind"]: r["total"] for r in rows if r["total"]}


def test_a_plain_till_sale_with_mall_funded_points_writes_no_settlement_transaction(world):
    m = member(world)
    result = commit(sale_in(world, member_id=m.pk, amounts=(3800, 3800)))
    assert result.points_earned == 76
    assert not Transaction.objects.filter(kind="settlement").exists()
    kinds = set(Transaction.objects.filter(source=f"sale:{result.sale_id}").values_list("kind", flat=True))
    assert kinds == {"earn"}  # exactly what the sale wrote before settlement existed


def test_pay_at_store_gateway_money_is_owed_to_the_merchant_and_rolled_back_by_refunds(world):
    m = member(world)
    data = replace(
        sale_in(world, member_id=m.pk, amounts=(10000, 20000)),
        channel=Channel.PAY_AT_STORE,
        payments=(PaymentIn("wechat", 20000), PaymentIn("alipay", 6000), PaymentIn("cash", 4000)),
    )
    result = commit(data)
    sale_legs = legs(f"sale:{result.sale_id}")
    assert sale_legs == {"merchant_collected": 26000, "gateway_clearing": -26000}  # the cash is the merchant's own
    tx = Transaction.objects.get(source=f"sale:{result.sale_id}", kind="settlement")
    assert tx.explanation["collected_fen"] == 26000 and tx.explanation["channel"] == "pay_at_store"
    first = refund(world, data, "R1", [RefundLineIn(line_no=1, quantity=1)])  # a third of the money back
    back = legs(f"refund:{first.refund_id}")
    gateway_back = first.payments.get("wechat", 0) + first.payments.get("alipay", 0)
    assert back == {"merchant_collected": -gateway_back, "gateway_clearing": gateway_back}
    refund(world, data, "R2")
    assert merchant_totals(world) == {}  # a full refund leaves nothing owed
    assert ledger_check().ok


def test_the_same_payment_at_the_merchants_own_till_is_not_collected_by_the_mall(world):
    m = member(world)
    result = commit(sale_in(world, member_id=m.pk, amounts=(26000,)))  # wechat, channel pos
    assert legs(f"sale:{result.sale_id}") == {}


def test_points_paid_with_are_owed_at_the_value_the_sale_gave_them(world):
    m = member(world)
    commit(sale_in(world, member_id=m.pk, amounts=(100000,)))  # 1,000 points earned
    data = sale_in(world, member_id=m.pk, amounts=(3000, 3000), points=1000)  # ¥10 in points, ¥50 paid
    result = commit(data)
    assert legs(f"sale:{result.sale_id}") == {"points_value_redeemed": 1000, "points_value_fund": -1000}
    refund(world, data, "R1", [RefundLineIn(line_no=1, quantity=1)])
    assert merchant_totals(world) == {"points_value_redeemed": 500}
    refund(world, data, "R2")
    assert merchant_totals(world) == {}
    assert ledger_check().ok


def test_partial_refunds_of_points_add_up_to_the_value_exactly(world):
    PointsPolicy.objects.update_or_create(mall_group=world.group, defaults={"redeem_points_per_yuan": 300})
    m = member(world)
    commit(sale_in(world, member_id=m.pk, amounts=(300000,)))  # 3,000 points
    # 300 points = ¥1 = 100 fen, over three lines of 100 points each (33.33… fen each)
    data = sale_in(world, member_id=m.pk, amounts=(1000, 1000, 1000), points=300, pay=2900)
    commit(data)
    seen = []
    for i, line_no in enumerate((1, 2, 3)):
        result = refund(world, data, f"R{i}", [RefundLineIn(line_no=line_no, quantity=1)])
        seen.append(-legs(f"refund:{result.refund_id}").get("points_value_redeemed", 0))
    assert seen == [33, 34, 33]  # cumulative half-up: 33, 67, 100
    assert merchant_totals(world) == {}


def test_mall_and_merchant_funded_discounts_go_to_their_accounts(world):
    m = member(world)
    mall = claim(m, template(world, name="商场券"))  # 满200减30, mall-funded
    shared = claim(
        m,
        template(
            world,
            name="联合券",
            kind="cash_off",
            value_fen=2000,
            threshold_fen=0,
            funder="split",
            merchant_share_bp=4000,
            merchant_id=world.merchant.pk,
            scope_kind="merchants",
            scope_merchant_ids=[world.merchant.pk],
        ),
    )
    data = replace(
        sale_in(world, member_id=m.pk, amounts=(15000, 10000)),
        coupon_ids=(mall.coupon_id, shared.coupon_id),
        payments=(PaymentIn("wechat", 20000),),
    )
    result = commit(data)
    assert result.discount_fen == 5000
    assert legs(f"sale:{result.sale_id}") == {
        "coupon_mall_funded": 3000 + 1200,
        "coupon_fund": -4200,
        "coupon_merchant_funded": -800,  # a memorandum: the member paid the merchant less
        "coupon_merchant_memo": 800,
    }
    refund(world, data, "R1")
    assert merchant_totals(world) == {}
    assert ledger_check().ok


def test_points_the_merchant_funds_are_owed_by_it_at_their_value(world):
    EarnRule.objects.create(
        mall_group=world.group, name="喜茶自付", scope="merchant", merchant=world.merchant, funder="merchant"
    )
    m = member(world)
    data = sale_in(world, member_id=m.pk, amounts=(12345,))
    result = commit(data)
    assert result.points_earned == 123
    assert legs(f"sale:{result.sale_id}") == {"merchant_points_cost": -123, "points_cost_receivable": 123}
    refund(world, data, "R1")
    assert merchant_totals(world) == {}


def test_a_split_funded_earn_charges_the_merchant_its_share(world):
    EarnRule.objects.create(
        mall_group=world.group,
        name="联合",
        scope="merchant",
        merchant=world.merchant,
        funder="split",
        merchant_share_bp=2500,
    )
    m = member(world)
    result = commit(sale_in(world, member_id=m.pk, amounts=(40000,)))
    assert result.points_earned == 400
    assert legs(f"sale:{result.sale_id}") == {"merchant_points_cost": -100, "points_cost_receivable": 100}


def test_a_mall_promotion_on_a_sale_without_a_member_is_settled_too(world):
    now = timezone.now()
    Promotion.objects.create(
        mall_group=world.group,
        name="满300减50",
        kind="spend_threshold",
        value_fen=5000,
        threshold_fen=30000,
        status="active",
        members_only=False,
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=1),
    )
    data = sale_in(world, amounts=(30000,), pay=25000)
    result = commit(data)
    assert result.discount_fen == 5000
    assert legs(f"sale:{result.sale_id}") == {"coupon_mall_funded": 5000, "coupon_fund": -5000}
    refund(world, data, "R1")
    assert merchant_totals(world) == {}


def test_refund_amounts_roll_back_cumulatively():
    at_sale = settle.SettlementAmounts(points_value_fen=100, merchant_points=7, merchant_points_fen=7)
    parts = []
    before = 0
    for now in (1, 1, 1):
        back = settle.refund_amounts(
            at_sale=at_sale,
            gateway_back_fen=0,
            points_used=3,
            points_returned_before=before,
            points_returned=now,
            points_earned=3,
            points_clawed_before=before,
            points_clawed=now,
            coupon_mall_back_fen=0,
            coupon_merchant_back_fen=0,
        )
        parts.append((back.points_value_fen, back.merchant_points_fen))
        before += now
    assert parts == [(33, 2), (34, 3), (33, 2)]
    assert sum(p for p, _m in parts) == 100 and sum(m for _p, m in parts) == 7


def test_a_sale_recorded_before_settlement_legs_existed_reverses_nothing(world, monkeypatch):
    m = member(world)
    commit(sale_in(world, member_id=m.pk, amounts=(100000,)))
    data = sale_in(world, member_id=m.pk, amounts=(5000,), points=1000)
    with monkeypatch.context() as patch:  # as the code did before settlement legs
        patch.setattr("galleria.sales.checkout.sale.post_settlement", lambda *args, **kwargs: None)
        commit(data)
    refunded = refund(world, data, "R1")
    assert legs(f"refund:{refunded.refund_id}") == {}
