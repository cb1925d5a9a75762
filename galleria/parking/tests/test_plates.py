"""Plates verified once (docs/parking.md): a vehicle licence seen at the desk or its photo reviewed verifies a
binding; a verified plate moves from another member only through that proof; the frictionless exit charges only
verified plates; photos are deleted once decided."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.storage import default_storage

from galleria.audit.models import AuditEvent
from galleria.core import plates
from galleria.core.errors import ApplicationError, ValidationError
from galleria.members import exceptions as member_errors
from galleria.members.selectors import member_plate_bindings, plate_binding
from galleria.members.services import member_identifier_add
from galleria.messaging.models import InboxMessage
from galleria.parking import selectors_plates, services, services_plates
from galleria.parking.models import PlateClaim
from galleria.parking.specimens import licence_photo
from galleria.parking.types import ClaimStatus
from galleria.receipts.ocr import ScriptedOcrEngine

from .helpers import ACTOR, car_park, fund_wallet, member

pytestmark = pytest.mark.django_db
PLATE = "粤B12345"


@pytest.fixture(autouse=True)
def _photos(settings, tmp_path, django_capture_on_commit_callbacks):
    """Photos under a temporary MEDIA_ROOT, read by the scripted OCR engine; what services do after commit (the
    background read, deleting a decided photo, the inbox messages) runs as it would after a real commit."""
    settings.GALLERIA_RECEIPT_OCR_ENGINE = "galleria.receipts.ocr.ScriptedOcrEngine"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    ScriptedOcrEngine.reset()
    global _after_commit
    _after_commit = django_capture_on_commit_callbacks
    yield
    ScriptedOcrEngine.reset()


_after_commit = None


def committed(call):
    with _after_commit(execute=True):
        return call()


def submit(m, plate: str = PLATE, photo: bytes | None = None) -> PlateClaim:
    return committed(
        lambda: services_plates.plate_claim_submit(
            mall_group_id=m.mall_group_id, member_id=m.pk, plate=plate, photo=photo or licence_photo(plate), actor=ACTOR
        )
    )


def decide(claim: PlateClaim, *, approve: bool, reason: str = "") -> PlateClaim:
    return committed(
        lambda: services_plates.plate_claim_decide(
            claim_id=claim.pk, mall_group_id=claim.mall_group_id, approve=approve, reason=reason, actor=ACTOR
        )
    )


def test_plate_in_text_finds_the_plate_in_what_ocr_read_off_a_licence():
    assert plates.plate_in_text("粤B12345", "中华人民共和国机动车行驶证 号牌号码 粤B·12345 车辆类型")
    assert plates.plate_in_text("粤B12345", "号牌号码粤 B 1 2 3 4 5")
    assert plates.plate_in_text("粤B10345", "粤B1O345")  # O read for 0: plates never use O
    assert not plates.plate_in_text("粤B12345", "号牌号码 粤B12346")
    assert not plates.plate_in_text("粤B12345", "")


def test_a_photo_reviewed_and_approved_verifies_the_plate_and_the_photo_is_deleted(world):
    m = member(world)
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=PLATE)
    ScriptedOcrEngine.lines = [("中华人民共和国机动车行驶证", 99), ("号牌号码 粤B·12345", 97)]
    claim = submit(m)
    claim.refresh_from_db()  # the read ran (immediate task backend in tests)
    assert (claim.status, claim.ocr_done, claim.ocr_plate_seen) == ("pending", True, True)
    name = claim.image_name
    assert default_storage.exists(name)
    review = selectors_plates.plate_claim_review(claim=claim)
    assert review.held_by_claimant and not review.held_by_other

    decide(claim, approve=True)
    claim.refresh_from_db()
    assert (claim.status, claim.image_name) == ("approved", "")
    assert claim.image_deleted_at is not None and not default_storage.exists(name)
    [binding] = member_plate_bindings(member_id=m.pk)
    assert binding.is_verified and binding.verified_via == "document"
    assert InboxMessage.objects.filter(member_id=m.pk, title__contains=PLATE).count() == 1
    assert AuditEvent.objects.filter(action="member.plate_verified", target_id=m.pk).exists()
    with pytest.raises(services_plates.ClaimDecidedError):  # decided once
        decide(claim, approve=False, reason="again")


def test_a_rejected_photo_needs_a_reason_the_member_reads(world):
    m = member(world)
    claim = submit(m)
    with pytest.raises(services_plates.ClaimReasonError):
        decide(claim, approve=False)
    decide(claim, approve=False, reason="照片模糊，看不清号牌")
    claim.refresh_from_db()
    assert (claim.status, claim.reason, claim.image_name) == ("rejected", "照片模糊，看不清号牌", "")
    assert plate_binding(mall_group_id=m.mall_group_id, plate=PLATE) is None  # nothing bound
    message = InboxMessage.objects.get(member_id=m.pk)
    assert "照片模糊" in message.body


def test_the_proof_moves_a_plate_someone_else_bound_and_tells_them(world):
    squatter, owner = member(world), member(world)
    member_identifier_add(member_id=squatter.pk, actor=ACTOR, kind="plate", value=PLATE)
    with pytest.raises(member_errors.PlateTakenError):  # the owner cannot simply bind it
        member_identifier_add(member_id=owner.pk, actor=ACTOR, kind="plate", value=PLATE)
    claim = submit(owner)
    assert selectors_plates.plate_claim_review(claim=claim).held_by_other
    assert selectors_plates.plate_claim_counts(mall_group_id=owner.mall_group_id).conflicts == 1

    decide(claim, approve=True)
    holder = plate_binding(mall_group_id=owner.mall_group_id, plate=PLATE)
    assert holder is not None and holder.member_id == owner.pk and holder.is_verified
    assert member_plate_bindings(member_id=squatter.pk) == []
    told = InboxMessage.objects.get(member_id=squatter.pk)
    assert PLATE in told.title
    assert AuditEvent.objects.filter(action="member.plate_released", target_id=squatter.pk).exists()
    # verified once: the former holder can no longer bind it from the app
    with pytest.raises(member_errors.PlateTakenError):
        member_identifier_add(member_id=squatter.pk, actor=ACTOR, kind="plate", value=PLATE)


def test_verifying_at_the_desk_binds_verifies_and_closes_waiting_photos(world):
    m = member(world)
    claim = submit(m)
    name = claim.image_name
    done = committed(
        lambda: services_plates.plate_verify_at_desk(
            mall_group_id=m.mall_group_id, member_id=m.pk, plate="粤b·12345", actor=ACTOR
        )
    )
    assert done.claims_closed == 1 and done.verified.binding.verified_via == "desk"
    claim.refresh_from_db()
    assert claim.status == "approved" and not default_storage.exists(name)
    with pytest.raises(member_errors.PlateVerifiedError):
        services_plates.plate_verify_at_desk(mall_group_id=m.mall_group_id, member_id=m.pk, plate=PLATE, actor=ACTOR)
    with pytest.raises(member_errors.PlateVerifiedError):  # no photo needed any more
        submit(m)


def test_a_sixth_plate_cannot_be_verified_and_nothing_changes(world):
    m, other = member(world), member(world)
    for i in range(5):
        member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=f"粤B1000{i}")
    member_identifier_add(member_id=other.pk, actor=ACTOR, kind="plate", value=PLATE)
    with pytest.raises(member_errors.PlateLimitError):
        services_plates.plate_verify_at_desk(mall_group_id=m.mall_group_id, member_id=m.pk, plate=PLATE, actor=ACTOR)
    holder = plate_binding(mall_group_id=m.mall_group_id, plate=PLATE)
    assert holder is not None and holder.member_id == other.pk  # the failed move left the binding where it was


def test_bad_submissions_store_nothing(world):
    m = member(world)
    with pytest.raises(ValidationError):
        submit(m, plate="not a plate")
    with pytest.raises(services_plates.ClaimPhotoError) as bad:
        submit(m, photo=b"GIF89a not really")
    assert "photo" in bad.value.fields
    submit(m)
    with pytest.raises(services_plates.ClaimPendingError):
        submit(m)
    assert PlateClaim.objects.count() == 1
    stored = [n for n in default_storage.listdir(f"plate-claims/{m.mall_group_id}")[0]]
    assert len(stored) == 1  # the refused uploads left no file


def test_withdraw_expire_and_erasure_delete_the_photo(world):
    m = member(world)
    first = submit(m)
    committed(lambda: services_plates.plate_claim_withdraw(claim_id=first.pk, member_id=m.pk, actor=ACTOR))
    first.refresh_from_db()
    assert first.status == "withdrawn" and first.image_name == ""
    second = submit(m)
    later = second.created_at + dt.timedelta(days=15)
    assert services_plates.plate_claims_expire(now=later) == 1
    second.refresh_from_db()
    assert second.status == ClaimStatus.EXPIRED and second.image_name == ""
    third = submit(m, plate="粤B54321")
    assert services_plates.member_erase_in_tx(member_id=m.pk, mall_group_id=m.mall_group_id, phone="", values=[]) == 1
    third.refresh_from_db()
    assert third.status == "withdrawn" and third.image_name == ""


def test_the_frictionless_exit_charges_only_a_verified_plate(world):
    park = car_park(world)
    m = member(world)
    fund_wallet(world, m, 20_000)
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=PLATE)
    with pytest.raises(ApplicationError) as refused:
        services.auto_pay_set(member_id=m.pk, enabled=True, actor=ACTOR)
    assert refused.value.code == "parking.auto_pay_needs_verified_plate"
    services_plates.plate_verify_at_desk(mall_group_id=m.mall_group_id, member_id=m.pk, plate=PLATE, actor=ACTOR)
    services.auto_pay_set(member_id=m.pk, enabled=True, actor=ACTOR)
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value="粤B54321")  # bound, not verified

    entered = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    for plate in (PLATE, "粤B54321"):
        services.event_entry(car_park=park, event_id=f"in-{plate}", plate=plate, at=entered)
    verified = services.exit_request(car_park=park, plate=PLATE)
    unverified = services.exit_request(car_park=park, plate="粤B54321")
    assert (verified.decision, verified.reason) == ("open", "auto_paid")
    assert (unverified.decision, unverified.reason) == ("pay", "unpaid")
