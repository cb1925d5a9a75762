import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, transaction

from galleria.core.errors import NotFoundError
from galleria.ledger import services as ledger
from galleria.ledger.models import AccountKind, Transaction
from galleria.ledger.selectors import system_balance
from galleria.members.models import Member
from galleria.wallet import selectors, services
from galleria.wallet.exceptions import (
    GatewayUnavailableError,
    IdempotencyConflictError,
    RefundExceedsPaymentError,
    TopUpAmountMismatchError,
    TopUpNotPaidError,
    TopUpRefundExceedsError,
    WalletAmountInvalidError,
    WalletInsufficientError,
    WalletMemberInvalidError,
    WalletMerchantInvalidError,
)
from galleria.wallet.models import TopUp, TopUpBonusRule, TopUpStatus, WalletPayment
from galleria.wallet.tests.fakes import FakeGateway
from galleria.wallet.types import WalletBalance

from .helpers import assert_books, new_member, pay, top_up

pytestmark = pytest.mark.django_db

YUAN = 100


@pytest.fixture
def tiers(world):
    return (
        TopUpBonusRule.objects.create(
            mall_group=world.group, name="充1000送50", min_amount_fen=1_000 * YUAN, bonus_fen=50 * YUAN
        ),
        TopUpBonusRule.objects.create(
            mall_group=world.group, name="充3000送200", min_amount_fen=3_000 * YUAN, bonus_fen=200 * YUAN
        ),
    )


