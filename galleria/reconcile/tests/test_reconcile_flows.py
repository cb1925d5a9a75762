"""Reconciling a day against the sandbox gateway's real bill files (WeChat Pay tradebill, Alipay zip): what finance
relies on — every transaction matched or reported, the fix-ups, and re-runs that keep what people explained."""

from __future__ import annotations

import datetime as dt

import pytest
import stamina
from django.core.management import call_command
from django.utils import timezone

from galleria.audit.models import AuditEvent
from galleria.payments import services as payment_services
from galleria.payments.models import AttemptState, Fulfilment, PaymentAttempt, PaymentRefund, RefundState
from galleria.reconcile import selectors, services
from galleria.reconcile.exceptions import (
    BillDateInvalidError,
    FindingClosedError,
    FindingNotFoundError,
    NoAutomaticFixError,
    NoteRequiredError,
)
from galleria.reconcile.models import Finding, FindingState, ReconcileRun
from galleria.reconcile.types import FixAction, Outcome, RunStatus
from galleria.sales.models import Sale

from .conftest import ACTOR, SHANGHAI, deliver, store_payment

pytestmark = pytest.mark.django_db


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=SHANGHAI)


def run(world, day, provider="wechat"):
    return services.reconcile_day(mall_group_id=world.group.pk, provider=provider, bill_date=day, actor=ACTOR)


def findings(world, **filters):
    return list(selectors.finding_list(mall_group_id=world.group.pk, **filters))


def refund_in_full(world, attempt_id, receiver, key="r1"):
    """The merchant refunds the payment; the gateway's refund notification is applied (refund succeeded)."""
    payment_services.store_payment_refund(
        attempt_id=attempt_id, merchant_id=world.merchant.pk, actor=ACTOR, idempotency_key=key
    )
    refund = PaymentRefund.objects.get(attempt_id=attempt_id)
    deadline = timezone.now() + dt.timedelta(seconds=10)
    while refund.state != RefundState.SUCCEEDED and timezone.now() < deadline:
        deliver(receiver)
        refund.refresh_from_db()
    assert refund.state == RefundState.SUCCEEDED
    return refund


class TestADayThatAddsUp:
    def test_payments_and_refunds_all_match_and_the_day_is_summed(self, pay, gateway, receiver, day):
        ids = [store_payment(pay, gateway, total=t) for t in (30_000, 12_345, 9_900)]
        refund = refund_in_full(pay, ids[1], receiver)
        PaymentRefund.objects.filter(pk=refund.pk).update(succeeded_at=noon(day))  # the refund's day is the bill's
        result = run(pay, day)
        assert result.status == RunStatus.DONE
        assert result.counts[Outcome.MATCHED] == 4 and result.open_findings == 0
        assert findings(pay) == []
        r = ReconcileRun.objects.get(pk=result.run_id)
        assert (r.bill_payment_count, r.bill_payment_fen) == (3, 30_000 + 12_345 + 9_900)
        assert (r.our_payment_count, r.our_payment_fen) == (3, r.bill_payment_fen)
        assert (r.bill_refund_count, r.bill_refund_fen, r.our_refund_fen) == (1, 12_345, 12_345)
        # the sandbox charges 0.6 % rounded half up per payment and gives it back on a refund
        assert r.fee_fen == 180 + 74 + 59 - 74
        assert AuditEvent.objects.filter(action="reconcile.run", target_id=str(r.pk)).count() == 1
        again = run(pay, day)
        assert again.run_id == r.pk and again.counts == result.counts
        assert ReconcileRun.objects.get(pk=r.pk).runs == 2

    def test_an_alipay_day_matches_too(self, pay, gateway, receiver, day):
        store_payment(pay, gateway, total=8_800, provider="alipay")
        result = run(pay, day, provider="alipay")
        assert result.counts[Outcome.MATCHED] == 1 and result.open_findings == 0
        assert ReconcileRun.objects.get(pk=result.run_id).bill_payment_fen == 8_800

    def test_a_day_in_the_future_is_refused(self, pay):
        with pytest.raises(BillDateInvalidError):
            run(pay, services.gateway_today() + dt.timedelta(days=1))


