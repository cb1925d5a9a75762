"""Receipt-photo points end to end below the web layer: upload, read, submit, rules, decisions, reversal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from galleria.ledger.selectors import ledger_check
from galleria.messaging.models import InboxMessage
from galleria.points.selectors import points_balance
from galleria.receipts import selectors, services
from galleria.receipts.exceptions import (
    ReceiptImageInvalidError,
    ReceiptInvalidError,
    ReceiptRefusedError,
    ReceiptStateError,
)
from galleria.receipts.models import Receipt
from galleria.receipts.types import Flag, OcrStatus, ReceiptStatus
from galleria.sales.models import Sale

from .helpers import STAFF, committed, fields_of, new_member, photo, submit, upload

pytestmark = pytest.mark.django_db


def test_upload_reads_in_the_background_and_prefills(world):
    member = new_member(world)
    spec, receipt = upload(world, member)
    assert receipt.status == ReceiptStatus.DRAFT
    assert receipt.ocr_status == OcrStatus.DONE
    assert receipt.merchant_id == world.merchant.pk
    assert receipt.amount_fen == spec.paid_fen
    assert receipt.receipt_no == spec.receipt_no
    assert default_storage.exists(receipt.image_name)


def test_ocr_failure_leaves_the_receipt_for_manual_review(world, scripted_ocr):
    member = new_member(world)
    spec, data = photo()
    scripted_ocr.error = RuntimeError("engine crashed")
    receipt = committed(
        services.receipt_upload, member_id=member.pk, mall_group_id=world.group.pk, data=data, actor=STAFF
    )
    receipt.refresh_from_db()
    assert receipt.status == ReceiptStatus.DRAFT and receipt.ocr_status == OcrStatus.FAILED
    submitted = submit(world, member, receipt, spec)
    assert submitted.status == ReceiptStatus.PENDING
    assert Flag.NOT_READ in submitted.flags


def test_ocr_timeout_goes_to_manual_review(world, scripted_ocr, settings):
    settings.GALLERIA_RECEIPT_OCR_TIMEOUT = 1
    scripted_ocr.delay = 1.5
    member = new_member(world)
    _spec, data = photo()
    receipt = committed(
        services.receipt_upload, member_id=member.pk, mall_group_id=world.group.pk, data=data, actor=STAFF
    )
    receipt.refresh_from_db()
    assert receipt.ocr_status == OcrStatus.TIMEOUT and receipt.status == ReceiptStatus.DRAFT


def test_approval_awards_points_through_the_checkout_pipeline(world):
    member = new_member(world)
    spec, receipt = upload(world, member, amount_fen=12345)
    submit(world, member, receipt, spec)
    before = points_balance(member_id=member.pk)
    approved = committed(services.receipt_approve, receipt_id=receipt.pk, mall_group_id=world.group.pk, actor=STAFF)
    sale = Sale.objects.get(pk=approved.sale_id)
    assert sale.channel == "receipt" and sale.pos_sale_id == f"receipt:{receipt.pk}"
    assert sale.member_id == member.pk and sale.total_fen == 12345
    assert approved.points_earned > 0
    assert points_balance(member_id=member.pk) == before + approved.points_earned
    assert sale.earn_explanation  # the pipeline explains the credit
    titles = list(InboxMessage.objects.filter(member_id=member.pk).values_list("title", flat=True))
    assert "Receipt received" in titles and "Receipt approved" in titles


def test_double_approve_makes_one_sale(world):
    member = new_member(world)
    spec, receipt = upload(world, member)
    submit(world, member, receipt, spec)
    committed(services.receipt_approve, receipt_id=receipt.pk, mall_group_id=world.group.pk, actor=STAFF)
    committed(services.receipt_approve, receipt_id=receipt.pk, mall_group_id=world.group.pk, actor=STAFF)
    assert Sale.objects.filter(pos_sale_id=f"receipt:{receipt.pk}").count() == 1


def test_reject_then_reverse_rules(world):
    member = new_member(world)
    spec, receipt = upload(world, member)
    submit(world, member, receipt, spec)
    with pytest.raises(ReceiptInvalidError):
        committed(services.receipt_reject, receipt_id=receipt.pk, mall_group_id=world.group.pk, reason=" ", actor=STAFF)
    rejected = committed(
        services.receipt_reject, receipt_id=receipt.pk, mall_group_id=world.group.pk, reason="照片不清晰", actor=STAFF
    )
    assert rejected.status == ReceiptStatus.REJECTED and rejected.reject_reason == "照片不清晰"
    with pytest.raises(ReceiptStateError):
        committed(
            services.receipt_reverse, receipt_id=receipt.pk, mall_group_id=world.group.pk, reason="fraud", actor=STAFF
        )


def test_reversal_refunds_the_sale_and_never_goes_negative(world):
    member = new_member(world)
    spec, receipt = upload(world, member, amount_fen=50000)
    submit(world, member, receipt, spec)
    approved = committed(services.receipt_approve, receipt_id=receipt.pk, mall_group_id=world.group.pk, actor=STAFF)
    earned = approved.points_earned
    assert earned > 0
    reversed_ = committed(
        services.receipt_reverse, receipt_id=receipt.pk, mall_group_id=world.group.pk, reason="伪造小票", actor=STAFF
    )
    assert reversed_.status == ReceiptStatus.REVERSED
    assert reversed_.points_clawed_back + reversed_.points_shortfall == earned
    assert points_balance(member_id=member.pk) >= 0
    assert ledger_check().ok
    # reversed receipts still claim their number: the same receipt cannot come back
    spec2, receipt2 = upload(world, new_member(world), photo(receipt_no=spec.receipt_no, amount_fen=50000))
    with pytest.raises(ReceiptRefusedError):
        submit(world, receipt2.member, receipt2, spec2)


def test_same_receipt_number_from_another_member_is_refused(world):
    a, b = new_member(world), new_member(world)
    spec, receipt = upload(world, a, receipt_no="DUP0001")
    submit(world, a, receipt, spec)
    spec_b, receipt_b = upload(world, b, receipt_no="DUP0001")
    with pytest.raises(ReceiptRefusedError) as info:
        submit(world, b, receipt_b, spec_b)
    assert info.value.code == "receipt.duplicate"


def test_same_file_twice_is_refused_and_own_draft_is_returned(world):
    a, b = new_member(world), new_member(world)
    _spec, data = photo()
    first = committed(services.receipt_upload, member_id=a.pk, mall_group_id=world.group.pk, data=data, actor=STAFF)
    again = committed(services.receipt_upload, member_id=a.pk, mall_group_id=world.group.pk, data=data, actor=STAFF)
    assert again.pk == first.pk
    with pytest.raises(ReceiptRefusedError):
        committed(services.receipt_upload, member_id=b.pk, mall_group_id=world.group.pk, data=data, actor=STAFF)


def test_a_near_identical_photo_is_flagged_for_review_and_the_same_receipt_refused(world):
    """A resized, recompressed copy of another member's photo is not refused on its perceptual hash alone (two
    genuine receipts of one shop can hash close): its submission is flagged for a person, never auto-approved, and
    the same receipt number is refused."""
    services.receipt_settings_save(
        mall_group_id=world.group.pk,
        values={"auto_approve": True, "auto_approve_max_fen": 10_000_000, "auto_approve_min_confidence": 0},
        actor=STAFF,
    )
    a, b = new_member(world), new_member(world)
    spec, first = upload(world, a, photo(seed=77, receipt_no="NEAR1"))
    submit(world, a, first, spec)
    _spec, data = photo(seed=77, receipt_no="NEAR1")
    image = Image.open(io.BytesIO(data))
    out = io.BytesIO()
    image.resize((image.width * 9 // 10, image.height * 9 // 10)).save(out, format="JPEG", quality=70)
    copy = committed(
        services.receipt_upload, member_id=b.pk, mall_group_id=world.group.pk, data=out.getvalue(), actor=STAFF
    )
    with pytest.raises(ReceiptRefusedError) as info:
        submit(world, b, copy, spec)
    assert info.value.code == "receipt.duplicate"
    other = dataclasses.replace(fields_of(spec, world.merchant), receipt_no="NEAR2")
    flagged = committed(services.receipt_submit, receipt_id=copy.pk, member_id=b.pk, fields=other, actor=STAFF)
    assert Flag.NEAR_DUPLICATE in flagged.flags
    assert flagged.status != ReceiptStatus.APPROVED


def test_different_receipts_are_not_near_duplicates(world):
    member = new_member(world)
    for seed, amount in ((301, 1800), (302, 25600), (303, 9900)):
        _spec, receipt = upload(world, member, photo(seed=seed, amount_fen=amount))
        assert receipt.pk


def test_same_shop_amount_minute_from_another_member_is_flagged(world):
    a, b = new_member(world), new_member(world)
    spec, receipt = upload(world, a, receipt_no="R1", amount_fen=4200)
    submit(world, a, receipt, spec)
    spec_b, receipt_b = upload(world, b, photo(receipt_no="R2", amount_fen=4200, when=spec.occurred_at))
    submitted = submit(world, b, receipt_b, spec_b)
    assert Flag.SAME_SALE_OTHER_MEMBER in submitted.flags


def test_old_receipt_and_future_receipt_are_refused(world):
    member = new_member(world)
    spec, receipt = upload(world, member)
    fields = fields_of(spec, world.merchant)
    old = fields.__class__(fields.merchant_id, fields.amount_fen, fields.occurred_at - dt.timedelta(days=8), "X1")
    with pytest.raises(ReceiptInvalidError):
        committed(services.receipt_submit, receipt_id=receipt.pk, member_id=member.pk, fields=old, actor=STAFF)
    future = fields.__class__(fields.merchant_id, fields.amount_fen, fields.occurred_at + dt.timedelta(days=1), "X1")
    with pytest.raises(ReceiptInvalidError):
        committed(services.receipt_submit, receipt_id=receipt.pk, member_id=member.pk, fields=future, actor=STAFF)


def test_daily_limit(world):
    services.receipt_settings_save(mall_group_id=world.group.pk, values={"daily_limit": 1}, actor=STAFF)
    member = new_member(world)
    spec, receipt = upload(world, member)
    submit(world, member, receipt, spec)
    spec2, receipt2 = upload(world, member)
    with pytest.raises(ReceiptRefusedError) as info:
        submit(world, member, receipt2, spec2)
    assert info.value.code == "receipt.limit"


def test_blocked_member_cannot_upload(world):
    member = new_member(world)
    services.receipt_block_set(
        mall_group_id=world.group.pk, member_id=member.pk, blocked=True, reason="fraud", actor=STAFF
    )
    with pytest.raises(ReceiptRefusedError):
        upload(world, member)


def test_merchant_not_accepting_is_refused(world):
    services.receipt_settings_save(
        mall_group_id=world.group.pk,
        values={"all_merchants": False, "accepted_merchant_ids": [world.other_merchant.pk]},
        actor=STAFF,
    )
    member = new_member(world)
    spec, receipt = upload(world, member)
    assert receipt.merchant_id is None  # 喜茶 is not a candidate any more
    with pytest.raises(ReceiptInvalidError):
        submit(world, member, receipt, spec)


def test_auto_approve_under_threshold_when_read_is_certain(world):
    services.receipt_settings_save(
        mall_group_id=world.group.pk, values={"auto_approve": True, "auto_approve_max_fen": 10000}, actor=STAFF
    )
    member = new_member(world)
    spec, receipt = upload(world, member, amount_fen=5000)
    assert submit(world, member, receipt, spec).status == ReceiptStatus.APPROVED
    spec2, receipt2 = upload(world, member, amount_fen=20000)
    result = submit(world, member, receipt2, spec2)
    assert result.status == ReceiptStatus.PENDING and Flag.OVER_THRESHOLD in result.flags


def test_changed_fields_are_flagged_and_not_auto_approved(world):
    services.receipt_settings_save(mall_group_id=world.group.pk, values={"auto_approve": True}, actor=STAFF)
    member = new_member(world)
    spec, receipt = upload(world, member, amount_fen=5000)
    fields = fields_of(spec, world.merchant)
    bigger = fields.__class__(fields.merchant_id, 9000, fields.occurred_at, fields.receipt_no)
    result = committed(services.receipt_submit, receipt_id=receipt.pk, member_id=member.pk, fields=bigger, actor=STAFF)
    assert result.status == ReceiptStatus.PENDING and Flag.FIELDS_CHANGED in result.flags


def test_merchant_alias_and_tax_number_match(world):
    services.receipt_alias_add(
        mall_group_id=world.group.pk,
        merchant_id=world.other_merchant.pk,
        kind="tax_no",
        value="9131 0000 6073 8912 3X",
        actor=STAFF,
    )
    candidates = {c.merchant_id: c for c in selectors.merchant_candidates(mall_group_id=world.group.pk)}
    assert candidates[world.other_merchant.pk].tax_numbers == ("913100006073891 23X".replace(" ", ""),)


@pytest.mark.parametrize(
    "data, needle",
    [
        (b"", "empty"),
        (b"%PDF-1.4 not an image", "not a photo"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "not a photo"),
    ],
)
def test_bad_files_store_nothing(world, data, needle):
    member = new_member(world)
    with pytest.raises(ReceiptImageInvalidError) as info:
        committed(services.receipt_upload, member_id=member.pk, mall_group_id=world.group.pk, data=data, actor=STAFF)
    assert needle in str(info.value.message)
    assert not Receipt.objects.exists()


def test_truncated_and_huge_files_are_refused(world):
    member = new_member(world)
    _spec, data = photo()
    with pytest.raises(ReceiptImageInvalidError) as info:
        committed(
            services.receipt_upload,
            member_id=member.pk,
            mall_group_id=world.group.pk,
            data=data[: len(data) // 2],
            actor=STAFF,
        )
    assert "damaged" in str(info.value.message)
    with pytest.raises(ReceiptImageInvalidError) as info:
        committed(
            services.receipt_upload,
            member_id=member.pk,
            mall_group_id=world.group.pk,
            data=data + b"\x00" * (30 * 1024 * 1024),
            actor=STAFF,
        )
    assert "too large" in str(info.value.message)
    assert not Receipt.objects.exists()


def test_exif_and_gps_are_stripped(world):
    member = new_member(world)
    _spec, data = photo()
    image = Image.open(io.BytesIO(data))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (22.0, 32.0, 10.0), 3: "E", 4: (114.0, 3.0, 30.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    assert b"SpyCam" in out.getvalue()
    receipt = committed(
        services.receipt_upload, member_id=member.pk, mall_group_id=world.group.pk, data=out.getvalue(), actor=STAFF
    )
    stored = default_storage.open(receipt.image_name).read()
    assert b"SpyCam" not in stored and b"Exif" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_png_upload_is_accepted(world):
    member = new_member(world)
    _spec, receipt = upload(world, member, photo(fmt="PNG"))
    assert receipt.status == ReceiptStatus.DRAFT


def test_retention_deletes_photos_but_keeps_hashes(world):
    member = new_member(world)
    spec, receipt = upload(world, member)
    submit(world, member, receipt, spec)
    committed(services.receipt_approve, receipt_id=receipt.pk, mall_group_id=world.group.pk, actor=STAFF)
    name = Receipt.objects.get(pk=receipt.pk).image_name
    from django.utils import timezone

    assert services.receipt_images_purge(now=timezone.now() + dt.timedelta(days=30)) == 0
    assert services.receipt_images_purge(now=timezone.now() + dt.timedelta(days=91)) == 1
    after = Receipt.objects.get(pk=receipt.pk)
    assert after.image_name == "" and after.image_sha256 and not default_storage.exists(name)


def test_waiting_for_merchant_counter(world):
    services.receipt_settings_save(mall_group_id=world.group.pk, values={"merchant_confirmation": True}, actor=STAFF)
    member = new_member(world)
    spec, receipt = upload(world, member)
    submit(world, member, receipt, spec)
    assert selectors.receipts_waiting_for_merchant(world.merchant.pk) == 1
    committed(
        services.receipt_approve,
        receipt_id=receipt.pk,
        mall_group_id=world.group.pk,
        actor=STAFF,
        merchant_id=world.merchant.pk,
    )
    assert selectors.receipts_waiting_for_merchant(world.merchant.pk) == 0
    with pytest.raises(ReceiptStateError):
        committed(
            services.receipt_reject,
            receipt_id=receipt.pk,
            mall_group_id=world.group.pk,
            reason="x",
            actor=STAFF,
            merchant_id=world.other_merchant.pk,
        )
