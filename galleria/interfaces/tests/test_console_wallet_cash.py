"""Cash top-ups at the service desk in the console: the member 360 action, the bonus preview, inline errors, credited
at once up to the threshold, above it the approval queue (a second person approves or rejects; a rejection tells the
desk to give the cash back), audited with readable labels."""

from __future__ import annotations

import itertools
from html import unescape

import pytest
from django.urls import reverse

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.ledger.selectors import ledger_check
from galleria.members.models import MemberStatus
from galleria.members.services import member_register
from galleria.testing import PASSWORD
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet import services as wallet_services
from galleria.wallet.models import TopUp, TopUpBonusRule, TopUpStatus

pytestmark = pytest.mark.django_db

YUAN = 100
CASH_DESK = {"platform_admin", "group_admin", "service"}
APPROVERS = {"platform_admin", "group_admin", "finance"}
_phones = itertools.count(30000000)


@pytest.fixture(autouse=True)
def _threshold(settings):
    settings.GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN = 2_000 * YUAN


@pytest.fixture
def bonus_rule(world):
    return TopUpBonusRule.objects.create(
        mall_group=world.group, name="充1000送50", min_amount_fen=1_000 * YUAN, bonus_fen=50 * YUAN
    )


def login(client, world, role):
    user = world.users[role]
    assert client.login(username=user.username, password=PASSWORD)
    return user


def new_member(world):
    return member_register(mall=world.mall, phone=f"136{next(_phones):08d}", channel="desk", actor=Actor.system())


def cash_url(member):
    return reverse("console:member_wallet_cash_topup", args=[member.pk])


QUEUE = reverse("console:wallet_cash_topups")


def decide_url(topup):
    return reverse("console:wallet_cash_topup_decide", args=[topup.pk])


def text(resp):
    return unescape(resp.content.decode())


def body(world, amount, **extra):
    return {"mall": str(world.mall.pk), "amount": amount, "note": "", "action": "topup", **extra}


@pytest.mark.parametrize("role", ["platform_admin", "group_admin", "marketing", "service", "finance", "readonly"])
def test_who_sees_and_uses_the_cash_top_up(client, world, role):
    member = new_member(world)
    login(client, world, role)
    detail = text(client.get(reverse("console:member_detail", args=[member.pk])))
    assert ('data-testid="wallet-cash-topup"' in detail) == (role in CASH_DESK)
    assert ('data-nav="wallet_cash_topups"' in detail) == (role in APPROVERS)
    assert ('data-nav="wallet_refunds"' in detail) == (role in APPROVERS)  # the existing entry stays
    assert client.get(cash_url(member)).status_code == (200 if role in CASH_DESK else 403)
    assert client.get(QUEUE).status_code == (200 if role in APPROVERS else 403)


def test_another_groups_member_is_not_found(client, world):
    foreign = member_register(mall=world.foreign_mall, phone="13900002222", channel="desk", actor=Actor.system())
    login(client, world, "service")
    assert client.get(cash_url(foreign)).status_code == 404
    assert client.post(cash_url(foreign), body(world, "100")).status_code == 404
    assert not TopUp.objects.exists()


