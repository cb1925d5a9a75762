"""The service desk's wallet refund in the console: the member 360 action, the preview, inline errors, the second
approval above the threshold — and the member it was blocking can then be erased with a clean ledger."""

from __future__ import annotations

import datetime as dt
import itertools
from html import unescape

import pytest
from django.urls import reverse

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.ledger.models import AccountKind
from galleria.ledger.selectors import ledger_check, system_balance
from galleria.members.models import MemberStatus
from galleria.members.services import member_register
from galleria.privacy import services as privacy_services
from galleria.privacy.models import PrivacyRequest
from galleria.testing import PASSWORD
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet import services as wallet_services
from galleria.wallet.models import BalanceRefund, BalanceRefundStatus, TopUpBonusRule, TopUpRefund
from galleria.wallet.tests.fakes import FakeGateway

pytestmark = pytest.mark.django_db

YUAN = 100
REFUNDERS = {"platform_admin", "group_admin", "service"}
APPROVERS = {"platform_admin", "group_admin", "finance"}
_phones = itertools.count(20000000)


def login(client, world, role):
    user = world.users[role]
    assert client.login(username=user.username, password=PASSWORD)
    return user


def new_member(world):
    return member_register(mall=world.mall, phone=f"137{next(_phones):08d}", channel="desk", actor=Actor.system())


def top_up(world, member, amount_fen):
    intent = wallet_services.wallet_topup_start(
        mall_id=world.mall.pk, member_id=member.pk, amount_fen=amount_fen, gateway=FakeGateway()
    )
    notice = FakeGateway().pay(intent.gateway_ref)
    wallet_services.wallet_topup_confirm(gateway_ref=notice.gateway_ref, paid_amount_fen=notice.amount_fen)
    return intent


def refund_url(member):
    return reverse("console:member_wallet_refund", args=[member.pk])


def text(resp):
    return unescape(resp.content.decode())


@pytest.mark.parametrize("role", ["platform_admin", "group_admin", "marketing", "service", "finance", "readonly"])
def test_who_sees_and_uses_the_refund(client, world, role):
    member = new_member(world)
    top_up(world, member, 100 * YUAN)
    login(client, world, role)
    detail = text(client.get(reverse("console:member_detail", args=[member.pk])))
    assert ('data-testid="wallet-refund"' in detail) == (role in REFUNDERS)
    assert client.get(refund_url(member)).status_code == (200 if role in REFUNDERS else 403)
    assert client.get(reverse("console:wallet_refunds")).status_code == (200 if role in APPROVERS else 403)
    nav = text(client.get(reverse("console:member_detail", args=[member.pk])))
    assert ('data-nav="wallet_refunds"' in nav) == (role in APPROVERS)


def test_another_groups_member_is_not_found(client, world):
    foreign = member_register(mall=world.foreign_mall, phone="13900001111", channel="desk", actor=Actor.system())
    login(client, world, "service")
    assert client.get(refund_url(foreign)).status_code == 404
    assert client.post(refund_url(foreign), {"what": "all", "payout": "original", "reason": "x"}).status_code == 404


def test_preview_then_refund_the_whole_balance_then_erase(client, world, settings):
    settings.GALLERIA_WALLET_REFUND_APPROVAL_FEN = 2_000 * YUAN
    TopUpBonusRule.objects.create(mall_group=world.group, name="充500送30", min_amount_fen=500 * YUAN, bonus_fen=3_000)
    member = new_member(world)
    top_up(world, member, 500 * YUAN)  # +¥30 bonus
    wallet_services.wallet_pay(member_id=member.pk, amount_fen=100 * YUAN, merchant_id=world.merchant.pk, source="")
    login(client, world, "service")

    # the member cannot be erased while the wallet holds their money
    client.post(f"/console/members/{member.pk}/privacy/erasure/", {"erasure-reason": "asked by phone"})
    assert not PrivacyRequest.objects.filter(member=member).exists()

    page = client.get(refund_url(member))
    html = text(page)
    assert page.status_code == 200 and "¥400.00" in html  # the member's own money
    assert page.context["plan"].amount_fen == 40_000 and page.context["plan"].to_gateway_fen == 40_000
    assert 'data-testid="refund-form"' in html and 'data-testid="needs-approval"' not in html

    preview = client.post(
        refund_url(member), {"what": "amount", "amount": "150", "payout": "cash", "reason": "x", "action": "preview"}
    )
    assert preview.status_code == 200 and preview.context["plan"].in_cash_fen == 15_000
    assert not BalanceRefund.objects.exists()

    key = page.context["form"].initial["key"]
    body = {"what": "all", "amount": "", "payout": "original", "reason": "closing the account", "key": key}
    done = client.post(refund_url(member), {**body, "action": "refund"})
    assert done.status_code == 302 and done["Location"] == reverse("console:member_detail", args=[member.pk])
    again = client.post(refund_url(member), {**body, "action": "refund"})  # a double click: the same refund
    assert again.status_code == 302
    refund = BalanceRefund.objects.get(member=member)
    assert (refund.status, refund.amount_fen, refund.to_gateway_fen) == (BalanceRefundStatus.DONE, 40_000, 40_000)
    assert refund.bonus_clawed_back_fen == 2_400  # 400 of the 500 top-up: 80% of its ¥30 bonus
    assert TopUpRefund.objects.get(balance_refund=refund).sent_at is not None  # the sandbox accepted it
    followed = text(client.get(done["Location"]))
    assert "Refunded ¥400.00: ¥400.00 to the original payment channel, ¥0.00 in cash." in followed
    assert "Refunded wallet money" in followed  # the member's activity trail
    assert wallet_selectors.wallet_balance(member_id=member.pk) == (0, 600)
    assert AuditEvent.objects.filter(action="wallet.refund_request", target_id=str(member.pk)).count() == 1

    # now the erasure goes through; the left-over bonus is forfeited and the books balance
    client.post(f"/console/members/{member.pk}/privacy/erasure/", {"erasure-reason": "asked by phone"})
    req = PrivacyRequest.objects.get(member=member, kind="erasure")
    result = privacy_services.erasure_run_due(now=req.due_at + dt.timedelta(minutes=1))
    assert result.erased == 1, result
    member.refresh_from_db()
    assert member.status == MemberStatus.ERASED
    assert wallet_selectors.wallet_balance(member_id=member.pk) == (0, 0)
    report = ledger_check()
    assert report.ok, report
    assert wallet_selectors.prepaid_liability(mall_group_id=world.group.pk).is_consistent
    assert client.get(refund_url(member)).context["can_refund"] is False


