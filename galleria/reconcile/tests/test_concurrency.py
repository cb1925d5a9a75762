"""Real threads on PostgreSQL: sweeps that run at the same moment share each payment once (one order, one share at
the gateway), and runs of the same date at once leave one run with one set of findings."""

from __future__ import annotations

import pytest

from galleria.payments import services as payment_services
from galleria.payments.models import PaymentAttempt
from galleria.reconcile import services
from galleria.reconcile.models import Finding, FindingState, ReconcileRun, ShareOrder, ShareReceiver
from galleria.reconcile.types import Outcome, ShareState
from galleria.testing import run_parallel

from .conftest import ACTOR, store_payment
from .test_profit_share import RECEIVER

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_sweeps_at_once_make_one_order_and_one_share_per_payment(pay, gateway, sharing, settings):
    # the sweep is the safety net for shares the payment's own hook did not start (a crash between commit and the
    # task): here the hook is off, so every payment is the sweeps' to share
    settings.GALLERIA_EVENT_HANDLERS = {
        k: v for k, v in settings.GALLERIA_EVENT_HANDLERS.items() if k != "payment.store_fulfilled"
    }
    payment_services.merchant_profile_save(
        mall_group_id=pay.group.pk, merchant_id=pay.merchant.pk, values=RECEIVER, actor=ACTOR
    )
    ids = [store_payment(pay, gateway, total=10_000 + 100 * n) for n in range(6)]

    results = run_parallel(4, lambda i: services.profit_share_sweep())

    assert sum(r.created for r in results) == len(ids)
    for _ in range(20):  # what is still processing at the gateway settles
        if not ShareOrder.objects.exclude(state=ShareState.FINISHED).exists():
            break
        services.profit_share_sweep()
    orders = {o.attempt_id: o for o in ShareOrder.objects.all()}
    assert sorted(orders) == sorted(ids)
    for attempt in PaymentAttempt.objects.filter(pk__in=ids):
        order = orders[attempt.pk]
        assert order.state == ShareState.FINISHED
        shared = gateway.control.trade(provider="wechat", out_trade_no=attempt.out_trade_no)["shared_fen"]
        assert shared == order.amount_fen == attempt.paid_fen * 3000 // 10_000
    assert ShareReceiver.objects.count() == 1


def test_runs_of_the_same_date_at_once_keep_one_run(pay, gateway, day):
    store_payment(pay, gateway, total=4_000)
    for amount in (111, 222):
        gateway.control.bill_extra(provider="wechat", amount_fen=amount, bill_date=day.isoformat())

    results = run_parallel(
        4,
        lambda i: services.reconcile_day(mall_group_id=pay.group.pk, provider="wechat", bill_date=day, actor=ACTOR),
    )

    assert len({r.run_id for r in results}) == 1
    run = ReconcileRun.objects.get()
    assert run.runs == 4 and run.counts[Outcome.EXTRA] == 2 and run.counts[Outcome.MATCHED] == 1
    assert Finding.objects.filter(run=run, state=FindingState.OPEN).count() == 2