def test_preview_then_record_within_the_threshold(client, world, bonus_rule):
    member = new_member(world)
    login(client, world, "service")
    page = client.get(cash_url(member))
    html = text(page)
    assert page.status_code == 200 and "Above ¥2,000.00" in html
    assert 'data-testid="bonus-offer"' in html and "+¥50 bonus" in html  # the offers open today
    assert page.context["offers"][0]["min_amount_yuan"] == "1000.00"

    preview = client.post(cash_url(member), body(world, "1,000", action="preview"))
    assert preview.status_code == 200 and not TopUp.objects.exists()
    assert preview.context["preview"] == {
        "amount_fen": 1_000 * YUAN,
        "bonus_fen": 50 * YUAN,
        "total_fen": 1_050 * YUAN,
        "needs_approval": False,
    }
    assert 'data-testid="preview-total" data-preview="total">¥1,050.00' in text(preview)

    key = page.context["form"].initial["key"]
    done = client.post(cash_url(member), body(world, "1000", key=key, note="收银小票 0042"))
    assert done.status_code == 302 and done["Location"] == reverse("console:member_detail", args=[member.pk])
    again = client.post(cash_url(member), body(world, "1000", key=key, note="收银小票 0042"))  # a double click
    assert again.status_code == 302
    topup = TopUp.objects.get(member=member)
    assert (topup.status, topup.amount_fen, topup.bonus_fen, topup.note) == (
        TopUpStatus.PAID,
        1_000 * YUAN,
        50 * YUAN,
        "收银小票 0042",
    )
    assert topup.requested_by_id == world.users["service"].pk
    assert wallet_selectors.wallet_balance(member_id=member.pk) == (1_000 * YUAN, 50 * YUAN)
    followed = text(client.get(done["Location"]))
    assert "Credited ¥1,000.00 to the wallet, with a ¥50.00 bonus." in followed
    assert "Took cash for the wallet" in followed  # the member's activity trail, with its label
    history = text(client.get(cash_url(member)))
    assert history.count('data-testid="cash-row"') == 1 and "Credited" in history
    assert "at once (within the threshold)" in history
    assert ledger_check().ok


def test_above_the_threshold_it_waits_for_a_second_person(client, world, bonus_rule):
    member = new_member(world)
    login(client, world, "service")
    preview = client.post(cash_url(member), body(world, "3000", action="preview"))
    assert preview.context["preview"]["needs_approval"] is True
    assert 'data-testid="needs-approval" data-preview="approval">' in text(preview)  # shown, not hidden
    resp = client.post(cash_url(member), body(world, "3000", note="大额现金"))
    assert resp.status_code == 302 and resp["Location"] == cash_url(member)
    page = text(client.get(resp["Location"]))
    assert "awaiting approval: above ¥2,000.00 a second person approves it" in page
    assert 'data-testid="cash-waiting"' in page and "Awaiting approval" in page
    topup = TopUp.objects.get(member=member)
    assert topup.is_awaiting_approval and wallet_selectors.wallet_balance(member_id=member.pk) == (0, 0)

    client.logout()
    login(client, world, "finance")
    queue = client.get(QUEUE)
    assert [t.pk for t in queue.context["pending"]] == [topup.pk]
    html = text(queue)
    assert "¥3,000.00" in html and "大额现金" in html and "the desk gives the cash back" in html
    assert client.post(decide_url(topup), {"decision": "maybe"}).status_code == 400
    resp = client.post(decide_url(topup), {"decision": "approve", "note": "点钞无误"})
    assert resp.status_code == 302 and resp["Location"] == QUEUE
    followed = text(client.get(resp["Location"]))
    assert f"Approved for {member.card_no}: ¥3,000.00 credited to the wallet, with a ¥50.00 bonus." in followed
    assert 'data-testid="decided-row" data-status="paid"' in followed
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PAID and topup.decided_by_id == world.users["finance"].pk
    assert topup.decision_note == "点钞无误"
    assert wallet_selectors.wallet_balance(member_id=member.pk) == (3_000 * YUAN, 50 * YUAN)
    again = client.post(decide_url(topup), {"decision": "reject"})
    assert again.status_code == 400 and "already approved or rejected" in text(again)
    assert ledger_check().ok


def test_a_rejection_cancels_it_and_says_the_cash_goes_back(client, world):
    member = new_member(world)
    topup = wallet_services.wallet_topup_cash(
        mall_id=world.mall.pk,
        member_id=member.pk,
        amount_fen=5_000 * YUAN,
        actor=Actor(user_id=world.users["service"].pk, label="service"),
    )
    login(client, world, "group_admin")
    resp = client.post(decide_url(topup), {"decision": "reject", "note": "金额不符"})
    assert resp.status_code == 302
    followed = text(client.get(resp["Location"]))
    assert "The top-up is cancelled: the service desk gives the cash back." in followed
    assert "Cancelled: cash given back" in followed
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.CANCELLED and topup.paid_tx_id is None
    assert wallet_selectors.wallet_balance(member_id=member.pk) == (0, 0)
    member_page = text(client.get(cash_url(member)))
    assert 'data-status="cancelled"' in member_page and "金额不符" in member_page
    assert 'data-testid="cash-waiting"' not in member_page
    assert "Rejected a cash top-up" in text(client.get(reverse("console:member_detail", args=[member.pk])))


