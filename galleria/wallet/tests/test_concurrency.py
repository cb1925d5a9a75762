"""Real threads against PostgreSQL: the member's wallet accounts are locked rows, so concurrent payments and
confirmations serialise on them and never overspend or double-credit."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from galleria.core.errors import ApplicationError
from galleria.ledger.models import Transaction
from galleria.wallet import selectors, services
from galleria.wallet.models import TopUp, TopUpStatus, WalletPayment

from .helpers import assert_books, new_member, top_up

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_threads(n: int, work: Callable[[int], object]) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(n)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcome = work(i)
            with lock:
                results.append(outcome)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results, errors


def test_twenty_payments_of_100_from_1000_exactly_ten_succeed(world):
    m = new_member(world)
    top_up(world, m, 100_000)  # ¥1,000, no bonus rules

    def work(i: int) -> object:
        return services.wallet_pay(
            member_id=m.pk, amount_fen=10_000, merchant_id=world.merchant.pk, source=f"order:{i}"
        )

    results, errors = run_threads(20, work)
    assert len(results) == 10
    assert len(errors) == 10
    assert all(isinstance(e, ApplicationError) and e.code == "wallet.insufficient" for e in errors), errors
    assert selectors.wallet_balance(member_id=m.pk) == (0, 0)
    assert WalletPayment.objects.filter(member=m).count() == 10
    assert selectors.wallet_spent_at_merchant(mall_group_id=world.group.pk, merchant_id=world.merchant.pk) == 100_000
    assert_books(world.group.pk)


def test_concurrent_confirmations_credit_once(world):
    m = new_member(world)
    intent = services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=50_000)
    before = Transaction.objects.count()

    def work(i: int) -> object:
        return services.wallet_topup_confirm(gateway_ref=intent.gateway_ref, paid_amount_fen=50_000)

    results, errors = run_threads(8, work)
    assert not errors, errors
    assert len(set(results)) == 1  # every caller got the same answer
    assert Transaction.objects.count() == before + 1
    assert TopUp.objects.get(pk=intent.topup_id).status == TopUpStatus.PAID
    assert selectors.wallet_balance(member_id=m.pk) == (50_000, 0)
    assert_books(world.group.pk)


def test_cash_refunds_race_payments_without_overspending(world):
    m = new_member(world)
    intent, _ = top_up(world, m, 100_000)

    def work(i: int) -> object:
        if i % 2:
            return services.wallet_topup_refund(topup_id=intent.topup_id, amount_fen=10_000)
        return services.wallet_pay(member_id=m.pk, amount_fen=10_000, merchant_id=world.merchant.pk, source=f"o:{i}")

    results, errors = run_threads(20, work)
    assert len(results) == 10
    assert all(isinstance(e, ApplicationError) for e in errors), errors
    assert selectors.wallet_balance(member_id=m.pk) == (0, 0)
    assert_books(world.group.pk)


def test_desk_refunds_racing_payments_never_pay_out_more_than_the_wallet_holds(world, settings):
    """Ten service-desk refunds of ¥300 and ten payments of ¥100 race on a ¥1,000 wallet (two top-ups): every
    success is backed by the money it took, the top-ups are never refunded beyond their amount, books balance."""
    from galleria.audit.types import Actor
    from galleria.wallet.models import BalanceRefund, TopUpRefund

    settings.GALLERIA_WALLET_REFUND_APPROVAL_FEN = 10**9
    m = new_member(world)
    top_up(world, m, 60_000)
    top_up(world, m, 40_000)
    desk = Actor.system("desk")

    def work(i: int) -> object:
        if i % 2:
            return services.wallet_pay(
                member_id=m.pk, amount_fen=10_000, merchant_id=world.merchant.pk, source=f"o:{i}"
            )
        return services.wallet_balance_refund_request(
            member_id=m.pk, mall_group_id=world.group.pk, amount_fen=30_000, reason="race", actor=desk
        )

    results, errors = run_threads(20, work)
    assert all(isinstance(e, ApplicationError) for e in errors), errors
    refunded = sum(r.amount_fen for r in BalanceRefund.objects.filter(member=m, status="done"))
    paid = sum(p.amount_fen for p in WalletPayment.objects.filter(member=m))
    assert refunded + paid + selectors.wallet_balance(member_id=m.pk).principal_fen == 100_000
    assert refunded == sum(r.amount_fen for r in TopUpRefund.objects.filter(topup__member=m))
    for topup in TopUp.objects.filter(member=m):
        assert 0 <= topup.refunded_fen <= topup.amount_fen
    assert (
        len(results) == BalanceRefund.objects.filter(member=m).count() + WalletPayment.objects.filter(member=m).count()
    )
    assert_books(world.group.pk)
