"""Statements from the ledger: generation and regeneration, the figures of a month with every kind of sale, the
mall-local month boundary, late postings, commission and payout in the ledger, and the workflow's refusals."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Sum

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.ledger.models import Entry, Transaction
from galleria.ledger.selectors import ledger_check
from galleria.malls.models import Mall
from galleria.merchants.models import Merchant, Store
from galleria.points.models import EarnRule
from galleria.sales.types import PaymentIn
from galleria.settlement import selectors, services
from galleria.settlement.models import Statement, StatementEvent
from galleria.settlement.types import Figure

from .helpers import (
    coupon_for,
    generate,
    ledger_sums,
    local,
    new_member,
    period,
    refund,
    sell,
    statement_sums,
)

pytestmark = pytest.mark.django_db

FINANCE = Actor(user_id=None, label="finance")
MERCHANT = Actor(user_id=None, label="heytea-owner")


def one(world, text="2026-11", merchant=None) -> Statement:
    merchant = merchant or world.merchant
    return Statement.objects.get(merchant=merchant, period_start=period(text).start, sequence=1)


def a_month_at_heytea(world):
    """November 2026 at 喜茶 (commission 8 %): every kind of figure, with a refund."""
    EarnRule.objects.create(
        mall_group=world.group, name="喜茶自付", scope="merchant", merchant=world.merchant, funder="merchant"
    )
    m = new_member(world, topup_fen=50000)
    at = local(2026, 11, 10)
    sell(world, at=at, member=m, amounts=(100000,))  # 1,000 points (merchant-funded); ¥1,000 by WeChat at the till
    pay_at_store, _r = sell(
        world, at=at, member=m, amounts=(26000,), channel="pay_at_store", payments=[PaymentIn("wechat", 26000)]
    )
    sell(world, at=at, member=m, amounts=(5000,), payments=[PaymentIn("wallet", 5000)])
    sell(world, at=at, member=m, amounts=(3000,), points=1000)  # ¥10 in points
    coupon = coupon_for(world, m, at=at, value_fen=3000)  # mall-funded ¥30
    sell(world, at=at, member=m, amounts=(20000,), coupon_ids=[coupon], discount_fen=3000)
    refund(pay_at_store, at=local(2026, 11, 20), key="R1")  # the pay-at-store sale comes back whole
    return m


def test_a_month_of_sales_becomes_a_statement_with_every_figure(world):
    a_month_at_heytea(world)
    result = generate(world, "2026-11")
    assert (result.created, result.regenerated, result.supplements) == (1, 0, 0)
    s = one(world)
    assert s.status == "draft" and s.sequence == 1 and s.version == 1 and s.commission_bp == 800
    assert s.collected_fen == 0  # ¥260 collected, then refunded in the same month
    assert s.wallet_fen == 5000
    assert s.points_value_fen == 1000
    assert s.coupon_mall_fen == 3000
    # merchant-funded points: 1000 + 0 (refunded) + 50 + 20 + 170 points earned on what was paid in money, 1 = 1 fen
    earned = Entry.objects.filter(account__merchant=world.merchant, account__kind="merchant_points_cost").aggregate(
        t=Sum("amount")
    )["t"]
    assert s.merchant_points_fen == -earned == 1000 + 50 + 20 + 170
    assert s.coupon_merchant_fen == 0
    assert (s.sales_count, s.sales_fen, s.refunds_count, s.refunds_fen) == (5, 154000, 1, 26000)
    assert s.commission_base_fen == 128000
    assert s.commission_fen == 10240
    assert s.net_fen == 5000 + 1000 + 3000 - 1240 - 10240
    assert ledger_sums(world, "2026-11") == statement_sums(world, "2026-11")
    assert StatementEvent.objects.filter(statement=s, action="generated").count() == 1
    assert AuditEvent.objects.filter(action="settlement.generate").exists()


def test_each_figure_drills_down_to_its_legs(world):
    a_month_at_heytea(world)
    generate(world, "2026-11")
    s = one(world)
    for figure, value in (
        (Figure.WALLET, s.wallet_fen),
        (Figure.POINTS_VALUE, s.points_value_fen),
        (Figure.COUPON_MALL, s.coupon_mall_fen),
        (Figure.MERCHANT_POINTS, -s.merchant_points_fen),
        (Figure.COLLECTED, s.collected_fen),
    ):
        legs = list(selectors.figure_legs(statement=s, figure=figure))
        assert sum(row["amount"] for row in legs) == value, figure
    collected = list(selectors.figure_legs(statement=s, figure=Figure.COLLECTED))
    assert [row["amount"] for row in collected] == [26000, -26000]
    assert {row["transaction__source"].split(":")[0] for row in collected} == {"sale", "refund"}
    sales = selectors.base_rows(statement=s, figure=Figure.SALES)
    assert sum(x.total_fen for x in sales) == s.sales_fen
    assert sum(r.amount_fen for r in selectors.base_rows(statement=s, figure=Figure.REFUNDS)) == s.refunds_fen


def test_a_sale_one_second_before_mall_local_midnight_at_month_end_is_in_that_month(world):
    m = new_member(world)
    sell(world, at=local(2026, 11, 30, 23, 59, 59), member=m, amounts=(20000,), channel="pay_at_store")
    sell(world, at=local(2026, 12, 1, 0, 0, 0), member=m, amounts=(7000,), channel="pay_at_store")
    generate(world, "2026-11")
    generate(world, "2026-12")
    assert one(world, "2026-11").collected_fen == 20000
    assert one(world, "2026-12").collected_fen == 7000  # 2026-11-30 16:00 UTC is already December in Shanghai


def test_a_mall_in_another_time_zone_settles_by_its_own_midnight(world):
    tokyo = Mall.objects.create(group=world.group, name="东京店", code="tokyo", timezone="Asia/Tokyo")
    far = Merchant.objects.create(mall=tokyo, name="东京喜茶", category="dining", commission_bp=500)
    Store.objects.create(merchant=far, name="东京喜茶", floor="1", unit_no="1")
    m = new_member(world)
    # 23:30 in Shanghai on Nov 30 is 00:30 on Dec 1 in Tokyo
    sell(world, at=local(2026, 11, 30, 23, 30), member=m, amounts=(1000,), channel="pay_at_store")
    sell(world, at=local(2026, 11, 30, 23, 30), member=m, merchant=far, amounts=(2000,), channel="pay_at_store")
    generate(world, "2026-11")
    generate(world, "2026-12")
    assert one(world, "2026-11").collected_fen == 1000
    assert one(world, "2026-12", merchant=far).collected_fen == 2000
    assert not Statement.objects.filter(merchant=far, period_start=period("2026-11").start).exists()


def test_regenerating_a_draft_picks_up_new_postings_and_a_second_run_changes_nothing(world):
    m = new_member(world)
    sell(world, at=local(2026, 11, 3), member=m, amounts=(10000,), channel="pay_at_store")
    generate(world, "2026-11")
    sell(world, at=local(2026, 11, 4), member=m, amounts=(5000,), channel="pay_at_store")
    result = generate(world, "2026-11")
    assert (result.created, result.regenerated, result.unchanged) == (0, 1, 0)
    s = one(world)
    assert (s.collected_fen, s.version, s.status) == (15000, 2, "draft")
    event = StatementEvent.objects.get(statement=s, action="regenerated")
    assert event.changes["collected_fen"] == [10000, 15000]
    again = generate(world, "2026-11")
    assert (again.created, again.regenerated, again.unchanged) == (0, 0, 1)
    assert one(world).version == 2


def test_a_confirmed_statement_never_changes_and_a_late_posting_becomes_a_supplement(world):
    m = new_member(world)
    sale, _r = sell(world, at=local(2026, 11, 3), member=m, amounts=(10000,), channel="pay_at_store")
    generate(world, "2026-11")
    first = one(world)
    services.statement_confirm(statement_id=first.pk, merchant_id=world.merchant.pk, actor=MERCHANT, version=1)
    # an offline upload dated in November arrives in December, and a refund of a November sale is made in December
    sell(world, at=local(2026, 11, 29), member=m, amounts=(4000,), channel="pay_at_store")
    refund(sale, at=local(2026, 12, 2), key="R-dec")
    result = generate(world, "2026-11")
    assert (result.created, result.supplements, result.regenerated) == (1, 1, 0)
    first.refresh_from_db()
    assert (first.status, first.collected_fen, first.version) == ("confirmed", 10000, 1)
    supplement = Statement.objects.get(merchant=world.merchant, period_start=period("2026-11").start, sequence=2)
    assert (supplement.status, supplement.collected_fen, supplement.sales_count) == ("draft", 4000, 1)
    assert supplement.commission_fen == 320  # 8 % of ¥40
    legs = list(selectors.figure_legs(statement=supplement, figure=Figure.COLLECTED))
    assert [row["amount"] for row in legs] == [4000]  # only what was written after the statement before it
    assert [row["amount"] for row in selectors.figure_legs(statement=first, figure=Figure.COLLECTED)] == [10000]
    assert ledger_sums(world, "2026-11") == statement_sums(world, "2026-11")
    generate(world, "2026-12")
    assert one(world, "2026-12").collected_fen == -10000  # the refund falls in the month it was made


def test_approval_posts_the_commission_and_payment_the_payout(world):
    a_month_at_heytea(world)
    generate(world, "2026-11")
    s = one(world)
    services.statement_confirm(statement_id=s.pk, merchant_id=world.merchant.pk, actor=MERCHANT, version=s.version)
    s = services.statement_approve(statement_id=s.pk, mall_group_id=world.group.pk, actor=FINANCE)
    tx = Transaction.objects.get(source=f"settlement:{s.pk}", kind="commission")
    assert s.commission_transaction_id == tx.pk
    legs = dict(Entry.objects.filter(transaction=tx).values_list("account__kind", "amount"))
    assert legs == {"commission": -10240, "commission_income": 10240}
    s = services.statement_mark_paid(
        statement_id=s.pk, mall_group_id=world.group.pk, actor=FINANCE, reference="ICBC-20261205-001"
    )
    assert (s.status, s.payment_reference) == ("paid", "ICBC-20261205-001")
    payout = dict(Entry.objects.filter(transaction=s.payout_transaction).values_list("account__kind", "amount"))
    assert s.net_fen < 0  # the merchant owes the mall (commission and its points exceed what it is owed)
    assert payout == {"merchant_payout": -s.net_fen, "settlement_bank": s.net_fen}
    # the whole life of the statement is in the ledger: its legs, commission and payout leave the merchant square
    sums = ledger_sums(world, "2026-11")[world.merchant.pk]
    period_legs = sum(v for kind, v in sums.items() if kind != "coupon_merchant_funded")  # the memorandum is outside
    settled = Entry.objects.filter(
        transaction__source=f"settlement:{s.pk}", account__merchant=world.merchant
    ).aggregate(t=Sum("amount"))["t"]
    assert period_legs + settled == 0
    assert list(StatementEvent.objects.filter(statement=s).values_list("action", flat=True)) == [
        "generated",
        "confirmed",
        "approved",
        "paid",
    ]
    assert ledger_check().ok


def test_a_statement_without_commission_posts_none(world):
    m = new_member(world)
    sell(
        world, at=local(2026, 11, 3), member=m, merchant=world.other_merchant, amounts=(10000,), channel="pay_at_store"
    )
    generate(world, "2026-11")
    s = one(world, merchant=world.other_merchant)
    assert (s.commission_bp, s.commission_fen, s.net_fen) == (0, 0, 10000)
    services.statement_confirm(statement_id=s.pk, merchant_id=world.other_merchant.pk, actor=MERCHANT, version=1)
    s = services.statement_approve(statement_id=s.pk, mall_group_id=world.group.pk, actor=FINANCE)
    assert s.commission_transaction_id is None
    s = services.statement_mark_paid(statement_id=s.pk, mall_group_id=world.group.pk, actor=FINANCE, reference="X1")
    assert dict(Entry.objects.filter(transaction=s.payout_transaction).values_list("account__kind", "amount")) == {
        "merchant_payout": -10000,
        "settlement_bank": 10000,
    }


def test_steps_out_of_order_are_refused_with_stable_codes(world):
    m = new_member(world)
    sell(world, at=local(2026, 11, 3), member=m, amounts=(10000,), channel="pay_at_store")
    generate(world, "2026-11")
    s = one(world)

    def code(fn):
        with pytest.raises(Exception) as exc:
            fn()
        return exc.value.code

    group = world.group.pk
    assert code(lambda: services.statement_approve(statement_id=s.pk, mall_group_id=group, actor=FINANCE)) == (
        "settlement.state"
    )
    assert code(
        lambda: services.statement_mark_paid(statement_id=s.pk, mall_group_id=group, actor=FINANCE, reference="x")
    ) == ("settlement.state")
    assert code(
        lambda: services.statement_confirm(
            statement_id=s.pk, merchant_id=world.other_merchant.pk, actor=MERCHANT, version=1
        )
    ) == ("settlement.not_found")
    assert code(
        lambda: services.statement_approve(statement_id=s.pk, mall_group_id=world.other_group.pk, actor=FINANCE)
    ) == ("settlement.not_found")
    assert code(
        lambda: services.statement_dispute(
            statement_id=s.pk, merchant_id=world.merchant.pk, actor=MERCHANT, comment="  ", version=1
        )
    ) == ("settlement.comment_required")
    assert code(
        lambda: services.statement_confirm(statement_id=s.pk, merchant_id=world.merchant.pk, actor=MERCHANT, version=0)
    ) == ("settlement.changed")
    services.statement_confirm(statement_id=s.pk, merchant_id=world.merchant.pk, actor=MERCHANT, version=1)
    assert code(
        lambda: services.statement_confirm(statement_id=s.pk, merchant_id=world.merchant.pk, actor=MERCHANT, version=1)
    ) == ("settlement.state")
    assert code(
        lambda: services.statement_dispute(
            statement_id=s.pk, merchant_id=world.merchant.pk, actor=MERCHANT, comment="wrong", version=1
        )
    ) == ("settlement.state")
    services.statement_approve(statement_id=s.pk, mall_group_id=group, actor=FINANCE)
    assert code(lambda: services.statement_approve(statement_id=s.pk, mall_group_id=group, actor=FINANCE)) == (
        "settlement.state"
    )
    assert code(
        lambda: services.statement_mark_paid(statement_id=s.pk, mall_group_id=group, actor=FINANCE, reference=" ")
    ) == ("settlement.reference_required")
    assert Transaction.objects.filter(source=f"settlement:{s.pk}").count() == 1  # the commission, once


def test_a_disputed_statement_returns_to_draft_when_its_figures_change(world):
    m = new_member(world)
    sell(world, at=local(2026, 11, 3), member=m, amounts=(10000,), channel="pay_at_store")
    generate(world, "2026-11")
    s = one(world)
    services.statement_dispute(
        statement_id=s.pk, merchant_id=world.merchant.pk, actor=MERCHANT, comment="少了一笔 ¥50", version=1
    )
    generate(world, "2026-11")  # nothing new: still disputed
    assert one(world).status == "disputed"
    sell(world, at=local(2026, 11, 5), member=m, amounts=(5000,), channel="pay_at_store")
    generate(world, "2026-11")
    s = one(world)
    assert (s.status, s.collected_fen, s.version, s.dispute_comment) == ("draft", 15000, 2, "少了一笔 ¥50")
    services.statement_confirm(statement_id=s.pk, merchant_id=world.merchant.pk, actor=MERCHANT, version=2)


def test_finance_can_settle_a_dispute_only_by_saying_how(world):
    m = new_member(world)
    sell(world, at=local(2026, 11, 3), member=m, amounts=(10000,), channel="pay_at_store")
    generate(world, "2026-11")
    s = one(world)
    services.statement_dispute(statement_id=s.pk, merchant_id=world.merchant.pk, actor=MERCHANT, comment="?", version=1)
    with pytest.raises(Exception) as exc:
        services.statement_approve(statement_id=s.pk, mall_group_id=world.group.pk, actor=FINANCE)
    assert exc.value.code == "settlement.comment_required"
    s = services.statement_approve(
        statement_id=s.pk, mall_group_id=world.group.pk, actor=FINANCE, note="已电话确认：小票在 12 月"
    )
    assert (s.status, s.approval_note) == ("approved", "已电话确认：小票在 12 月")


def test_the_command_generates_last_month_for_every_group(world):
    m = new_member(world)
    sell(world, at=local(2026, 11, 3), member=m, amounts=(10000,), channel="pay_at_store")
    out = io.StringIO()
    with time_machine.travel(local(2026, 12, 1, 1, 30), tick=False):
        call_command("settlement_generate", stdout=out)
    assert "xinghe 2026-11: 1 new (0 supplementary), 0 regenerated, 0 unchanged" in out.getvalue()
    call_command("settlement_generate", "--period", "2026-11", "--group", "xinghe", stdout=out)
    assert "xinghe 2026-11: 0 new (0 supplementary), 0 regenerated, 1 unchanged" in out.getvalue()
    with pytest.raises(Exception, match="no mall group"):
        call_command("settlement_generate", "--group", "nope")
    with pytest.raises(Exception, match="YYYY-MM"):
        call_command("settlement_generate", "--period", "11/2026")


def test_the_running_month_is_a_preview_that_can_be_refreshed_but_not_decided(world):
    """Finance may generate the month in progress (a preview); the merchant cannot confirm or dispute it and finance
    cannot approve it until the month is over, mall time — then the same statement, refreshed, goes on as usual."""
    m = new_member(world)

    def code(fn):
        with pytest.raises(Exception) as exc:
            fn()
        return exc.value.code

    def confirm(s):
        return services.statement_confirm(
            statement_id=s.pk, merchant_id=world.merchant.pk, actor=MERCHANT, version=s.version
        )

    with time_machine.travel(local(2026, 11, 20, 15), tick=False):
        sell(world, at=local(2026, 11, 18), member=m, amounts=(10000,), channel="pay_at_store")
        generate(world, "2026-11")
        s = one(world)
        assert selectors.is_preview(s)
        assert code(lambda: confirm(s)) == "settlement.period_not_ended"
        assert code(
            lambda: services.statement_dispute(
                statement_id=s.pk, merchant_id=world.merchant.pk, actor=MERCHANT, comment="?", version=s.version
            )
        ) == ("settlement.period_not_ended")
        assert one(world).status == "draft"
        sell(world, at=local(2026, 11, 20, 14), member=m, amounts=(5000,), channel="pay_at_store")
        generate(world, "2026-11")  # regenerating the preview brings it up to date
        s = one(world)
        assert (s.collected_fen, s.version, s.status) == (15000, 2, "draft")
    with time_machine.travel(local(2026, 11, 30, 23, 59, 59), tick=False):  # the last second of November
        assert code(lambda: confirm(s)) == "settlement.period_not_ended"
    with time_machine.travel(local(2026, 12, 1, 0, 0), tick=False):  # December in Shanghai: November is over
        assert not selectors.is_preview(s)
        confirm(s)
        assert one(world).status == "confirmed"
    assert not AuditEvent.objects.filter(action="settlement.dispute").exists()


def test_finance_cannot_approve_before_the_month_is_over(world):
    """A statement confirmed before the rule existed (or by any other path) is not approved mid-month either."""
    m = new_member(world)
    with time_machine.travel(local(2026, 11, 20, 15), tick=False):
        sell(world, at=local(2026, 11, 18), member=m, amounts=(10000,), channel="pay_at_store")
        generate(world, "2026-11")
        Statement.objects.filter(merchant=world.merchant).update(status="confirmed")
        s = one(world)
        with pytest.raises(Exception) as exc:
            services.statement_approve(statement_id=s.pk, mall_group_id=world.group.pk, actor=FINANCE)
        assert exc.value.code == "settlement.period_not_ended"
        assert "2026-12-01" in str(exc.value.message)
        assert not Transaction.objects.filter(source=f"settlement:{s.pk}").exists()  # no commission posted
    with time_machine.travel(local(2026, 12, 2, 10), tick=False):
        s = services.statement_approve(statement_id=s.pk, mall_group_id=world.group.pk, actor=FINANCE)
    assert s.status == "approved" and s.commission_transaction_id is not None
