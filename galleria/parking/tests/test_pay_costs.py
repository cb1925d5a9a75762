"""What charging a stay costs (issue #16's benchmark, docs/performance.md "Parking exit decisions"): the frictionless
exit's statements are pinned, and what it leaves behind — the payment, the stay paid until the exit request, one
parking sale, the member's receipt written in the payment's own transaction with the production task backend (and
none when the payment rolls back)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from galleria.core import timeutil
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_identifier_add
from galleria.parking import services
from galleria.parking.models import ParkingPayment, ParkingSession
from galleria.parking.services_plates import plate_verify_at_desk
from galleria.sales.models import Sale
from galleria.wallet.selectors import wallet_balance

from .helpers import ACTOR, car_park, fund_wallet, member

pytestmark = pytest.mark.django_db
RECEIPT = "galleria.parking.tasks.parking_receipt_task"
# a frictionless exit charged through the checkout (services.exit_request, no HTTP): the stay found and locked, its
# fee (tariff, grants, the once-a-day hours, tier, same-day spend), the frictionless-exit checks, the store with its
# merchant, mall and group (one statement), the sale (accounts, tier row, sale, wallet payment, tier spend) at the fee
# just computed, the payment, the receipt's task row, the stay, and the fee once more for the answer
BUDGET = {"postgresql": 27, "sqlite": 31}


def yesterday(h: int, mi: int = 0) -> dt.datetime:
    day = timeutil.local_date(timeutil.now(), "Asia/Shanghai") - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(h, mi), tzinfo=timeutil.zone("Asia/Shanghai"))


@pytest.fixture
def frictionless(world, settings):
    """A member with ¥200 in the wallet, a verified plate and the frictionless exit on, parked since 09:00; the
    production task backend (the test settings' immediate one would run the receipt inside the exit)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    park = car_park(world)
    m = member(world)
    fund_wallet(world, m, 20_000)
    for plate in ("粤B66666", "粤B66667"):
        member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=plate)
        plate_verify_at_desk(mall_group_id=m.mall_group_id, member_id=m.pk, plate=plate, actor=ACTOR)
    services.auto_pay_set(member_id=m.pk, enabled=True, actor=ACTOR)
    for plate in ("粤B66666", "粤B66667"):
        services.event_entry(car_park=park, event_id=f"in-{plate}", plate=plate, at=yesterday(9))
    return park, m


def test_a_frictionless_exit_stays_within_its_statements(frictionless):
    park, m = frictionless
    services.exit_request(car_park=park, plate="粤B66667", at=yesterday(11))  # warm: statements prepared
    with CaptureQueriesContext(connection) as queries:
        decision = services.exit_request(car_park=park, plate="粤B66666", at=yesterday(12))
    assert (decision.decision, decision.reason, decision.auto_paid_fen) == ("open", "auto_paid", 1500)
    assert len(queries) <= BUDGET[connection.vendor], "\n".join(q["sql"] for q in queries.captured_queries)

    stay = ParkingSession.objects.get(plate="粤B66666")
    payment = ParkingPayment.objects.get(session=stay)
    sale = Sale.objects.get(pk=payment.sale_id)
    assert (payment.source, payment.amount_fen, payment.wallet_fen, payment.points_used) == ("auto", 1500, 1500, 0)
    assert (payment.covers_until, payment.paid_at) == (yesterday(12), yesterday(12))
    assert (stay.state, stay.paid_fen, stay.paid_until) == ("parked", 1500, yesterday(12))
    assert stay.leave_by == yesterday(12) + dt.timedelta(minutes=park.leave_grace_minutes)
    assert stay.explanation["gross_fen"] == 1500 and stay.updated_at > stay.created_at
    assert (sale.channel, sale.total_fen, sale.member_id, sale.store_id) == ("parking", 1500, m.pk, park.store_id)
    receipts = DBTaskResult.objects.filter(task_path=RECEIPT)
    assert sorted(r.args_kwargs["kwargs"]["payment_id"] for r in receipts) == sorted(
        ParkingPayment.objects.values_list("pk", flat=True)
    )
    balance = wallet_balance(member_id=m.pk)
    assert balance.principal_fen + balance.bonus_fen == 20_000 - 1_000 - 1_500
    assert ledger_check().ok


def test_a_charge_that_rolls_back_leaves_no_receipt(frictionless):
    park, _m = frictionless
    with pytest.raises(RuntimeError), transaction.atomic():
        services.exit_request(car_park=park, plate="粤B66666", at=yesterday(12))
        raise RuntimeError("the gate's answer never went out")
    assert not DBTaskResult.objects.filter(task_path=RECEIPT).exists()
    assert not ParkingPayment.objects.exists() and not Sale.objects.filter(channel="parking").exists()
    decision = services.exit_request(car_park=park, plate="粤B66666", at=yesterday(12))
    assert decision.reason == "auto_paid" and DBTaskResult.objects.filter(task_path=RECEIPT).count() == 1
