"""Privacy use cases against the database: consents and the marketing selector, exports, erasure with its
cooling-off window and ledger effects, the erasure and retention jobs."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.ledger.models import Account, AccountKind, Entry, Transaction
from galleria.ledger.selectors import ledger_check
from galleria.members.models import (
    Consent,
    ConsentPurpose,
    IdentifierKind,
    Member,
    MemberIdentifier,
    MemberStatus,
    OtpChallenge,
)
from galleria.members.selectors import marketing_allowed, marketing_allowed_ids, member_resolve
from galleria.members.services import consent_record, member_register
from galleria.points.models import PointsLot
from galleria.points.selectors import points_balance
from galleria.privacy import exceptions, selectors, services
from galleria.privacy.models import PrivacyRequest, RequestStatus
from galleria.sales.models import Sale
from galleria.sales.services import sale_commit
from galleria.sales.tests.helpers import sale_in
from galleria.wallet.selectors import wallet_balance
from galleria.wallet.tests.helpers import pay, top_up

pytestmark = pytest.mark.django_db
MEMBER_ACTOR = Actor(user_id=None, label="member-app")
_phones = itertools.count(20000000)


def new_member(world, phone=None, consents=(ConsentPurpose.PRIVACY_POLICY,)):
    phone = phone or f"136{next(_phones):08d}"
    return member_register(mall=world.mall, phone=phone, channel="app", actor=MEMBER_ACTOR, consents=consents)


def buy(world, member, amount_fen=20000):
    return sale_commit(data=sale_in(world, member_id=member.pk, amounts=(amount_fen,)), actor=MEMBER_ACTOR)


def request_and_run(world, member, **kwargs):
    req = services.erasure_request(
        member_id=member.pk, mall_group_id=world.group.pk, actor=MEMBER_ACTOR, via="app", **kwargs
    )
    later = req.due_at + dt.timedelta(seconds=1)
    return req, services.erasure_run_due(now=later)


# ---------------------------------------------------------------- consents


def test_marketing_is_opt_in_and_withdrawal_is_honoured(world):
    member = new_member(world)
    assert marketing_allowed(member_id=member.pk, channel="sms") is False  # no record = no consent
    consent_record(member_id=member.pk, purpose="marketing_sms", is_granted=True, channel="app", actor=MEMBER_ACTOR)
    assert marketing_allowed(member_id=member.pk, channel="sms") is True
    assert marketing_allowed(member_id=member.pk, channel="email") is False
    consent_record(member_id=member.pk, purpose="marketing_sms", is_granted=False, channel="app", actor=MEMBER_ACTOR)
    assert marketing_allowed(member_id=member.pk, channel="sms") is False
    rows = list(Consent.objects.filter(member=member, purpose="marketing_sms").order_by("id"))
    assert [r.is_granted for r in rows] == [True, False]  # append-only history
    assert all(r.policy_version and r.channel == "app" for r in rows)


def test_marketing_allowed_ids_in_bulk(world):
    a = new_member(world, consents=("privacy_policy", "marketing_wechat"))
    b = new_member(world)
    c = new_member(world, consents=("privacy_policy", "marketing_wechat"))
    consent_record(member_id=c.pk, purpose="marketing_wechat", is_granted=False, channel="app", actor=MEMBER_ACTOR)
    assert marketing_allowed_ids(member_ids=[a.pk, b.pk, c.pk], channel="wechat") == {a.pk}
    with pytest.raises(ValueError):
        marketing_allowed_ids(member_ids=[a.pk], channel="fax")


def test_staff_consent_on_behalf_records_who_and_why_and_audits(world):
    member = new_member(world, consents=("privacy_policy", "marketing_email"))
    staff = world.users["service"]
    consent_record(
        member_id=member.pk,
        purpose="marketing_email",
        is_granted=False,
        channel="desk",
        actor=Actor(user_id=staff.pk, label=staff.username),
        reason="phoned the hotline",
        mall_group_id=world.group.pk,
    )
    row = Consent.objects.filter(member=member, purpose="marketing_email").latest("id")
    assert (row.is_granted, row.recorded_by_id, row.reason, row.channel) == (
        False,
        staff.pk,
        "phoned the hotline",
        "desk",
    )
    event = AuditEvent.objects.filter(action="member.consent", target_id=str(member.pk)).latest("id")
    assert event.changes["marketing_email"] == ["granted", "withdrawn"]
    assert event.actor_id == staff.pk


def test_same_choice_twice_writes_one_row_and_policy_cannot_be_withdrawn(world):
    member = new_member(world)
    for _ in range(2):
        consent_record(
            member_id=member.pk, purpose="personalisation", is_granted=True, channel="app", actor=MEMBER_ACTOR
        )
    assert Consent.objects.filter(member=member, purpose="personalisation").count() == 1
    with pytest.raises(ApplicationError) as exc:
        consent_record(
            member_id=member.pk, purpose="privacy_policy", is_granted=False, channel="app", actor=MEMBER_ACTOR
        )
    assert exc.value.code == "members.consent_required"


def test_consent_of_another_group_member_is_not_found(world):
    member = new_member(world)
    with pytest.raises(Member.DoesNotExist):
        consent_record(
            member_id=member.pk,
            purpose="marketing_sms",
            is_granted=True,
            channel="desk",
            actor=MEMBER_ACTOR,
            mall_group_id=world.other_group.pk,
        )


# ---------------------------------------------------------------- export


def test_export_holds_the_members_data_and_nobody_elses(world):
    member = new_member(world, phone="13600001111", consents=("privacy_policy", "marketing_sms"))
    other = new_member(world, phone="13600002222")
    buy(world, member, 30000)
    buy(world, other, 45600)
    req = services.export_create(member_id=member.pk, mall_group_id=world.group.pk, actor=MEMBER_ACTOR, via="app")
    doc = req.data
    assert doc["format"] == selectors.EXPORT_FORMAT
    assert doc["profile"]["phone"] == "+8613600001111"
    assert {i["kind"] for i in doc["identifiers"]} == {"phone", "card"}
    assert [c["purpose"] for c in doc["consents"]] == ["privacy_policy", "marketing_sms"]
    assert [s["total_fen"] for s in doc["sales"]] == [30000]
    assert doc["points"]["balance"] == points_balance(member_id=member.pk) > 0
    assert doc["points"]["history"][0]["explanation"]  # each credit says why
    assert doc["points"]["lots"]
    text = str(doc)
    assert "13600002222" not in text and other.card_no not in text and "45600" not in text
    assert req.status == RequestStatus.READY and req.expires_at > timezone.now()
    assert selectors.member_export_get(member_id=other.pk, export_id=req.pk) is None  # not the other member's
    assert selectors.member_export_get(member_id=member.pk, export_id=req.pk) is not None
    with time_machine.travel(req.expires_at + dt.timedelta(seconds=1)):
        assert selectors.member_export_get(member_id=member.pk, export_id=req.pk) is None
    assert AuditEvent.objects.filter(action="privacy.export", target_id=str(member.pk)).exists()


# ---------------------------------------------------------------- erasure


def test_erasure_keeps_ledger_balanced_forfeits_points_and_releases_phone(world):
    member = new_member(world, phone="13600003333", consents=("privacy_policy", "marketing_sms"))
    buy(world, member, 50000)
    top_up(world, member, 10000)  # a bonus rule may add bonus; spend all the principal
    pay(world, member, wallet_balance(member_id=member.pk).principal_fen)
    points = points_balance(member_id=member.pk)
    assert points > 0
    sales_before = Sale.objects.filter(member=member).count()
    req, result = request_and_run(world, member)
    assert result.erased == 1
    member.refresh_from_db()
    assert member.status == MemberStatus.ERASED and member.erased_at is not None
    assert (member.phone, member.name, member.email, member.card_no, member.birthday) == ("", "", "", "", None)
    assert not MemberIdentifier.objects.filter(member=member).exists()
    assert points_balance(member_id=member.pk) == 0
    assert wallet_balance(member_id=member.pk).total_fen == 0
    assert not PointsLot.objects.filter(member=member, remaining__gt=0).exists()
    forfeit = Transaction.objects.get(source=f"erasure:{member.pk}", kind="expire")
    expired_leg = Entry.objects.get(transaction=forfeit, account__kind=AccountKind.POINTS_EXPIRED)
    assert expired_leg.amount == points
    assert Sale.objects.filter(member=member).count() == sales_before  # financial records kept
    report = ledger_check()
    assert report.ok, report
    call_command("ledger", "check")  # the command agrees (exits non-zero on drift)
    req.refresh_from_db()
    assert req.status == RequestStatus.DONE and "points forfeited" in req.note
    # the phone registers again as a NEW member
    assert member_resolve(mall_group_id=world.group.pk, raw="13600003333") is None
    again = new_member(world, phone="13600003333")
    assert again.pk != member.pk and again.status == MemberStatus.ACTIVE
    assert points_balance(member_id=again.pk) == 0
    assert marketing_allowed(member_id=member.pk, channel="sms") is False
    assert AuditEvent.objects.filter(action="member.erase", target_id=str(member.pk)).count() == 1


def test_erasure_voids_unused_coupons_and_keeps_used_ones(world):
    from galleria.coupons.models import Coupon, CouponStatus
    from galleria.coupons.tests.helpers import claim, template

    member = new_member(world)
    unused = claim(member, template(world, name="unused")).coupon_id
    used = claim(member, template(world, name="used")).coupon_id
    Coupon.objects.filter(pk=used).update(status=CouponStatus.USED, used_at=timezone.now())  # redeemed earlier
    other = claim(new_member(world), template(world, name="someone else's")).coupon_id

    req, result = request_and_run(world, member)

    assert result.erased == 1
    statuses = dict(Coupon.objects.filter(pk__in=[unused, used, other]).values_list("pk", "status"))
    assert statuses == {unused: CouponStatus.VOID, used: CouponStatus.USED, other: CouponStatus.AVAILABLE}
    assert Coupon.objects.get(pk=unused).voided_at is not None
    req.refresh_from_db()
    assert "unused coupons voided 1" in req.note
    event = AuditEvent.objects.get(action="member.erase", target_id=str(member.pk))
    assert event.changes["coupons_voided"] == 1


def test_after_the_erasure_a_sale_naming_the_member_is_refused_and_an_earlier_sale_still_refunds(world):
    """A till that resolved the member before the erasure committed must not post to the erased member's closed
    accounts; the refund of a sale made before the erasure goes through (the shopper gets the money back)."""
    from galleria.ledger.exceptions import AccountClosedError
    from galleria.sales.services import sale_refund

    member = new_member(world)
    before = buy(world, member, 30000)
    _req, result = request_and_run(world, member)
    assert result.erased == 1
    sales = Sale.objects.count()
    with pytest.raises(AccountClosedError) as err:
        buy(world, member, 20000)
    assert err.value.code == "member.account_closed" and err.value.status == 409
    assert Sale.objects.count() == sales and points_balance(member_id=member.pk) == 0
    sale = Sale.objects.get(pk=before.sale_id)
    refund = sale_refund(merchant_id=sale.merchant_id, pos_sale_id=sale.pos_sale_id, pos_refund_id="RF-E", lines=None)
    assert refund.amount_fen == 30000
    # its points were forfeited with the erasure: the clawback is a recorded shortfall, never a negative balance
    assert refund.points_clawed_back == 0 and refund.points_shortfall == before.points_earned > 0
    report = ledger_check()
    assert report.ok, report


def test_erasure_refused_while_the_wallet_holds_money(world):
    member = new_member(world)
    top_up(world, member, 5000)
    with pytest.raises(exceptions.WalletNotEmptyError):
        services.erasure_request(member_id=member.pk, mall_group_id=world.group.pk, actor=MEMBER_ACTOR, via="app")
    assert not PrivacyRequest.objects.filter(member=member).exists()


def test_money_arriving_during_cooling_off_blocks_the_erasure(world):
    member = new_member(world)
    req = services.erasure_request(member_id=member.pk, mall_group_id=world.group.pk, actor=MEMBER_ACTOR, via="app")
    top_up(world, member, 5000)
    result = services.erasure_run_due(now=req.due_at + dt.timedelta(seconds=1))
    assert (result.erased, result.blocked) == (0, 1)
    req.refresh_from_db()
    member.refresh_from_db()
    assert req.status == RequestStatus.BLOCKED and "5000" in req.note
    assert member.status == MemberStatus.ACTIVE and member.phone
    assert ledger_check().ok


def test_cooling_off_window_and_cancel(world):
    member = new_member(world)
    with override_settings(GALLERIA_ERASURE_COOLING_OFF_DAYS=15):
        req = services.erasure_request(member_id=member.pk, mall_group_id=world.group.pk, actor=MEMBER_ACTOR, via="app")
    assert req.due_at - req.requested_at == dt.timedelta(days=15)
    # asking again returns the pending request
    same = services.erasure_request(member_id=member.pk, mall_group_id=world.group.pk, actor=MEMBER_ACTOR, via="app")
    assert same.pk == req.pk
    assert services.erasure_run_due(now=req.due_at - dt.timedelta(seconds=1)).erased == 0  # not yet due
    services.erasure_cancel(member_id=member.pk, mall_group_id=world.group.pk, actor=MEMBER_ACTOR)
    assert services.erasure_run_due(now=req.due_at + dt.timedelta(days=1)).erased == 0
    member.refresh_from_db()
    req.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE and req.status == RequestStatus.CANCELLED
    with pytest.raises(exceptions.NoPendingErasureError):
        services.erasure_cancel(member_id=member.pk, mall_group_id=world.group.pk, actor=MEMBER_ACTOR)
    actions = list(AuditEvent.objects.filter(target_id=str(member.pk)).values_list("action", flat=True))
    assert "privacy.erasure_request" in actions and "privacy.erasure_cancel" in actions


def test_erasure_job_is_idempotent(world):
    member = new_member(world)
    buy(world, member)
    req, first = request_and_run(world, member)
    entries = Entry.objects.count()
    second = services.erasure_run_due(now=req.due_at + dt.timedelta(days=2))
    again = services.erasure_execute(request_id=req.pk)
    assert first.erased == 1 and second.erased == 0 and again.erased is False
    assert Entry.objects.count() == entries
    assert AuditEvent.objects.filter(action="member.erase", target_id=str(member.pk)).count() == 1
    assert ledger_check().ok


def test_erasure_drops_export_documents_and_otp_codes(world):
    member = new_member(world, phone="13600004444")
    export = services.export_create(member_id=member.pk, mall_group_id=world.group.pk, actor=MEMBER_ACTOR, via="app")
    OtpChallenge.objects.create(
        mall_group=world.group,
        phone="+8613600004444",
        code_hash="x",
        created_at=timezone.now(),
        expires_at=timezone.now(),
    )
    request_and_run(world, member)
    export.refresh_from_db()
    assert export.data is None and export.status == RequestStatus.EXPIRED
    assert not OtpChallenge.objects.filter(phone="+8613600004444").exists()


def test_erased_member_cannot_request_again(world):
    member = new_member(world)
    request_and_run(world, member)
    with pytest.raises(exceptions.MemberNotActiveError):
        services.erasure_request(member_id=member.pk, mall_group_id=world.group.pk, actor=MEMBER_ACTOR, via="app")
    with pytest.raises(exceptions.MemberNotActiveError):
        services.export_create(member_id=member.pk, mall_group_id=world.group.pk, actor=MEMBER_ACTOR, via="app")


def test_bonus_left_in_the_wallet_goes_back_to_the_bonus_fund(world):
    from galleria.wallet.models import TopUpBonusRule

    TopUpBonusRule.objects.create(mall_group=world.group, name="充100送10", min_amount_fen=10000, bonus_fen=1000)
    member = new_member(world)
    top_up(world, member, 10000)
    pay(world, member, 10000)  # principal first: the bonus stays
    assert wallet_balance(member_id=member.pk).bonus_fen == 1000
    request_and_run(world, member)
    assert wallet_balance(member_id=member.pk).total_fen == 0
    fund = Account.objects.get(mall_group=world.group, kind=AccountKind.WALLET_BONUS_FUND, member=None)
    assert Entry.objects.filter(account=fund, transaction__source=f"erasure:{member.pk}").get().amount == 1000
    assert ledger_check().ok


# ---------------------------------------------------------------- retention


def test_retention_anonymises_inactive_members_only(world):
    long_ago = timezone.now() - dt.timedelta(days=1200)
    with time_machine.travel(long_ago, tick=False):
        sleeper = new_member(world)
        shopper = new_member(world)
        rich = new_member(world)
        top_up(world, rich, 3000)
    buy(world, shopper)  # bought recently: active
    fresh = new_member(world)  # joined recently
    result = services.retention_run(days=1000, batch=1)  # batch of 1 exercises the cursor
    assert (result.erased, result.skipped) == (1, 1)  # `rich` is skipped: the wallet holds their money
    statuses = {m.pk: m.status for m in Member.objects.filter(pk__in=[sleeper.pk, shopper.pk, rich.pk, fresh.pk])}
    assert statuses == {sleeper.pk: "erased", shopper.pk: "active", rich.pk: "active", fresh.pk: "active"}
    req = PrivacyRequest.objects.get(member=sleeper)
    assert (req.via, req.status) == ("retention", RequestStatus.DONE)
    assert services.retention_run(days=1000).erased == 0  # idempotent
    assert services.retention_run(days=0).erased == 0  # 0 = off
    assert ledger_check().ok


def test_retention_command_respects_the_setting(world):
    with time_machine.travel(timezone.now() - dt.timedelta(days=50), tick=False):
        old = new_member(world)
    with override_settings(GALLERIA_RETENTION_INACTIVE_DAYS=0):
        call_command("privacy_retention")
    old.refresh_from_db()
    assert old.status == MemberStatus.ACTIVE
    with override_settings(GALLERIA_RETENTION_INACTIVE_DAYS=30):
        call_command("privacy_retention")
    old.refresh_from_db()
    assert old.status == MemberStatus.ERASED


def test_erasures_command_runs_due_requests(world):
    member = new_member(world)
    with override_settings(GALLERIA_ERASURE_COOLING_OFF_DAYS=0):
        services.erasure_request(member_id=member.pk, mall_group_id=world.group.pk, actor=MEMBER_ACTOR, via="app")
    call_command("privacy_erasures")
    member.refresh_from_db()
    assert member.status == MemberStatus.ERASED
    assert not MemberIdentifier.objects.filter(member=member, kind=IdentifierKind.PHONE).exists()


def test_points_and_ledger_totals_unchanged_by_erasure(world):
    member = new_member(world)
    buy(world, member, 80000)
    totals_before = dict(Entry.objects.values_list("asset").annotate(s=Sum("amount")).order_by())
    request_and_run(world, member)
    totals_after = dict(Entry.objects.values_list("asset").annotate(s=Sum("amount")).order_by())
    assert totals_before == totals_after == {k: 0 for k in totals_after}
