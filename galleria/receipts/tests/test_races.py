"""Receipt points under real concurrency (PostgreSQL, threads released together on their own connections).

- the same paper receipt (same shop + receipt number) photographed and submitted by two members at the same moment:
  one claims it (and, with auto-approve, one sale earns its points), the other is told it was already submitted;
- two reviewers approving one receipt at once: one sale, one points credit, one audit record, one inbox message;
  an approve racing a reject: exactly one decision stands;
- one member submitting several receipts at once against the daily limit: the limit holds (the member's row is
  locked FOR NO KEY UPDATE before the count, so one member's submissions are serialised).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.ledger.selectors import ledger_check
from galleria.messaging.models import InboxMessage
from galleria.points.selectors import points_balance
from galleria.receipts import services
from galleria.receipts.generator import LAYOUTS, render_receipt
from galleria.receipts.models import Receipt
from galleria.receipts.types import ReceiptStatus
from galleria.sales.models import Sale
from galleria.testing import run_parallel

from .helpers import STAFF, fields_of, new_member, photo, submit, upload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MEMBER = Actor.system("member")


def _submit(receipt, spec, merchant):
    """Submit in a worker thread: the receipt's status, or the refusal's code."""
    try:
        done = services.receipt_submit(
            receipt_id=receipt.pk, member_id=receipt.member_id, fields=fields_of(spec, merchant), actor=MEMBER
        )
    except ApplicationError as exc:
        return exc.code
    return done.status


def _distinct_photo(n):
    """The n-th of a member's different receipts: layout and length vary, so no photo looks like another."""
    spec, _data = photo()
    spec = replace(
        spec,
        receipt_no=f"LIM-{n}",
        items=tuple(("多肉葡萄", 1, 1000 + 100 * n) for _ in range(2 * n + 1)),
        layout=LAYOUTS[n % 3],
        seed=900 + n,
    )
    return spec, render_receipt(spec)


def _settings(world, **values):
    services.receipt_settings_save(mall_group_id=world.group.pk, values=values, actor=STAFF)


@pytest.mark.parametrize("auto_approve", [False, True], ids=["review", "auto-approve"])
def test_one_receipt_submitted_by_two_members_at_once_is_claimed_once(world, auto_approve):
    _settings(world, auto_approve=auto_approve, auto_approve_max_fen=20000)
    a, b = new_member(world), new_member(world)
    # two photos of the same paper receipt (different layouts, so neither photo is a near-duplicate of the other)
    spec_a, receipt_a = upload(world, a, photo(receipt_no="RACE-0001", amount_fen=6800, seed=3))
    spec_b, receipt_b = upload(
        world, b, photo(receipt_no="RACE-0001", amount_fen=6800, seed=4, when=spec_a.occurred_at)
    )
    assert (spec_a.receipt_no, spec_a.paid_fen) == (spec_b.receipt_no, spec_b.paid_fen)
    jobs = [(receipt_a, spec_a), (receipt_b, spec_b)]

    outcomes = run_parallel(2, lambda i: _submit(jobs[i][0], jobs[i][1], world.merchant))

    won = ReceiptStatus.APPROVED if auto_approve else ReceiptStatus.PENDING
    assert sorted(outcomes) == sorted([won, "receipt.duplicate"])
    winner = Receipt.objects.get(status=won)
    loser = Receipt.objects.exclude(pk=winner.pk).get()
    assert loser.status == ReceiptStatus.DRAFT  # untouched: the member can see why and nothing was counted
    if not auto_approve:  # the review approves the one claimed receipt
        services.receipt_approve(receipt_id=winner.pk, mall_group_id=world.group.pk, actor=STAFF)
        winner.refresh_from_db()
    assert Sale.objects.filter(channel="receipt").count() == 1
    assert Sale.objects.get(channel="receipt").member_id == winner.member_id
    assert winner.points_earned > 0
    assert points_balance(member_id=winner.member_id) == winner.points_earned
    assert points_balance(member_id=loser.member_id) == 0
    assert ledger_check().ok


def test_two_reviewers_approving_one_receipt_at_once_make_one_sale_and_one_credit(world):
    member = new_member(world)
    spec, receipt = upload(world, member, amount_fen=25600)
    submit(world, member, receipt, spec)

    def approve(_i):
        done = services.receipt_approve(receipt_id=receipt.pk, mall_group_id=world.group.pk, actor=STAFF)
        return done.status, done.sale_id

    outcomes = run_parallel(2, approve)

    sale = Sale.objects.get(channel="receipt")
    assert outcomes == [(ReceiptStatus.APPROVED, sale.pk)] * 2
    receipt.refresh_from_db()
    assert receipt.status == ReceiptStatus.APPROVED and receipt.sale_id == sale.pk
    assert receipt.points_earned > 0
    assert points_balance(member_id=member.pk) == receipt.points_earned  # credited once, not twice
    assert AuditEvent.objects.filter(action="receipt.approve", target_id=str(receipt.pk)).count() == 1
    assert InboxMessage.objects.filter(member_id=member.pk, title="Receipt approved").count() == 1
    assert ledger_check().ok


def test_an_approve_racing_a_reject_leaves_exactly_one_decision(world):
    member = new_member(world)
    spec, receipt = upload(world, member, amount_fen=25600)
    submit(world, member, receipt, spec)

    def decide(i):
        try:
            if i == 0:
                return services.receipt_approve(receipt_id=receipt.pk, mall_group_id=world.group.pk, actor=STAFF).status
            return services.receipt_reject(
                receipt_id=receipt.pk, mall_group_id=world.group.pk, reason="照片不清晰", actor=STAFF
            ).status
        except ApplicationError as exc:
            return exc.code

    approve_outcome, reject_outcome = run_parallel(2, decide)
    receipt.refresh_from_db()
    if receipt.status == ReceiptStatus.APPROVED:
        assert (approve_outcome, reject_outcome) == (ReceiptStatus.APPROVED, "receipt.state")
        assert Sale.objects.filter(channel="receipt").count() == 1
        assert points_balance(member_id=member.pk) == receipt.points_earned > 0
    else:
        assert receipt.status == ReceiptStatus.REJECTED
        assert (approve_outcome, reject_outcome) == ("receipt.state", ReceiptStatus.REJECTED)
        assert not Sale.objects.exists()
        assert points_balance(member_id=member.pk) == 0
    assert ledger_check().ok


@pytest.mark.parametrize(("limit", "attempts"), [(1, 2), (2, 5)])
def test_concurrent_submissions_of_one_member_respect_the_daily_limit(world, limit, attempts):
    _settings(world, daily_limit=limit)
    member = new_member(world)
    jobs = [upload(world, member, _distinct_photo(n)) for n in range(attempts)]
    assert {r.status for _s, r in jobs} == {ReceiptStatus.DRAFT}

    outcomes = run_parallel(attempts, lambda i: _submit(jobs[i][1], jobs[i][0], world.merchant))

    assert outcomes.count(ReceiptStatus.PENDING) == limit
    assert outcomes.count("receipt.limit") == attempts - limit
    assert Receipt.objects.filter(member_id=member.pk, status=ReceiptStatus.PENDING).count() == limit
