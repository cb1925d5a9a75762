"""The pure parts split out of coupons_refund_for_sale_in_tx (no database)."""

import pytest

from galleria.coupons import rules
from galleria.coupons.exceptions import CouponRefundUnknownLineError
from galleria.coupons.types import LineDiscount, RefundLineQty


def test_refund_quantities_all_kept_or_the_lines_named():
    known = {1: (2, 0), 2: (3, 3)}
    assert rules.refund_quantities(known=known, lines=None) == {1: 2}
    assert rules.refund_quantities(
        known=known, lines=[RefundLineQty(1, 1), RefundLineQty(1, 1), RefundLineQty(7, 1)]
    ) == {
        1: 2,
        7: 1,  # a line no redemption touched: passed through, it rolls nothing back
    }
    for bad in ([RefundLineQty(1, 3)], [RefundLineQty(2, 1)], [RefundLineQty(1, -1)]):
        with pytest.raises(CouponRefundUnknownLineError):
            rules.refund_quantities(known=known, lines=bad)


def test_refund_funding_follows_the_merchants_cumulative_share():
    # a 1000 fen discount, 333 funded by the merchant, rolled back in three steps
    done = merchant_total = mall_total = 0
    for delta in (300, 300, 400):
        mall, merchant = rules.refund_funding(
            delta_fen=delta,
            refunded_fen=done,
            refunded_merchant_fen=merchant_total,
            discount_fen=1000,
            merchant_fen=333,
        )
        assert mall + merchant == delta
        done, merchant_total, mall_total = done + delta, merchant_total + merchant, mall_total + mall
    assert (merchant_total, mall_total) == (333, 667)


def test_sum_by_line_adds_up_per_line_in_line_order():
    items = [LineDiscount(2, 5), LineDiscount(1, 3), LineDiscount(2, 0), LineDiscount(1, 4)]
    assert rules.sum_by_line(items) == (LineDiscount(1, 7), LineDiscount(2, 5))