class TestTopUp:
    def test_topup_with_bonus(self, world, tiers):
        m = new_member(world, "13812345678")
        intent, result = top_up(world, m, 3_000 * YUAN)
        assert intent.gateway == "fake" and intent.gateway_ref.startswith("fake_")
        assert intent.bonus_fen == 200 * YUAN and intent.bonus_rule_id == tiers[1].pk
        assert result.amount_fen == 3_000 * YUAN and result.bonus_fen == 200 * YUAN
        assert selectors.wallet_balance(member_id=m.pk) == WalletBalance(300_000, 20_000)
        topup = TopUp.objects.get(pk=intent.topup_id)
        assert topup.status == TopUpStatus.PAID and topup.paid_tx_id == result.transaction_id
        g = world.group.pk
        assert system_balance(mall_group_id=g, kind=AccountKind.WALLET_FLOAT) == -300_000
        assert system_balance(mall_group_id=g, kind=AccountKind.WALLET_BONUS_FUND) == -20_000
        liability = assert_books(g)
        assert (liability.principal_fen, liability.bonus_fen) == (300_000, 20_000)

    def test_no_bonus_below_the_first_tier_and_none_without_rules(self, world, tiers):
        m = new_member(world)
        _intent, result = top_up(world, m, 999_99)
        assert result.bonus_fen == 0
        assert selectors.wallet_balance(member_id=m.pk) == (99_999, 0)
        assert_books(world.group.pk)

    def test_rule_window_uses_the_mall_local_day(self, world):
        day = dt.date(2026, 5, 1)
        TopUpBonusRule.objects.create(
            mall_group=world.group,
            name="五一",
            min_amount_fen=100 * YUAN,
            bonus_fen=10 * YUAN,
            starts_on=day,
            ends_on=day,
        )
        m = new_member(world)
        # 2026-04-30 23:59 Shanghai = 15:59 UTC: still the day before
        before = services.wallet_topup_start(
            mall_id=world.mall.pk,
            member_id=m.pk,
            amount_fen=100 * YUAN,
            at=dt.datetime(2026, 4, 30, 15, 59, tzinfo=dt.UTC),
        )
        at_midnight = services.wallet_topup_start(
            mall_id=world.mall.pk,
            member_id=m.pk,
            amount_fen=100 * YUAN,
            at=dt.datetime(2026, 4, 30, 16, 0, tzinfo=dt.UTC),
        )
        assert (before.bonus_fen, at_midnight.bonus_fen) == (0, 10 * YUAN)
        with time_machine.travel(dt.datetime(2026, 5, 1, 15, 59, tzinfo=dt.UTC), tick=False):
            assert services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=10_000).bonus_fen
        with time_machine.travel(dt.datetime(2026, 5, 1, 16, 0, tzinfo=dt.UTC), tick=False):
            assert not services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=10_000).bonus_fen

    def test_bonus_promised_at_start_is_kept(self, world, tiers):
        m = new_member(world)
        intent = services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=1_000 * YUAN)
        TopUpBonusRule.objects.update(is_active=False)
        result = services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=1_000 * YUAN)
        assert result.bonus_fen == 50 * YUAN

    def test_confirm_is_idempotent(self, world, tiers):
        m = new_member(world)
        intent, first = top_up(world, m, 1_000 * YUAN)
        tx_count = Transaction.objects.count()
        again = services.wallet_topup_confirm(gateway_ref=intent.gateway_ref, paid_amount_fen=1_000 * YUAN)
        by_id = services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=1_000 * YUAN)
        assert again == first == by_id
        assert Transaction.objects.count() == tx_count
        assert selectors.wallet_balance(member_id=m.pk) == (100_000, 5_000)
        assert_books(world.group.pk)

    def test_amount_mismatch_credits_nothing(self, world, tiers):
        m = new_member(world)
        intent = services.wallet_topup_start(
            mall_id=world.mall.pk, member_id=m.pk, amount_fen=1_000 * YUAN, gateway=FakeGateway()
        )
        notice = FakeGateway().pay(intent.gateway_ref, amount_fen=999 * YUAN)
        with pytest.raises(TopUpAmountMismatchError) as exc:
            services.wallet_topup_confirm(gateway_ref=notice.gateway_ref, paid_amount_fen=notice.amount_fen)
        assert exc.value.code == "wallet.topup_amount_mismatch"
        assert TopUp.objects.get(pk=intent.topup_id).status == TopUpStatus.PENDING
        assert selectors.wallet_balance(member_id=m.pk) == (0, 0)
        services.wallet_topup_confirm(gateway_ref=intent.gateway_ref, paid_amount_fen=1_000 * YUAN)
        with pytest.raises(TopUpAmountMismatchError):  # also once paid
            services.wallet_topup_confirm(gateway_ref=intent.gateway_ref, paid_amount_fen=1)
        assert_books(world.group.pk)

    def test_unknown_topup(self, world):
        with pytest.raises(NotFoundError):
            services.wallet_topup_confirm(gateway_ref="sbx_nope_1", paid_amount_fen=1)
        with pytest.raises(ValueError):
            services.wallet_topup_confirm(paid_amount_fen=1)

    def test_start_idempotency_key(self, world, tiers):
        m = new_member(world)
        kwargs = {"mall_id": world.mall.pk, "member_id": m.pk, "idempotency_key": "k-1"}
        first = services.wallet_topup_start(amount_fen=1_000 * YUAN, **kwargs)
        assert services.wallet_topup_start(amount_fen=1_000 * YUAN, **kwargs) == first
        with pytest.raises(IdempotencyConflictError):
            services.wallet_topup_start(amount_fen=2_000 * YUAN, **kwargs)
        assert TopUp.objects.filter(member=m).count() == 1

    def test_gateway_down_keeps_pending_and_retry_with_key_works(self, world):
        class Down:
            name = "fake"

            def create_payment(self, *, amount_fen, reference):
                raise ConnectionError("timeout")

        m = new_member(world)
        kwargs = {"mall_id": world.mall.pk, "member_id": m.pk, "amount_fen": 10_000, "idempotency_key": "k"}
        with pytest.raises(GatewayUnavailableError):
            services.wallet_topup_start(gateway=Down(), **kwargs)
        topup = TopUp.objects.get(member=m)
        assert topup.status == TopUpStatus.PENDING and topup.gateway_ref is None
        intent = services.wallet_topup_start(gateway=FakeGateway(), **kwargs)
        assert intent.topup_id == topup.pk and intent.gateway_ref

    def test_bad_input(self, world):
        m = new_member(world)
        for amount in (0, -100, 99, 10**12):
            with pytest.raises(WalletAmountInvalidError):
                services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=amount)
        with pytest.raises(WalletMemberInvalidError):  # a member of another group
            services.wallet_topup_start(mall_id=world.foreign_mall.pk, member_id=m.pk, amount_fen=10_000)
        Member.objects.filter(pk=m.pk).update(status="erased")
        with pytest.raises(WalletMemberInvalidError):
            services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=10_000)
        with pytest.raises(NotFoundError):
            services.wallet_topup_start(mall_id=999_999, member_id=m.pk, amount_fen=10_000)


