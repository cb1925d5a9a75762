"""Plates verified once through the screens (docs/parking.md): the member app's photo form with its inline errors,
the profile's link to the proof when a plate is someone else's, the frictionless-exit switch that needs a verified
plate; the console's queue, review and desk check — each role seeing what its permission says, one group never
another's claim, the photo private and gone once decided."""

from __future__ import annotations

from html import unescape

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from galleria.members.selectors import member_plate_bindings, plate_binding
from galleria.members.services import member_identifier_add, member_register
from galleria.parking.models import ParkingProfile, PlateClaim
from galleria.parking.specimens import licence_photo
from galleria.parking.tests.helpers import ACTOR, member
from galleria.receipts.ocr import ScriptedOcrEngine
from galleria.testing import PASSWORD

pytestmark = pytest.mark.django_db
PLATE = "粤B12345"


@pytest.fixture(autouse=True)
def _photos(settings, tmp_path):
    settings.GALLERIA_RECEIPT_OCR_ENGINE = "galleria.receipts.ocr.ScriptedOcrEngine"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    ScriptedOcrEngine.reset()
    yield
    ScriptedOcrEngine.reset()


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def as_member(client, m) -> None:
    client.cookies.pop(settings.SESSION_COOKIE_NAME, None)
    session = client.session
    session["member_id"] = m.pk
    session.save()


def as_staff(client, world, role: str) -> None:
    client.cookies.pop(settings.SESSION_COOKIE_NAME, None)
    assert client.login(username=world.users[role].username, password=PASSWORD)


def text(resp) -> str:
    return unescape(resp.content.decode())


def photo(plate: str = PLATE) -> SimpleUploadedFile:
    return SimpleUploadedFile("licence.jpg", licence_photo(plate), content_type="image/jpeg")


def test_the_member_sends_a_photo_and_errors_are_inline(client, world, django_capture_on_commit_callbacks):
    m = member(world)
    as_member(client, m)
    page = client.get("/app/parking/plates/?plate=粤B12345")
    assert page.status_code == 200 and 'value="粤B12345"' in text(page)
    missing = client.post("/app/parking/plates/", {"plate": PLATE})
    assert missing.status_code == 400 and "Choose a photo of the vehicle licence." in text(missing)
    bad_plate = client.post("/app/parking/plates/", {"plate": "ABC", "photo": photo()})
    assert bad_plate.status_code == 400 and 'data-testid="claim-error"' in text(bad_plate)
    not_photo = client.post(
        "/app/parking/plates/", {"plate": PLATE, "photo": SimpleUploadedFile("x.jpg", b"nope", "image/jpeg")}
    )
    assert not_photo.status_code == 400 and 'data-testid="claim-error"' in text(not_photo)
    assert PlateClaim.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/app/parking/plates/", {"plate": "粤b·12345", "photo": photo()})
    assert sent.status_code == 302
    claim = PlateClaim.objects.get()
    assert (claim.member_id, claim.plate, claim.status) == (m.pk, PLATE, "pending")
    listed = text(client.get("/app/parking/plates/"))
    assert 'data-status="pending"' in listed and "Withdraw" in listed
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/app/parking/plates/claims/{claim.pk}/withdraw/")
    claim.refresh_from_db()
    assert (claim.status, claim.image_name) == ("withdrawn", "")


def test_a_plate_bound_elsewhere_links_to_the_proof_and_auto_pay_needs_a_verified_plate(client, world):
    other, m = member(world), member(world)
    member_identifier_add(member_id=other.pk, actor=ACTOR, kind="plate", value=PLATE)
    as_member(client, m)
    taken = client.post("/app/profile/plates/", {"plate": "粤B12345"})
    assert taken.status_code == 422
    body = text(taken)
    assert "bound to another membership" in body and "/app/parking/plates/?plate=" in body

    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value="粤B54321")
    home = text(client.get("/app/parking/"))
    assert 'data-testid="auto-pay-needs-verified"' in home and 'data-testid="auto-pay-toggle"' not in home
    refused = client.post("/app/parking/auto-pay/", {"enabled": "1"}, follow=True)
    assert "Verify one of your plates first" in text(refused)
    assert not ParkingProfile.objects.filter(member_id=m.pk, auto_pay=True).exists()