def test_the_person_who_took_the_cash_cannot_decide_it(client, world):
    member = new_member(world)
    login(client, world, "group_admin")
    client.post(cash_url(member), body(world, "2000.01"))
    topup = TopUp.objects.get(member=member)
    assert topup.is_awaiting_approval
    queue = text(client.get(QUEUE))
    assert '<span class="badge">you</span>' in queue
    resp = client.post(decide_url(topup), {"decision": "approve"})
    assert resp.status_code == 400 and "You took this cash: a second person must approve the top-up." in text(resp)
    topup.refresh_from_db()
    assert topup.is_awaiting_approval
    client.logout()
    login(client, world, "foreign_admin")  # another group's approver does not see it at all
    assert client.post(decide_url(topup), {"decision": "reject"}).status_code == 404
    assert client.get(QUEUE).context["pending"] == []


def test_inline_errors_write_nothing(client, world):
    member = new_member(world)
    login(client, world, "service")
    cases = [
        (body(world, ""), "amount"),
        (body(world, "12.345"), "amount"),
        (body(world, "0"), "amount"),
        (body(world, "0.99"), "amount"),  # below ¥1: the service's range, shown on the field
        (body(world, "50000.01"), "amount"),
        (body(world, "100", note="x" * 201), "note"),
        ({**body(world, "100"), "mall": str(world.foreign_mall.pk)}, "mall"),
    ]
    for data, field in cases:
        resp = client.post(cash_url(member), data)
        assert resp.status_code == 400, data
        assert field in resp.context["form"].errors, (data, resp.context["form"].errors)
    resp = client.post(cash_url(member), body(world, "50000.01"))
    assert "From ¥1.00 to ¥50,000.00 per top-up." in text(resp)
    assert not TopUp.objects.exists() and not AuditEvent.objects.filter(action__startswith="wallet.").exists()


def test_a_reused_form_for_another_amount_gets_a_new_key(client, world):
    member = new_member(world)
    login(client, world, "service")
    assert client.post(cash_url(member), body(world, "100", key="form-1")).status_code == 302
    resp = client.post(cash_url(member), body(world, "200", key="form-1"))
    assert resp.status_code == 400 and "This form was already used for another amount" in text(resp)
    new_key = resp.context["form"].data["key"]
    assert new_key != "form-1"
    assert client.post(cash_url(member), body(world, "200", key=new_key)).status_code == 302
    assert sorted(TopUp.objects.filter(member=member).values_list("amount_fen", flat=True)) == [10_000, 20_000]


def test_an_inactive_member_cannot_be_topped_up(client, world):
    member = new_member(world)
    type(member).objects.filter(pk=member.pk).update(status=MemberStatus.ERASED)
    login(client, world, "service")
    page = text(client.get(cash_url(member)))
    assert 'data-testid="cash-form"' not in page and "Only active members can be changed." in page
    assert client.post(cash_url(member), body(world, "100")).status_code == 400
    assert not TopUp.objects.exists()


def test_the_audit_log_names_the_actions(client, world):
    member = new_member(world)
    service = Actor(user_id=world.users["service"].pk, label="service")
    topup = wallet_services.wallet_topup_cash(
        mall_id=world.mall.pk, member_id=member.pk, amount_fen=3_000 * YUAN, actor=service
    )
    wallet_services.wallet_topup_cash_decide(
        topup_id=topup.pk,
        mall_group_id=world.group.pk,
        approve=True,
        actor=Actor(user_id=world.users["finance"].pk, label="finance"),
    )
    login(client, world, "group_admin")
    html = text(client.get(reverse("console:audit")))
    assert "Took cash for the wallet (or asked for approval)" in html and "Approved a cash top-up" in html
    assert 'data-testid="audit-action">wallet.' not in html  # no raw codes
    assert "<dt>Wallet bonus</dt><dd>¥0.00</dd>" in html and "<dt>Amount</dt><dd>¥3,000.00</dd>" in html