class TestPay:
    def test_principal_first_then_bonus(self, world, tiers):
        m = new_member(world)
        top_up(world, m, 1_000 * YUAN)  # 1000 + 50 bonus
        first = pay(world, m, 600 * YUAN, source="order:1")
        assert (first.principal_fen, first.bonus_fen) == (60_000, 0)
        second = pay(world, m, 420 * YUAN, source="order:2")
        assert (second.principal_fen, second.bonus_fen) == (40_000, 2_000)
        assert selectors.wallet_balance(member_id=m.pk) == (0, 3_000)
        third = pay(world, m, 30 * YUAN, source="order:3", merchant=world.other_merchant)
        assert (third.principal_fen, third.bonus_fen) == (0, 3_000)
        assert selectors.wallet_balance(member_id=m.pk) == (0, 0)
        g = world.group.pk
        assert selectors.wallet_spent_at_merchant(mall_group_id=g, merchant_id=world.merchant.pk) == 102_000
        assert selectors.wallet_spent_at_merchant(mall_group_id=g, merchant_id=world.other_merchant.pk) == 3_000
        row = WalletPayment.objects.get(pk=second.payment_id)
        assert (row.amount_fen, row.principal_fen, row.bonus_fen, row.source) == (42_000, 40_000, 2_000, "order:2")
        assert_books(g)

    def test_insufficient(self, world, tiers):
        m = new_member(world)
        top_up(world, m, 1_000 * YUAN)
        with pytest.raises(WalletInsufficientError) as exc:
            pay(world, m, 1_050 * YUAN + 1)
        assert exc.value.code == "wallet.insufficient" and exc.value.status == 422
        assert exc.value.extra == {"available_fen": 105_000, "requested_fen": 105_001}
        assert WalletPayment.objects.count() == 0
        assert selectors.wallet_balance(member_id=m.pk) == (100_000, 5_000)
        pay(world, m, 1_050 * YUAN)  # exactly everything is fine
        assert selectors.wallet_balance(member_id=m.pk) == (0, 0)
        assert_books(world.group.pk)

    def test_member_without_wallet(self, world):
        m = new_member(world)
        with pytest.raises(WalletInsufficientError):
            pay(world, m, 1)
        assert_books(world.group.pk)

    def test_same_source_is_idempotent_and_other_body_conflicts(self, world):
        m = new_member(world)
        top_up(world, m, 100 * YUAN)
        first = pay(world, m, 10 * YUAN, source="sale:9")
        assert pay(world, m, 10 * YUAN, source="sale:9") == first
        with pytest.raises(IdempotencyConflictError):
            pay(world, m, 11 * YUAN, source="sale:9")
        assert selectors.wallet_balance(member_id=m.pk) == (9_000, 0)

    def test_merchant_of_another_group_refused(self, world):
        m = new_member(world)
        top_up(world, m, 100 * YUAN)
        with pytest.raises(WalletMerchantInvalidError):
            pay(world, m, 10 * YUAN, merchant=world.foreign_merchant)

    def test_mall_itself_as_payee(self, world):
        m = new_member(world)
        top_up(world, m, 100 * YUAN)
        result = services.wallet_pay(member_id=m.pk, amount_fen=500, merchant_id=None, source="parking:1")
        assert result.merchant_id is None
        assert selectors.wallet_spent_at_merchant(mall_group_id=world.group.pk, merchant_id=None) == 500
        assert_books(world.group.pk)

    def test_in_tx_composes_with_other_account_kinds(self, world):
        """The way sales will call it: one lock of every kind the sale needs, then wallet_pay_in_tx."""
        m = new_member(world)
        top_up(world, m, 100 * YUAN)
        with transaction.atomic(durable=True):
            accounts = ledger.lock_member_accounts(
                mall_group_id=world.group.pk,
                member_id=m.pk,
                kinds=[AccountKind.MEMBER_POINTS, *selectors.WALLET_KINDS],
            )
            result = services.wallet_pay_in_tx(
                mall_group_id=world.group.pk,
                member_id=m.pk,
                accounts=accounts,
                amount_fen=2_500,
                merchant_id=world.merchant.pk,
                occurred_at=dt.datetime.now(dt.UTC),
                source="sale:1",
            )
            assert accounts[AccountKind.MEMBER_WALLET].balance == 7_500  # updated in place
        assert result.principal_fen == 2_500
        assert selectors.wallet_balance(member_id=m.pk) == (7_500, 0)

    def test_in_tx_refuses_outside_a_transaction_and_foreign_accounts(self, world):
        m, other = new_member(world), new_member(world)
        with transaction.atomic():
            accounts = ledger.lock_member_accounts(
                mall_group_id=world.group.pk, member_id=other.pk, kinds=selectors.WALLET_KINDS
            )
            with pytest.raises(RuntimeError):
                services.wallet_pay_in_tx(
                    mall_group_id=world.group.pk,
                    member_id=m.pk,
                    accounts=accounts,
                    amount_fen=1,
                    merchant_id=None,
                    occurred_at=dt.datetime.now(dt.UTC),
                    source="",
                )
            with pytest.raises(RuntimeError):
                services.wallet_pay_in_tx(
                    mall_group_id=world.group.pk,
                    member_id=other.pk,
                    accounts={AccountKind.MEMBER_WALLET: accounts[AccountKind.MEMBER_WALLET]},
                    amount_fen=1,
                    merchant_id=None,
                    occurred_at=dt.datetime.now(dt.UTC),
                    source="",
                )