def test_the_desk_reviews_the_queue_and_approves(client, world, django_capture_on_commit_callbacks):
    m = member(world)
    with django_capture_on_commit_callbacks(execute=True):
        as_member(client, m)
        client.post("/app/parking/plates/", {"plate": PLATE, "photo": photo()})
    claim = PlateClaim.objects.get()

    for role, allowed in (("service", True), ("group_admin", True), ("marketing", False), ("finance", False)):
        as_staff(client, world, role)
        assert client.get("/console/parking/plates/").status_code == (200 if allowed else 403), role
    as_staff(client, world, "service")
    queue = text(client.get("/console/parking/plates/"))
    assert f'data-testid="claim-{claim.pk}"' in queue and PLATE in queue
    picture = client.get(f"/console/parking/plates/{claim.pk}/photo/")
    assert picture.status_code == 200 and picture["Cache-Control"] == "private, no-store"
    assert picture.content[:2] == b"\xff\xd8"  # the re-encoded JPEG
    refused = client.post(f"/console/parking/plates/{claim.pk}/", {"action": "reject", "reason": ""})
    assert refused.status_code == 422 and 'data-testid="decide-error"' in text(refused)
    with django_capture_on_commit_callbacks(execute=True):
        approved = client.post(f"/console/parking/plates/{claim.pk}/", {"action": "approve"})
    assert approved.status_code == 302
    [binding] = member_plate_bindings(member_id=m.pk)
    assert binding.plate == PLATE and binding.verified_via == "document"
    assert client.get(f"/console/parking/plates/{claim.pk}/photo/").status_code == 404  # deleted


def test_another_groups_claim_is_not_found(client, world):
    m = member_register(mall=world.foreign_mall, phone="13900001111", channel="desk", actor=ACTOR)
    claim = PlateClaim.objects.create(mall_group=world.other_group, member=m, plate=PLATE, created_at=m.created_at)
    as_staff(client, world, "service")
    assert client.get(f"/console/parking/plates/{claim.pk}/").status_code == 404
    assert client.post(f"/console/parking/plates/{claim.pk}/", {"action": "approve"}).status_code == 404
    claim.refresh_from_db()
    assert claim.status == "pending"


def test_verifying_at_the_desk_from_the_members_page(client, world):
    m = member(world)
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=PLATE)
    as_staff(client, world, "service")
    detail = text(client.get(f"/console/members/{m.pk}/"))
    assert 'data-testid="plate-unverified"' in detail and 'data-testid="plate-verify"' in detail
    done = client.post(f"/console/members/{m.pk}/plates/verify/", {"plate": PLATE}, follow=True)
    assert "the vehicle licence was seen at the desk" in text(done)
    holder = plate_binding(mall_group_id=m.mall_group_id, plate=PLATE)
    assert holder is not None and holder.verified_via == "desk"
    assert 'data-testid="plate-verified"' in text(client.get(f"/console/members/{m.pk}/"))
    as_staff(client, world, "marketing")
    assert client.post(f"/console/members/{m.pk}/plates/verify/", {"plate": PLATE}).status_code == 403


def test_the_desk_binds_a_plate_someone_else_holds_when_the_licence_is_seen(
    client, world, django_capture_on_commit_callbacks
):
    holder, m = member(world), member(world)
    member_identifier_add(member_id=holder.pk, actor=ACTOR, kind="plate", value=PLATE)
    as_staff(client, world, "service")
    url = f"/console/members/{m.pk}/identifiers/"
    refused = client.post(url, {"kind": "plate", "value": PLATE})
    assert refused.status_code == 400 and "tick “vehicle licence seen”" in text(refused)
    with django_capture_on_commit_callbacks(execute=True):
        moved = client.post(url, {"kind": "plate", "value": "粤b12345", "licence_seen": "on"})
    assert moved.status_code == 302
    binding = plate_binding(mall_group_id=m.mall_group_id, plate=PLATE)
    assert binding is not None and binding.member_id == m.pk and binding.verified_via == "desk"
    assert member_plate_bindings(member_id=holder.pk) == []
