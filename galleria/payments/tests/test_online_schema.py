"""Schema for online-mall payments (docs/design/online-mall.md §3.4): the `online` purpose and the merchant a gateway
refund's money belonged to (one attempt may pay several merchants)."""

from __future__ import annotations

from galleria.payments.models import PaymentAttempt, PaymentRefund
from galleria.payments.types import Purpose
from galleria.points.models import BehaviourEvent


def test_online_is_a_purpose_and_review_a_behaviour():
    assert Purpose.ONLINE == "online" and Purpose.ONLINE in Purpose.values
    assert BehaviourEvent.REVIEW == "review"
    assert len(Purpose.ONLINE) <= PaymentAttempt._meta.get_field("purpose").max_length


def test_a_gateway_refund_may_name_its_merchant():
    field = PaymentRefund._meta.get_field("merchant")
    assert field.null and field.column == "merchant_id"
