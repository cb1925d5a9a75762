"""What a payment notification costs and what it leaves behind (issue #15's benchmark target, docs/performance.md).

The statements of a first delivery and of a redelivery are pinned, and the follow-up work — the member's e-receipt
and the merchant's share (分账) — is written in the payment's own transaction with the production task backend: once
for a committed payment, and not at all for one that rolled back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from galleria.payments import services
from galleria.payments.models import AttemptState, Fulfilment, NoticeOutcome, PaymentAttempt, PaymentNotice
from galleria.payments.services import notices
from galleria.payments.testing import NotifyReceiver
from galleria.sales.models import Sale
from galleria.testing_points import give_points

from . import test_payment_flows as flows
from .test_payment_flows import ACTOR, _member

gateway = flows.gateway  # the same sandbox process

RECEIPT = "galleria.payments.tasks.payment_receipt_task"
SHARE = "galleria.reconcile.tasks.profit_share_task"
# a pay-at-store payment with points, first delivery: the credential, BEGIN, the notice, the attempt's lock, the
# sale through the pipeline in a savepoint (10 statements here: the store with its merchant, mall and group in one;
# the lots the points are drawn from in one more after the spend's posting), the attempt with the notice's outcome
# (one statement on PostgreSQL), the receipt and 分账 task rows in one INSERT, COMMIT; SQLite runs the portable
# statements (was 19 / 28 before the store read and the lots were fixed SQL)
FIRST_BUDGET = {"postgresql": 18, "sqlite": 28}
REDELIVERY_BUDGET = 4  # the credential, BEGIN, the notice (written once: nothing this time), COMMIT


@pytest.fixture
def accepted():
    """A receiver that accepts every notification (204): the sandbox sends each event once."""
    rec = NotifyReceiver()
    yield rec
    rec.close()


@pytest.fixture
def shop(world, gateway, accepted, settings):
    """The world's group with sandbox credentials, notifications to `accepted`, and the database task backend as
    in production (the test settings' immediate backend would run the tasks inside the notification)."""
    settings.GALLERIA_PUBLIC_URL = accepted.url.removesuffix("/notify")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    services.sandbox_credentials_install(
        mall_group_id=world.group.pk, keys=gateway.keys, base_url=gateway.base_url, actor=ACTOR
    )
    return world


def _pay_at_the_shop(world, gateway, *, phone: str) -> PaymentAttempt:
    m = _member(world, phone=phone)
    give_points(world, m, 2_000)
    started = services.store_pay_start(
        member_id=m.pk,
        mall_group_id=world.group.pk,
        store_id=world.store.pk,
        total_fen=30_000,
        points_to_use=1_000,
        coupon_ids=None,
        provider="wechat",
        kind="h5",
        idempotency_key="cost",
        client_ip="10.0.0.8",
    )
    gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    return PaymentAttempt.objects.get(pk=started.attempt_id)


def _hand_over(got):
    provider, credential_id = got.path.strip("/").split("/")[-2:]
    return services.notice_receive(
        provider=provider, credential_id=int(credential_id), headers=got.headers, body=got.body
    )


def _effects() -> tuple[int, int, int, int]:
    return (
        Sale.objects.count(),
        PaymentNotice.objects.count(),
        DBTaskResult.objects.filter(task_path=RECEIPT).count(),
        DBTaskResult.objects.filter(task_path=SHARE).count(),
    )


@pytest.mark.django_db(transaction=True)  # commits for real: what a process remembers after one (system accounts)
def test_first_delivery_and_redelivery_stay_within_their_statements(shop, gateway, accepted):
    _pay_at_the_shop(shop, gateway, phone="13800138001")
    _hand_over(accepted.wait_for(1)[0])  # the process warms up: statements prepared, the shop's accounts known
    attempt = _pay_at_the_shop(shop, gateway, phone="13800138002")
    got = accepted.wait_for(2)[1]
    with CaptureQueriesContext(connection) as first:
        _hand_over(got)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.PAID and attempt.fulfilment == Fulfilment.DONE and attempt.sale_id
    assert len(first) <= FIRST_BUDGET[connection.vendor], "\n".join(q["sql"] for q in first.captured_queries)
    before = _effects()
    assert before == (2, 2, 2, 2)  # one receipt and one 分账 task per payment, written with it
    with CaptureQueriesContext(connection) as again:
        ack = _hand_over(got)  # the gateway delivers the same event again
    assert ack.status in (200, 204)
    assert len(again) <= REDELIVERY_BUDGET, "\n".join(q["sql"] for q in again.captured_queries)
    assert _effects() == before
    assert PaymentNotice.objects.get(out_trade_no=attempt.out_trade_no).outcome == NoticeOutcome.APPLIED


def test_a_payment_that_rolls_back_leaves_no_receipt_and_no_notice(shop, gateway, accepted, monkeypatch):
    attempt = _pay_at_the_shop(shop, gateway, phone="13800138003")
    got = accepted.wait_for(1)[0]

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away while the payment was written")

    monkeypatch.setattr(notices.payments_sql, "attempt_paid_save", broken)
    with pytest.raises(RuntimeError):
        _hand_over(got)
    assert _effects() == (0, 0, 0, 0)  # no sale, no notice, no receipt, no 分账: the gateway will deliver again
    monkeypatch.undo()
    _hand_over(got)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.PAID and _effects() == (1, 1, 1, 1)
