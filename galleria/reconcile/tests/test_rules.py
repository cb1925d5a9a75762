"""The matching and 分账 arithmetic, without a database (galleria/reconcile/rules.py)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from galleria.payments.gateways.base import BillRow
from galleria.payments.selectors_reconcile import RefundRecord, TradeRecord
from galleria.reconcile import rules
from galleria.reconcile.types import CapReason, FixAction, Outcome, SkipReason

NOON = dt.datetime(2026, 3, 1, 4, 0, tzinfo=dt.UTC)  # 12:00 in Beijing
DAY_START = dt.datetime(2026, 2, 28, 16, 0, tzinfo=dt.UTC)  # 2026-03-01 00:00 in Beijing


def trade(no: str, amount: int = 10_000, *, state: str = "paid", paid: int | None = None, attempt_id: int = 1):
    return TradeRecord(
        attempt_id=attempt_id,
        mall_group_id=1,
        provider="wechat",
        purpose="store",
        out_trade_no=no,
        state=state,
        fulfilment="done" if state == "paid" else "pending",
        amount_fen=amount,
        paid_fen=(amount if paid is None else paid) if state == "paid" else None,
        refunded_fen=0,
        transaction_id=f"42{no}",
        paid_at=NOON if state == "paid" else None,
        merchant_id=7,
        sale_id=None,
    )


def refund(no: str, amount: int = 3_000, *, state: str = "succeeded", at: dt.datetime = NOON, trade_no: str = "S1"):
    return RefundRecord(
        refund_pk=9,
        attempt_id=1,
        out_trade_no=trade_no,
        out_refund_no=no,
        amount_fen=amount,
        state=state,
        gateway_refund_id="50x",
        created_at=at,
        succeeded_at=at if state == "succeeded" else None,
        last_error="",
    )


def pay_row(no: str, amount: int = 10_000, fee: int = 60) -> BillRow:
    return BillRow(
        out_trade_no=no, transaction_id=f"42{no}", kind="payment", amount_fen=amount, fee_fen=fee, occurred_at=NOON
    )


def refund_row(no: str, amount: int = 3_000, trade_no: str = "S1") -> BillRow:
    return BillRow(
        out_trade_no=trade_no,
        transaction_id="42S1",
        kind="refund",
        amount_fen=amount,
        fee_fen=-18,
        occurred_at=NOON,
        out_refund_no=no,
        refund_id="50x",
    )


def outcomes(lines):
    return {(line.kind, line.out_refund_no or line.out_trade_no): line.outcome for line in lines}


def test_every_bill_row_and_every_expected_record_gets_one_outcome():
    ours = [trade("S1"), trade("S2", 5_000, attempt_id=2), trade("S3", attempt_id=3), trade("S9", attempt_id=9)]
    known = {t.out_trade_no: t for t in ours} | {"S4": trade("S4", state="paying", attempt_id=4)}
    rows = [
        pay_row("S1"),
        pay_row("S2", 4_000),  # we asked ¥50, the bill says ¥40
        pay_row("S3"),
        pay_row("S4"),  # paid at the gateway, still waiting here
        pay_row("X1"),  # nobody here knows it
        refund_row("R1"),
    ]
    lines = rules.match_day(
        rows=rows,
        known_trades=known,
        known_refunds={"R1": refund("R1")},
        expected_trades=ours,  # S9: we hold it paid that day, the bill lacks it
        expected_refunds=[refund("R1")],
    )
    assert outcomes(lines) == {
        ("payment", "S1"): Outcome.MATCHED,
        ("payment", "S2"): Outcome.AMOUNT_MISMATCH,
        ("payment", "S3"): Outcome.MATCHED,
        ("payment", "S4"): Outcome.STATE_MISMATCH,
        ("payment", "X1"): Outcome.EXTRA,
        ("refund", "R1"): Outcome.MATCHED,
        ("payment", "S9"): Outcome.MISSING,
    }
    by_no = {line.out_trade_no: line for line in lines if line.kind == "payment"}
    assert by_no["S4"].fix == FixAction.SYNC and by_no["S4"].attempt_id == 4
    assert by_no["S9"].fix == FixAction.QUERY and by_no["S9"].gateway_fen is None
    assert (by_no["S2"].gateway_fen, by_no["S2"].our_fen) == (4_000, 5_000)
    assert by_no["X1"].fix == FixAction.NONE and by_no["X1"].attempt_id is None


def test_paid_less_than_asked_is_a_mismatch_even_when_we_recorded_what_was_paid():
    held = trade("S1", 10_000, paid=1)  # the notice recorded 1 fen paid, the sale was not recorded
    lines = rules.match_day(
        rows=[pay_row("S1", 1)],
        known_trades={"S1": held},
        known_refunds={},
        expected_trades=[held],
        expected_refunds=[],
    )
    assert [line.outcome for line in lines] == [Outcome.AMOUNT_MISMATCH]
    assert lines[0].detail["paid_fen"] == 1 and lines[0].our_fen == 10_000


def test_refund_states_and_unaccepted_refunds():
    processing = refund("R2", state="processing")
    requested = refund("R3", state="requested")
    failed = refund("R4", state="failed")
    lines = rules.match_day(
        rows=[refund_row("R2"), refund_row("R5")],
        known_trades={},
        known_refunds={"R2": processing},
        expected_trades=[],
        expected_refunds=[],
        unaccepted_refunds=[requested, failed],
    )
    by_no = {line.out_refund_no: line for line in lines}
    assert by_no["R2"].outcome == Outcome.STATE_MISMATCH and by_no["R2"].fix == FixAction.REFUND_SYNC
    assert by_no["R5"].outcome == Outcome.EXTRA
    assert by_no["R3"].outcome == Outcome.MISSING and by_no["R3"].fix == FixAction.REFUND_SEND
    assert by_no["R4"].outcome == Outcome.MISSING and by_no["R4"].fix == FixAction.NONE


def test_a_repeated_bill_row_is_extra_not_matched_twice():
    lines = rules.match_day(
        rows=[pay_row("S1"), pay_row("S1")],
        known_trades={"S1": trade("S1")},
        known_refunds={},
        expected_trades=[trade("S1")],
        expected_refunds=[],
    )
    assert [line.outcome for line in lines] == [Outcome.MATCHED, Outcome.EXTRA]


def test_a_refund_we_recorded_just_after_midnight_is_found_on_the_day_before():
    late = refund("R1", at=DAY_START + dt.timedelta(minutes=3))
    lines = rules.match_day(rows=[], known_trades={}, known_refunds={}, expected_trades=[], expected_refunds=[late])
    assert rules.near_day_start(lines, day_start=DAY_START) == lines
    assert rules.drop_found_elsewhere(lines, [refund_row("R1")]) == []
    assert rules.drop_found_elsewhere(lines, [refund_row("R1", amount=1)]) == lines  # another amount: still missing
    later = refund("R1", at=DAY_START + dt.timedelta(hours=2))
    far = rules.match_day(rows=[], known_trades={}, known_refunds={}, expected_trades=[], expected_refunds=[later])
    assert rules.near_day_start(far, day_start=DAY_START) == []


def test_day_totals_sum_the_bill_and_ours():
    rows = [pay_row("S1", 10_000, 60), pay_row("S2", 5_000, 30), refund_row("R1", 3_000)]
    totals = rules.day_totals(rows=rows, expected_trades=[trade("S1")], expected_refunds=[refund("R1")])
    assert (totals.bill_payment_count, totals.bill_payment_fen) == (2, 15_000)
    assert (totals.bill_refund_count, totals.bill_refund_fen) == (1, 3_000)
    assert totals.fee_fen == 60 + 30 - 18
    assert (totals.our_payment_fen, totals.our_refund_fen) == (10_000, 3_000)


# ---------------------------------------------------------------------------------------------------- 分账


def test_the_share_is_capped_by_the_limit_and_the_rest_explained():
    plan = rules.share_plan(paid_fen=30_000, refunded_fen=0, commission_bp=800, limit_bp=3000)
    assert (plan.commission_fen, plan.part_fen) == (2_400, 27_600)
    assert (plan.limit_fen, plan.amount_fen, plan.capped_fen) == (9_000, 9_000, 18_600)
    assert plan.cap_reason == CapReason.LIMIT and plan.skip_reason == ""


def test_within_the_limit_the_whole_part_is_shared():
    plan = rules.share_plan(paid_fen=30_000, refunded_fen=0, commission_bp=800, limit_bp=10_000)
    assert (plan.amount_fen, plan.capped_fen, plan.cap_reason) == (27_600, 0, CapReason.NONE)


def test_commission_rounds_half_up_and_the_limit_floors():
    plan = rules.share_plan(paid_fen=1_005, refunded_fen=0, commission_bp=50, limit_bp=3333)
    assert plan.commission_fen == 5  # 5.025 → 5
    assert rules.share_plan(paid_fen=1_010, refunded_fen=0, commission_bp=50, limit_bp=10_000).commission_fen == 5
    assert rules.share_plan(paid_fen=1_030, refunded_fen=0, commission_bp=50, limit_bp=10_000).commission_fen == 5
    assert rules.share_plan(paid_fen=1_100, refunded_fen=0, commission_bp=50, limit_bp=10_000).commission_fen == 6
    assert plan.limit_fen == 334  # 1005 × 0.3333 = 334.97 → 334


def test_what_the_gateway_has_left_caps_the_share():
    plan = rules.share_plan(paid_fen=30_000, refunded_fen=0, commission_bp=800, limit_bp=3000, unsplit_fen=4_000)
    assert (plan.amount_fen, plan.cap_reason, plan.capped_fen) == (4_000, CapReason.UNSPLIT, 23_600)
    nothing = rules.share_plan(paid_fen=30_000, refunded_fen=0, commission_bp=800, limit_bp=3000, unsplit_fen=0)
    assert nothing.amount_fen == 0 and nothing.skip_reason == SkipReason.UNSPLIT


def test_refunded_or_all_commission_shares_nothing():
    assert rules.share_plan(paid_fen=100, refunded_fen=100, commission_bp=0, limit_bp=3000).skip_reason == (
        SkipReason.REFUNDED
    )
    assert rules.share_plan(paid_fen=100, refunded_fen=0, commission_bp=10_000, limit_bp=3000).skip_reason == (
        SkipReason.NOTHING
    )
    assert rules.share_plan(paid_fen=100, refunded_fen=0, commission_bp=0, limit_bp=0).skip_reason == (
        SkipReason.LIMIT_ZERO
    )


@given(
    paid=st.integers(min_value=1, max_value=5_000_000),
    refunded_share=st.integers(min_value=0, max_value=100),
    commission_bp=st.integers(min_value=0, max_value=10_000),
    limit_bp=st.integers(min_value=0, max_value=10_000),
)
def test_a_share_never_exceeds_the_part_nor_the_limit_and_parts_add_up(paid, refunded_share, commission_bp, limit_bp):
    refunded = paid * refunded_share // 100
    plan = rules.share_plan(paid_fen=paid, refunded_fen=refunded, commission_bp=commission_bp, limit_bp=limit_bp)
    assert 0 <= plan.amount_fen <= max(0, plan.part_fen)
    assert plan.amount_fen <= paid * limit_bp // 10_000
    assert plan.commission_fen + plan.part_fen == plan.base_fen == paid - refunded
    if not plan.skip_reason:
        assert plan.amount_fen + plan.capped_fen == plan.part_fen


def test_a_refund_after_the_share_is_recovered_from_the_merchant():
    # ¥300 paid, 8 % commission, ¥90 shared (the 30 % limit)
    assert rules.recover_fen(shared_fen=9_000, paid_fen=30_000, refunded_fen=30_000, commission_bp=800) == 9_000
    # half refunded: the merchant's part of what is left (¥138) still covers the ¥90 it received
    assert rules.recover_fen(shared_fen=9_000, paid_fen=30_000, refunded_fen=15_000, commission_bp=800) == 0
    # 80 % refunded: its part of ¥60 is ¥55.20, so ¥34.80 comes back
    assert rules.recover_fen(shared_fen=9_000, paid_fen=30_000, refunded_fen=24_000, commission_bp=800) == 3_480


def test_order_numbers_are_deterministic_and_short_enough():
    assert rules.out_order_no("S2612071234567890abcdef12345") == "PSS2612071234567890abcdef12345"
    assert rules.out_order_no("S1", 2) == "PSS1-2"
    assert len(rules.out_order_no("S" * 32, 99)) <= 64
