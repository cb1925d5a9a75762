"""Real threads on PostgreSQL: the gateway's notification of a parking payment delivered several times at once while
the member's result page asks the gateway (attempt_sync) — one payment of the stay, one sale, points spent once."""

from __future__ import annotations

import pytest

from galleria.ledger.selectors import ledger_check
from galleria.parking.models import ParkingPayment, ParkingSession
from galleria.payments import services as payments
from galleria.payments.models import AttemptState, Fulfilment, NoticeOutcome, PaymentAttempt, PaymentNotice
from galleria.points.selectors import points_balance
from galleria.sales.models import Sale
from galleria.testing import run_parallel

from . import test_gateway as flows
from .helpers import car_park

receiver, pay = flows.receiver, flows.pay  # the same fixtures

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_notifications_and_the_result_page_at_once_pay_the_stay_once(pay, payment_gateway_process, receiver):
    park = car_park(pay)
    m, session = flows.parked(pay, park, "粤B20001", minutes=160, points=1_000)  # ¥15 due
    started = flows.start(session, m, points=500)  # ¥5 of points, ¥10 by WeChat Pay
    payment_gateway_process.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    got = receiver.wait_for(1)[0]
    provider, credential_id = got.path.strip("/").split("/")[-2:]

    def deliver(i: int) -> int:
        if i % 2:  # the member's result page asking the gateway at the same moment
            payments.attempt_sync(attempt_id=started.attempt_id)
            return 204
        ack = payments.notice_receive(
            provider=provider, credential_id=int(credential_id), headers=got.headers, body=got.body
        )
        return ack.status

    statuses = run_parallel(8, deliver)
    assert all(s in (200, 204) for s in statuses), statuses
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert (attempt.state, attempt.fulfilment) == (AttemptState.PAID, Fulfilment.DONE)
    payments_made = list(ParkingPayment.objects.filter(session=session))
    assert len(payments_made) == 1 and payments_made[0].other_fen == 1_000
    assert Sale.objects.filter(member=m).count() == 1
    assert points_balance(member_id=m.pk) == 500
    assert ParkingSession.objects.get(pk=session.pk).paid_fen == 1_500
    outcomes = list(
        PaymentNotice.objects.filter(out_trade_no=started.out_trade_no, verified=True).values_list("outcome", flat=True)
    )
    assert outcomes.count(NoticeOutcome.APPLIED) == 1
    assert ledger_check().ok
