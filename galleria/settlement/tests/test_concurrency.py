"""Real concurrency on PostgreSQL: finance users and generation runs colliding on one statement or one period."""

from __future__ import annotations

import pytest

from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.ledger.models import Transaction
from galleria.ledger.selectors import ledger_check
from galleria.settlement import services
from galleria.settlement.models import Statement, StatementEvent
from galleria.testing import run_parallel

from .helpers import generate, local, new_member, period, sell

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _confirmed(world) -> Statement:
    m = new_member(world)
    sell(world, at=local(2026, 11, 3), member=m, amounts=(50000,), channel="pay_at_store")
    generate(world, "2026-11")
    s = Statement.objects.get(merchant=world.merchant)
    services.statement_confirm(
        statement_id=s.pk, merchant_id=world.merchant.pk, actor=Actor.system("owner"), version=s.version
    )
    return s


def test_two_finance_users_approving_at_once_post_one_commission(world):
    s = _confirmed(world)

    def approve(i):
        try:
            services.statement_approve(
                statement_id=s.pk, mall_group_id=world.group.pk, actor=Actor(user_id=None, label=f"finance-{i}")
            )
            return "ok"
        except ApplicationError as exc:
            return exc.code

    outcomes = run_parallel(8, approve)
    assert sorted(outcomes) == ["ok"] + ["settlement.state"] * 7
    assert Transaction.objects.filter(source=f"settlement:{s.pk}", kind="commission").count() == 1
    assert StatementEvent.objects.filter(statement=s, action="approved").count() == 1
    assert ledger_check().ok


def test_recording_the_payment_twice_at_once_posts_one_payout(world):
    s = _confirmed(world)
    services.statement_approve(statement_id=s.pk, mall_group_id=world.group.pk, actor=Actor.system("finance"))

    def pay(i):
        try:
            services.statement_mark_paid(
                statement_id=s.pk, mall_group_id=world.group.pk, actor=Actor.system("finance"), reference=f"REF-{i}"
            )
            return "ok"
        except ApplicationError as exc:
            return exc.code

    assert sorted(run_parallel(6, pay)) == ["ok"] + ["settlement.state"] * 5
    assert Transaction.objects.filter(source=f"settlement:{s.pk}", kind="payout").count() == 1


def test_concurrent_generations_of_a_period_make_one_statement_per_merchant(world):
    m = new_member(world)
    for merchant in (world.merchant, world.other_merchant):
        sell(world, at=local(2026, 11, 3), member=m, merchant=merchant, amounts=(10000,), channel="pay_at_store")
    results = run_parallel(6, lambda i: generate(world, "2026-11"))
    assert sum(r.created for r in results) == 2
    assert Statement.objects.filter(period_start=period("2026-11").start).count() == 2


def test_a_confirmation_racing_a_regeneration_never_confirms_figures_the_merchant_did_not_see(world):
    m = new_member(world)
    sell(world, at=local(2026, 11, 3), member=m, amounts=(10000,), channel="pay_at_store")
    generate(world, "2026-11")
    s = Statement.objects.get(merchant=world.merchant)
    sell(world, at=local(2026, 11, 4), member=m, amounts=(2500,), channel="pay_at_store")

    def step(i):
        try:
            if i == 0:
                generate(world, "2026-11")
            else:
                services.statement_confirm(
                    statement_id=s.pk, merchant_id=world.merchant.pk, actor=Actor.system("owner"), version=1
                )
            return "ok"
        except ApplicationError as exc:
            return exc.code

    outcomes = run_parallel(2, step)
    s.refresh_from_db()
    if outcomes[1] == "ok":  # confirmed first: the figures it saw are frozen, the new sale is a supplement
        assert (s.status, s.collected_fen, s.version) == ("confirmed", 10000, 1)
        extra = Statement.objects.get(merchant=world.merchant, sequence=2)
        assert extra.collected_fen == 2500
    else:  # regenerated first: the merchant's confirmation of version 1 is refused
        assert outcomes[1] == "settlement.changed"
        assert (s.status, s.collected_fen, s.version) == ("draft", 12500, 2)
