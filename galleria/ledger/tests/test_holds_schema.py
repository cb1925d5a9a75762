"""The schema of ledger holds (docs/design/online-mall.md §3.4): `Account.held` never negative, one hold per key, and
`ledger check` re-deriving `held` as the sum of the account's open holds. The services that place and release holds
come later (build step P1); these rows are written directly, as those services will write them."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from galleria.ledger.models import Account, AccountHold
from galleria.ledger.selectors import ledger_check
from galleria.ledger.types import Drift

from .helpers import books


@pytest.mark.django_db
def test_accounts_start_with_nothing_held(world):
    b = books(world.group, world.mall)
    assert Account.objects.get(pk=b.points_account).held == 0
    assert Account.objects.get(pk=b.issued_account).held == 0  # system accounts too (generic column)
    assert ledger_check().ok


@pytest.mark.django_db
def test_held_cannot_go_below_zero(world):
    b = books(world.group, world.mall)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=b.points_account).update(held=-1)


@pytest.mark.django_db
def test_a_hold_key_is_used_once_and_its_amount_is_not_negative(world):
    b = books(world.group, world.mall)
    AccountHold.objects.create(account_id=b.points_account, key="chk:OC1", amount=100)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountHold.objects.create(account_id=b.points_account, key="chk:OC1", amount=50)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountHold.objects.create(account_id=b.points_account, key="chk:OC2", amount=-1)


@pytest.mark.django_db
def test_held_may_exceed_the_balance(world):
    """An expiry or a staff deduction can take the balance below what is held: the schema allows it (the held
    spend is refused later), so no CHECK ties them."""
    b = books(world.group, world.mall)
    AccountHold.objects.create(account_id=b.points_account, key="chk:OC1", amount=900)
    Account.objects.filter(pk=b.points_account).update(held=900)  # balance 500
    assert ledger_check().ok


@pytest.mark.django_db
def test_check_reads_held_as_the_sum_of_open_holds(world):
    b = books(world.group, world.mall)
    AccountHold.objects.create(account_id=b.points_account, key="chk:OC1", amount=300)
    AccountHold.objects.create(account_id=b.points_account, key="earn:7", amount=40)
    AccountHold.objects.create(account_id=b.points_account, key="chk:OC0", amount=99, released_at=timezone.now())
    Account.objects.filter(pk=b.points_account).update(held=340)
    assert ledger_check().ok
    assert ledger_check(mall_group_id=world.group.pk).ok


@pytest.mark.django_db
def test_a_held_figure_that_drifted_from_its_holds_is_reported(world):
    b = books(world.group, world.mall)
    AccountHold.objects.create(account_id=b.points_account, key="chk:OC1", amount=300)
    Account.objects.filter(pk=b.points_account).update(held=200)
    Account.objects.filter(pk=b.wallet_account).update(held=5)  # no hold at all
    report = ledger_check()
    assert not report.ok
    assert set(report.held_drifts) == {
        Drift(account_id=b.points_account, cached=200, derived=300),
        Drift(account_id=b.wallet_account, cached=5, derived=0),
    }
    assert report.drifts == ()  # the balances themselves are right
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("ledger", "check", stdout=out)
    assert f"HELD DRIFT account {b.points_account}: held 200, open holds say 300" in out.getvalue()