class TestRefundToWallet:
    def test_partial_then_full_refunds_add_up_exactly(self, world, tiers):
        m = new_member(world)
        top_up(world, m, 1_000 * YUAN)  # 100000 + 5000
        pay(world, m, 99_000)  # principal 99000 left 1000
        payment = pay(world, m, 3_001, source="sale:7")  # principal 1000 + bonus 2001
        assert (payment.principal_fen, payment.bonus_fen) == (1_000, 2_001)
        parts = [services.wallet_refund(payment_id=payment.payment_id, amount_fen=a) for a in (1, 1, 999, 1_000)]
        rest = 3_001 - sum(p.amount_fen for p in parts)
        parts.append(services.wallet_refund(payment_id=payment.payment_id, amount_fen=rest, source="refund:9"))
        assert sum(p.principal_fen for p in parts) == 1_000
        assert sum(p.bonus_fen for p in parts) == 2_001
        row = WalletPayment.objects.get(pk=payment.payment_id)
        assert (row.refunded_principal_fen, row.refunded_bonus_fen) == (1_000, 2_001)
        assert selectors.wallet_balance(member_id=m.pk) == (1_000, 5_000)
        g = world.group.pk
        assert selectors.wallet_spent_at_merchant(mall_group_id=g, merchant_id=world.merchant.pk) == 99_000
        with pytest.raises(RefundExceedsPaymentError):
            services.wallet_refund(payment_id=payment.payment_id, amount_fen=1)
        assert_books(g)

    def test_never_more_than_paid_and_source_is_idempotent(self, world):
        m = new_member(world)
        top_up(world, m, 100 * YUAN)
        payment = pay(world, m, 50 * YUAN)
        with pytest.raises(RefundExceedsPaymentError):
            services.wallet_refund(payment_id=payment.payment_id, amount_fen=50 * YUAN + 1)
        with pytest.raises(WalletAmountInvalidError):
            services.wallet_refund(payment_id=payment.payment_id, amount_fen=0)
        first = services.wallet_refund(payment_id=payment.payment_id, amount_fen=1_000, source="refund:1")
        assert services.wallet_refund(payment_id=payment.payment_id, amount_fen=1_000, source="refund:1") == first
        with pytest.raises(IdempotencyConflictError):
            services.wallet_refund(payment_id=payment.payment_id, amount_fen=999, source="refund:1")
        assert selectors.wallet_balance(member_id=m.pk) == (6_000, 0)
        with pytest.raises(NotFoundError):
            services.wallet_refund(payment_id=999_999, amount_fen=1)
        assert_books(world.group.pk)

    def test_payment_by_source(self, world):
        m = new_member(world)
        top_up(world, m, 100 * YUAN)
        result = pay(world, m, 100, source="sale:77")
        found = selectors.payment_get_by_source(mall_group_id=world.group.pk, source="sale:77")
        assert found is not None and found.pk == result.payment_id
        assert selectors.payment_get_by_source(mall_group_id=world.group.pk, source="") is None


