"""Reviews of online orders (build step O4): once per bought line after receipt and within the window, behaviour
points once, the product's rating counters, the merchant's reply and the mall hiding a review."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from galleria.commerce import selectors_orders
from galleria.commerce import services_orders as orders
from galleria.commerce import services_reviews as reviews
from galleria.commerce.models import Order, OrderLine, Product
from galleria.core.errors import ApplicationError
from galleria.points.selectors import points_balance
from galleria.points.services import behaviour_rule_save

from .checkout_helpers import Shops, place
from .helpers import ACTOR, member

pytestmark = pytest.mark.django_db


def test_a_line_is_reviewed_once_with_points_once_and_the_rating_counted(world):
    behaviour_rule_save(mall_group_id=world.group.pk, event="review", values={"points": 20}, actor=ACTOR)
    s = Shops(world)
    m = member(world, wallet_fen=50000)
    placed = place(world, m, [(s.tea_m, 1)], s.choices(s.a), pay_method="wallet")
    order = Order.objects.get(checkout=placed)
    line = OrderLine.objects.get(order=order)
    with pytest.raises(ApplicationError) as err:  # not received yet
        reviews.review_create(member_id=m.pk, order_line_id=line.pk, rating=5, text="好喝", actor=ACTOR)
    assert err.value.code == "commerce.review_not_allowed"
    orders.order_hand_over(merchant_id=s.a.pk, code=order.pickup_code, actor=ACTOR)
    with pytest.raises(ApplicationError) as err:
        reviews.review_create(member_id=m.pk, order_line_id=line.pk, rating=6, text="x" * 501, actor=ACTOR)
    assert set(err.value.fields) == {"rating", "text"}
    with pytest.raises(ApplicationError) as err:  # another member's line reads as absent
        reviews.review_create(member_id=member(world).pk, order_line_id=line.pk, rating=5, text="", actor=ACTOR)
    assert err.value.code == "commerce.order_not_found"
    balance = points_balance(member_id=m.pk)

    review = reviews.review_create(member_id=m.pk, order_line_id=line.pk, rating=4, text=" 好喝 ", actor=ACTOR)
    again = reviews.review_create(member_id=m.pk, order_line_id=line.pk, rating=1, text="改了", actor=ACTOR)

    assert again.pk == review.pk and (review.rating, review.text) == (4, "好喝")
    assert points_balance(member_id=m.pk) == balance + 20
    product = Product.objects.get(pk=s.tea.pk)
    assert (product.rating_sum, product.rating_count) == (4, 1)
    assert [r.pk for r in selectors_orders.product_reviews(product_id=s.tea.pk)] == [review.pk]

    replied = reviews.review_reply(merchant_id=s.a.pk, review_id=review.pk, text="谢谢", actor=ACTOR)
    assert replied.merchant_reply == "谢谢" and replied.replied_at is not None
    with pytest.raises(ApplicationError):
        reviews.review_reply(merchant_id=s.b.pk, review_id=review.pk, text="hi", actor=ACTOR)
    reviews.review_hide(mall_group_id=world.group.pk, review_id=review.pk, hidden=True, actor=ACTOR, reason="广告")
    reviews.review_hide(mall_group_id=world.group.pk, review_id=review.pk, hidden=True, actor=ACTOR)
    assert selectors_orders.product_reviews(product_id=s.tea.pk) == []
    product.refresh_from_db()
    assert (product.rating_sum, product.rating_count) == (0, 0)
    reviews.review_hide(mall_group_id=world.group.pk, review_id=review.pk, hidden=False, actor=ACTOR)
    product.refresh_from_db()
    assert (product.rating_sum, product.rating_count) == (4, 1)


def test_the_review_window_closes(world):
    s = Shops(world)
    m = member(world, wallet_fen=50000)
    placed = place(world, m, [(s.tea_m, 1)], s.choices(s.a), pay_method="wallet")
    order = Order.objects.get(checkout=placed)
    done = orders.order_hand_over(merchant_id=s.a.pk, code=order.pickup_code, actor=ACTOR)
    line = OrderLine.objects.get(order=order)
    late = done.delivered_at + dt.timedelta(days=30, minutes=1)
    with time_machine.travel(late), pytest.raises(ApplicationError) as err:
        reviews.review_create(member_id=m.pk, order_line_id=line.pk, rating=5, text="", actor=ACTOR)
    assert err.value.code == "commerce.review_not_allowed"