class TestFindingsAndFixUps:
    def test_a_trade_the_mall_does_not_know_is_reported_and_explained(self, pay, gateway, day):
        store_payment(pay, gateway, total=5_000)
        extra = gateway.control.bill_extra(provider="wechat", amount_fen=4_321, bill_date=day.isoformat())
        result = run(pay, day)
        assert result.counts[Outcome.EXTRA] == 1 and result.counts[Outcome.MATCHED] == 1
        [finding] = findings(pay)
        assert (finding.outcome, finding.out_trade_no, finding.gateway_fen, finding.our_fen) == (
            Outcome.EXTRA,
            extra["out_trade_no"],
            4_321,
            None,
        )
        with pytest.raises(NoAutomaticFixError):
            services.finding_fix(finding_id=finding.pk, mall_group_id=pay.group.pk, actor=ACTOR)
        with pytest.raises(NoteRequiredError):
            services.finding_resolve(finding_id=finding.pk, mall_group_id=pay.group.pk, note="  ", actor=ACTOR)
        with pytest.raises(FindingNotFoundError):  # another group's staff cannot reach it
            services.finding_resolve(finding_id=finding.pk, mall_group_id=pay.other_group.pk, note="x", actor=ACTOR)
        done = services.finding_resolve(
            finding_id=finding.pk, mall_group_id=pay.group.pk, note="A test payment by the gateway's staff", actor=ACTOR
        )
        assert done.state == FindingState.RESOLVED and done.resolved_by == "test" and done.resolved_at is not None
        with pytest.raises(FindingClosedError):
            services.finding_resolve(finding_id=finding.pk, mall_group_id=pay.group.pk, note="again", actor=ACTOR)
        # re-running the date keeps the explanation and does not report the same line again
        again = run(pay, day)
        assert again.counts[Outcome.EXTRA] == 1 and again.open_findings == 0
        kept = Finding.objects.get(pk=finding.pk)
        assert kept.state == FindingState.RESOLVED and kept.resolution_note.startswith("A test payment")
        assert AuditEvent.objects.filter(action="reconcile.resolve", target_id=str(finding.pk)).count() == 1

    def test_an_underpaid_payment_is_reported_as_an_amount_mismatch(self, pay, gateway, day):
        from galleria.members.services import member_register

        m = member_register(mall=pay.mall, phone="13911112222", channel="desk", actor=ACTOR)
        started = payment_services.store_pay_start(
            member_id=m.pk,
            mall_group_id=pay.group.pk,
            store_id=pay.store.pk,
            total_fen=27_000,
            points_to_use=0,
            coupon_ids=None,
            provider="wechat",
            kind="h5",
            idempotency_key="under",
            client_ip="10.0.0.8",
        )
        gateway.control.pay(provider="wechat", out_trade_no=started.out_trade_no, amount_fen=27_000 - 100)
        payment_services.attempt_sync(attempt_id=started.attempt_id)
        assert PaymentAttempt.objects.get(pk=started.attempt_id).fulfilment == Fulfilment.REVIEW
        run(pay, day)
        [finding] = findings(pay, outcome=Outcome.AMOUNT_MISMATCH)
        assert (finding.gateway_fen, finding.our_fen, finding.detail["paid_fen"]) == (26_900, 27_000, 26_900)
        assert finding.attempt_id == started.attempt_id and finding.fix == FixAction.NONE

    def test_a_payment_the_gateway_does_not_have_is_missing_and_can_be_asked_about(self, pay, gateway, day):
        real = PaymentAttempt.objects.get(pk=store_payment(pay, gateway, total=6_000))
        ghost = PaymentAttempt.objects.create(  # we hold it paid; the gateway never saw it
            mall_group=pay.group,
            credential=real.credential,
            provider="wechat",
            purpose="store",
            out_trade_no="SGHOST000000000000000001",
            amount_fen=4_200,
            paid_fen=4_200,
            state=AttemptState.PAID,
            fulfilment=Fulfilment.DONE,
            pay_kind="h5",
            merchant=pay.merchant,
            store=pay.store,
            transaction_id="4200000000000000000000000001",
            paid_at=noon(day),
            expires_at=noon(day),
        )
        result = run(pay, day)
        assert result.counts[Outcome.MISSING] == 1 and result.counts[Outcome.MATCHED] == 1
        [finding] = findings(pay)
        assert (finding.outcome, finding.attempt_id, finding.our_fen, finding.fix) == (
            Outcome.MISSING,
            ghost.pk,
            4_200,
            FixAction.QUERY,
        )
        same, answer = services.finding_fix(finding_id=finding.pk, mall_group_id=pay.group.pk, actor=ACTOR)
        assert answer == "gateway: unknown" and same.state == FindingState.OPEN  # a person decides what to do
        assert same.history[-1]["action"] == "query" and same.history[-1]["by"] == "test"
        # a re-run replaces the open finding and carries its history over
        run(pay, day)
        [replaced] = findings(pay)
        assert replaced.pk != finding.pk and replaced.history == same.history

    def test_paid_at_the_gateway_but_waiting_here_is_fixed_by_asking_the_gateway(self, pay, gateway, day):
        attempt_id = store_payment(pay, gateway, total=15_800, sync=False)  # the notification never arrived
        assert PaymentAttempt.objects.get(pk=attempt_id).state == AttemptState.PAYING
        result = run(pay, day)
        assert result.counts[Outcome.STATE_MISMATCH] == 1
        [finding] = findings(pay)
        assert finding.fix == FixAction.SYNC and finding.detail["state"] == "paying"
        fixed, answer = services.finding_fix(finding_id=finding.pk, mall_group_id=pay.group.pk, actor=ACTOR)
        assert answer == "paid" and fixed.state == FindingState.FIXED and fixed.resolved_by == "test"
        attempt = PaymentAttempt.objects.get(pk=attempt_id)
        assert attempt.state == AttemptState.PAID and Sale.objects.filter(pk=attempt.sale_id).exists()
        assert AuditEvent.objects.filter(action="reconcile.fix", target_id=str(finding.pk)).count() == 1
        # the next run finds the day in order
        again = run(pay, day)
        assert again.counts[Outcome.MATCHED] == 1 and again.open_findings == 0

    def test_a_refund_done_at_the_gateway_but_processing_here_is_applied(self, pay, gateway, receiver, day):
        attempt_id = store_payment(pay, gateway, total=7_700)
        payment_services.store_payment_refund(
            attempt_id=attempt_id, merchant_id=pay.merchant.pk, actor=ACTOR, idempotency_key="r1"
        )
        refund = PaymentRefund.objects.get(attempt_id=attempt_id)
        # its notification is held by the receiver, never applied (the gateway may already have answered SUCCESS to
        # the request itself when it settled within the call: put it back to what a lost notification leaves)
        PaymentRefund.objects.filter(pk=refund.pk).update(state=RefundState.PROCESSING, succeeded_at=None)
        run(pay, day)
        [finding] = findings(pay)
        assert (finding.kind, finding.outcome, finding.fix) == ("refund", Outcome.STATE_MISMATCH, FixAction.REFUND_SYNC)
        fixed, answer = services.finding_fix(finding_id=finding.pk, mall_group_id=pay.group.pk, actor=ACTOR)
        assert answer == "succeeded" and fixed.state == FindingState.FIXED
        assert PaymentRefund.objects.get(pk=refund.pk).state == RefundState.SUCCEEDED

    def test_a_refund_the_gateway_never_accepted_is_sent_again(self, pay, gateway, day):
        attempt_id = store_payment(pay, gateway, total=6_600)
        gateway.control.fail_next(count=1, status=503, prefix="/v3/refund")
        with stamina.set_testing(True, attempts=1):  # the gateway is down when the merchant refunds
            payment_services.store_payment_refund(
                attempt_id=attempt_id, merchant_id=pay.merchant.pk, actor=ACTOR, idempotency_key="down"
            )
        refund = PaymentRefund.objects.get(attempt_id=attempt_id)
        assert refund.state == RefundState.REQUESTED and refund.last_error
        PaymentRefund.objects.filter(pk=refund.pk).update(created_at=noon(day))
        run(pay, day)
        [finding] = findings(pay, kind="refund")
        assert (finding.outcome, finding.fix, finding.our_fen) == (Outcome.MISSING, FixAction.REFUND_SEND, 6_600)
        fixed, answer = services.finding_fix(finding_id=finding.pk, mall_group_id=pay.group.pk, actor=ACTOR)
        assert fixed.state == FindingState.FIXED and answer in ("processing", "succeeded")
        assert gateway.control.trade(provider="wechat", out_trade_no=refund.attempt.out_trade_no)["refunded_fen"] == (
            6_600
        )

    def test_a_refund_we_recorded_after_midnight_is_matched_on_the_day_before(self, pay, gateway, receiver, day):
        attempt_id = store_payment(pay, gateway, total=5_500)
        refund = refund_in_full(pay, attempt_id, receiver)
        next_day = day + dt.timedelta(days=1)
        after_midnight = dt.datetime.combine(next_day, dt.time(0, 4), tzinfo=SHANGHAI)
        PaymentRefund.objects.filter(pk=refund.pk).update(succeeded_at=after_midnight)
        assert run(pay, day).counts[Outcome.MATCHED] == 2  # the payment and, by its number, the refund
        following = run(pay, next_day)
        assert following.counts[Outcome.MISSING] == 0 and findings(pay) == []


