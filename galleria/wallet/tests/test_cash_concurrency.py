"""Real threads against PostgreSQL: cash top-ups at the service desk. A double-clicked desk form makes one top-up,
approvers clicking at once make one decision, and a gateway confirmation racing the approval never credits twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.ledger.models import Transaction, TransactionKind
from galleria.testing import run_parallel
from galleria.wallet import selectors, services
from galleria.wallet.models import TopUp, TopUpBonusRule, TopUpStatus

from .helpers import assert_books, new_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

YUAN = 100


@pytest.fixture(autouse=True)
def _threshold(settings):
    settings.GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN = 2_000 * YUAN


def actor(world, role: str) -> Actor:
    user = world.users[role]
    return Actor(user_id=user.pk, label=user.username)


def outcomes(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """run_parallel, with each thread's ApplicationError returned as its error code."""

    def guarded(i: int) -> Any:
        try:
            return fn(i)
        except ApplicationError as exc:
            return exc.code

    return run_parallel(n, guarded)


def credits(topup_id: int) -> int:
    return Transaction.objects.filter(kind=TransactionKind.TOPUP, source=f"topup:{topup_id}").count()


@pytest.mark.parametrize("amount_fen", [500 * YUAN, 5_000 * YUAN], ids=["at-once", "for-approval"])
def test_twenty_identical_desk_requests_make_one_top_up(world, amount_fen):
    TopUpBonusRule.objects.create(mall_group=world.group, name="充500送20", min_amount_fen=500 * YUAN, bonus_fen=2_000)
    m = new_member(world)
    desk = actor(world, "service")

    def work(i: int) -> Any:
        return services.wallet_topup_cash(
            mall_id=world.mall.pk, member_id=m.pk, amount_fen=amount_fen, actor=desk, idempotency_key="double-click"
        ).pk

    results = outcomes(20, work)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert TopUp.objects.filter(member=m).count() == 1
    assert AuditEvent.objects.filter(action="wallet.cash_topup_request").count() == 1
    credited = amount_fen <= 2_000 * YUAN
    assert credits(results[0]) == (1 if credited else 0)
    assert selectors.wallet_balance(member_id=m.pk) == ((amount_fen, 2_000) if credited else (0, 0))
    assert_books(world.group.pk)


def test_approvers_deciding_at_once_make_one_decision(world):
    m = new_member(world)
    topup = services.wallet_topup_cash(
        mall_id=world.mall.pk, member_id=m.pk, amount_fen=3_000 * YUAN, actor=actor(world, "service")
    )
    roles = ("finance", "group_admin", "platform_admin")

    def work(i: int) -> Any:
        decided = services.wallet_topup_cash_decide(
            topup_id=topup.pk, mall_group_id=None, approve=i % 3 != 2, actor=actor(world, roles[i % 3])
        )
        return decided.status

    results = Counter(outcomes(12, work))
    assert results["wallet.cash_topup_decided"] == 11, results
    topup.refresh_from_db()
    assert results[topup.status] == 1
    decisions = AuditEvent.objects.filter(action__in=["wallet.cash_topup_approve", "wallet.cash_topup_reject"])
    assert decisions.count() == 1
    if topup.status == TopUpStatus.PAID:
        assert credits(topup.pk) == 1 and selectors.wallet_balance(member_id=m.pk) == (3_000 * YUAN, 0)
    else:
        assert topup.status == TopUpStatus.CANCELLED
        assert credits(topup.pk) == 0 and selectors.wallet_balance(member_id=m.pk) == (0, 0)
    assert_books(world.group.pk)


def test_gateway_confirmations_racing_the_approval_never_credit_twice(world):
    m = new_member(world)
    topup = services.wallet_topup_cash(
        mall_id=world.mall.pk, member_id=m.pk, amount_fen=3_000 * YUAN, actor=actor(world, "service")
    )

    def work(i: int) -> Any:
        if i == 0:
            return services.wallet_topup_cash_decide(
                topup_id=topup.pk, mall_group_id=world.group.pk, approve=True, actor=actor(world, "finance")
            ).status
        return services.wallet_topup_confirm(gateway_ref=topup.gateway_ref, paid_amount_fen=topup.amount_fen).topup_id

    results = outcomes(10, work)
    assert results[0] == TopUpStatus.PAID
    # each confirmation came either before the approval (refused) or after it (the same answer, nothing posted)
    assert set(results[1:]) <= {"wallet.topup_awaiting_approval", topup.pk}, results
    assert credits(topup.pk) == 1
    assert selectors.wallet_balance(member_id=m.pk) == (3_000 * YUAN, 0)
    assert_books(world.group.pk)
