"""Access matrix entries of the receipt-photo points area (merged into MATRIX by tests/access_matrix.py): the member
app's receipt screens, the console's review queue and rules, the merchant portal's confirmation."""

from __future__ import annotations

from .access_matrix import NOT_ALLOWED, NOT_FOUND, ROOT, Entry, action, app, console, page, portal, public, r
from .evidence_world import EvidenceWorld

REVIEWERS = {"admin", "service", ROOT}  # receipts.review
RULE_EDITORS = {"admin", "marketing", ROOT}  # receipts.settings
GET_ONLY = public(NOT_ALLOWED)  # @require_GET answers POST with 405 before any sign-in check


def _receipt(ew: EvidenceWorld) -> int:
    """A receipt of the evidence member at 喜茶, waiting for the merchant's confirmation, with a stored photo."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from galleria.receipts.models import Receipt

    existing = Receipt.objects.filter(member=ew.member, image_sha256="evidence").first()
    if existing is not None:
        return existing.pk
    name = default_storage.save("receipts/evidence.jpg", ContentFile(b"\xff\xd8\xff\xe0evidence"))
    receipt = Receipt.objects.create(
        mall_group=ew.world.group,
        member=ew.member,
        merchant=ew.world.merchant,
        status="pending",
        needs_merchant=True,
        image_name=name,
        image_sha256="evidence",
        amount_fen=1000,
        occurred_at=timezone.now(),
        receipt_no="EVID-R-1",
        submitted_at=timezone.now(),
    )
    return receipt.pk


MATRIX_RECEIPTS: dict[str, Entry] = {
    "app:receipts": page(app())(r("app:receipts")),
    "app:receipt": page(app(other_member=NOT_FOUND), data=lambda ew: {"merchant": ""})(r("app:receipt", _receipt)),
    "app:receipt_state": page(app(other_member=NOT_FOUND), post=GET_ONLY)(r("app:receipt_state", _receipt)),
    "app:receipt_image": page(app(other_member=NOT_FOUND), post=GET_ONLY)(r("app:receipt_image", _receipt)),
    "console:receipts": page(console(REVIEWERS))(r("console:receipts")),
    "console:receipts_bulk_approve": action(console(REVIEWERS), data=lambda ew: {"ids": ""})(
        r("console:receipts_bulk_approve")
    ),
    "console:receipt_settings": page(console(RULE_EDITORS), data=lambda ew: {"what": "alias"})(
        r("console:receipt_settings")
    ),
    "console:receipt_review": page(
        console(REVIEWERS, scoped=True), data=lambda ew: {"action": "none"}, note="POST without a decision: 400"
    )(r("console:receipt_review", _receipt)),
    "console:receipt_image": page(console(REVIEWERS, scoped=True), post=GET_ONLY)(r("console:receipt_image", _receipt)),
    "merchant:receipts": page(portal({"owner"}))(r("merchant:receipts")),
    "merchant:receipt_decide": action(
        portal({"owner"}, scoped=True), data=lambda ew: {"action": "reject", "reason": ""}, note="no reason: refused"
    )(r("merchant:receipt_decide", _receipt)),
    "merchant:receipt_image": page(portal({"owner"}, scoped=True), post=GET_ONLY)(
        r("merchant:receipt_image", _receipt)
    ),
}
