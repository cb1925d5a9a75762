"""Refunding a member's wallet balance at the service desk: newest top-ups first, back through their gateway (or in
cash), the bonus clawed back in proportion, a second person above the threshold, audited, books balanced."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.ledger import services as ledger
from galleria.ledger.models import AccountKind, Asset, TransactionKind
from galleria.ledger.selectors import system_balance
from galleria.ledger.types import Leg
from galleria.wallet import exceptions, rules, selectors, services
from galleria.wallet.models import (
    BalanceRefund,
    BalanceRefundStatus,
    RefundChannel,
    TopUp,
    TopUpBonusRule,
    TopUpRefund,
    TopUpStatus,
)
from galleria.wallet.tests.fakes import FakeGateway
from galleria.wallet.types import TopUpSnapshot

from .helpers import assert_books, new_member, pay, top_up

pytestmark = pytest.mark.django_db

YUAN = 100


def actor(world, role="service"):
    user = world.users[role]
    return Actor(user_id=user.pk, label=user.username)


@pytest.fixture
def bonus_rule(world):
    return TopUpBonusRule.objects.create(
        mall_group=world.group, name="充1000送50", min_amount_fen=1_000 * YUAN, bonus_fen=50 * YUAN
    )


def request(world, member, amount_fen=None, **kwargs):
    kwargs.setdefault("reason", "member moving away")
    kwargs.setdefault("actor", actor(world))
    return services.wallet_balance_refund_request(
        member_id=member.pk, mall_group_id=world.group.pk, amount_fen=amount_fen, **kwargs
    )


def snap(topup_id, refundable, *, amount=None, bonus=0, gateway=True):
    amount = amount or refundable
    return TopUpSnapshot(
        id=topup_id,
        reference=f"TU{topup_id}",
        gateway="fake",
        paid_at=None,
        amount_fen=amount,
        bonus_fen=bonus,
        refunded_fen=amount - refundable,
        bonus_settled_fen=0,
        gateway_refunds=gateway,
    )


class TestRules:
    def test_allocation_takes_the_newest_top_ups_first_and_leaves_the_rest_to_cash(self):
        assert rules.allocate_balance_refund(150, [(3, 100), (2, 0), (1, 80)]) == ([(3, 100), (1, 50)], 0)
        assert rules.allocate_balance_refund(100, [(3, 100), (1, 80)]) == ([(3, 100)], 0)
        assert rules.allocate_balance_refund(300, [(3, 100), (1, 80)]) == ([(3, 100), (1, 80)], 120)
        assert rules.allocate_balance_refund(5, []) == ([], 5)
        with pytest.raises(exceptions.WalletAmountInvalidError):
            rules.allocate_balance_refund(0, [(1, 10)])

    def test_plan_claws_back_each_top_ups_bonus_in_proportion(self):
        plan = rules.plan_balance_refund(
            amount_fen=60_000,
            principal_fen=70_000,
            bonus_fen=5_000,
            topups=[snap(2, 20_000, gateway=False), snap(1, 50_000, amount=100_000, bonus=5_000)],
        )
        assert [(p.topup.id if p.topup else None, p.channel, p.amount_fen) for p in plan.parts] == [
            (2, "cash", 20_000),
            (1, "gateway", 40_000),
        ]
        # top-up 1: 50000 of 100000 already refunded with nothing clawed back yet → due round(5000 × 90000/100000)
        assert plan.parts[1].bonus_clawed_back_fen == 4_500 and plan.bonus_after_fen == 500
        assert (plan.to_gateway_fen, plan.in_cash_fen, plan.principal_after_fen) == (40_000, 20_000, 10_000)

    def test_plan_cash_only_and_refusals(self):
        plan = rules.plan_balance_refund(
            amount_fen=100, principal_fen=100, bonus_fen=0, topups=[snap(1, 100)], cash_only=True
        )
        assert [p.channel for p in plan.parts] == ["cash"]
        with pytest.raises(exceptions.BalanceRefundNothingError):
            rules.plan_balance_refund(amount_fen=0, principal_fen=0, bonus_fen=10, topups=[])
        with pytest.raises(exceptions.BalanceRefundExceedsError) as err:
            rules.plan_balance_refund(amount_fen=101, principal_fen=100, bonus_fen=0, topups=[])
        assert err.value.extra == {"available_fen": 100, "requested_fen": 101} and "amount" in err.value.fields
        with pytest.raises(exceptions.WalletAmountInvalidError):
            rules.plan_balance_refund(amount_fen=-1, principal_fen=100, bonus_fen=0, topups=[])

    def test_approval_threshold_is_exact(self):
        assert not rules.refund_needs_approval(50_000, threshold_fen=50_000)
        assert rules.refund_needs_approval(50_001, threshold_fen=50_000)
        assert rules.refund_needs_approval(1, threshold_fen=0)


class TestRefundAtOnce:
    def test_whole_balance_goes_back_through_the_sandbox_gateway(self, world, bonus_rule, settings):
        settings.GALLERIA_WALLET_REFUND_APPROVAL_FEN = 2_000 * YUAN
        m = new_member(world)
        a, _ = top_up(world, m, 1_000 * YUAN)  # +50 bonus
        pay(world, m, 400 * YUAN)  # principal 600, bonus 50
        refund = request(world, m)
        assert refund.status == BalanceRefundStatus.DONE and refund.amount_fen == 60_000
        assert (refund.to_gateway_fen, refund.in_cash_fen) == (60_000, 0)
        # 600 of the 1000 top-up refunded: 60% of its 50 bonus taken back, 20 left (forfeited if the account goes)
        assert refund.bonus_clawed_back_fen == 3_000
        assert selectors.wallet_balance(member_id=m.pk) == (0, 2_000)
        part = TopUpRefund.objects.get(balance_refund=refund)
        assert part.topup_id == a.topup_id and part.channel == RefundChannel.GATEWAY
        assert part.sent_at is not None and part.gateway_refund_ref == f"fkr_{part.refund_reference}_60000"
        assert TopUp.objects.get(pk=a.topup_id).status == TopUpStatus.PARTIALLY_REFUNDED
        g = world.group.pk
        assert system_balance(mall_group_id=g, kind=AccountKind.WALLET_FLOAT) == -40_000
        assert system_balance(mall_group_id=g, kind=AccountKind.WALLET_CASH_PAYOUT) == 0
        event = AuditEvent.objects.get(action="wallet.refund_request")
        assert event.target_id == str(m.pk) and event.changes["status"] == "done" and event.actor_label == "service"
        assert_books(g)

    def test_an_amount_spans_the_newest_top_ups(self, world, bonus_rule):
        m = new_member(world)
        old, _ = top_up(world, m, 1_000 * YUAN)
        new, _ = top_up(world, m, 200 * YUAN)
        refund = request(world, m, 300 * YUAN)
        parts = {p.topup_id: p.amount_fen for p in TopUpRefund.objects.filter(balance_refund=refund)}
        assert parts == {new.topup_id: 20_000, old.topup_id: 10_000}
        assert refund.bonus_clawed_back_fen == 500  # 10% of the old top-up's bonus; the new one had none
        assert selectors.wallet_balance(member_id=m.pk) == (90_000, 4_500)
        assert_books(world.group.pk)

    def test_cash_payout_and_money_no_top_up_explains(self, world):
        m = new_member(world)
        a, _ = top_up(world, m, 100 * YUAN)
        intent = services.wallet_topup_start(  # paid at a till that cannot refund: paid back in cash
            mall_id=world.mall.pk, member_id=m.pk, amount_fen=30 * YUAN, gateway=_CounterGateway()
        )
        services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=30 * YUAN)
        with transaction.atomic():  # and money that no top-up explains (e.g. an older system's balance)
            principal = ledger.lock_member_accounts(
                mall_group_id=world.group.pk, member_id=m.pk, kinds=selectors.WALLET_KINDS
            )[AccountKind.MEMBER_WALLET]
            float_id = ledger.system_account_id(mall_group_id=world.group.pk, kind=AccountKind.WALLET_FLOAT)
            ledger.post(
                mall_group_id=world.group.pk,
                kind=TransactionKind.ADJUST,
                legs=[Leg(principal.pk, Asset.CNY, 2_000), Leg(float_id, Asset.CNY, -2_000)],
                member_accounts={principal.pk: principal},
                occurred_at=timezone.now(),
            )
        refund = request(world, m, payout="original")
        parts = {p.topup_id: p.channel for p in TopUpRefund.objects.filter(balance_refund=refund)}
        assert parts == {intent.topup_id: RefundChannel.CASH, a.topup_id: RefundChannel.GATEWAY}
        assert (refund.to_gateway_fen, refund.in_cash_fen) == (10_000, 5_000)
        assert refund.cash_transaction is not None and refund.cash_transaction.source == f"wallet_refund:{refund.pk}"
        assert system_balance(mall_group_id=world.group.pk, kind=AccountKind.WALLET_CASH_PAYOUT) == 5_000
        assert selectors.wallet_balance(member_id=m.pk) == (0, 0)
        assert_books(world.group.pk)

    def test_all_in_cash_when_asked(self, world):
        m = new_member(world)
        top_up(world, m, 100 * YUAN)
        refund = request(world, m, payout="cash")
        assert (refund.to_gateway_fen, refund.in_cash_fen) == (0, 10_000)
        part = TopUpRefund.objects.get(balance_refund=refund)
        assert part.channel == RefundChannel.CASH and part.refund_reference == "" and part.sent_at is None
        g = world.group.pk
        assert system_balance(mall_group_id=g, kind=AccountKind.WALLET_CASH_PAYOUT) == 10_000
        assert system_balance(mall_group_id=g, kind=AccountKind.WALLET_FLOAT) == -10_000  # the gateway still has it
        liability = assert_books(g)
        assert liability.cash_paid_out_fen == 10_000 and liability.total_fen == 0

    def test_refusals_write_nothing(self, world):
        m = new_member(world)
        with pytest.raises(exceptions.BalanceRefundNothingError):
            request(world, m)
        top_up(world, m, 100 * YUAN)
        with pytest.raises(exceptions.BalanceRefundExceedsError):
            request(world, m, 100 * YUAN + 1)
        with pytest.raises(exceptions.WalletAmountInvalidError):
            request(world, m, 0)
        with pytest.raises(Exception) as err:
            request(world, m, reason="  ")
        assert getattr(err.value, "code", "") == "wallet.reason_required"
        with pytest.raises(Exception) as err:
            request(world, m, payout="bitcoin")
        assert getattr(err.value, "code", "") == "wallet.payout_invalid"
        with pytest.raises(exceptions.WalletMemberInvalidError):  # another group's scope
            services.wallet_balance_refund_request(
                member_id=m.pk, mall_group_id=world.other_group.pk, amount_fen=None, reason="x", actor=actor(world)
            )
        assert not BalanceRefund.objects.exists() and not TopUpRefund.objects.exists()
        assert not AuditEvent.objects.filter(action__startswith="wallet.").exists()
        assert selectors.wallet_balance(member_id=m.pk) == (10_000, 0)

    def test_same_key_returns_the_first_refund(self, world):
        m = new_member(world)
        top_up(world, m, 100 * YUAN)
        first = request(world, m, 40 * YUAN, idempotency_key="desk-1")
        assert request(world, m, 40 * YUAN, idempotency_key="desk-1").pk == first.pk
        assert request(world, m, None, idempotency_key="desk-1").pk == first.pk
        with pytest.raises(exceptions.IdempotencyConflictError):
            request(world, m, 50 * YUAN, idempotency_key="desk-1")
        assert selectors.wallet_balance(member_id=m.pk).principal_fen == 6_000


class _CounterGateway:
    """A gateway that cannot refund (e.g. a till that took cash for the top-up)."""

    name = "counter"

    def create_payment(self, *, amount_fen: int, reference: str) -> str:
        return f"ctr_{reference}"


class TestApproval:
    def test_above_the_threshold_a_second_person_approves(self, world, settings):
        settings.GALLERIA_WALLET_REFUND_APPROVAL_FEN = 500 * YUAN
        m = new_member(world)
        top_up(world, m, 1_000 * YUAN)
        refund = request(world, m)
        assert refund.status == BalanceRefundStatus.PENDING
        assert selectors.wallet_balance(member_id=m.pk).principal_fen == 100_000  # nothing moved
        assert not TopUpRefund.objects.exists()
        with pytest.raises(exceptions.BalanceRefundPendingError):
            request(world, m, 10 * YUAN)
        with pytest.raises(exceptions.BalanceRefundSamePersonError):
            services.wallet_balance_refund_decide(
                refund_id=refund.pk, mall_group_id=world.group.pk, approve=True, actor=actor(world)
            )
        with pytest.raises(exceptions.BalanceRefundNotFoundError):  # another group's approver
            services.wallet_balance_refund_decide(
                refund_id=refund.pk,
                mall_group_id=world.other_group.pk,
                approve=True,
                actor=actor(world, "foreign_admin"),
            )
        done = services.wallet_balance_refund_decide(
            refund_id=refund.pk, mall_group_id=world.group.pk, approve=True, actor=actor(world, "finance"), note="ok"
        )
        assert done.status == BalanceRefundStatus.DONE and done.decided_by_id == world.users["finance"].pk
        assert selectors.wallet_balance(member_id=m.pk).principal_fen == 0
        with pytest.raises(exceptions.BalanceRefundDecidedError):
            services.wallet_balance_refund_decide(
                refund_id=refund.pk, mall_group_id=world.group.pk, approve=False, actor=actor(world, "finance")
            )
        actions = list(AuditEvent.objects.filter(target_id=str(m.pk)).values_list("action", flat=True))
        assert "wallet.refund_request" in actions and "wallet.refund_approve" in actions
        assert_books(world.group.pk)

    def test_rejected_or_outdated_requests_move_nothing(self, world, settings):
        settings.GALLERIA_WALLET_REFUND_APPROVAL_FEN = 0  # every refund waits
        m = new_member(world)
        top_up(world, m, 100 * YUAN)
        refund = request(world, m)
        pay(world, m, 1)  # the member spends meanwhile: the approved amount is no longer there
        with pytest.raises(exceptions.BalanceRefundExceedsError):
            services.wallet_balance_refund_decide(
                refund_id=refund.pk, mall_group_id=world.group.pk, approve=True, actor=actor(world, "finance")
            )
        refund.refresh_from_db()
        assert refund.status == BalanceRefundStatus.PENDING
        rejected = services.wallet_balance_refund_decide(
            refund_id=refund.pk, mall_group_id=world.group.pk, approve=False, actor=actor(world, "finance")
        )
        assert rejected.status == BalanceRefundStatus.REJECTED
        assert selectors.wallet_balance(member_id=m.pk).principal_fen == 9_999
        assert request(world, m).status == BalanceRefundStatus.PENDING  # a new request may follow
        assert_books(world.group.pk)


class TestGatewaySend:
    def test_a_gateway_failure_is_recorded_and_retried_by_the_command(self, world, monkeypatch):
        m = new_member(world)
        top_up(world, m, 100 * YUAN)

        def down(self, **kwargs):
            raise ConnectionError("gateway down")

        with monkeypatch.context() as patched:
            patched.setattr(FakeGateway, "refund", down)
            refund = request(world, m)
        part = TopUpRefund.objects.get(balance_refund=refund)
        assert part.sent_at is None and part.send_attempts == 1 and "gateway down" in part.send_error
        assert refund.status == BalanceRefundStatus.DONE  # booked: the liability is gone, the money is on its way
        assert selectors.topup_refunds_unsent() == [part.pk]
        call_command("wallet_refunds_send", stdout=None)
        part.refresh_from_db()
        assert part.sent_at is not None and part.send_attempts == 2 and part.send_error == ""
        assert selectors.topup_refunds_unsent() == []
        assert services.wallet_topup_refund_send(topup_refund_id=part.pk) is True  # idempotent
        part.refresh_from_db()
        assert part.send_attempts == 2

    def test_single_top_up_refund_goes_through_its_gateway_too(self, world):
        m = new_member(world)
        a, _ = top_up(world, m, 100 * YUAN)
        services.wallet_topup_refund(topup_id=a.topup_id, amount_fen=40 * YUAN)
        part = TopUpRefund.objects.get(topup_id=a.topup_id)
        assert part.channel == RefundChannel.GATEWAY and part.sent_at is not None and part.balance_refund is None
