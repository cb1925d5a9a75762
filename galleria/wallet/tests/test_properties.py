"""Random sequences of top-ups, payments and refunds keep every balance ≥ 0, the ledger clean and the prepaid
liability equal to the sum of the wallets; each balance is explained by the business rows."""

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from galleria.core.errors import ApplicationError
from galleria.wallet import selectors, services
from galleria.wallet.models import TopUp, TopUpBonusRule, TopUpRefund, WalletPayment, WalletRefund

from .helpers import assert_books, new_member, pay, top_up

pytestmark = pytest.mark.django_db

amounts = st.integers(1, 6_000)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("topup"), st.integers(100, 5_000)),
        st.tuples(st.just("pay"), amounts),
        st.tuples(st.just("drain"), st.integers(0, 100)),  # spend all but a little: bonus money gets used
        st.tuples(st.just("refund"), st.integers(0, 20), amounts),
        st.tuples(st.just("topup_refund"), st.integers(0, 20), amounts),
        st.tuples(st.just("topup_refund"), st.integers(0, 20), st.integers(1, 500)),
    ),
    min_size=1,
    max_size=14,
)


def _sum(qs, field):
    return int(qs.aggregate(t=Sum(field))["t"] or 0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops)
def test_random_sequences_keep_the_books(world, ops):
    TopUpBonusRule.objects.get_or_create(
        mall_group=world.group, name="t1", defaults={"min_amount_fen": 1_000, "bonus_fen": 300}
    )
    TopUpBonusRule.objects.get_or_create(
        mall_group=world.group, name="t2", defaults={"min_amount_fen": 3_000, "bonus_fen": 1_500}
    )
    m = new_member(world)
    topups = []
    payments = []
    for op in ops:
        before = selectors.wallet_balance(member_id=m.pk)
        try:
            if op[0] == "topup":
                intent, _ = top_up(world, m, op[1])
                topups.append(intent.topup_id)
            elif op[0] == "pay":
                result = pay(world, m, op[1], merchant=world.merchant if op[1] % 2 else world.other_merchant)
                assert result.bonus_fen == 0 or result.principal_fen == before.principal_fen
                payments.append(result.payment_id)
            elif op[0] == "drain" and before.total_fen > op[1]:
                result = pay(world, m, before.total_fen - op[1])
                payments.append(result.payment_id)
            elif op[0] == "refund" and payments:
                services.wallet_refund(payment_id=payments[op[1] % len(payments)], amount_fen=op[2])
            elif op[0] == "topup_refund" and topups:
                services.wallet_topup_refund(topup_id=topups[op[1] % len(topups)], amount_fen=op[2])
            else:
                continue
            event(f"{op[0]} ok")
        except ApplicationError as exc:
            event(f"{op[0]} {exc.code}")
            assert selectors.wallet_balance(member_id=m.pk) == before  # a refused command changed nothing
        balance = selectors.wallet_balance(member_id=m.pk)
        assert balance.principal_fen >= 0 and balance.bonus_fen >= 0

    t = TopUp.objects.filter(member=m, status__in=["paid", "partially_refunded", "refunded"])
    r = TopUpRefund.objects.filter(topup__member=m)
    p = WalletPayment.objects.filter(member=m)
    w = WalletRefund.objects.filter(payment__member=m)
    balance = selectors.wallet_balance(member_id=m.pk)
    assert balance.principal_fen == (
        _sum(t, "amount_fen") - _sum(r, "amount_fen") - _sum(p, "principal_fen") + _sum(w, "principal_fen")
    )
    assert balance.bonus_fen == (
        _sum(t, "bonus_fen") - _sum(r, "bonus_clawed_back_fen") - _sum(p, "bonus_fen") + _sum(w, "bonus_fen")
    )
    for payment in p:
        assert payment.refunded_fen <= payment.amount_fen
    for topup in t:
        assert topup.bonus_clawed_back_fen + topup.bonus_shortfall_fen <= topup.bonus_fen
        if topup.refunded_fen == topup.amount_fen:
            assert topup.bonus_clawed_back_fen + topup.bonus_shortfall_fen == topup.bonus_fen
    if any(topup.bonus_shortfall_fen for topup in t):
        event("bonus shortfall recorded")
    assert_books(world.group.pk)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.integers(1_000, 5_000),
    keep=st.integers(0, 2_000),
    second=st.integers(100, 5_000),
    parts=st.lists(st.integers(1, 5_000), max_size=4),
)
def test_topup_refund_after_spending_the_bonus(world, first, keep, second, parts):
    """Top up (with bonus), spend all but `keep`, top up again, then refund the first top-up in parts: the bonus
    is clawed back in proportion as far as it is left, the rest recorded as shortfall, never below zero."""
    TopUpBonusRule.objects.get_or_create(
        mall_group=world.group, name="half", defaults={"min_amount_fen": 1_000, "bonus_fen": 500}
    )
    m = new_member(world)
    intent, _ = top_up(world, m, first)
    total = selectors.wallet_balance(member_id=m.pk).total_fen
    if total > keep:
        pay(world, m, total - keep)
    top_up(world, m, second)
    for part in [*parts, first]:
        topup = TopUp.objects.get(pk=intent.topup_id)
        refundable = min(topup.amount_fen - topup.refunded_fen, selectors.wallet_balance(member_id=m.pk).principal_fen)
        if refundable <= 0:
            break
        result = services.wallet_topup_refund(topup_id=intent.topup_id, amount_fen=min(part, refundable))
        assert result.bonus_clawed_back_fen >= 0 and result.bonus_shortfall_fen >= 0
        assert selectors.wallet_balance(member_id=m.pk).bonus_fen >= 0
    topup = TopUp.objects.get(pk=intent.topup_id)
    assert topup.bonus_clawed_back_fen + topup.bonus_shortfall_fen <= topup.bonus_fen
    if topup.refunded_fen == topup.amount_fen:
        assert topup.bonus_clawed_back_fen + topup.bonus_shortfall_fen == topup.bonus_fen
    if topup.bonus_shortfall_fen:
        event("bonus shortfall recorded")
        assert selectors.wallet_balance(member_id=m.pk).bonus_fen == 0
    assert_books(world.group.pk)
