"""Cash top-ups at the service desk: credited at once up to the threshold (with the bonus of any top-up), above it
only when a second person approves; a rejection cancels it (the cash goes back); nothing else can credit a top-up
that awaits approval; idempotent, audited, books balanced."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.ledger.models import Transaction, TransactionKind
from galleria.members.models import MemberStatus
from galleria.wallet import exceptions, rules, selectors, services
from galleria.wallet.models import TopUp, TopUpBonusRule, TopUpStatus

from .helpers import assert_books, new_member

pytestmark = pytest.mark.django_db

YUAN = 100
THRESHOLD = 2_000 * YUAN


@pytest.fixture(autouse=True)
def _threshold(settings):
    settings.GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN = THRESHOLD


@pytest.fixture
def bonus_rule(world):
    return TopUpBonusRule.objects.create(
        mall_group=world.group, name="充1000送50", min_amount_fen=1_000 * YUAN, bonus_fen=50 * YUAN
    )


def actor(world, role="service"):
    user = world.users[role]
    return Actor(user_id=user.pk, label=user.username)


def cash(world, member, amount_fen, **kwargs):
    kwargs.setdefault("actor", actor(world))
    return services.wallet_topup_cash(mall_id=world.mall.pk, member_id=member.pk, amount_fen=amount_fen, **kwargs)


def decide(world, topup, *, approve=True, role="finance", note=""):
    return services.wallet_topup_cash_decide(
        topup_id=topup.pk, mall_group_id=world.group.pk, approve=approve, actor=actor(world, role), note=note
    )


def topup_transactions(topup):
    return Transaction.objects.filter(kind=TransactionKind.TOPUP, source=f"topup:{topup.pk}").count()


def test_at_the_threshold_the_cash_is_credited_at_once_with_its_bonus(world, bonus_rule):
    m = new_member(world)
    topup = cash(world, m, THRESHOLD, note="  现金   收讫 ")
    assert topup.status == TopUpStatus.PAID and not topup.approval_required
    assert (topup.amount_fen, topup.bonus_fen, topup.bonus_rule_id) == (THRESHOLD, 50 * YUAN, bonus_rule.pk)
    assert topup.gateway == "cash" and topup.requested_by_id == world.users["service"].pk
    assert topup.decided_at == topup.paid_at and topup.decided_by_id is None
    assert topup.note == "现金 收讫"
    assert selectors.wallet_balance(member_id=m.pk) == (THRESHOLD, 50 * YUAN)
    assert topup_transactions(topup) == 1
    event = AuditEvent.objects.get(action="wallet.cash_topup_request")
    assert event.target_id == str(m.pk) and event.actor_id == world.users["service"].pk
    assert event.changes["paid_at"] == topup.paid_at.isoformat() and event.changes["amount_fen"] == THRESHOLD
    assert event.changes["approval_required"] is False
    assert_books(world.group.pk)


def test_above_the_threshold_nothing_moves_until_approved(world, bonus_rule):
    m = new_member(world)
    topup = cash(world, m, THRESHOLD + 1, note="大额现金")
    assert topup.status == TopUpStatus.PENDING and topup.approval_required and topup.decided_at is None
    assert topup.paid_tx_id is None and topup_transactions(topup) == 0
    assert selectors.wallet_balance(member_id=m.pk) == (0, 0)
    assert list(selectors.cash_topup_list(mall_group_id=world.group.pk, pending=True)) == [topup]
    assert AuditEvent.objects.get(action="wallet.cash_topup_request").changes["paid_at"] is None

    approved = decide(world, topup, note="核对无误")
    assert approved.status == TopUpStatus.PAID and approved.decided_by_id == world.users["finance"].pk
    assert approved.decision_note == "核对无误" and approved.paid_at == approved.decided_at
    assert selectors.wallet_balance(member_id=m.pk) == (THRESHOLD + 1, 50 * YUAN)  # the bonus fixed at the desk
    assert topup_transactions(topup) == 1
    assert list(selectors.cash_topup_list(mall_group_id=world.group.pk, pending=True)) == []
    assert list(selectors.cash_topup_list(mall_group_id=world.group.pk, pending=False)) == [approved]
    assert AuditEvent.objects.filter(action="wallet.cash_topup_approve", target_id=str(m.pk)).count() == 1
    assert_books(world.group.pk)


def test_the_bonus_is_the_one_promised_at_the_desk(world, bonus_rule):
    m = new_member(world)
    topup = cash(world, m, 3_000 * YUAN)
    TopUpBonusRule.objects.filter(pk=bonus_rule.pk).update(is_active=False)  # the offer ends before approval
    decide(world, topup)
    assert selectors.wallet_balance(member_id=m.pk) == (3_000 * YUAN, 50 * YUAN)


def test_the_person_who_took_the_cash_cannot_approve_it(world):
    m = new_member(world)
    topup = cash(world, m, 5_000 * YUAN, actor=actor(world, "group_admin"))
    for approve in (True, False):
        with pytest.raises(exceptions.CashTopUpSamePersonError):
            decide(world, topup, approve=approve, role="group_admin")
    topup.refresh_from_db()
    assert topup.is_awaiting_approval and selectors.wallet_balance(member_id=m.pk) == (0, 0)
    decide(world, topup, role="finance")
    assert selectors.wallet_balance(member_id=m.pk).principal_fen == 5_000 * YUAN


def test_the_database_refuses_a_decision_by_the_requester(world):
    m = new_member(world)
    topup = cash(world, m, 5_000 * YUAN)
    with pytest.raises(IntegrityError), transaction.atomic():
        TopUp.objects.filter(pk=topup.pk).update(decided_by=world.users["service"])


def test_a_double_approval_credits_once(world):
    m = new_member(world)
    topup = cash(world, m, 5_000 * YUAN)
    decide(world, topup)
    for approve, role in ((True, "finance"), (True, "group_admin"), (False, "group_admin")):
        with pytest.raises(exceptions.CashTopUpDecidedError):
            decide(world, topup, approve=approve, role=role)
    assert topup_transactions(topup) == 1
    assert selectors.wallet_balance(member_id=m.pk) == (5_000 * YUAN, 0)
    assert AuditEvent.objects.filter(action__startswith="wallet.cash_topup_").count() == 2  # request, approve
    assert_books(world.group.pk)


def test_a_rejected_top_up_is_cancelled_and_can_never_be_credited(world):
    m = new_member(world)
    topup = cash(world, m, 5_000 * YUAN)
    rejected = decide(world, topup, approve=False, note="金额点错，现金已退回")
    assert rejected.status == TopUpStatus.CANCELLED and rejected.get_status_display() == "Cancelled"
    assert rejected.decided_by_id == world.users["finance"].pk and rejected.paid_tx_id is None
    assert rejected.decision_note == "金额点错，现金已退回"
    assert AuditEvent.objects.filter(action="wallet.cash_topup_reject").count() == 1
    with pytest.raises(exceptions.CashTopUpDecidedError):
        decide(world, topup)
    with pytest.raises(exceptions.TopUpCancelledError):
        services.wallet_topup_confirm(topup_id=topup.pk, paid_amount_fen=topup.amount_fen)
    with pytest.raises(exceptions.TopUpNotPaidError):
        services.wallet_topup_refund(topup_id=topup.pk, amount_fen=100)
    assert selectors.wallet_balance(member_id=m.pk) == (0, 0) and topup_transactions(topup) == 0
    assert list(selectors.refundable_topups(member_id=m.pk)) == []
    assert_books(world.group.pk)


def test_no_gateway_path_credits_a_top_up_awaiting_approval(world):
    m = new_member(world)
    topup = cash(world, m, 5_000 * YUAN)
    attempts = [
        lambda: services.wallet_topup_confirm(topup_id=topup.pk, paid_amount_fen=topup.amount_fen),
        lambda: services.wallet_topup_confirm(gateway_ref=topup.gateway_ref, paid_amount_fen=topup.amount_fen),
        lambda: services.wallet_topup_confirm(gateway_ref=topup.gateway_ref, paid_amount_fen=1),
    ]
    for attempt in attempts:
        with pytest.raises(exceptions.TopUpAwaitingApprovalError):
            attempt()
    with pytest.raises(exceptions.TopUpAwaitingApprovalError), transaction.atomic():  # the payments app's path
        services.wallet_topup_confirm_in_tx(topup_id=topup.pk, paid_amount_fen=topup.amount_fen)
    topup.refresh_from_db()
    assert topup.is_awaiting_approval and topup_transactions(topup) == 0
    assert selectors.wallet_balance(member_id=m.pk) == (0, 0)
    # once approved, a late confirmation is the same answer and credits nothing more
    decide(world, topup)
    again = services.wallet_topup_confirm(gateway_ref=topup.gateway_ref, paid_amount_fen=topup.amount_fen)
    assert again.topup_id == topup.pk and topup_transactions(topup) == 1


def test_the_same_key_is_the_same_top_up(world):
    m = new_member(world)
    first = cash(world, m, 500 * YUAN, idempotency_key="k-1")
    assert cash(world, m, 500 * YUAN, idempotency_key="k-1").pk == first.pk
    assert topup_transactions(first) == 1 and selectors.wallet_balance(member_id=m.pk).principal_fen == 500 * YUAN
    with pytest.raises(exceptions.IdempotencyConflictError):
        cash(world, m, 600 * YUAN, idempotency_key="k-1")
    with pytest.raises(exceptions.IdempotencyConflictError):
        services.wallet_topup_cash(
            mall_id=world.mall2.pk, member_id=m.pk, amount_fen=500 * YUAN, actor=actor(world), idempotency_key="k-1"
        )
    big = cash(world, m, 5_000 * YUAN, idempotency_key="k-2")
    assert cash(world, m, 5_000 * YUAN, idempotency_key="k-2").pk == big.pk
    assert TopUp.objects.filter(member=m).count() == 2
    assert AuditEvent.objects.filter(action="wallet.cash_topup_request").count() == 2  # a repeat is not audited again
    with pytest.raises(exceptions.IdempotencyConflictError):  # a gateway top-up cannot take over the desk's key
        services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=600 * YUAN, idempotency_key="k-1")


@pytest.mark.parametrize("amount", [0, 99, -100, rules.MAX_TOPUP_FEN + 1])
def test_an_amount_out_of_range_is_refused_on_its_field(world, amount):
    m = new_member(world)
    with pytest.raises(exceptions.WalletAmountInvalidError) as caught:
        cash(world, m, amount)
    assert "amount" in caught.value.fields
    assert not TopUp.objects.exists() and not AuditEvent.objects.filter(action__startswith="wallet.").exists()


def test_members_and_malls_outside_the_group_are_refused(world):
    m = new_member(world)
    with pytest.raises(exceptions.WalletMemberInvalidError):
        services.wallet_topup_cash(
            mall_id=world.foreign_mall.pk, member_id=m.pk, amount_fen=100 * YUAN, actor=actor(world)
        )
    with pytest.raises(ApplicationError) as unknown:
        services.wallet_topup_cash(mall_id=999_999, member_id=m.pk, amount_fen=100 * YUAN, actor=actor(world))
    assert unknown.value.code == "wallet.mall_unknown"
    type(m).objects.filter(pk=m.pk).update(status=MemberStatus.ERASED)
    with pytest.raises(exceptions.WalletMemberInvalidError):
        cash(world, m, 100 * YUAN)
    assert not TopUp.objects.exists()


def test_deciding_needs_a_desk_top_up_waiting_in_the_group(world):
    m = new_member(world)
    pending = cash(world, m, 5_000 * YUAN)
    with pytest.raises(exceptions.CashTopUpNotFoundError):  # another group's approver
        services.wallet_topup_cash_decide(
            topup_id=pending.pk, mall_group_id=world.other_group.pk, approve=True, actor=actor(world, "finance")
        )
    with pytest.raises(exceptions.CashTopUpNotFoundError):
        services.wallet_topup_cash_decide(
            topup_id=999_999, mall_group_id=None, approve=True, actor=actor(world, "finance")
        )
    at_once = cash(world, m, 100 * YUAN)
    with pytest.raises(exceptions.CashTopUpDecidedError):  # credited at once: nothing to decide
        decide(world, at_once)
    assert selectors.wallet_balance(member_id=m.pk).principal_fen == 100 * YUAN


def test_a_threshold_of_zero_sends_every_cash_top_up_for_approval(world, settings):
    settings.GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN = 0
    m = new_member(world)
    assert cash(world, m, rules.MIN_TOPUP_FEN).is_awaiting_approval


def test_the_member_cash_history_lists_desk_top_ups_only(world):
    m = new_member(world)
    services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=100 * YUAN)  # not at the desk
    at_once = cash(world, m, 100 * YUAN)
    waiting = cash(world, m, 5_000 * YUAN)
    assert selectors.member_cash_topups(member_id=m.pk) == [waiting, at_once]
    assert selectors.cash_topup_get(topup_id=waiting.pk, mall_group_id=world.other_group.pk) is None
    assert selectors.cash_topup_get(topup_id=waiting.pk, mall_group_id=world.group.pk) == waiting
