"""The console screens and the staff API of the dedupe area, through Django's test client (URLs only)."""

from __future__ import annotations

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
