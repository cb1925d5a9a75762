import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galleria.wallet import rules
from galleria.wallet.exceptions import WalletAmountInvalidError, WalletInsufficientError
from galleria.wallet.types import BonusTier, Split

TIERS = [
    BonusTier(id=1, min_amount_fen=100_000, bonus_fen=5_000),  # ≥ ¥1,000 → ¥50
    BonusTier(id=2, min_amount_fen=300_000, bonus_fen=20_000),  # ≥ ¥3,000 → ¥200
]


class TestBonus:
    @pytest.mark.parametrize(
        ("amount", "bonus", "rule"),
        [
            (99_999, 0, None),  # ¥999.99 does not meet ≥ ¥1,000
            (100_000, 5_000, 1),
            (299_999, 5_000, 1),
            (300_000, 20_000, 2),  # the best single tier, not 50 + 200
            (1_000_000, 20_000, 2),
        ],
    )
    def test_best_single_tier_exact_fen(self, amount, bonus, rule):
        assert rules.bonus_for(amount, TIERS) == rules.BonusChoice(bonus_fen=bonus, rule_id=rule)

    def test_no_rules(self):
        assert rules.bonus_for(500_000, []).bonus_fen == 0

    def test_window_and_active(self):
        day = dt.date(2026, 3, 1)
        tiers = [
            BonusTier(id=1, min_amount_fen=100_000, bonus_fen=5_000),
            BonusTier(id=2, min_amount_fen=100_000, bonus_fen=9_000, starts_on=day, ends_on=day),
            BonusTier(id=3, min_amount_fen=100_000, bonus_fen=50_000, is_active=False),
        ]
        assert rules.bonus_for(100_000, tiers, on=day).rule_id == 2  # first and last day are inclusive
        assert rules.bonus_for(100_000, tiers, on=day - dt.timedelta(days=1)).rule_id == 1
        assert rules.bonus_for(100_000, tiers, on=day + dt.timedelta(days=1)).rule_id == 1

    def test_ties_prefer_higher_minimum_then_lower_id(self):
        tiers = [
            BonusTier(id=7, min_amount_fen=100_000, bonus_fen=5_000),
            BonusTier(id=3, min_amount_fen=200_000, bonus_fen=5_000),
            BonusTier(id=2, min_amount_fen=200_000, bonus_fen=5_000),
        ]
        assert rules.bonus_for(300_000, tiers).rule_id == 2

    def test_topup_amount_bounds(self):
        rules.check_topup_amount(rules.MIN_TOPUP_FEN)
        rules.check_topup_amount(rules.MAX_TOPUP_FEN)
        for bad in (0, -1, rules.MIN_TOPUP_FEN - 1, rules.MAX_TOPUP_FEN + 1):
            with pytest.raises(WalletAmountInvalidError):
                rules.check_topup_amount(bad)


class TestSplitPayment:
    def test_principal_first_then_bonus(self):
        assert rules.split_payment(3_000, principal_available_fen=5_000, bonus_available_fen=500) == Split(3_000, 0)
        assert rules.split_payment(5_200, principal_available_fen=5_000, bonus_available_fen=500) == Split(5_000, 200)
        assert rules.split_payment(5_500, principal_available_fen=5_000, bonus_available_fen=500) == Split(5_000, 500)
        assert rules.split_payment(300, principal_available_fen=0, bonus_available_fen=500) == Split(0, 300)

    def test_insufficient(self):
        with pytest.raises(WalletInsufficientError) as exc:
            rules.split_payment(5_501, principal_available_fen=5_000, bonus_available_fen=500)
        assert exc.value.code == "wallet.insufficient"
        assert exc.value.extra == {"available_fen": 5_500, "requested_fen": 5_501}

    def test_non_positive(self):
        with pytest.raises(WalletAmountInvalidError):
            rules.split_payment(0, principal_available_fen=5_000, bonus_available_fen=0)

    @given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(1, 2 * 10**9))
    def test_parts_add_up_and_bonus_is_last(self, principal, bonus, amount):
        if amount > principal + bonus:
            return
        split = rules.split_payment(amount, principal_available_fen=principal, bonus_available_fen=bonus)
        assert split.principal_fen + split.bonus_fen == amount
        assert 0 <= split.principal_fen <= principal and 0 <= split.bonus_fen <= bonus
        assert split.bonus_fen == 0 or split.principal_fen == principal