class TestRuns:
    def test_a_bill_that_cannot_be_downloaded_fails_the_run_and_keeps_its_findings(self, pay, gateway, day):
        gateway.control.bill_extra(provider="wechat", amount_fen=100, bill_date=day.isoformat())
        run(pay, day)
        assert len(findings(pay)) == 1
        gateway.control.fail_next(count=2, status=503, prefix="/v3/bill")
        with stamina.set_testing(True, attempts=2):
            failed = run(pay, day)
        assert failed.status == RunStatus.FAILED and "unavailable" in failed.error
        r = ReconcileRun.objects.get(pk=failed.run_id)
        assert r.status == RunStatus.FAILED and r.runs == 2
        assert len(findings(pay)) == 1  # nothing was replaced by an empty comparison

    def test_the_command_reconciles_every_configured_provider(self, pay, gateway, day, capsys):
        store_payment(pay, gateway, total=3_300)
        call_command("reconcile_bills", "--date", day.isoformat(), "--group", pay.group.code)
        out = capsys.readouterr().out
        assert f"xinghe wechat {day.isoformat()}: matched 1" in out
        assert f"xinghe alipay {day.isoformat()}" in out
        assert ReconcileRun.objects.filter(mall_group=pay.group, bill_date=day).count() == 2

    def test_a_group_without_credentials_is_skipped_by_the_command(self, world, capsys):
        call_command("reconcile_bills", "--date", "2026-01-02", "--group", world.group.code)
        assert "nothing to reconcile" in capsys.readouterr().out
        assert not ReconcileRun.objects.exists()
