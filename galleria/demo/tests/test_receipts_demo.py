"""The demo's receipt photos (galleria/demo/receipts.py): every state a member and a reviewer meet, made through the
real services (points from a `receipt` sale, a reversal that is a refund), photos in storage, deterministic."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from galleria.audit.types import Actor
from galleria.ledger.selectors import ledger_check
from galleria.members.models import Member
from galleria.points.selectors import points_balance
from galleria.receipts import services as receipt_services
from galleria.receipts.exceptions import ReceiptRefusedError
from galleria.receipts.generator import random_spec, render_receipt
from galleria.receipts.models import Receipt, ReceiptBlock, ReceiptMerchantAlias, ReceiptSettings
from galleria.receipts.types import Flag, OcrStatus, ReceiptStatus
from galleria.sales.models import Sale

FROZEN = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shenzhen

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def seed(*args: str) -> None:
    with time_machine.travel(FROZEN, tick=True):
        call_command("seed_demo", "--members", "60", "--sales", "0", *args, stdout=io.StringIO())


def rows():
    return list(
        Receipt.objects.order_by("pk").values_list(
            "member__phone",
            "merchant__name",
            "status",
            "amount_fen",
            "receipt_no",
            "occurred_at",
            "flags",
            "ocr_status",
        )
    )


def test_the_demo_has_receipts_in_every_state_made_by_the_real_services():
    seed()
    receipts = list(Receipt.objects.select_related("merchant").order_by("pk"))
    assert 8 <= len(receipts) <= 12
    assert {r.status for r in receipts} == set(ReceiptStatus.values)
    assert len({r.merchant_id for r in receipts if r.merchant_id}) >= 5

    # the member the banner suggests signing in with has receipts to look at, and may still submit one today
    newest = Member.objects.order_by("-created_at").first()
    own = [r for r in receipts if r.member_id == newest.pk]
    assert {r.status for r in own} >= {ReceiptStatus.APPROVED, ReceiptStatus.REJECTED, ReceiptStatus.DRAFT}
    assert sum(r.status in (ReceiptStatus.PENDING, ReceiptStatus.APPROVED) for r in own) < 3

    auto = [r for r in receipts if r.decided_by == "receipts:auto-approve"]
    assert len(auto) == 1 and auto[0].status == ReceiptStatus.APPROVED and not auto[0].flags
    assert ReceiptSettings.objects.get().auto_approve
    for receipt in receipts:
        if receipt.status in (ReceiptStatus.APPROVED, ReceiptStatus.REVERSED):
            sale = Sale.objects.get(pk=receipt.sale_id)
            assert sale.channel == "receipt" and sale.pos_sale_id == f"receipt:{receipt.pk}"
            assert sale.member_id == receipt.member_id and sale.total_fen == receipt.amount_fen
            assert receipt.points_earned > 0
        if receipt.status == ReceiptStatus.APPROVED:
            assert points_balance(member_id=receipt.member_id) >= receipt.points_earned
        if receipt.status == ReceiptStatus.REVERSED:
            assert Sale.objects.get(pk=receipt.sale_id).status == "refunded"
            assert receipt.points_clawed_back + receipt.points_shortfall == receipt.points_earned
            assert receipt.reverse_reason
        if receipt.status == ReceiptStatus.REJECTED:
            assert receipt.reject_reason
        if receipt.status == ReceiptStatus.PENDING:
            assert receipt.flags  # auto-approve is on: what waits for a person says why
        if receipt.status == ReceiptStatus.READING:
            assert receipt.ocr_status == OcrStatus.PENDING and receipt.merchant_id is None
    flags = {flag for r in receipts for flag in r.flags}
    assert {Flag.OVER_THRESHOLD, Flag.LOW_CONFIDENCE, Flag.NOT_READ, Flag.FIELDS_CHANGED} <= flags
    assert Receipt.objects.filter(ocr_status=OcrStatus.TIMEOUT).exists()
    assert ledger_check().ok

    # the photos are stored through the storage API, re-encoded without metadata
    for receipt in receipts:
        with default_storage.open(receipt.image_name, "rb") as handle:
            image = Image.open(io.BytesIO(handle.read()))
        assert image.format == "JPEG" and not image.getexif()

    # names and numbers on receipts; the member whose receipt was reversed is blocked and cannot submit another
    kinds = set(ReceiptMerchantAlias.objects.values_list("kind", flat=True))
    assert kinds == {"alias", "tax_no"}
    block = ReceiptBlock.objects.get()
    assert Receipt.objects.get(status=ReceiptStatus.REVERSED).member_id == block.member_id
    data = render_receipt(random_spec(5))
    with pytest.raises(ReceiptRefusedError):
        receipt_services.receipt_upload(
            member_id=block.member_id, mall_group_id=block.mall_group_id, data=data, actor=Actor.system("member")
        )


def test_the_demo_receipts_are_deterministic():
    seed("--seed", "7")
    first = rows()
    seed("--seed", "7", "--reset")
    assert rows() == first
    seed("--seed", "8", "--reset")
    assert rows() != first
