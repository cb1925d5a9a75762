"""`ledger.services.post` and friends: what the service refuses before any SQL runs, and what it writes — on
PostgreSQL in both forms (one statement, and the portable statements SQLite runs)."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.db import connections, transaction
from django.utils import timezone

from galleria.core import sql
from galleria.ledger import exceptions
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind, Asset, Entry, Transaction
from galleria.ledger.selectors import balance_as_of, ledger_check
from galleria.ledger.types import Leg

from .helpers import books

pytestmark = pytest.mark.django_db

FORMS = [pytest.param(contextlib.nullcontext, id="native"), pytest.param(sql.portable_writes_for_tests, id="portable")]


def locked(b, *kinds):
    accounts = ledger.lock_member_accounts(
        mall_group_id=b.group_id, member_id=b.member_id, kinds=kinds or [AccountKind.MEMBER_POINTS]
    )
    return {a.pk: a for a in accounts.values()}


@pytest.mark.parametrize("form", FORMS)
def test_a_posting_writes_its_legs_and_moves_the_member_balance(world, form):
    """(Its follow-up insert, a points lot, is covered in both forms by galleria/sales/tests/test_sql_parity.py:
    the ledger may not import points.)"""
    b = books(world.group, world.mall)
    at = timezone.now() - dt.timedelta(minutes=5)
    with form(), transaction.atomic():
        rows = locked(b)
        tx = ledger.post(
            mall_group_id=b.group_id,
            kind="earn",
            legs=[Leg(b.points_account, Asset.POINTS, 120), Leg(b.issued_account, Asset.POINTS, -120)],
            member_accounts=rows,
            occurred_at=at,
            memo="m" * 250,
            source="test:post",
            explanation={"why": "test"},
        )
        assert rows[b.points_account].balance == 620  # updated in place for the caller
    stored = Transaction.objects.get(pk=tx.pk)
    assert (stored.kind, stored.occurred_at, stored.source, stored.explanation) == (
        "earn",
        at,
        "test:post",
        {"why": "test"},
    )
    assert stored.memo == "m" * 200  # cut to the column
    legs = sorted(Entry.objects.filter(transaction=stored).values_list("account_id", "asset", "amount", "occurred_at"))
    assert legs == sorted([(b.points_account, "points", 120, at), (b.issued_account, "points", -120, at)])
    assert Account.objects.get(pk=b.points_account).balance == 620
    assert ledger_check().ok


@pytest.mark.parametrize(
    "legs",
    [
        pytest.param([(0, "points", 10), (1, "points", -9)], id="off-by-one"),
        pytest.param([(0, "points", 10), (1, "cny", -10)], id="across-assets"),
        pytest.param([(0, "points", 0), (1, "points", 0)], id="all-zero"),
        pytest.param([], id="no-legs"),
    ],
)
def test_unbalanced_legs_are_refused_before_anything_is_written(world, legs):
    b = books(world.group, world.mall)
    accounts = [b.issued_account, b.float_account]
    before = Transaction.objects.count()
    with pytest.raises(exceptions.UnbalancedTransactionError), transaction.atomic():
        ledger.post(mall_group_id=b.group_id, kind="adjust", legs=[Leg(accounts[i], asset, n) for i, asset, n in legs])
    assert Transaction.objects.count() == before


def test_zero_legs_are_dropped(world):
    b = books(world.group, world.mall)
    with transaction.atomic():
        tx = ledger.post(
            mall_group_id=b.group_id,
            kind="adjust",
            legs=[
                Leg(b.issued_account, "points", 3),
                Leg(b.float_account, "cny", 0),
                Leg(b.issued_account, "points", -3),
            ],
        )
    assert Entry.objects.filter(transaction_id=tx.pk).count() == 2


@pytest.mark.parametrize("form", FORMS)
def test_a_member_balance_cannot_go_below_zero_and_nothing_is_written(world, form):
    b = books(world.group, world.mall)
    before = Transaction.objects.count()
    with form(), pytest.raises(exceptions.InsufficientBalanceError) as exc, transaction.atomic():
        ledger.post(
            mall_group_id=b.group_id,
            kind="spend",
            legs=[Leg(b.points_account, Asset.POINTS, -501), Leg(b.issued_account, Asset.POINTS, 501)],
            member_accounts=locked(b),
        )
    assert exc.value.extra == {"account": AccountKind.MEMBER_POINTS, "balance": 500}
    assert Transaction.objects.count() == before
    assert Account.objects.get(pk=b.points_account).balance == 500


def test_a_member_leg_needs_its_locked_row(world):
    b = books(world.group, world.mall)
    with pytest.raises(RuntimeError, match="locked"), transaction.atomic():
        ledger.post(
            mall_group_id=b.group_id,
            kind="spend",
            legs=[Leg(b.points_account, Asset.POINTS, -1), Leg(b.issued_account, Asset.POINTS, 1)],
        )


def test_posting_outside_a_transaction_is_refused(world, monkeypatch):
    b = books(world.group, world.mall)
    monkeypatch.setattr(
        connections["default"], "in_atomic_block", False
    )  # as in autocommit (the test runs in a transaction)
    with pytest.raises(RuntimeError, match="inside"):
        ledger.post(
            mall_group_id=b.group_id,
            kind="adjust",
            legs=[Leg(b.issued_account, "points", 1), Leg(b.issued_account, "points", -1)],
        )


def test_a_reversal_is_the_exact_opposite_and_happens_once(world):
    b = books(world.group, world.mall)
    original = Transaction.objects.get(pk=b.earn_tx)
    with transaction.atomic():
        rev = ledger.reverse(transaction_obj=original, member_accounts=locked(b))
    assert rev.reverses_id == original.pk and rev.source == original.source and rev.kind == "reversal"
    legs = dict(Entry.objects.filter(transaction_id=rev.pk).values_list("account_id", "amount"))
    assert legs == {b.points_account: -500, b.issued_account: 500}
    assert Account.objects.get(pk=b.points_account).balance == 0
    with pytest.raises(exceptions.AlreadyReversedError), transaction.atomic():
        ledger.reverse(transaction_obj=original, member_accounts=locked(b))
    assert ledger_check().ok


def test_balance_as_of_reads_the_legs_at_an_instant(world):
    b = books(world.group, world.mall)
    later = timezone.now() + dt.timedelta(hours=1)
    with transaction.atomic():
        ledger.post(
            mall_group_id=b.group_id,
            kind="spend",
            legs=[Leg(b.points_account, Asset.POINTS, -200), Leg(b.issued_account, Asset.POINTS, 200)],
            member_accounts=locked(b),
            occurred_at=later,
        )
    assert balance_as_of(account_id=b.points_account, at=later - dt.timedelta(seconds=1)) == 500
    assert balance_as_of(account_id=b.points_account, at=later) == 300  # inclusive
    assert balance_as_of(account_id=b.points_account) == 300 == Account.objects.get(pk=b.points_account).balance


def test_locking_creates_missing_accounts_and_refuses_closed_ones(world):
    b = books(world.group, world.mall)
    with transaction.atomic():
        rows = ledger.lock_member_accounts(
            mall_group_id=b.group_id,
            member_id=b.member_id,
            kinds=[AccountKind.MEMBER_POINTS, AccountKind.MEMBER_WALLET_BONUS, AccountKind.MEMBER_POINTS],
        )
        assert set(rows) == {AccountKind.MEMBER_POINTS, AccountKind.MEMBER_WALLET_BONUS}
        assert rows[AccountKind.MEMBER_WALLET_BONUS].balance == 0
        assert ledger.member_accounts_close(member_id=b.member_id, at=timezone.now()) == 3
    with pytest.raises(exceptions.AccountClosedError), transaction.atomic():
        ledger.lock_member_accounts(mall_group_id=b.group_id, member_id=b.member_id, kinds=[AccountKind.MEMBER_POINTS])
    with transaction.atomic():
        rows = ledger.lock_member_accounts(
            mall_group_id=b.group_id, member_id=b.member_id, kinds=[AccountKind.MEMBER_POINTS], allow_closed=True
        )
        assert rows[AccountKind.MEMBER_POINTS].balance == 500
    with pytest.raises(ValueError, match="member account kind"):
        ledger.system_account_id(mall_group_id=b.group_id, kind=AccountKind.MEMBER_POINTS)


def test_source_sums_add_up_the_legs_of_one_kind_per_exact_source(world):
    """What was posted so far for something billed by differences (a parking grant): the legs of one account kind of
    the transactions with each exact source, in one query; other kinds, other sources and other groups left out."""
    from galleria.ledger.selectors import source_sums

    merchant, other_group = world.merchant, world.group.pk + 10_000
    with transaction.atomic():
        cost = ledger.system_account_id(
            mall_group_id=world.group.pk, kind=AccountKind.PARKING_GRANT_COST, merchant_id=merchant.pk
        )
        income = ledger.system_account_id(mall_group_id=world.group.pk, kind=AccountKind.PARKING_GRANT_INCOME)
        for source, amount in (("parking_grant:1", 1000), ("parking_grant:1", 500), ("parking_grant:2", 300)):
            ledger.post(
                mall_group_id=world.group.pk,
                kind="parking_grant",
                legs=[Leg(cost, Asset.CNY, -amount), Leg(income, Asset.CNY, amount)],
                source=source,
            )
        sums = source_sums(
            mall_group_id=world.group.pk,
            sources=["parking_grant:1", "parking_grant:2", "parking_grant:3"],
            kind=AccountKind.PARKING_GRANT_COST,
        )
        assert sums == {"parking_grant:1": -1500, "parking_grant:2": -300}
        assert source_sums(
            mall_group_id=world.group.pk, sources=["parking_grant:1"], kind=AccountKind.PARKING_GRANT_INCOME
        ) == {"parking_grant:1": 1500}
        assert source_sums(mall_group_id=other_group, sources=["parking_grant:1"], kind="parking_grant_cost") == {}
        assert source_sums(mall_group_id=world.group.pk, sources=[], kind="parking_grant_cost") == {}
    assert ledger_check().ok
