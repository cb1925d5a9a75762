"""Per-unit coupons and promotions through the POS API: ¥X off each item and a special price per item, in the
quote (alone and in the best combination), the sale, and the refund of one unit."""

import datetime as dt

import pytest
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.coupons.models import CouponRedemption, Promotion
from galleria.coupons.tests.helpers import claim, template
from galleria.members import services as member_services
from galleria.merchants.models import PosTerminal
from galleria.merchants.services import pos_key_create
from galleria.testing_pos import PosSigner, PosTestClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def pos(client, world):
    terminal = PosTerminal.objects.create(store=world.store, name="T")
    key, secret = pos_key_create(actor=Actor.system(), terminal_id=terminal.pk)
    member = member_services.member_register(mall=world.mall, phone="13812345678", channel="desk", actor=Actor.system())
    return PosTestClient(client, PosSigner(key.key_id, secret)), member


def body(lines, pay=None, **extra):
    out = {
        "lines": [
            {"sku": sku, "name": sku, "quantity": qty, "unit_price_fen": unit, "amount_fen": unit * qty}
            for sku, qty, unit in lines
        ],
        **extra,
    }
    if pay is not None:
        out["payments"] = [{"method": "wechat", "amount_fen": pay}]
    return out


def test_quote_sale_and_refund_of_one_unit_with_five_yuan_off_each_shirt(pos, world):
    client, member = pos
    tee = claim(
        member,
        template(world, name="T恤每件减5元", kind="per_item", value_fen=500, threshold_fen=0, scope_kind="skus",
                 scope_skus=["TEE"], max_units=4),
    )  # fmt: skip
    lines = [("TEE", 3, 9900), ("CAP", 1, 5000)]
    r = client.post("/api/v1/pos/quote", body(lines, member=member.card_no))
    assert r.status_code == 200, r.content
    q = r.json()
    assert q["discount_fen"] == 1500 and q["paid_fen"] == 29700 + 5000 - 1500
    assert q["best_coupon_ids"] == [tee.coupon_id]
    option = next(c for c in q["coupons"] if c["coupon_id"] == tee.coupon_id)
    assert option["kind"] == "per_item" and option["discount_fen"] == 1500 and option["is_applicable"]
    assert q["applied"][0]["lines"] == [{"line_no": 1, "discount_fen": 1500}]  # only the TEE line is in scope
    assert q["order_of_application"][:4] == [
        "promotion:unit_price",
        "promotion:per_item",
        "coupon:unit_price",
        "coupon:per_item",
    ]
    sale = client.post(
        "/api/v1/pos/sales",
        body(lines, pay=q["paid_fen"], member=member.card_no, pos_sale_id="U1", coupon_ids=[tee.coupon_id]),
    )
    assert sale.status_code == 201, sale.content
    assert sale.json()["discount_fen"] == 1500
    assert sale.json()["applied"][0]["kind"] == "per_item"
    one = client.post("/api/v1/pos/sales/U1/refunds", {"pos_refund_id": "R1", "lines": [{"line_no": 1, "quantity": 1}]})
    assert one.status_code == 201, one.content
    assert one.json()["money_fen"] == 9900 - 500 and one.json()["coupon_deduct_fen"] == 0
    assert CouponRedemption.objects.get(coupon_id=tee.coupon_id).refunded_fen == 500


def test_special_price_promotion_in_the_quote_and_a_coupon_on_top(pos, world):
    client, member = pos
    now = timezone.now()
    Promotion.objects.create(
        mall_group=world.group,
        name="特价 ¥79",
        kind="unit_price",
        unit_price_fen=7900,
        scope_kind="skus",
        scope_skus=["HOT"],
        status="active",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=1),
    )
    threshold = claim(member, template(world, name="满150减20", value_fen=2000, threshold_fen=15000))
    lines = [("HOT", 2, 9900)]  # ¥198 → ¥158 at the special price, which still meets 满150
    q = client.post("/api/v1/pos/quote", body(lines, member=member.card_no)).json()
    assert [p["discount_fen"] for p in q["promotions"]] == [4000]
    assert q["discount_fen"] == 4000 + 2000 and q["best_coupon_ids"] == [threshold.coupon_id]
    assert [a["kind"] for a in q["applied"]] == ["unit_price", "threshold"]
    # one more unit below the special price changes nothing for the promotion
    q2 = client.post("/api/v1/pos/quote", body([*lines, ("HOT", 1, 5900)], member=member.card_no)).json()
    assert q2["promotions"][0]["discount_fen"] == 4000
