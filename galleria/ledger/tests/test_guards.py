"""PostgreSQL's own guards on the ledger (ledger/migrations/0002_database_guards.py): a transaction whose legs do
not balance per asset is refused when it commits (a deferred constraint trigger, so legs may arrive in any order
within the transaction), and legs and transactions are append-only. These hold for any SQL, not only the
services'."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from galleria.ledger.models import Asset, Entry, Transaction

from .helpers import BALANCED_TRIGGER, DbaSession, books, dba, trigger_enabled

pytestmark = pytest.mark.postgres

committing = pytest.mark.django_db(transaction=True)


@pytest.mark.django_db
def test_the_guards_are_installed(world):
    assert trigger_enabled(*BALANCED_TRIGGER)
    assert trigger_enabled("ledger_entry", "ledger_entry_append_only")
    assert trigger_enabled("ledger_transaction", "ledger_transaction_append_only")


@committing
def test_an_unbalanced_transaction_is_refused_at_commit_not_at_the_insert(world):
    b = books(world.group, world.mall)
    reached_commit = False
    with pytest.raises(IntegrityError, match="does not balance"), dba() as db:  # every trigger on
        tx = db.insert_transaction(group_id=b.group_id, memo="one-legged")
        db.insert_leg(tx_id=tx, account_id=b.issued_account, asset=Asset.POINTS, amount=700)
        reached_commit = True  # the insert itself went through: the check is deferred
    assert reached_commit
    assert not Transaction.objects.filter(memo="one-legged").exists()
    assert Entry.objects.count() == 4  # the books' own legs only


@committing
def test_legs_may_balance_only_by_the_end_of_the_transaction(world):
    """Deferred: the first leg alone is unbalanced, the second completes it before the commit."""
    b = books(world.group, world.mall)
    with dba() as db:
        tx = db.insert_transaction(group_id=b.group_id, memo="two statements")
        db.insert_leg(tx_id=tx, account_id=b.issued_account, asset=Asset.POINTS, amount=-40)
        db.insert_leg(tx_id=tx, account_id=b.float_account, asset=Asset.CNY, amount=40)
        db.insert_leg(tx_id=tx, account_id=b.float_account, asset=Asset.CNY, amount=-40)
        db.insert_leg(tx_id=tx, account_id=b.issued_account, asset=Asset.POINTS, amount=40)
    assert Entry.objects.filter(transaction_id=tx).count() == 4


# The trigger's rule itself, without a commit each: `SET CONSTRAINTS … IMMEDIATE` runs the deferred check at once,
# as the commit would (the test's own transaction is never committed).


@pytest.mark.django_db
def test_legs_that_sum_to_zero_only_across_assets_are_refused(world):
    b = books(world.group, world.mall)
    with pytest.raises(IntegrityError, match="does not balance"), dba() as db:
        tx = db.insert_transaction(group_id=b.group_id, memo="points for money")
        db.insert_leg(tx_id=tx, account_id=b.issued_account, asset=Asset.POINTS, amount=300)
        db.insert_leg(tx_id=tx, account_id=b.float_account, asset=Asset.CNY, amount=-300)
        db.cursor.execute("SET CONSTRAINTS ledger_entry_balanced IMMEDIATE")
    assert not Transaction.objects.filter(memo="points for money").exists()


@pytest.mark.django_db
def test_a_leg_added_later_to_a_committed_transaction_is_refused(world):
    b = books(world.group, world.mall)
    with pytest.raises(IntegrityError, match="does not balance"), dba() as db:
        db.insert_leg(tx_id=b.earn_tx, account_id=b.issued_account, asset=Asset.POINTS, amount=-1)
        db.cursor.execute("SET CONSTRAINTS ledger_entry_balanced IMMEDIATE")
    assert Entry.objects.filter(transaction_id=b.earn_tx).count() == 2


@pytest.mark.django_db
def test_constraints_set_immediate_refuse_at_the_statement(world):
    b = books(world.group, world.mall)
    with pytest.raises(IntegrityError, match="does not balance"), dba() as db:
        db.cursor.execute("SET CONSTRAINTS ledger_entry_balanced IMMEDIATE")
        tx = db.insert_transaction(group_id=b.group_id, memo="immediate")
        db.insert_leg(tx_id=tx, account_id=b.issued_account, asset=Asset.POINTS, amount=5)
        pytest.fail("the unbalanced leg was accepted")


@pytest.mark.django_db
def test_a_balanced_insert_passes_the_immediate_check(world):
    """The control for the three above: the check does not refuse everything (immediate means at the end of each
    statement, so the balanced legs go in together)."""
    b = books(world.group, world.mall)
    with dba() as db:
        db.cursor.execute("SET CONSTRAINTS ledger_entry_balanced IMMEDIATE")
        tx = db.insert_transaction(group_id=b.group_id, memo="balanced")
        legs = [(b.issued_account, Asset.POINTS, 5), (b.float_account, Asset.CNY, 7)]
        legs += [(b.issued_account, Asset.POINTS, -5), (b.float_account, Asset.CNY, -7)]
        db.insert_legs(tx_id=tx, legs=legs)
    assert Entry.objects.filter(transaction_id=tx).count() == 4


APPEND_ONLY = [
    pytest.param("UPDATE ledger_entry SET amount = amount + 1 WHERE transaction_id = %(earn)s", id="update-entry"),
    pytest.param("UPDATE ledger_entry SET account_id = %(float)s WHERE account_id = %(issued)s", id="move-entry"),
    pytest.param("DELETE FROM ledger_entry WHERE transaction_id = %(earn)s", id="delete-entry"),
    pytest.param("UPDATE ledger_transaction SET memo = 'edited' WHERE id = %(earn)s", id="update-transaction"),
    pytest.param("DELETE FROM ledger_transaction WHERE id = %(legless)s", id="delete-transaction"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("statement", APPEND_ONLY)
def test_legs_and_transactions_cannot_be_edited_or_deleted(world, statement):
    b = books(world.group, world.mall)
    with transaction.atomic(), connection.cursor() as cursor:
        legless = DbaSession(cursor).insert_transaction(group_id=b.group_id, memo="legless")
    before = snapshot()
    params = {"earn": b.earn_tx, "float": b.float_account, "issued": b.issued_account, "legless": legless}
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
    assert snapshot() == before


@pytest.mark.django_db
def test_the_orm_cannot_edit_or_delete_legs_either(world):
    b = books(world.group, world.mall)
    before = snapshot()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Entry.objects.filter(transaction_id=b.earn_tx).update(amount=1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Entry.objects.filter(transaction_id=b.topup_tx).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Transaction.objects.filter(pk=b.earn_tx).update(memo="edited")
    assert snapshot() == before


def snapshot() -> tuple[list[tuple], list[tuple]]:
    return (
        list(Entry.objects.order_by("pk").values_list("pk", "transaction_id", "account_id", "asset", "amount")),
        list(Transaction.objects.order_by("pk").values_list("pk", "kind", "memo", "source")),
    )
