"""`galleria ledger check` catches what a DBA (or a bug) could do behind the services: a cached member balance
that drifted from its legs, a transaction whose legs do not balance (per asset), a transaction without legs, a
member account whose legs went negative. Many tests rely on the check being clean; these show it is not clean
when the books are wrong, and that the command says so and exits 1.

The corruption is raw SQL, and on PostgreSQL it switches off the balance trigger it would otherwise trip at commit
(test_guards.py shows the trigger refusing the same insert). The command-line tests commit it (transaction=True),
as a DBA would, and run the command as an operator does."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command, load_command_class
from django.db import connection

from galleria.ledger.models import Asset
from galleria.ledger.selectors import balance_as_of, ledger_check
from galleria.ledger.types import Drift

from .helpers import BALANCED_TRIGGER, books, dba, trigger_enabled

corrupting = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)


def check(*args: str) -> tuple[str, CommandError | None]:
    """Run `ledger check` as `call_command` does: (stdout, the CommandError it raised or None)."""
    out = io.StringIO()
    try:
        call_command("ledger", "check", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


@pytest.mark.django_db
def test_clean_books_pass_and_say_what_was_checked(world):
    b = books(world.group, world.mall)
    out, error = check()
    assert error is None
    report = ledger_check()
    assert report.ok and report.transactions_checked == 2
    assert report.accounts_checked == 4  # two member accounts, two system accounts
    assert out.splitlines() == ["checked 4 accounts, 2 transactions", "ledger OK"]
    assert balance_as_of(account_id=b.points_account) == 500


@corrupting
def test_a_cached_balance_raised_behind_the_services_is_reported_as_drift(world):
    b = books(world.group, world.mall)
    with dba() as db:  # no trigger guards the cached balance: only the check can notice
        db.set_balance(account_id=b.points_account, balance=620)
    report = ledger_check()
    assert report.drifts == (Drift(account_id=b.points_account, cached=620, derived=500),)
    assert report.unbalanced == () and report.negative == () and not report.ok
    out, error = check()
    assert error is not None and str(error) == "ledger check failed" and error.returncode == 1
    assert f"DRIFT account {b.points_account}: cached 620, legs say 500" in out.splitlines()
    assert "ledger OK" not in out


@corrupting
def test_a_cached_balance_lowered_to_zero_is_drift_too(world):
    b = books(world.group, world.mall)
    with dba() as db:
        db.set_balance(account_id=b.wallet_account, balance=0)
    out, error = check()
    assert error is not None
    assert out.splitlines()[1:] == [f"DRIFT account {b.wallet_account}: cached 0, legs say 2000"]


@corrupting
def test_an_unbalanced_transaction_inserted_behind_the_services_is_reported(world):
    b = books(world.group, world.mall)
    with dba(BALANCED_TRIGGER) as db:
        tx = db.insert_transaction(group_id=b.group_id, memo="one-legged")
        db.insert_leg(tx_id=tx, account_id=b.issued_account, asset=Asset.POINTS, amount=700)
    if connection.vendor == "postgresql":
        assert trigger_enabled(*BALANCED_TRIGGER)  # the DBA switched it back on
    report = ledger_check()
    assert report.unbalanced == (tx,)
    assert report.drifts == () and report.negative == ()  # a system account has no cached balance to drift
    out, error = check()
    assert error is not None
    assert out.splitlines() == ["checked 4 accounts, 3 transactions", f"UNBALANCED transaction {tx}"]


@corrupting
def test_legs_that_sum_to_zero_only_across_assets_do_not_balance(world):
    b = books(world.group, world.mall)
    with dba(BALANCED_TRIGGER) as db:
        tx = db.insert_transaction(group_id=b.group_id, memo="points for money")
        db.insert_leg(tx_id=tx, account_id=b.issued_account, asset=Asset.POINTS, amount=300)
        db.insert_leg(tx_id=tx, account_id=b.float_account, asset=Asset.CNY, amount=-300)
    assert ledger_check().unbalanced == (tx,)
    out, error = check()
    assert error is not None and f"UNBALANCED transaction {tx}" in out.splitlines()


@corrupting
def test_a_transaction_without_legs_is_reported(world):
    b = books(world.group, world.mall)
    with dba() as db:  # nothing is inserted into ledger_entry, so no trigger fires
        tx = db.insert_transaction(group_id=b.group_id, memo="empty")
    assert ledger_check().unbalanced == (tx,)
    out, error = check()
    assert error is not None and f"UNBALANCED transaction {tx}" in out.splitlines()


@corrupting
def test_a_member_account_taken_below_zero_by_balanced_legs_is_negative_and_drifted(world):
    """Balanced legs that overdraw a member (the service would refuse them): the CHECK keeps the cached balance
    at or above zero, so the cache is left behind and the legs say negative — both are reported."""
    b = books(world.group, world.mall)
    with dba() as db:  # balanced: the trigger has nothing to refuse
        tx = db.insert_transaction(group_id=b.group_id, memo="overdraw")
        db.insert_leg(tx_id=tx, account_id=b.points_account, asset=Asset.POINTS, amount=-800)
        db.insert_leg(tx_id=tx, account_id=b.issued_account, asset=Asset.POINTS, amount=800)
    report = ledger_check()
    assert report.negative == (b.points_account,)
    assert report.drifts == (Drift(account_id=b.points_account, cached=500, derived=-300),)
    assert report.unbalanced == ()
    out, error = check()
    assert error is not None
    assert out.splitlines()[1:] == [
        f"DRIFT account {b.points_account}: cached 500, legs say -300",
        f"NEGATIVE member account {b.points_account}",
    ]


@corrupting
def test_every_fault_is_listed_in_one_run(world):
    b = books(world.group, world.mall)
    with dba(BALANCED_TRIGGER) as db:
        db.set_balance(account_id=b.wallet_account, balance=1)
        tx = db.insert_transaction(group_id=b.group_id)
        db.insert_leg(tx_id=tx, account_id=b.float_account, asset=Asset.CNY, amount=-5)
    out, error = check()
    assert error is not None
    assert out.splitlines()[1:] == [
        f"DRIFT account {b.wallet_account}: cached 1, legs say 2000",
        f"UNBALANCED transaction {tx}",
    ]


@corrupting
def test_group_option_checks_only_that_group(world):
    ours = books(world.group, world.mall)
    theirs = books(world.other_group, world.foreign_mall)
    with dba() as db:
        db.set_balance(account_id=theirs.points_account, balance=9)
    _out, error = check("--group", str(ours.group_id))
    assert error is None
    out, error = check("--group", str(theirs.group_id))
    assert error is not None
    assert out.splitlines()[1:] == [f"DRIFT account {theirs.points_account}: cached 9, legs say 500"]
    assert ledger_check().drifts == (Drift(account_id=theirs.points_account, cached=9, derived=500),)


@committed
def test_the_command_line_exits_1_with_the_report(world, capsys):
    """What `galleria ledger check` runs (ManagementUtility → run_from_argv), in this process: a failed check is
    exit status 1 with the reason on stderr; a clean one returns (status 0). The next test runs the real command."""
    b = books(world.group, world.mall)
    command = load_command_class("galleria.ledger", "ledger")
    command.run_from_argv(["galleria", "ledger", "check"])
    assert capsys.readouterr().out.splitlines()[-1] == "ledger OK"
    with dba() as db:
        db.set_balance(account_id=b.points_account, balance=499)
    with pytest.raises(SystemExit) as exited:
        load_command_class("galleria.ledger", "ledger").run_from_argv(["galleria", "ledger", "check"])
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert f"DRIFT account {b.points_account}: cached 499, legs say 500" in captured.out.splitlines()
    assert captured.err.strip() == "CommandError: ledger check failed"


@pytest.mark.postgres
@committed
def test_the_command_in_its_own_process_exits_1(world):
    """As an operator runs it: another process, the same database (the corruption is committed)."""
    b = books(world.group, world.mall)
    with dba(BALANCED_TRIGGER) as db:
        tx = db.insert_transaction(group_id=b.group_id)
        db.insert_leg(tx_id=tx, account_id=b.issued_account, asset=Asset.POINTS, amount=1)
    s = connection.settings_dict
    user, password = quote(s["USER"] or "", safe=""), quote(s["PASSWORD"] or "", safe="")
    url = f"postgres://{user}:{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{quote(s['NAME'], safe='')}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    done = subprocess.run(
        [sys.executable, "-m", "galleria", "ledger", "check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stderr
    assert f"UNBALANCED transaction {tx}" in done.stdout.splitlines()
    assert "ledger check failed" in done.stderr


@pytest.mark.django_db
def test_balance_as_of_an_instant(world):
    b = books(world.group, world.mall)
    out = io.StringIO()
    call_command("ledger", "balance", str(b.issued_account), stdout=out)
    assert out.getvalue().strip() == "-500"
    out = io.StringIO()
    call_command("ledger", "balance", str(b.points_account), "--at", "2000-01-01T00:00:00+00:00", stdout=out)
    assert out.getvalue().strip() == "0"
    with pytest.raises(CommandError, match="time zone"):
        call_command("ledger", "balance", str(b.points_account), "--at", "2000-01-01T00:00:00")
