"""Coupons through the POS API: the quote lists them and picks the best, the sale redeems them by id or by the
scanned code, refunds report what was kept back, and exchange coupons are checked and redeemed on their own."""

import pytest

from galleria.audit.types import Actor
from galleria.coupons.models import Coupon, CouponRedemption
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


def basket(amounts, pay=None, **extra):
    lines = [
        {"sku": f"S{i}", "name": "item", "quantity": 1, "unit_price_fen": a, "amount_fen": a}
        for i, a in enumerate(amounts)
    ]
    body = {"lines": lines, **extra}
    if pay is not None:
        body["payments"] = [{"method": "wechat", "amount_fen": pay}]
    return body


def test_quote_lists_the_members_coupons_and_applies_the_best(pos, world):
    client, member = pos
    big = claim(member, template(world))  # 满200减30
    claim(member, template(world, name="满500减100", value_fen=10000, threshold_fen=50000))
    r = client.post("/api/v1/pos/quote", basket([21000], member=member.card_no))
    assert r.status_code == 200, r.content
    q = r.json()
    assert q["discount_fen"] == 3000 and q["paid_fen"] == 18000 and q["points_to_earn"] == 180
    assert q["best_coupon_ids"] == [big.coupon_id]
    by_name = {c["name"]: c for c in q["coupons"]}
    assert by_name["满500减100"]["is_applicable"] is False
    assert by_name["满500减100"]["reason_code"] == "coupon.threshold_not_met"
    assert q["applied"][0]["lines"] == [{"line_no": 1, "discount_fen": 3000}]


def test_sale_with_a_scanned_coupon_code_and_its_refund(pos, world):
    client, member = pos
    c = claim(member, template(world))
    code = Coupon.objects.get(pk=c.coupon_id).code
    body = basket([15000, 6000], pay=18000, member=member.card_no, pos_sale_id="C1", coupon_codes=[code])
    r = client.post("/api/v1/pos/sales", body)
    assert r.status_code == 201, r.content
    assert r.json()["discount_fen"] == 3000 and r.json()["points_earned"] == 180
    # the same coupon again: used
    again = client.post("/api/v1/pos/sales", {**body, "pos_sale_id": "C2"})
    assert again.status_code == 409 and again.json()["code"] == "coupon.used"
    refund = client.post(
        "/api/v1/pos/sales/C1/refunds", {"pos_refund_id": "R1", "lines": [{"line_no": 2, "quantity": 1}]}
    )
    assert refund.status_code == 201, refund.content
    assert refund.json()["coupon_deduct_fen"] == 2143 and refund.json()["money_fen"] == 3000


def test_unknown_coupon_code_is_404_and_gross_payment_names_the_amount_due(pos, world):
    client, member = pos
    r = client.post(
        "/api/v1/pos/sales", basket([21000], pay=21000, member=member.card_no, pos_sale_id="C9", coupon_codes=["NOPE"])
    )
    assert r.status_code == 404 and r.json()["code"] == "coupon.not_found"
    c = claim(member, template(world))
    r = client.post(
        "/api/v1/pos/sales",
        basket([21000], pay=21000, member=member.card_no, pos_sale_id="C9", coupon_ids=[c.coupon_id]),
    )
    assert r.status_code == 422 and r.json()["code"] == "sale.payments_mismatch"
    assert r.json()["due_fen"] == 18000


def test_exchange_coupon_checked_and_redeemed_once_at_the_counter(pos, world):
    client, member = pos
    gift = template(
        world, name="Free drink", kind="exchange", value_fen=1500, threshold_fen=0, exchange_item="Milk tea"
    )
    code = Coupon.objects.get(pk=claim(member, gift).coupon_id).code
    check = client.get(f"/api/v1/pos/coupons/{code}")
    assert check.status_code == 200, check.content
    assert check.json()["is_usable"] is True and check.json()["exchange_item"] == "Milk tea"
    first = client.post(f"/api/v1/pos/coupons/{code}/redeem", {}, idempotency_key="redeem-1")
    assert first.status_code == 201, first.content
    replay = client.post(f"/api/v1/pos/coupons/{code}/redeem", {}, idempotency_key="redeem-1")
    assert replay.content == first.content and replay["Idempotent-Replayed"] == "true"
    second = client.post(f"/api/v1/pos/coupons/{code}/redeem", {}, idempotency_key="redeem-2")
    assert second.status_code == 409 and second.json()["code"] == "coupon.used"
    assert CouponRedemption.objects.filter(coupon__code=code).count() == 1
    assert client.get(f"/api/v1/pos/coupons/{code}").json()["is_usable"] is False