class TestTopUpRefund:
    def test_half_refund_claws_back_half_the_bonus(self, world, tiers):
        m = new_member(world)
        intent, _ = top_up(world, m, 1_000 * YUAN)  # +5000 bonus
        result = services.wallet_topup_refund(topup_id=intent.topup_id, amount_fen=500 * YUAN, reason="moving away")
        assert (result.amount_fen, result.bonus_clawed_back_fen, result.bonus_shortfall_fen) == (50_000, 2_500, 0)
        assert result.status == TopUpStatus.PARTIALLY_REFUNDED
        assert selectors.wallet_balance(member_id=m.pk) == (50_000, 2_500)
        rest = services.wallet_topup_refund(topup_id=intent.topup_id, amount_fen=500 * YUAN)
        assert (rest.bonus_clawed_back_fen, rest.status) == (2_500, TopUpStatus.REFUNDED)
        assert selectors.wallet_balance(member_id=m.pk) == (0, 0)
        g = world.group.pk
        assert system_balance(mall_group_id=g, kind=AccountKind.WALLET_FLOAT) == 0
        assert system_balance(mall_group_id=g, kind=AccountKind.WALLET_BONUS_FUND) == 0
        assert_books(g)

    def test_shortfall_recorded_when_the_bonus_was_spent(self, world, tiers):
        m = new_member(world)
        a, _ = top_up(world, m, 1_000 * YUAN)  # 100000 + 5000
        b, _ = top_up(world, m, 100 * YUAN)  # 10000, no bonus
        pay(world, m, 10_000)  # principal only: 100000 + 5000 left
        # spending bonus requires spending all principal first; refund needs unspent principal, so:
        # refund 40000 first (bonus 2000 back), then spend the rest including 1000 of bonus
        services.wallet_topup_refund(topup_id=a.topup_id, amount_fen=40_000)
        assert selectors.wallet_balance(member_id=m.pk) == (60_000, 3_000)
        pay(world, m, 60_000 + 2_500)  # principal 60000 + bonus 2500 → bonus 500 left
        top_up(world, m, 100 * YUAN)  # principal 10000 again (another top-up)
        result = services.wallet_topup_refund(topup_id=a.topup_id, amount_fen=10_000)
        # due: round(5000 × 50000/100000) − 2000 = 500; available bonus 500 → no shortfall yet
        assert (result.bonus_clawed_back_fen, result.bonus_shortfall_fen) == (500, 0)
        top_up(world, m, 500 * YUAN)
        result = services.wallet_topup_refund(topup_id=a.topup_id, amount_fen=50_000)
        assert (result.bonus_clawed_back_fen, result.bonus_shortfall_fen) == (0, 2_500)
        topup = TopUp.objects.get(pk=a.topup_id)
        assert (topup.refunded_fen, topup.status) == (100_000, TopUpStatus.REFUNDED)
        assert (topup.bonus_clawed_back_fen, topup.bonus_shortfall_fen) == (2_500, 2_500)
        assert selectors.wallet_balance(member_id=m.pk).bonus_fen == 0
        assert TopUp.objects.get(pk=b.topup_id).status == TopUpStatus.PAID
        assert_books(world.group.pk)

    def test_only_unspent_principal_and_unrefunded_part(self, world, tiers):
        m = new_member(world)
        a, _ = top_up(world, m, 1_000 * YUAN)
        pay(world, m, 300 * YUAN)
        with pytest.raises(TopUpRefundExceedsError) as exc:
            services.wallet_topup_refund(topup_id=a.topup_id, amount_fen=700 * YUAN + 1)
        assert exc.value.extra["refundable_fen"] == 70_000
        services.wallet_topup_refund(topup_id=a.topup_id, amount_fen=700 * YUAN)
        top_up(world, m, 3_000 * YUAN)
        with pytest.raises(TopUpRefundExceedsError) as exc:  # the top-up itself only has 300 left
            services.wallet_topup_refund(topup_id=a.topup_id, amount_fen=300 * YUAN + 1)
        assert exc.value.extra["refundable_fen"] == 30_000
        assert_books(world.group.pk)

    def test_pending_refused_and_key_idempotent(self, world, tiers):
        m = new_member(world)
        intent = services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=1_000 * YUAN)
        with pytest.raises(TopUpNotPaidError):
            services.wallet_topup_refund(topup_id=intent.topup_id, amount_fen=100)
        services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=1_000 * YUAN)
        first = services.wallet_topup_refund(topup_id=intent.topup_id, amount_fen=100 * YUAN, idempotency_key="r1")
        again = services.wallet_topup_refund(topup_id=intent.topup_id, amount_fen=100 * YUAN, idempotency_key="r1")
        assert again == first
        with pytest.raises(IdempotencyConflictError):
            services.wallet_topup_refund(topup_id=intent.topup_id, amount_fen=1, idempotency_key="r1")
        assert selectors.wallet_balance(member_id=m.pk) == (90_000, 4_500)
        with pytest.raises(NotFoundError):
            services.wallet_topup_refund(topup_id=999_999, amount_fen=1)
        with pytest.raises(WalletAmountInvalidError):
            services.wallet_topup_refund(topup_id=intent.topup_id, amount_fen=0)
        assert_books(world.group.pk)


