"""Holds through the services (docs/design/online-mall.md §3.4): `hold_place_in_tx` reserves only what is available
(balance − held), `hold_release_in_tx` releases exactly once, `hold_reduce_in_tx` takes part of an open hold; `held`
always equals the sum of the open holds (`ledger check`), on both forms of the statements; on PostgreSQL with real
threads, concurrent holds never reserve more than the balance and concurrent releases release once."""

from __future__ import annotations

import pytest
from django.db import transaction

from galleria.core import sql
from galleria.ledger import services as ledger
from galleria.ledger.exceptions import HoldConflictError, InsufficientBalanceError
from galleria.ledger.models import Account, AccountHold, AccountKind
from galleria.ledger.selectors import hold_get, ledger_check, member_available
from galleria.testing import run_parallel

from .helpers import books

FORMS = pytest.mark.parametrize("portable", [False, True], ids=["native", "portable"])


def _form(portable: bool):
    return sql.portable_writes_for_tests() if portable else transaction.atomic()


def _account(b) -> Account:
    return Account.objects.get(pk=b.points_account)


@pytest.mark.django_db
@FORMS
def test_a_hold_reserves_what_is_available_and_moves_nothing(world, portable):
    b = books(world.group, world.mall)  # 500 points
    with _form(portable), transaction.atomic():
        placed = ledger.hold_place_in_tx(account_id=b.points_account, key="chk:OC1", amount=300, reason="checkout")
        assert placed.placed and placed.held == 300
        with pytest.raises(InsufficientBalanceError), transaction.atomic():
            ledger.hold_place_in_tx(account_id=b.points_account, key="chk:OC2", amount=201)
        ledger.hold_place_in_tx(account_id=b.points_account, key="chk:OC3", amount=200)
    account = _account(b)
    assert (account.balance, account.held) == (500, 500)
    assert member_available(member_id=b.member_id, kind=AccountKind.MEMBER_POINTS) == 0
    assert not AccountHold.objects.filter(key="chk:OC2").exists()
    assert ledger_check().ok


@pytest.mark.django_db
@FORMS
def test_the_same_key_again_is_the_first_hold_and_another_amount_a_conflict(world, portable):
    b = books(world.group, world.mall)
    with _form(portable), transaction.atomic():
        first = ledger.hold_place_in_tx(account_id=b.points_account, key="chk:OC1", amount=100)
        again = ledger.hold_place_in_tx(account_id=b.points_account, key="chk:OC1", amount=100)
        assert (again.hold_id, again.placed) == (first.hold_id, False)
        with pytest.raises(HoldConflictError):
            ledger.hold_place_in_tx(account_id=b.points_account, key="chk:OC1", amount=101)
    assert _account(b).held == 100
    assert ledger_check().ok


@pytest.mark.django_db
@FORMS
def test_release_is_exactly_once_and_reduce_takes_part(world, portable):
    b = books(world.group, world.mall)
    with _form(portable), transaction.atomic():
        locked = {b.points_account: _account(b)}
        ledger.hold_place_in_tx(account_id=b.points_account, key="chk:OC1", amount=300, locked=locked)
        ledger.hold_place_in_tx(account_id=b.points_account, key="earn:9", amount=105, check_available=False)
        assert locked[b.points_account].held == 300
        assert ledger.hold_reduce_in_tx(key="earn:9", by=13) == 13
        assert ledger.hold_reduce_in_tx(key="earn:9", by=1000) == 92  # never below zero
        assert ledger.hold_release_in_tx(key="chk:OC1", locked=locked) == 300
        assert locked[b.points_account].held == 0
        assert ledger.hold_release_in_tx(key="chk:OC1") == 0
        assert ledger.hold_release_in_tx(key="chk:none") == 0
        assert ledger.hold_reduce_in_tx(key="chk:OC1", by=5) == 0  # released: nothing to take
    assert _account(b).held == 0
    hold = hold_get(key="chk:OC1")
    assert hold is not None and hold.released_at is not None and hold.amount == 300
    earn = hold_get(key="earn:9")
    assert earn is not None and earn.amount == 0 and earn.released_at is None
    assert ledger_check().ok


@pytest.mark.django_db
def test_an_earn_hold_is_recorded_even_beyond_the_balance(world):
    b = books(world.group, world.mall)
    with transaction.atomic():
        ledger.hold_place_in_tx(account_id=b.points_account, key="chk:OC1", amount=500)
        ledger.hold_place_in_tx(account_id=b.points_account, key="earn:1", amount=40, check_available=False)
    assert _account(b).held == 540
    assert member_available(member_id=b.member_id, kind=AccountKind.MEMBER_POINTS) == 0  # never negative
    assert ledger_check().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_holds_never_reserve_more_than_the_balance(world):
    b = books(world.group, world.mall)  # 500 points: 5 holds of 100 fit, not 6

    def hold(i):
        try:
            with transaction.atomic(durable=True):
                ledger.hold_place_in_tx(account_id=b.points_account, key=f"chk:R{i}", amount=100)
            return "ok"
        except InsufficientBalanceError:
            return "insufficient"

    outcomes = run_parallel(20, hold)
    assert outcomes.count("ok") == 5
    account = _account(b)
    assert (account.balance, account.held) == (500, 500)
    assert ledger_check().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_releases_release_once(world):
    b = books(world.group, world.mall)
    with transaction.atomic():
        ledger.hold_place_in_tx(account_id=b.points_account, key="chk:ONE", amount=300)
        ledger.hold_place_in_tx(account_id=b.points_account, key="chk:TWO", amount=100)

    def release(i):
        with transaction.atomic(durable=True):
            if i % 3 == 0:  # releases of another hold of the account interleave
                return ("two", ledger.hold_release_in_tx(key="chk:TWO"))
            return ("one", ledger.hold_release_in_tx(key="chk:ONE"))

    outcomes = run_parallel(20, release)
    assert sorted(n for k, n in outcomes if k == "one" and n) == [300]
    assert sorted(n for k, n in outcomes if k == "two" and n) == [100]
    assert _account(b).held == 0
    assert ledger_check().ok
