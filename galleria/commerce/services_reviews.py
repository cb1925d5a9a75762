"""Reviews of online orders (docs/design/online-mall.md §3.3, §9; build step O4): one review per bought line, after
the goods were received and within the group's `review_window_days`, a rating 1–5 and up to 500 characters; the
group's behaviour points for a review (`BehaviourEvent.REVIEW`, occasion `line:<id>`: once per line whatever
happens); the merchant's reply; the mall hides or shows a review again.

Lock order (§5.7 "Review: 5 → 10"): the review row's unique line claims it (a double tap waits, then finds it),
the member's points account (the award), the product row last (its `rating_sum` / `rating_count` counters, which
count visible reviews only)."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ValidationError
from galleria.core.locking import lock_one
from galleria.points.services import behaviour_award_in_tx

from . import exceptions, rules_orders, selectors_catalog
from .models import OrderLine, Product, Review
from .types import OrderState, ReviewStatus, ShopChannel

MAX_TEXT = 500
REVIEW_EVENT = "review"  # points' BehaviourEvent.REVIEW (its models are private)
_SHA = re.compile(r"^[0-9a-f]{64}$")

__all__ = ["review_create", "review_hide", "review_reply"]


def _rate(product_id: int, *, rating: int, sign: int) -> None:
    """Lock step 10, last: the product's visible-review counters."""
    Product.objects.filter(pk=product_id).update(
        rating_sum=F("rating_sum") + sign * rating, rating_count=F("rating_count") + sign
    )


def _audit(review: Review, action: str, actor: Actor, mall_group_id: int, changes: dict[str, object]) -> None:
    audit_record(
        actor=actor,
        action=f"online_mall.{action}",
        target_type="online_review",
        target_id=review.pk,
        target_label=str(review.order_line_id),
        mall_group_id=mall_group_id,
        changes=changes,
    )


def review_create(
    *,
    member_id: int,
    order_line_id: int,
    rating: int,
    text: str,
    actor: Actor,
    photos: tuple[str, ...] = (),
    is_anonymous: bool = False,
) -> Review:
    """The member reviews a line of an order received (delivered or completed) within the review window. A line
    is reviewed once: again returns the first review. Raises ValidationError (rating, text, photos) and
    ReviewNotAllowedError (not received, cancelled, window over, every unit refunded)."""
    errors: dict[str, str] = {}
    if not rules_orders.rating_ok(rating):
        errors["rating"] = str(_("Choose 1 to 5 stars."))
    text = text.strip()
    if len(text) > MAX_TEXT:
        errors["text"] = str(_("At most 500 characters."))
    if len(photos) > rules_orders.MAX_PHOTOS or not all(_SHA.fullmatch(p) for p in photos):
        errors["photos"] = str(_("At most 3 photos."))
    if errors:
        raise ValidationError(_("Check the review."), code="commerce.review_invalid", fields=errors)
    line = (
        OrderLine.objects.filter(pk=order_line_id, order__member_id=member_id, order__shop=ShopChannel.ONLINE)
        .select_related("order__merchant__mall")
        .first()
    )
    if line is None:
        raise exceptions.OrderNotFoundError()
    done = Review.objects.filter(order_line_id=line.pk).first()
    if done is not None:
        return done
    order, now = line.order, timeutil.now()
    settings = selectors_catalog.online_settings_get(mall_group_id=order.mall_group_id)
    received = order.state in (OrderState.DELIVERED, OrderState.COMPLETED) and order.delivered_at is not None
    if not received or line.refunded_qty >= line.quantity:
        raise exceptions.ReviewNotAllowedError(extra={"state": order.state})
    assert order.delivered_at is not None
    if now > rules_orders.review_until(delivered_at=order.delivered_at, review_days=settings.review_window_days):
        raise exceptions.ReviewNotAllowedError(_("The time to review this order is over."))
    try:
        with transaction.atomic(durable=True):
            review = Review.objects.create(
                order_line=line,
                product_id=line.product_id,
                merchant_id=order.merchant_id,
                member_id=member_id,
                rating=rating,
                text=text,
                photos=list(photos),
                is_anonymous=is_anonymous,
            )
            award = behaviour_award_in_tx(  # 5.
                mall_group_id=order.mall_group_id,
                member_id=member_id,
                event=REVIEW_EVENT,
                occasion=f"line:{line.pk}",
                at=now,
                tz_name=order.merchant.mall.timezone,
                merchant_id=order.merchant_id,
            )
            _rate(line.product_id, rating=rating, sign=1)  # 10.
            _audit(
                review, "review", actor, order.mall_group_id, {"rating": rating, "points": award.points if award else 0}
            )
            return review
    except IntegrityError:  # a concurrent tap reviewed the line first
        found = Review.objects.filter(order_line_id=line.pk).first()
        if found is None:
            raise
        return found


def review_reply(*, merchant_id: int, review_id: int, text: str, actor: Actor) -> Review:
    """The merchant answers a review of its shop (replacing an earlier answer; empty removes it)."""
    reply = text.strip()
    if len(reply) > MAX_TEXT:
        raise ValidationError(code="commerce.review_invalid", fields={"text": str(_("At most 500 characters."))})
    with transaction.atomic(durable=True):
        try:
            review = lock_one(Review.objects.filter(pk=review_id, merchant_id=merchant_id))
        except Review.DoesNotExist:
            raise exceptions.ReviewNotAllowedError(_("No such review."), code="commerce.review_not_found") from None
        review.merchant_reply, review.replied_at = reply, timeutil.now() if reply else None
        review.save(update_fields=["merchant_reply", "replied_at"])
        group_id = Product.objects.filter(pk=review.product_id).values_list("mall_group_id", flat=True).get()
        _audit(review, "review_reply", actor, group_id, {"reply": reply})
        return review


def review_hide(*, mall_group_id: int, review_id: int, hidden: bool, actor: Actor, reason: str = "") -> Review:
    """The mall hides a review (members no longer see it; the product's rating leaves it out) or shows it again."""
    with transaction.atomic(durable=True):
        try:
            review = lock_one(Review.objects.filter(pk=review_id, product__mall_group_id=mall_group_id))
        except Review.DoesNotExist:
            raise exceptions.ReviewNotAllowedError(_("No such review."), code="commerce.review_not_found") from None
        want = ReviewStatus.HIDDEN if hidden else ReviewStatus.VISIBLE
        if review.status == want:
            return review
        review.status = want
        review.save(update_fields=["status"])
        _rate(review.product_id, rating=review.rating, sign=-1 if hidden else 1)  # 10.
        _audit(review, "review_hide" if hidden else "review_show", actor, mall_group_id, {"reason": reason[:200]})
        return review