class TestSelectors:
    def test_history_lists_movements_with_kinds_and_sources(self, world, tiers):
        m = new_member(world)
        intent, _ = top_up(world, m, 1_000 * YUAN)
        payment = pay(world, m, 1_020 * YUAN, source="sale:5")
        services.wallet_refund(payment_id=payment.payment_id, amount_fen=1_020 * YUAN, source="refund:3")
        services.wallet_topup_refund(topup_id=intent.topup_id, amount_fen=100 * YUAN)
        items = selectors.wallet_history(member_id=m.pk)
        assert [(i.kind, i.source, i.principal_fen, i.bonus_fen) for i in items] == [
            ("refund", f"topup:{intent.topup_id}", -10_000, -500),
            ("refund", "refund:3", 100_000, 2_000),
            ("wallet_pay", "sale:5", -100_000, -2_000),
            ("topup", f"topup:{intent.topup_id}", 100_000, 5_000),
        ]
        assert [i.kind for i in selectors.wallet_history(member_id=m.pk, limit=2, offset=1)] == [
            "refund",
            "wallet_pay",
        ]
        assert selectors.wallet_history(member_id=new_member(world).pk) == []
        assert sum(i.total_fen for i in items) == selectors.wallet_balance(member_id=m.pk).total_fen

    def test_liability_is_the_sum_of_balances_across_members(self, world, tiers):
        a, b, c = new_member(world), new_member(world), new_member(world)
        top_up(world, a, 3_000 * YUAN)
        top_up(world, b, 1_000 * YUAN)
        top_up(world, c, 50 * YUAN)
        pay(world, a, 3_100 * YUAN)
        pay(world, b, 10 * YUAN, merchant=world.other_merchant)
        liability = assert_books(world.group.pk)
        assert liability.principal_fen == 0 + 99_000 + 5_000
        assert liability.bonus_fen == 10_000 + 5_000
        assert liability.total_fen == liability.system_total_fen
        other = selectors.prepaid_liability(mall_group_id=world.other_group.pk)
        assert (other.principal_fen, other.bonus_fen, other.system_total_fen) == (0, 0, 0)

    def test_topup_list_and_rules(self, world, tiers):
        m = new_member(world)
        top_up(world, m, 100 * YUAN)
        services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=200 * YUAN)
        assert [t.status for t in selectors.topup_list(member_id=m.pk)] == ["pending", "paid"]
        assert [r.min_amount_fen for r in selectors.bonus_rule_list(mall_group_id=world.group.pk)] == [
            100_000,
            300_000,
        ]


class TestConstraints:
    def test_rule_bonus_must_be_positive_and_not_above_minimum(self, world):
        with pytest.raises(IntegrityError), transaction.atomic():
            TopUpBonusRule.objects.create(mall_group=world.group, name="x", min_amount_fen=100, bonus_fen=101)
        with pytest.raises(IntegrityError), transaction.atomic():
            TopUpBonusRule.objects.create(mall_group=world.group, name="x", min_amount_fen=100, bonus_fen=0)

    def test_payment_parts_must_add_up(self, world):
        m = new_member(world)
        top_up(world, m, 100 * YUAN)
        result = pay(world, m, 100)
        with pytest.raises(IntegrityError), transaction.atomic():
            WalletPayment.objects.filter(pk=result.payment_id).update(bonus_fen=1)


class TestQueryCount:
    def test_wallet_pay_query_budget(self, world, tiers, django_assert_max_num_queries):
        m = new_member(world)
        top_up(world, m, 1_000 * YUAN)
        pay(world, m, 1, source="warm-up")  # the merchant's WALLET_SPENT account exists from here on
        with django_assert_max_num_queries(15):  # member, 3 to lock, source, merchant, spent account, 4 to post,
            pay(world, m, 100_000, source="both-accounts")  # 2 balance updates, payment row (+ savepoint)
