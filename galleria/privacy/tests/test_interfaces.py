"""Privacy through the interfaces (Django test client, by URL): the member app's privacy pages, the console's member
360 actions, request list and access log, the access log written for every unmasked view (and only those), the
merchant portal and merchant API masking, and the privacy API operations."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from importlib import import_module

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from galleria.audit.models import AuditEvent, PiiAccess
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.members.models import Consent, Member, MemberStatus
from galleria.members.selectors import marketing_allowed
from galleria.members.services import member_register
from galleria.privacy import services
from galleria.privacy.models import PrivacyRequest, RequestStatus
from galleria.testing import PASSWORD

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
_phones = itertools.count(30000000)
FULL_NAME = "欧阳娜娜"


def new_member(world, phone=None, **profile):
    phone = phone or f"135{next(_phones):08d}"
    return member_register(
        mall=world.mall,
        phone=phone,
        channel="app",
        actor=ACTOR,
        profile=profile,
        consents=("privacy_policy", "marketing_sms"),
    )


def app_client(member) -> Client:
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["member_id"] = member.pk
    session.create()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    client.cookies["django_language"] = "en"
    return client


def staff_client(world, role) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    assert client.login(username=world.users[role].username, password=PASSWORD)
    return client


# ---------------------------------------------------------------- member app


def test_app_privacy_page_withdraw_and_history(world):
    member = new_member(world)
    client = app_client(member)
    resp = client.get("/app/profile/")
    assert resp.status_code == 200 and "/app/profile/privacy/" in resp.content.decode()
    html = client.get("/app/profile/privacy/").content.decode()
    assert 'data-testid="consent-marketing_sms"' in html
    resp = client.post("/app/profile/privacy/consent/", {"purpose": "marketing_sms", "granted": "0"})
    assert resp.status_code == 302
    assert marketing_allowed(member_id=member.pk, channel="sms") is False
    latest = Consent.objects.filter(member=member, purpose="marketing_sms").latest("id")
    assert (latest.is_granted, latest.channel, latest.recorded_by_id) == (False, "app", None)
    html = client.get("/app/profile/privacy/").content.decode()
    assert "Withdrawn" in html and 'data-testid="consent-history"' in html
    # the policy itself is not a toggle; an unknown purpose is refused without a write
    count = Consent.objects.filter(member=member).count()
    client.post("/app/profile/privacy/consent/", {"purpose": "privacy_policy", "granted": "0"})
    client.post("/app/profile/privacy/consent/", {"purpose": "nonsense", "granted": "1"})
    assert Consent.objects.filter(member=member).count() == count


def test_app_export_view_and_download_are_the_members_only(world):
    from galleria.sales.services import sale_commit
    from galleria.sales.tests.helpers import sale_in

    member = new_member(world, name="李雷")
    other = new_member(world)
    sale_commit(data=sale_in(world, member_id=member.pk, amounts=(12300,)), actor=ACTOR)
    client = app_client(member)
    resp = client.post("/app/profile/privacy/export/")
    assert resp.status_code == 302
    export = PrivacyRequest.objects.get(member=member, kind="export")
    assert resp.url == f"/app/profile/privacy/exports/{export.pk}/"
    html = client.get(resp.url).content.decode()
    assert "李雷" in html and member.card_no in html and world.merchant.name in html and "123.00" in html
    download = client.get(f"/app/profile/privacy/exports/{export.pk}/download/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    doc = json.loads(download.content)
    assert doc["profile"]["member_id"] == member.pk and doc["profile"]["name"] == "李雷"
    # another member, staff and anonymous visitors cannot get it
    assert app_client(other).get(f"/app/profile/privacy/exports/{export.pk}/download/").status_code == 404
    assert app_client(other).get(f"/app/profile/privacy/exports/{export.pk}/").status_code == 404
    assert Client().get(f"/app/profile/privacy/exports/{export.pk}/download/").status_code == 302  # to sign-in
    admin = staff_client(world, "group_admin")
    assert admin.get(f"/app/profile/privacy/exports/{export.pk}/download/").status_code == 302
    assert AuditEvent.objects.filter(action="privacy.export_download", target_id=str(member.pk)).count() == 2


def test_app_delete_needs_confirmation_then_cancel(world):
    member = new_member(world, phone="13512349876")
    client = app_client(member)
    resp = client.post("/app/profile/privacy/delete/", {"last4": "0000", "understand": "on"})
    assert resp.status_code == 422 and 'data-testid="delete-error"' in resp.content.decode()
    resp = client.post("/app/profile/privacy/delete/", {"last4": "9876"})  # box not ticked
    assert resp.status_code == 422
    assert not PrivacyRequest.objects.filter(member=member).exists()
    resp = client.post("/app/profile/privacy/delete/", {"last4": "9876", "understand": "on"})
    assert resp.status_code == 302
    req = PrivacyRequest.objects.get(member=member, kind="erasure")
    assert req.status == RequestStatus.PENDING and req.via == "app"
    html = client.get("/app/profile/privacy/").content.decode()
    assert 'data-testid="erasure-pending"' in html
    client.post("/app/profile/privacy/delete/cancel/")
    req.refresh_from_db()
    assert req.status == RequestStatus.CANCELLED
    assert 'data-testid="erasure-pending"' not in client.get("/app/profile/privacy/").content.decode()


def test_app_delete_with_wallet_money_shows_a_friendly_error(world):
    from galleria.wallet.tests.helpers import top_up

    member = new_member(world, phone="13512340001")
    top_up(world, member, 1000)
    resp = app_client(member).post("/app/profile/privacy/delete/", {"last4": "0001", "understand": "on"})
    assert resp.status_code == 422 and "refund" in resp.content.decode()


def test_erased_member_session_ends_in_app_and_api(world):
    member = new_member(world, phone="13512340002")
    client = app_client(member)
    assert client.get("/app/profile/").status_code == 200
    req = services.erasure_request(member_id=member.pk, mall_group_id=world.group.pk, actor=ACTOR, via="app")
    services.erasure_run_due(now=req.due_at + dt.timedelta(seconds=1))
    assert client.get("/app/profile/").status_code == 302
    assert app_client(member).get("/api/v1/app/me/consents").status_code == 401


# ---------------------------------------------------------------- access log: console


def test_console_detail_logs_unmasked_fields_for_pii_roles_only(world):
    member = new_member(world, email="nana@example.com", birthday=dt.date(1990, 5, 1))
    staff_client(world, "service").get(f"/console/members/{member.pk}/")
    row = PiiAccess.objects.get()
    assert (row.member_id, row.fields, row.source) == (member.pk, "birthday,email", "console:member_detail")
    assert row.actor_id == world.users["service"].pk and row.ip == "127.0.0.1"
    staff_client(world, "marketing").get(f"/console/members/{member.pk}/")  # masked view: not logged
    staff_client(world, "readonly").get(f"/console/members/{member.pk}/edit/")
    assert PiiAccess.objects.count() == 1
    staff_client(world, "group_admin").get(f"/console/members/{member.pk}/edit/")
    assert PiiAccess.objects.filter(source="console:member_edit").count() == 1


def test_phone_reveal_is_logged(world):
    member = new_member(world)
    resp = staff_client(world, "service").post(f"/console/members/{member.pk}/phone/")
    assert resp.status_code == 200
    assert PiiAccess.objects.get().fields == "phone"


def test_member_without_email_or_birthday_shows_nothing_unmasked(world):
    member = new_member(world)
    staff_client(world, "group_admin").get(f"/console/members/{member.pk}/")
    assert not PiiAccess.objects.exists()


def test_csv_export_logs_one_row_per_member_with_full_phones(world):
    members = [new_member(world) for _ in range(3)]
    resp = staff_client(world, "group_admin").get("/console/members/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(resp.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 4
    assert set(PiiAccess.objects.values_list("member_id", flat=True)) == {m.pk for m in members}
    assert set(PiiAccess.objects.values_list("source", flat=True)) == {"console:members_export"}
    PiiAccess.objects.all().delete()
    b"".join(staff_client(world, "readonly").get("/console/members/export.csv").streaming_content)
    assert not PiiAccess.objects.exists()  # masked phones: nothing to log


# ---------------------------------------------------------------- access log: staff API


def test_staff_api_logs_unmasked_responses(world):
    member = new_member(world, email="x@example.com")
    admin = staff_client(world, "group_admin")
    resp = admin.get(f"/api/v1/console/members/{member.pk}")
    assert resp.status_code == 200 and resp.json()["phone"] == member.phone
    row = PiiAccess.objects.get()
    assert row.source == "api:console.member_detail" and "phone" in row.fields and "email" in row.fields
    admin.get("/api/v1/console/members", {"q": member.phone})
    assert PiiAccess.objects.filter(source="api:console.members_search", member_id=member.pk).count() == 1
    marketing = staff_client(world, "marketing")
    body = marketing.get(f"/api/v1/console/members/{member.pk}").json()
    assert body["phone"] != member.phone
    marketing.get("/api/v1/console/members")
    assert PiiAccess.objects.count() == 2  # masked responses are not logged


# ---------------------------------------------------------------- merchant portal and merchant API: masked


@pytest.mark.parametrize("role", ["merchant_owner", "merchant_manager", "merchant_clerk"])
def test_merchant_roles_never_see_a_full_phone_or_name(world, role):
    member = new_member(world, phone="13599887766", name=FULL_NAME, email="nana@example.com")
    client = staff_client(world, role)
    pages = [
        client.post("/merchant/lookup/", {"q": "13599887766"}),
        client.post("/merchant/lookup/", {"q": member.card_no}),
        client.get("/merchant/"),
        client.get("/merchant/lookup/"),
        client.get("/api/v1/merchant/members/lookup", {"code": "13599887766"}),
    ]
    for resp in pages:
        assert resp.status_code == 200, resp
        body = resp.content.decode()
        for secret in ("13599887766", "+8613599887766", FULL_NAME, "nana@example.com"):
            assert secret not in body
    assert "135****7766" in pages[0].content.decode() and "欧**娜" in pages[0].content.decode()
    assert pages[-1].json()["phone"] == "135****7766" and pages[-1].json()["name"] == "欧**娜"
    assert not PiiAccess.objects.exists()  # masked: nothing to log


# ---------------------------------------------------------------- console privacy actions and pages


def test_console_member_privacy_actions(world):
    member = new_member(world)
    service = staff_client(world, "service")
    html = service.get(f"/console/members/{member.pk}/").content.decode()
    assert 'data-testid="member-privacy"' in html
    resp = service.post(
        f"/console/members/{member.pk}/privacy/consent/",
        {"purpose": "marketing_sms", "granted": "0", "reason": "called the hotline"},
    )
    assert resp.status_code == 302
    row = Consent.objects.filter(member=member).latest("id")
    assert (row.is_granted, row.reason, row.recorded_by_id) == (False, "called the hotline", world.users["service"].pk)
    # a reason is required
    service.post(f"/console/members/{member.pk}/privacy/consent/", {"purpose": "marketing_sms", "granted": "1"})
    assert not marketing_allowed(member_id=member.pk, channel="sms")
    service.post(f"/console/members/{member.pk}/privacy/export/")
    assert PrivacyRequest.objects.filter(member=member, kind="export", via="console").count() == 1
    service.post(f"/console/members/{member.pk}/privacy/erasure/", {"erasure-reason": "letter from the member"})
    req = PrivacyRequest.objects.get(member=member, kind="erasure")
    assert req.status == "pending" and req.requested_by_id == world.users["service"].pk
    listing = service.get("/console/privacy/requests/", {"kind": "erasure", "status": "pending"}).content.decode()
    assert member.card_no in listing
    service.post(f"/console/members/{member.pk}/privacy/erasure/cancel/")
    req.refresh_from_db()
    assert req.status == "cancelled"
    # roles without privacy.manage: no section, 403 on the actions
    marketing = staff_client(world, "marketing")
    assert 'data-testid="member-privacy"' not in marketing.get(f"/console/members/{member.pk}/").content.decode()
    assert marketing.post(f"/console/members/{member.pk}/privacy/export/").status_code == 403
    # another group's member is a 404
    foreign = staff_client(world, "foreign_admin")
    assert foreign.post(f"/console/members/{member.pk}/privacy/export/").status_code == 404


def test_access_log_page_search(world):
    member = new_member(world, email="a@example.com")
    other = new_member(world, email="b@example.com")
    staff_client(world, "service").get(f"/console/members/{member.pk}/")
    staff_client(world, "group_admin").get(f"/console/members/{other.pk}/")
    finance = staff_client(world, "finance")
    html = finance.get("/console/privacy/access-log/").content.decode()
    assert html.count('data-testid="access-row"') == 2
    html = finance.get("/console/privacy/access-log/", {"actor": world.users["service"].username}).content.decode()
    assert html.count('data-testid="access-row"') == 1 and f"#{member.pk}" in html
    html = finance.get("/console/privacy/access-log/", {"member": other.pk}).content.decode()
    assert html.count('data-testid="access-row"') == 1 and f"#{other.pk}" in html
    today = timeutil.local_date(timezone.now(), world.mall.timezone)  # the console's days are the mall's days
    tomorrow = today + dt.timedelta(days=1)
    html = finance.get("/console/privacy/access-log/", {"date_from": tomorrow.isoformat()}).content.decode()
    assert 'data-testid="access-row"' not in html
    resp = finance.get("/console/privacy/access-log/", {"date_from": tomorrow, "date_to": today})
    assert resp.status_code == 400
    assert staff_client(world, "marketing").get("/console/privacy/access-log/").status_code == 403
    assert (
        staff_client(world, "foreign_admin")
        .get("/console/privacy/access-log/")
        .content.decode()
        .count('data-testid="access-row"')
        == 0
    )


# ---------------------------------------------------------------- API


def test_member_api_consents_exports_and_erasure(world):
    member = new_member(world, phone="13512345555")
    other = new_member(world)
    client = app_client(member)
    body = client.get("/api/v1/app/me/consents").json()
    assert body["current"] == {"privacy_policy": True, "marketing_sms": True}
    resp = client.put("/api/v1/app/me/consents/marketing_sms", {"granted": False}, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["current"]["marketing_sms"] is False
    resp = client.put("/api/v1/app/me/consents/privacy_policy", {"granted": False}, content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "members.consent_required"
    resp = client.post("/api/v1/app/me/exports")
    assert resp.status_code == 201
    export_id = resp.json()["id"]
    assert client.get(f"/api/v1/app/me/exports/{export_id}").json()["profile"]["member_id"] == member.pk
    assert app_client(other).get(f"/api/v1/app/me/exports/{export_id}").status_code == 404
    assert client.get("/api/v1/app/me/exports").json()["count"] == 1
    resp = client.post("/api/v1/app/me/erasure", {"confirm_last4": "0000"}, content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "privacy.confirmation_invalid"
    resp = client.post("/api/v1/app/me/erasure", {"confirm_last4": "5555"}, content_type="application/json")
    assert resp.status_code == 201 and resp.json()["pending"] is True
    assert client.get("/api/v1/app/me/erasure").json()["pending"] is True
    assert client.delete("/api/v1/app/me/erasure").status_code == 200
    resp = client.delete("/api/v1/app/me/erasure")
    assert resp.status_code == 404 and resp.json()["code"] == "privacy.no_pending_erasure"


def test_console_api_privacy_operations(world):
    member = new_member(world)
    admin = staff_client(world, "group_admin")
    resp = admin.put(
        f"/api/v1/console/members/{member.pk}/consents/marketing_sms",
        {"granted": False, "reason": "letter"},
        content_type="application/json",
    )
    assert resp.status_code == 200 and resp.json()["history"][0]["recorded_by"] == "staff"
    assert admin.post(f"/api/v1/console/members/{member.pk}/privacy/exports").status_code == 201
    resp = admin.post(
        f"/api/v1/console/members/{member.pk}/privacy/erasure", {"reason": "asked"}, content_type="application/json"
    )
    assert resp.status_code == 201
    page = admin.get("/api/v1/console/privacy/requests", {"kind": "erasure"}).json()
    assert page["count"] == 1 and page["results"][0]["due_at"]
    assert admin.delete(f"/api/v1/console/members/{member.pk}/privacy/erasure").status_code == 200
    admin.get(f"/api/v1/console/members/{member.pk}")  # logged
    log = admin.get("/api/v1/console/privacy/access-log", {"member_id": member.pk}).json()
    assert log["count"] == 1 and log["results"][0]["source"] == "api:console.member_detail"
    assert staff_client(world, "marketing").get("/api/v1/console/privacy/requests").status_code == 403
    foreign = staff_client(world, "foreign_admin")
    assert foreign.post(f"/api/v1/console/members/{member.pk}/privacy/exports").status_code == 404
    # staff cannot read the export through the member API (no member session)
    assert admin.get("/api/v1/app/me/exports").status_code == 401


def test_erased_member_is_shown_erased_in_console(world):
    member = new_member(world, name=FULL_NAME)
    req = services.erasure_request(member_id=member.pk, mall_group_id=world.group.pk, actor=ACTOR, via="console")
    services.erasure_run_due(now=req.due_at + dt.timedelta(seconds=1))
    html = staff_client(world, "group_admin").get(f"/console/members/{member.pk}/").content.decode()
    assert FULL_NAME not in html and Member.objects.get(pk=member.pk).status == MemberStatus.ERASED


def test_signing_in_during_the_cooling_off_lands_on_the_cancel_offer(world, client):
    import re

    from galleria.messaging.models import SmsMessage

    member = new_member(world, phone="13512345555")
    app_client(member).post("/app/profile/privacy/delete/", {"last4": "5555", "understand": "on"})
    assert client.post("/app/login/", {"phone": "13512345555", "action": "send"}).status_code == 200
    body = SmsMessage.objects.filter(phone="+8613512345555").latest("id").body
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
    assert code, body
    resp = client.post(
        "/app/login/", {"phone": "13512345555", "code": code.group(1), "agree": "on", "action": "verify"}
    )
    assert resp.status_code == 302 and resp.url == "/app/profile/privacy/"
    html = client.get(resp.url).content.decode()
    assert 'data-testid="erasure-pending"' in html


def test_access_log_api_takes_any_iso_offset_and_refuses_overflow(world):
    """ISO 8601 allows offsets up to ±23:59, PostgreSQL only ±15:59: the API reads them as the same UTC instant."""
    finance = staff_client(world, "finance")
    ok = finance.get("/api/v1/console/privacy/access-log", {"since": "2026-01-01T00:00:00-23:15"})
    assert ok.status_code == 200, ok.content
    far = finance.get("/api/v1/console/privacy/access-log", {"until": "9999-12-31T23:00:00-23:00"})
    assert far.status_code == 422 and far["Content-Type"] == "application/problem+json"