def test_inline_errors_write_nothing(client, world):
    member = new_member(world)
    top_up(world, member, 100 * YUAN)
    login(client, world, "service")
    cases = [
        ({"what": "amount", "amount": "", "payout": "original", "reason": "x"}, "amount"),
        ({"what": "amount", "amount": "12.345", "payout": "original", "reason": "x"}, "amount"),
        ({"what": "amount", "amount": "100.01", "payout": "original", "reason": "x"}, "amount"),
        ({"what": "all", "payout": "original", "reason": ""}, "reason"),
        ({"what": "all", "payout": "bitcoin", "reason": "x"}, "payout"),
        ({"what": "everything", "payout": "original", "reason": "x"}, "what"),
    ]
    for body, field in cases:
        resp = client.post(refund_url(member), {**body, "action": "refund"})
        assert resp.status_code == 400, body
        assert field in resp.context["form"].errors, (body, resp.context["form"].errors)
    assert not BalanceRefund.objects.exists()
    assert wallet_selectors.wallet_balance(member_id=member.pk).principal_fen == 10_000
    empty = new_member(world)
    html = text(client.get(refund_url(empty)))
    assert 'data-testid="nothing-to-refund"' in html and 'data-testid="refund-form"' not in html


def test_above_the_threshold_a_second_person_approves_in_the_queue(client, world, settings):
    settings.GALLERIA_WALLET_REFUND_APPROVAL_FEN = 50 * YUAN
    member = new_member(world)
    top_up(world, member, 100 * YUAN)
    service = login(client, world, "service")
    page = text(client.get(refund_url(member)))
    assert 'data-testid="needs-approval"' in page and "Request the refund" in page
    resp = client.post(refund_url(member), {"what": "all", "payout": "cash", "reason": "moving", "action": "refund"})
    assert resp.status_code == 302 and resp["Location"] == refund_url(member)
    page = text(client.get(resp["Location"]))
    assert "awaiting approval: above ¥50.00 a second person approves it" in page
    assert 'data-testid="refund-pending"' in page and 'data-testid="refund-form"' not in page
    refund = BalanceRefund.objects.get(member=member)
    assert refund.status == BalanceRefundStatus.PENDING and refund.requested_by_id == service.pk
    assert wallet_selectors.wallet_balance(member_id=member.pk).principal_fen == 10_000

    client.logout()
    login(client, world, "group_admin")
    queue = client.get(reverse("console:wallet_refunds"))
    assert [r.pk for r in queue.context["pending"]] == [refund.pk]
    decide = reverse("console:wallet_refund_decide", args=[refund.pk])
    assert client.post(decide, {"decision": "maybe"}).status_code == 400
    resp = client.post(decide, {"decision": "approve", "note": "checked the ID"})
    assert resp.status_code == 302
    refund.refresh_from_db()
    assert refund.status == BalanceRefundStatus.DONE and refund.in_cash_fen == 10_000
    assert refund.decided_by_id == world.users["group_admin"].pk and refund.decision_note == "checked the ID"
    assert system_balance(mall_group_id=world.group.pk, kind=AccountKind.WALLET_CASH_PAYOUT) == 10_000
    assert "Approved for" in text(client.get(resp["Location"]))
    again = client.post(decide, {"decision": "reject"})
    assert again.status_code == 400 and "already approved or rejected" in text(again)
    assert ledger_check().ok


def test_the_requester_cannot_approve_their_own_refund(client, world, settings):
    settings.GALLERIA_WALLET_REFUND_APPROVAL_FEN = 0
    member = new_member(world)
    top_up(world, member, 100 * YUAN)
    login(client, world, "group_admin")
    client.post(refund_url(member), {"what": "all", "payout": "original", "reason": "x", "action": "refund"})
    refund = BalanceRefund.objects.get(member=member)
    resp = client.post(reverse("console:wallet_refund_decide", args=[refund.pk]), {"decision": "approve"})
    assert resp.status_code == 400 and "a second person must approve it" in text(resp)
    refund.refresh_from_db()
    assert refund.status == BalanceRefundStatus.PENDING
    client.logout()
    login(client, world, "foreign_admin")  # another group's approver does not see it at all
    assert (
        client.post(reverse("console:wallet_refund_decide", args=[refund.pk]), {"decision": "reject"}).status_code
        == 404
    )
