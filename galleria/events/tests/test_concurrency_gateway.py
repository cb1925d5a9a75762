"""Races on PostgreSQL with real threads for money-priced events: six members go for the last seat at once — one
holds it and pays, the others wait in line and cannot pay; the holder's payment arriving while the lapse job runs
past the hold's deadline ends in exactly one outcome (confirmed with one sale, or lapsed with the money refunded in
full and the seat offered to the next); seats never overbooked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from galleria.core.errors import ApplicationError
from galleria.events import services
from galleria.events.models import Event, Registration
from galleria.payments import services as payments
from galleria.payments.models import Fulfilment, PaymentAttempt, PaymentRefund
from galleria.sales.models import Sale
from galleria.testing import run_parallel

from .helpers import event, member, register
from .test_gateway import desk, pay_start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _register_and_pay(world: Any, m: Any, ev: Any) -> tuple[int, str]:
    reg = register(world, m, ev)
    try:
        started = pay_start(reg, m)
    except ApplicationError as exc:
        return reg.pk, exc.code
    return reg.pk, started.out_trade_no


def test_the_last_seat_is_held_and_paid_by_one_of_six_members(world, gateways):
    ev = event(world, capacity=3, price_fen=5000, store_id=desk(world).pk)
    for _ in range(2):  # two seats already paid for
        m = member(world)
        reg = register(world, m, ev)
        started = pay_start(reg, m)
        gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
        payments.attempt_sync(attempt_id=started.attempt_id)
    members = [member(world) for _ in range(6)]

    outcomes = run_parallel(6, lambda i: _register_and_pay(world, members[i], ev))

    paying = [(pk, out) for pk, out in outcomes if out.startswith("P")]
    assert len(paying) == 1, outcomes
    assert sorted(out for _, out in outcomes if not out.startswith("P")) == ["events.payment_not_open"] * 5
    assert Event.objects.get(pk=ev.pk).seats_taken == 3
    assert Registration.objects.filter(event=ev, state="waiting").count() == 5

    holder_pk, out_trade_no = paying[0]
    gateways.control.pay(provider="wechat", out_trade_no=out_trade_no)
    attempt = PaymentAttempt.objects.get(out_trade_no=out_trade_no)
    paid_by = Registration.objects.get(pk=holder_pk).pay_expires_at
    assert paid_by is not None

    def race(i: int) -> object:
        if i % 2:
            return payments.attempt_sync(attempt_id=attempt.pk)
        return services.offers_lapse(at=paid_by + timedelta(seconds=1))

    run_parallel(4, race)

    holder = Registration.objects.get(pk=holder_pk)
    attempt.refresh_from_db()
    ev.refresh_from_db()
    assert ev.seats_taken <= ev.capacity == 3
    if holder.state == "confirmed":  # the money won: one sale, nothing refunded
        assert attempt.fulfilment == Fulfilment.DONE and not PaymentRefund.objects.filter(attempt=attempt).exists()
        assert Sale.objects.filter(pk=holder.sale_id, channel="event").count() == 1
        assert Registration.objects.filter(event=ev, state="offered").count() == 0
    else:  # the lapse won: the money goes back in full, the next in line is offered the seat
        assert holder.state == "lapsed" and holder.sale_id is None
        assert attempt.fulfilment == Fulfilment.REFUNDED
        assert PaymentRefund.objects.get(attempt=attempt).amount_fen == 5000
        assert Registration.objects.filter(event=ev, state="offered").count() == 1
    assert Sale.objects.filter(channel="event").count() == 2 + (holder.state == "confirmed")