class TestRefundSplit:
    def test_proportional_cumulative(self):
        paid = Split(principal_fen=2, bonus_fen=1)  # ¥0.03 paid, a third of it bonus
        first = rules.refund_split(paid=paid, refunded=Split(0, 0), amount_fen=1)
        second = rules.refund_split(paid=paid, refunded=first, amount_fen=1)
        done = Split(first.principal_fen + second.principal_fen, first.bonus_fen + second.bonus_fen)
        third = rules.refund_split(paid=paid, refunded=done, amount_fen=1)
        total = Split(done.principal_fen + third.principal_fen, done.bonus_fen + third.bonus_fen)
        assert total == paid

    def test_over_refund_is_refused(self):
        with pytest.raises(ValueError):
            rules.refund_split(paid=Split(100, 0), refunded=Split(50, 0), amount_fen=51)

    @given(
        st.integers(0, 10**7),
        st.integers(0, 10**7),
        st.lists(st.integers(1, 10**7), min_size=1, max_size=12),
    )
    def test_partial_refunds_add_up_exactly(self, principal, bonus, chunks):
        paid = Split(principal, bonus)
        total = principal + bonus
        if total == 0:
            return
        refunded = Split(0, 0)
        for chunk in chunks:
            left = total - refunded.principal_fen - refunded.bonus_fen
            if left == 0:
                break
            part = rules.refund_split(paid=paid, refunded=refunded, amount_fen=min(chunk, left))
            assert part.principal_fen >= 0 and part.bonus_fen >= 0
            assert part.principal_fen + part.bonus_fen == min(chunk, left)
            refunded = Split(refunded.principal_fen + part.principal_fen, refunded.bonus_fen + part.bonus_fen)
            assert refunded.principal_fen <= principal and refunded.bonus_fen <= bonus
        left = total - refunded.principal_fen - refunded.bonus_fen
        if left:
            last = rules.refund_split(paid=paid, refunded=refunded, amount_fen=left)
            refunded = Split(refunded.principal_fen + last.principal_fen, refunded.bonus_fen + last.bonus_fen)
        assert refunded == paid


class TestTopUpClawback:
    def test_half_refund_loses_half_the_bonus(self):
        claw, short = rules.topup_bonus_clawback(
            topup_amount_fen=100_000,
            topup_bonus_fen=5_000,
            refunded_before_fen=0,
            refund_fen=50_000,
            bonus_settled_before_fen=0,
            bonus_available_fen=5_000,
        )
        assert (claw, short) == (2_500, 0)

    def test_shortfall_when_bonus_was_spent(self):
        claw, short = rules.topup_bonus_clawback(
            topup_amount_fen=100_000,
            topup_bonus_fen=5_000,
            refunded_before_fen=0,
            refund_fen=100_000,
            bonus_settled_before_fen=0,
            bonus_available_fen=1_200,
        )
        assert (claw, short) == (1_200, 3_800)

    @given(
        st.integers(1, 10**7),
        st.data(),
        st.lists(st.tuples(st.integers(1, 10**7), st.integers(0, 10**7)), min_size=0, max_size=8),
    )
    def test_cumulative_clawback_settles_the_whole_bonus(self, amount, data, steps):
        bonus = data.draw(st.integers(0, amount))
        refunded = settled = 0
        steps = [*steps, (amount, bonus)]  # the last step refunds whatever is left
        for chunk, available in steps:
            part = min(chunk, amount - refunded)
            if part == 0:
                break
            available = min(available, bonus)
            claw, short = rules.topup_bonus_clawback(
                topup_amount_fen=amount,
                topup_bonus_fen=bonus,
                refunded_before_fen=refunded,
                refund_fen=part,
                bonus_settled_before_fen=settled,
                bonus_available_fen=available,
            )
            assert 0 <= claw <= available and short >= 0
            refunded += part
            settled += claw + short
            assert settled <= bonus
        assert refunded == amount
        assert settled == bonus
