"""Payments for online checkouts (docs/design/online-mall.md §5.1, §5.6, §10) against the sandbox gateway process:
`purpose_pay_start` with the checkout's expiry and 分账, `attempt_finish` (a late payment applied through the fulfiler,
an unpaid one closed, an unreachable gateway retried and given up on), `attempt_refund_book_in_tx` (per merchant,
never beyond what was paid, idempotent by our refund number)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core.errors import ConflictError
from galleria.members.services import member_register
from galleria.payments import services
from galleria.payments.exceptions import IdempotencyConflictError, RefundNotAllowedError
from galleria.payments.gateways.base import GatewayUnavailableError
from galleria.payments.models import AttemptState, Fulfilment, PaymentAttempt, PaymentRefund, Purpose
from galleria.payments.services import fulfilment
from galleria.payments.types import Fulfilled

ACTOR = Actor.system("test")


@pytest.fixture
def online_fulfiler():
    """Stands in for commerce's online fulfiler: records what it was handed."""
    seen = []
    before = fulfilment.fulfiler_for(Purpose.ONLINE)

    def fulfil(paid):
        seen.append(paid)
        return Fulfilled(sale_id=None)

    fulfilment.register(Purpose.ONLINE, fulfil)
    yield seen
    if before is not None:
        fulfilment.register(Purpose.ONLINE, before)
    else:
        fulfilment._fulfilers.pop(Purpose.ONLINE.value, None)


def _start(world, member, *, key="OC1", amount=19220, expires_at=None, provider="wechat", kind="native"):
    return services.purpose_pay_start(
        purpose=Purpose.ONLINE,
        mall_group_id=world.group.pk,
        member_id=member.pk,
        amount_fen=amount,
        order={"checkout": key, "split": {"1": 5540, "2": 10531, "3": 3149}},
        provider=provider,
        kind=kind,
        idempotency_key=key,
        description="online order",
        expires_at=expires_at or timezone.now() + dt.timedelta(minutes=15),
        profit_sharing=provider == "wechat",
        match=("checkout",),
    )


def _member(world):
    return member_register(mall=world.mall, phone="13955550001", channel="app", actor=ACTOR)


@pytest.mark.django_db
def test_the_attempt_closes_with_its_checkout_and_freezes_funds_for_sharing(world, gateways):
    m = _member(world)
    expires = (timezone.now() + dt.timedelta(minutes=15)).replace(microsecond=0)
    started = _start(world, m, expires_at=expires)
    assert started.expires_at == expires
    trade = gateways.control.trade(provider="wechat", out_trade_no=started.out_trade_no)
    assert trade["req"]["settle_info"] == {"profit_sharing": True}
    assert trade["req"]["time_expire"].startswith(
        expires.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()[:16]
    )
    assert _start(world, m, expires_at=expires).attempt_id == started.attempt_id  # same key: same attempt
    with pytest.raises(ConflictError):
        _start(world, m, key="OC2", expires_at=timezone.now() - dt.timedelta(seconds=1))


@pytest.mark.django_db
def test_finish_applies_a_late_payment_or_closes_an_unpaid_one(world, gateways, online_fulfiler):
    m = _member(world)
    paid = _start(world, m, key="OC1")
    gateways.control.pay(provider="wechat", out_trade_no=paid.out_trade_no)
    assert services.attempt_finish(out_trade_no=paid.out_trade_no) == AttemptState.PAID
    assert [p.order["checkout"] for p in online_fulfiler] == ["OC1"]
    assert PaymentAttempt.objects.get(pk=paid.attempt_id).fulfilment == Fulfilment.DONE
    assert services.attempt_finish(out_trade_no=paid.out_trade_no) == AttemptState.PAID  # again: nothing more
    assert len(online_fulfiler) == 1
    unpaid = _start(world, m, key="OC2")
    assert services.attempt_finish(out_trade_no=unpaid.out_trade_no) == AttemptState.CLOSED
    assert gateways.control.trade(provider="wechat", out_trade_no=unpaid.out_trade_no)["state"] == "CLOSED"
    assert services.attempt_finish(out_trade_no="NO-SUCH") == ""


@pytest.mark.django_db
def test_an_unreachable_gateway_is_retried_then_given_up(world, gateways, monkeypatch):
    m = _member(world)
    started = _start(world, m)
    from galleria.payments.services import notices

    def down(*args, **kwargs):
        raise GatewayUnavailableError("down")

    class Down:
        trade_query = trade_close = staticmethod(down)

    monkeypatch.setattr(notices, "gateway_of", lambda credential: Down())
    expires = PaymentAttempt.objects.get(pk=started.attempt_id).expires_at
    soon = expires + dt.timedelta(minutes=1)
    assert services.attempt_finish(out_trade_no=started.out_trade_no, now=soon) == AttemptState.PAYING
    late = expires + notices.GIVE_UP_AFTER + dt.timedelta(seconds=1)
    assert services.attempt_finish(out_trade_no=started.out_trade_no, now=late) == AttemptState.CLOSED


@pytest.mark.django_db
def test_refunds_are_booked_per_merchant_within_what_was_paid(world, gateways, online_fulfiler):
    m = _member(world)
    started = _start(world, m)
    gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    services.attempt_sync(attempt_id=started.attempt_id)
    no = started.out_trade_no
    with transaction.atomic():
        first = services.attempt_refund_book_in_tx(
            out_trade_no=no, amount_fen=1320, out_refund_no=f"R{no}-RR1", merchant_id=world.other_merchant.pk
        )
        again = services.attempt_refund_book_in_tx(
            out_trade_no=no, amount_fen=1320, out_refund_no=f"R{no}-RR1", merchant_id=world.other_merchant.pk
        )
        assert again == first
        with pytest.raises(IdempotencyConflictError):
            services.attempt_refund_book_in_tx(out_trade_no=no, amount_fen=1, out_refund_no=f"R{no}-RR1")
        services.attempt_refund_book_in_tx(
            out_trade_no=no, amount_fen=19220 - 1320, out_refund_no=f"R{no}-RR2", merchant_id=world.merchant.pk
        )
        with pytest.raises(RefundNotAllowedError):
            services.attempt_refund_book_in_tx(out_trade_no=no, amount_fen=1, out_refund_no=f"R{no}-RR3")
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert attempt.refunded_fen == 19220
    rows = PaymentRefund.objects.filter(attempt=attempt).order_by("pk")
    assert [(r.amount_fen, r.merchant_id) for r in rows] == [
        (1320, world.other_merchant.pk),
        (17900, world.merchant.pk),
    ]


@pytest.mark.django_db
def test_an_unpaid_attempt_cannot_be_refunded(world, gateways):
    m = _member(world)
    started = _start(world, m)
    with pytest.raises(RefundNotAllowedError), transaction.atomic():
        services.attempt_refund_book_in_tx(out_trade_no=started.out_trade_no, amount_fen=1, out_refund_no="R-X")
