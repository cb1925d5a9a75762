"""The console screens and the staff API of the dedupe area, through Django's test client (URLs only)."""

from __future__ import annotations

import datetime as dt

import pytest

from galleria.dedupe.models import MergeRecord, MergeStatus, PairMark, PairMarkKind
from galleria.members.models import Member, MemberStatus
from galleria.members.services import member_register
from galleria.testing import PASSWORD

from .helpers import ACTOR, assert_ledger_clean, loaded_pair, new_member

pytestmark = pytest.mark.django_db


def problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == code
    return body


def test_api_candidates_report_merge_idempotent_and_undo(client, world):
    survivor, absorbed = loaded_pair(world)  # same name, no birthday: not evidence on its own
    client.login(username="service", password=PASSWORD)
    assert client.get("/api/v1/console/duplicates").json() == {"count": 0, "results": []}
    resp = client.post(
        "/api/v1/console/duplicates/reports",
        {"member_a": absorbed.pk, "member_b": survivor.pk, "note": "same customer at the desk"},
        content_type="application/json",
    )
    assert resp.status_code == 201 and resp.json()["created"] is True
    body = client.get("/api/v1/console/duplicates").json()
    assert body["count"] == 1 and body["results"][0]["evidence"] == ["reported"]

    payload = {"survivor_id": survivor.pk, "absorbed_id": absorbed.pk}
    first = client.post("/api/v1/console/merges", payload, content_type="application/json")
    assert first.status_code == 201, first.content
    merge = first.json()
    assert merge["status"] == "merged" and merge["wallet_principal_fen"] == 7500 and merge["wallet_bonus_fen"] == 1000
    again = client.post("/api/v1/console/merges", payload, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == merge["id"]
    # the absorbed member's old API reference resolves to the survivor through members.selectors
    problem(
        client.post("/api/v1/console/merges", {**payload, "absorbed_id": survivor.pk}, content_type="application/json"),
        422,
        "dedupe.same_member",
    )
    assert client.get(f"/api/v1/console/merges/{merge['id']}").json()["id"] == merge["id"]
    undone = client.post(f"/api/v1/console/merges/{merge['id']}/undo")
    assert undone.status_code == 200 and undone.json()["status"] == "undone"
    problem(client.post(f"/api/v1/console/merges/{merge['id']}/undo"), 409, "dedupe.undo_not_live")
    assert_ledger_clean()


def test_api_scope_and_permission(client, world):
    a, b = new_member(world), new_member(world)
    foreign = member_register(mall=world.foreign_mall, phone="13900008888", channel="desk", actor=ACTOR)
    client.login(username="marketing", password=PASSWORD)
    problem(client.get("/api/v1/console/duplicates"), 403, "auth.forbidden")
    client.logout()
    client.login(username="coastal-admin", password=PASSWORD)
    problem(
        client.post(
            "/api/v1/console/merges", {"survivor_id": foreign.pk, "absorbed_id": a.pk}, content_type="application/json"
        ),
        404,
        "dedupe.member_not_found",
    )
    client.logout()
    client.login(username="admin", password=PASSWORD)
    from django.utils import timezone

    record = MergeRecord.objects.create(
        mall_group=world.group, survivor=a, absorbed=b, status=MergeStatus.UNDONE, merged_at=timezone.now()
    )
    client.logout()
    client.login(username="coastal-admin", password=PASSWORD)
    problem(client.get(f"/api/v1/console/merges/{record.pk}"), 404, "dedupe.merge_not_found")
    problem(client.post(f"/api/v1/console/merges/{record.pk}/undo"), 404, "dedupe.merge_not_found")


def test_console_report_review_merge_redirects_and_undo_inline_errors(client, world):
    a = new_member(world, email="same@example.com")
    b = new_member(world, email="SAME@example.com")
    client.login(username="service", password=PASSWORD)
    page = client.get("/console/duplicates/")
    assert page.status_code == 200 and b'data-testid="duplicate-row"' in page.content
    pair = client.get(f"/console/duplicates/{a.pk}/{b.pk}/?survivor={b.pk}")
    assert pair.status_code == 200 and f'name="survivor" value="{b.pk}"'.encode() in pair.content
    refused = client.post(f"/console/duplicates/{a.pk}/{b.pk}/merge/", {"survivor": ""})
    assert refused.status_code == 422
    done = client.post(f"/console/duplicates/{a.pk}/{b.pk}/merge/", {"survivor": b.pk})
    assert done.status_code == 302 and done["Location"] == f"/console/members/{b.pk}/"
    assert Member.objects.get(pk=a.pk).status == MemberStatus.MERGED
    # the absorbed member's console page shows the survivor (members.selectors.member_get follows merged_into)
    old = client.get(f"/console/members/{a.pk}/", follow=True)
    assert old.status_code == 200
    b_card = Member.objects.get(pk=b.pk).card_no
    assert b_card.encode() in old.content
    again = client.post(f"/console/duplicates/{a.pk}/{b.pk}/merge/", {"survivor": a.pk})
    assert again.status_code == 409 and b'data-testid="merge-error"' in again.content
    record = MergeRecord.objects.get()
    from galleria.wallet.tests.helpers import top_up

    top_up(world, Member.objects.get(pk=b.pk), 5000)  # survivor activity after the merge
    blocked = client.post(f"/console/duplicates/merges/{record.pk}/undo/")
    assert blocked.status_code == 409 and b'data-testid="undo-error"' in blocked.content
    assert MergeRecord.objects.get().status == MergeStatus.MERGED


def test_console_dismiss_hides_the_pair(client, world):
    a = new_member(world, email="twin@example.com")
    b = new_member(world, email="twin@example.com")
    client.login(username="admin", password=PASSWORD)
    resp = client.post(f"/console/duplicates/{b.pk}/{a.pk}/dismiss/", {"note": "twins"})
    assert resp.status_code == 302
    assert PairMark.objects.get().kind == PairMarkKind.DISMISSED
    assert b'data-testid="duplicate-row"' not in client.get("/console/duplicates/").content
    client.logout()
    client.login(username="coastal-admin", password=PASSWORD)
    assert client.get(f"/console/duplicates/{a.pk}/{b.pk}/").status_code == 404


def test_pair_page_masks_phones_until_revealed_and_logs_the_reveal(client, world):
    """Like every other screen, the compare page masks phones; showing them is a deliberate act that lands in the
    audit log and the personal-data access log (as member 360's "Show full phone")."""

    from galleria.audit.models import AuditEvent, PiiAccess

    a = new_member(world, phone="13811112222", name="陈静", birthday=dt.date(1990, 5, 1), email="cj@example.com")
    b = new_member(world, phone="13833334444", name="陈静", email="CJ@example.com")
    client.login(username="service", password=PASSWORD)
    listing = client.get("/console/duplicates/").content.decode()
    assert "138****2222" in listing and "13811112222" not in listing
    page = client.get(f"/console/duplicates/{a.pk}/{b.pk}/").content.decode()
    assert "138****2222" in page and "138****4444" in page
    assert "13811112222" not in page and "13833334444" not in page
    assert 'data-testid="reveal-phones"' in page
    # the unmasked birthday and e-mails shown to a role with members.view_pii are logged, as on member 360
    shown = set(PiiAccess.objects.filter(source="console:duplicate_pair").values_list("member_id", "fields"))
    assert shown == {(a.pk, "birthday,email"), (b.pk, "email")}
    assert not AuditEvent.objects.filter(action="member.view_pii").exists()

    revealed = client.post(f"/console/duplicates/{a.pk}/{b.pk}/phones/", {"survivor": b.pk})
    html = revealed.content.decode()
    assert revealed.status_code == 200 and "13811112222" in html and "13833334444" in html
    assert f'name="survivor" value="{b.pk}"' in html  # the chosen survivor is kept
    assert 'data-testid="reveal-phones"' not in html
    events = AuditEvent.objects.filter(action="member.view_pii").order_by("target_id")
    assert [(e.target_id, e.changes) for e in events] == [
        (str(a.pk), {"fields": "phone"}),
        (str(b.pk), {"fields": "phone"}),
    ]
    assert set(PiiAccess.objects.filter(source="console:duplicate_phones").values_list("member_id", "fields")) == {
        (a.pk, "phone"),
        (b.pk, "phone"),
    }
    assert client.get(f"/console/duplicates/{a.pk}/{b.pk}/phones/").status_code == 405


def test_revealing_phones_needs_the_personal_data_permission(client, world, monkeypatch):
    from galleria.accounts import permissions as perms
    from galleria.accounts.models import Role
    from galleria.audit.models import AuditEvent, PiiAccess

    a = new_member(world, email="same@example.com")
    b = new_member(world, email="same@example.com")
    without_pii = perms.ROLE_PERMISSIONS[Role.SERVICE] - {perms.MEMBERS_VIEW_PII}
    monkeypatch.setitem(perms.ROLE_PERMISSIONS, Role.SERVICE, without_pii)
    client.login(username="service", password=PASSWORD)
    page = client.get(f"/console/duplicates/{a.pk}/{b.pk}/").content.decode()
    assert 'data-testid="reveal-phones"' not in page and "s***@example.com" in page
    assert client.post(f"/console/duplicates/{a.pk}/{b.pk}/phones/").status_code == 403
    assert not AuditEvent.objects.filter(action="member.view_pii").exists() and not PiiAccess.objects.exists()


def test_merge_preview_and_record_name_what_moves_in_words(client, world, settings):
    """What moves is named in words (not model names such as "behaviour awards"); the registry check that every
    kind of row has a name is galleria/interfaces/tests/test_console_ux.py (dedupe may not import interfaces)."""
    from galleria.points.models import BehaviourAward

    survivor, absorbed = loaded_pair(world)
    BehaviourAward.objects.create(
        member=absorbed, event="checkin", occasion="2026-01-01", points=5, local_date=dt.date(2026, 1, 1)
    )
    client.login(username="service", password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(f"/console/duplicates/{survivor.pk}/{absorbed.pk}/").content.decode()
    assert "Behaviour points awards: 1" in page and "Coupon claim records: 1" in page
    assert "behaviour awards" not in page and "coupon holdings" not in page
    done = client.post(f"/console/duplicates/{survivor.pk}/{absorbed.pk}/merge/", {"survivor": survivor.pk})
    assert done.status_code == 302
    record = MergeRecord.objects.get()
    detail = client.get(f"/console/duplicates/merges/{record.pk}/").content.decode()
    assert "Behaviour points awards: 1" in detail and "behaviour awards" not in detail
