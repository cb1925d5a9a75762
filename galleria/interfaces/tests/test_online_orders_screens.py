"""The online orders' portal and console screens without a browser (build steps O3/O4): errors shown next to the
fields and nothing changed (a bad tracking number, a rejection without a reason, a bad pickup code), the orders
list's tabs and search, a manager's after-sales rights, and the console's arbitration (refund with a note)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from galleria.commerce import services_after_sales as after_sales
from galleria.commerce import services_orders as orders
from galleria.commerce.models import Order, OrderLine
from galleria.commerce.tests.checkout_helpers import Shops, place
from galleria.commerce.tests.helpers import ACTOR, member
from galleria.wallet.selectors import wallet_balance

pytestmark = pytest.mark.django_db


def _orders(world):
    s = Shops(world)
    m = member(world, wallet_fen=50000)
    placed = place(world, m, [(s.tea_m, 1), (s.shirt_m, 2)], s.choices(s.a, s.b), pay_method="wallet")
    tea, shirt = Order.objects.filter(checkout=placed).order_by("pk")
    return s, m, tea, shirt


def test_the_portal_shows_errors_inline_and_changes_nothing(client, world):
    _s, _m, tea, shirt = _orders(world)
    client.force_login(world.users["merchant_clerk"])
    listed = client.get(reverse("merchant:shop_orders"))
    assert listed.status_code == 200 and tea.number in listed.content.decode()
    assert shirt.number not in listed.content.decode()  # 优衣库's order
    assert (
        client.get(reverse("merchant:shop_orders") + f"?q={tea.number[-6:]}")
        .content.decode()
        .count('data-testid="order-row"')
        == 1
    )
    assert client.get(reverse("merchant:shop_order", args=[shirt.pk])).status_code == 404
    bad = client.post(reverse("merchant:shop_pickup"), {"code": "1234"})
    assert bad.status_code == 400 and "pickup-error" in bad.content.decode()
    unknown = client.get(reverse("merchant:shop_pickup") + "?code=00000000")
    assert unknown.status_code == 404
    assert client.get(reverse("merchant:shop_returns")).status_code == 403  # clerks: no after-sales

    client.force_login(world.users["other_owner"])
    page = client.post(
        reverse("merchant:shop_order_action", args=[shirt.pk]), {"action": "ship", "carrier": "SF", "tracking_no": "?"}
    )
    assert page.status_code == 422 and "tracking-error" in page.content.decode()
    shirt.refresh_from_db()
    assert shirt.state == "paid" and not shirt.tracking_no
    done = client.post(
        reverse("merchant:shop_order_action", args=[shirt.pk]),
        {"action": "ship", "carrier": "SF", "tracking_no": "SF7000001"},
    )
    assert done.status_code == 302
    shirt.refresh_from_db()
    assert (shirt.state, shirt.tracking_no) == ("shipped", "SF7000001")
    from galleria.audit.models import PiiAccess

    shown = client.get(reverse("merchant:shop_order", args=[shirt.pk])).content.decode()
    assert shirt.ship_address in shown and shirt.ship_phone in shown  # the courier needs them
    assert PiiAccess.objects.filter(source="merchant:shop_order", member_id=shirt.member_id).exists()
    event = client.post(
        reverse("merchant:shop_order_action", args=[shirt.pk]), {"action": "event", "status": "delivered"}
    )
    assert event.status_code == 302
    shirt.refresh_from_db()
    assert shirt.state == "delivered"
    after = client.get(reverse("merchant:shop_order", args=[shirt.pk])).content.decode()
    assert shirt.ship_address not in after and shirt.ship_phone not in after  # masked once delivered


def test_a_rejection_needs_a_reason_then_the_mall_refunds(client, world):
    s, m, _tea, shirt = _orders(world)
    orders.order_ship(order_id=shirt.pk, merchant_id=s.b.pk, carrier="SF", tracking_no="SF7000002", actor=ACTOR)
    line = OrderLine.objects.get(order=shirt)
    request = after_sales.after_sale_request(
        member_id=m.pk,
        data=after_sales.ReturnIn(shirt.pk, "refund_only", {line.pk: 1}, "没收到"),
        key="s1",
        actor=ACTOR,
    )
    client.force_login(world.users["other_owner"])
    url = reverse("merchant:shop_return_action", args=[request.pk])
    refused = client.post(url, {"action": "reject", "note": ""})
    assert refused.status_code == 422 and "note-error" in refused.content.decode()
    assert client.post(url, {"action": "reject", "note": "物流显示已签收"}).status_code == 302
    after_sales.after_sale_escalate(member_id=m.pk, request_id=request.pk, actor=ACTOR)
    wallet = wallet_balance(member_id=m.pk).total_fen

    client.force_login(world.users["service"])
    listed = client.get(reverse("console:online_returns"))
    assert listed.status_code == 200 and request.number in listed.content.decode()
    page = client.get(reverse("console:online_return", args=[request.pk]))
    assert page.status_code == 200 and "console-refund-preview" in page.content.decode()
    no_note = client.post(reverse("console:online_return", args=[request.pk]), {"decision": "refund", "note": ""})
    assert no_note.status_code == 422
    decided = client.post(
        reverse("console:online_return", args=[request.pk]), {"decision": "refund", "note": "快递丢件，全额退款"}
    )
    assert decided.status_code == 302
    request.refresh_from_db()
    assert request.state == "refunded" and request.decision_note == "快递丢件，全额退款"
    assert wallet_balance(member_id=m.pk).total_fen == wallet + request.money_fen > wallet
    client.force_login(world.users["marketing"])
    assert client.get(reverse("console:online_returns")).status_code == 403


def test_the_owner_replies_to_a_review(client, world):
    from galleria.commerce import services_reviews as reviews

    s, m, tea, _shirt = _orders(world)
    orders.order_hand_over(merchant_id=s.a.pk, code=tea.pickup_code, actor=ACTOR)
    review = reviews.review_create(
        member_id=m.pk, order_line_id=OrderLine.objects.get(order=tea).pk, rating=4, text="好喝", actor=ACTOR
    )
    client.force_login(world.users["merchant_owner"])
    page = client.get(reverse("merchant:shop_reviews"))
    assert page.status_code == 200 and "好喝" in page.content.decode() and "★★★★☆" in page.content.decode()
    assert (
        client.post(reverse("merchant:shop_review_reply", args=[review.pk]), {"reply": "谢谢喜欢"}).status_code == 302
    )
    review.refresh_from_db()
    assert review.merchant_reply == "谢谢喜欢"
    client.force_login(world.users["other_owner"])
    assert client.post(reverse("merchant:shop_review_reply", args=[review.pk]), {"reply": "x"}).status_code == 404
    client.force_login(world.users["merchant_clerk"])
    assert client.get(reverse("merchant:shop_reviews")).status_code == 403


def test_the_mall_hides_a_review_and_shows_it_again(client, world):
    from galleria.commerce import services_reviews as reviews
    from galleria.commerce.models import Product

    s, m, tea, _shirt = _orders(world)
    orders.order_hand_over(merchant_id=s.a.pk, code=tea.pickup_code, actor=ACTOR)
    review = reviews.review_create(
        member_id=m.pk, order_line_id=OrderLine.objects.get(order=tea).pk, rating=2, text="广告加微信", actor=ACTOR
    )
    client.force_login(world.users["finance"])
    assert "广告加微信" in client.get(reverse("console:online_reviews")).content.decode()
    assert client.post(reverse("console:online_review_hide", args=[review.pk]), {"hidden": "1"}).status_code == 403
    client.force_login(world.users["marketing"])
    hide = client.post(reverse("console:online_review_hide", args=[review.pk]), {"hidden": "1", "reason": "广告"})
    assert hide.status_code == 302
    review.refresh_from_db()
    assert review.status == "hidden" and Product.objects.get(pk=s.tea.pk).rating_count == 0
    listed = client.get(reverse("console:online_reviews") + "?status=hidden").content.decode()
    assert listed.count('data-testid="online-review-row"') == 1
    client.post(reverse("console:online_review_hide", args=[review.pk]), {"hidden": "0"})
    review.refresh_from_db()
    assert review.status == "visible" and Product.objects.get(pk=s.tea.pk).rating_count == 1
