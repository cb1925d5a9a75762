"""Writes of the receipts area. Each use case is one durable transaction that locks the receipt row it changes.

- `receipt_upload`: check and re-encode the photo (EXIF/GPS dropped), refuse duplicates, store it through Django's
  storage API, create the receipt and — after commit — enqueue the background read (`tasks.receipt_read_task`).
- `receipt_read`: the background read: OCR with a timeout, parse, pre-fill (`receipt_read_record`). A failed or
  slow read leaves the receipt for the member to fill in and for a person to review; it never raises to the member.
- `receipt_submit`: the member's confirmed fields; age, limits (under a FOR NO KEY UPDATE lock of the member's row,
  so one member's concurrent submissions cannot both pass the daily limit), merchant, duplicates (the partial
  unique constraint on (merchant, receipt number) decides two members racing with one receipt), flags, and the
  auto-approve decision.
- `receipt_approve` / `receipt_reject` / `receipt_reverse`: decisions by staff (or the merchant when the mall
  enables merchant confirmation). Approval is a sale of channel `receipt` through the checkout pipeline, so earn
  rules, tier multipliers, campaigns and caps apply with their explanation; a second click finds the receipt
  approved under its row lock and returns it (one sale). Reversal is a full refund of that sale through the sales
  refund service: points clawed back, never below zero, a shortfall recorded by the pipeline.

Every change is audited and tells the member through the in-app inbox (a task after commit).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.events import publish
from galleria.core.locking import lock_one
from galleria.core.money import format_cny
from galleria.core.tasks import enqueue
from galleria.members.selectors import members_active
from galleria.merchants.selectors import store_list
from galleria.messaging import services as messaging
from galleria.messaging.types import Audience
from galleria.sales.services import sale_commit_in_tx, sale_refund_in_tx
from galleria.sales.types import Channel, LineIn, PaymentIn, SaleIn

from . import conf, images, rules, selectors
from .exceptions import ReceiptInvalidError, ReceiptRefusedError, ReceiptStateError
from .models import Receipt, ReceiptBlock, ReceiptMerchantAlias, ReceiptSettings
from .ocr import OcrTimeoutError, read_with_timeout
from .parse import normalise, normalise_name, parse_receipt
from .types import AliasKind, OcrStatus, ParsedReceipt, ReceiptFields, ReceiptStatus

READ_TASK = "galleria.receipts.tasks.receipt_read_task"
NOTIFY_TASK = "galleria.receipts.tasks.receipt_notify_task"
RECEIPT_LINE_NAME = "小票"  # the sale's one line (what the bill shows)


def _notify_after_commit(receipt_id: int, event: str) -> None:
    transaction.on_commit(lambda: enqueue(NOTIFY_TASK, receipt_id=receipt_id, event=event))


def _lock(receipt_id: int) -> Receipt:
    return lock_one(Receipt.objects.select_related("member", "merchant__mall").filter(pk=receipt_id), of=("self",))


# ---------------------------------------------------------------------------------------------------- upload


def receipt_upload(
    *, member_id: int, mall_group_id: int, data: bytes, actor: Actor, read_in_background: bool = True
) -> Receipt:
    """A new receipt from a photo; the same file uploaded again returns the member's own unfinished receipt.

    `read_in_background=False` enqueues no read: the caller records one with `receipt_read_record` (the demo seed,
    which knows what its generated receipts say and must not run OCR)."""
    rules_ = selectors.settings_for(mall_group_id=mall_group_id)
    if not rules_.is_enabled:
        raise ReceiptRefusedError(_("Receipt points are not available at the moment."))
    if selectors.is_blocked(mall_group_id=mall_group_id, member_id=member_id):
        raise ReceiptRefusedError(_("Your account cannot submit receipts. Please contact the service desk."))
    clean = images.clean_upload(
        data, max_bytes=conf.max_upload_bytes(), max_pixels=conf.max_pixels(), max_side=conf.stored_max_side()
    )
    existing = Receipt.objects.filter(mall_group_id=mall_group_id, image_sha256=clean.sha256).first()
    if existing is not None:
        if existing.member_id == member_id and existing.status in (ReceiptStatus.READING, ReceiptStatus.DRAFT):
            return existing
        raise ReceiptRefusedError(_("This photo was already submitted."), code="receipt.duplicate_image")
    # a perceptually near-identical photo is not refused here: the hash of a whole photo mostly follows the paper's
    # outline, so two genuine receipts of one shop can come close. The submission flags it for a person (with the
    # other receipt named) and the receipt number's unique constraint refuses the same receipt photographed again.
    now = timezone.now()
    name = default_storage.save(
        f"{conf.storage_prefix()}/{mall_group_id}/{now:%Y/%m}/{uuid.uuid4().hex}.jpg", ContentFile(clean.data)
    )
    try:
        with transaction.atomic(durable=True):
            receipt = Receipt.objects.create(
                mall_group_id=mall_group_id,
                member_id=member_id,
                image_name=name,
                image_sha256=clean.sha256,
                image_phash=clean.phash,
                image_width=clean.width,
                image_height=clean.height,
            )
            audit_record(
                actor=actor,
                action="receipt.upload",
                target_type="receipt",
                target_id=receipt.pk,
                mall_group_id=mall_group_id,
                changes={"source_type": clean.source_type, "width": clean.width, "height": clean.height},
            )
            if read_in_background:
                transaction.on_commit(lambda: enqueue(READ_TASK, receipt_id=receipt.pk))
    except IntegrityError:  # the same file, uploaded twice at once
        default_storage.delete(name)
        raise ReceiptRefusedError(_("This photo was already submitted."), code="receipt.duplicate_image") from None
    except BaseException:
        default_storage.delete(name)
        raise
    return receipt


# ---------------------------------------------------------------------------------------------------- read


def _tz_of(receipt: Receipt) -> str:
    return str(receipt.member.join_mall.timezone) if receipt.member_id else settings.GALLERIA_DEFAULT_MALL_TZ


def receipt_read(*, receipt_id: int) -> None:
    """The background read (idempotent: a receipt no longer waiting for its read is left alone)."""
    receipt = Receipt.objects.select_related("member__join_mall").get(pk=receipt_id)
    if receipt.status != ReceiptStatus.READING or receipt.ocr_status != OcrStatus.PENDING:
        return
    data = selectors.image_bytes(receipt=receipt)
    started = timezone.now()
    parsed = ParsedReceipt()
    text = ""
    try:
        if data is None:
            raise FileNotFoundError(receipt.image_name)
        lines = read_with_timeout(data)
        parsed = parse_receipt(
            lines,
            merchants=selectors.merchant_candidates(mall_group_id=receipt.mall_group_id),
            tz=timeutil.zone(_tz_of(receipt)),
        )
        text = "\n".join(f"{line.text}\t{line.confidence}" for line in lines)
        outcome = OcrStatus.DONE
    except OcrTimeoutError:
        outcome = OcrStatus.TIMEOUT
    except Exception:  # any engine failure: a person reads the photo instead
        outcome = OcrStatus.FAILED
    elapsed = int((timezone.now() - started).total_seconds() * 1000)
    receipt_read_record(receipt_id=receipt_id, outcome=outcome, parsed=parsed, text=text, ocr_ms=elapsed)


def receipt_read_record(
    *, receipt_id: int, outcome: str, parsed: ParsedReceipt, text: str = "", ocr_ms: int = 0
) -> bool:
    """Record a finished read (the background read's last step): pre-fill the fields, the receipt waits for the
    member's confirmation. A receipt no longer waiting for its read is left alone (False)."""
    with transaction.atomic(durable=True):
        locked = _lock(receipt_id)
        if locked.status != ReceiptStatus.READING:
            return False
        locked.ocr_status = outcome
        locked.ocr_text = text[:5000]
        locked.ocr_fields = parsed.as_json()
        locked.ocr_confidence = parsed.confidence
        locked.ocr_ms = ocr_ms
        locked.merchant_id = parsed.merchant_id
        locked.amount_fen = parsed.amount_fen
        locked.occurred_at = parsed.occurred_at
        locked.receipt_no = parsed.receipt_no
        locked.status = ReceiptStatus.DRAFT
        locked.save()
        return True


def parsed_of(receipt: Receipt) -> ParsedReceipt:
    raw: dict[str, Any] = receipt.ocr_fields or {}
    occurred = raw.get("occurred_at")
    return ParsedReceipt(
        merchant_id=raw.get("merchant_id"),
        merchant_confidence=int(raw.get("merchant_confidence") or 0),
        amount_fen=raw.get("amount_fen"),
        amount_confidence=int(raw.get("amount_confidence") or 0),
        occurred_at=dt.datetime.fromisoformat(occurred) if occurred else None,
        occurred_confidence=int(raw.get("occurred_confidence") or 0),
        receipt_no=str(raw.get("receipt_no") or ""),
        receipt_no_confidence=int(raw.get("receipt_no_confidence") or 0),
        tax_no=str(raw.get("tax_no") or ""),
    )


# ---------------------------------------------------------------------------------------------------- submit


def _check_fields(rules_: ReceiptSettings, fields: ReceiptFields, now: dt.datetime) -> None:
    errors: dict[str, str] = {}
    if not selectors.merchant_accepts(rules=rules_, merchant_id=fields.merchant_id) or fields.merchant_id not in {
        pk for pk, _n in selectors.merchant_options(mall_group_id=rules_.mall_group_id)
    }:
        errors["merchant"] = _("This shop does not accept receipt photos.")
    message = rules.amount_error(fields.amount_fen)
    if message:
        errors["amount"] = message
    message = rules.age_error(occurred_at=fields.occurred_at, now=now, max_age_days=rules_.max_age_days)
    if message:
        errors["occurred_at"] = message
    receipt_no = fields.receipt_no.strip()
    if not receipt_no:
        errors["receipt_no"] = _("Enter the receipt number printed on the receipt.")
    elif len(receipt_no) > 40:
        errors["receipt_no"] = _("The receipt number is too long.")
    if errors:
        raise ReceiptInvalidError(next(iter(errors.values())), fields=errors)


def _claim(receipt: Receipt) -> None:
    """Save the claiming state; the partial unique constraint refuses a receipt number claimed by another."""
    try:
        with transaction.atomic():
            receipt.save()
    except IntegrityError:
        raise ReceiptRefusedError(
            _("This receipt was already submitted."), code="receipt.duplicate", fields={"receipt_no": ""}
        ) from None


def _lock_member(member_id: int) -> None:
    """Serialise one member's submissions: their row, FOR NO KEY UPDATE, before the daily/monthly count.

    Without it two submissions of one member at the same moment both count the same earlier receipts and both pass
    the limit. FOR NO KEY UPDATE (not FOR UPDATE) leaves the KEY SHARE lock free that a concurrent sale's foreign-key
    checks take on the member row (ledger legs, the sale, coupons), so a sale of this member never waits for it.
    Lock order: member, then the receipt, then (auto-approve) the checkout pipeline's member accounts and tier row;
    decisions lock the receipt, then the pipeline's rows, and never the member row, so the two cannot deadlock."""
    try:
        lock_one(members_active().filter(pk=member_id), no_key=True)
    except ObjectDoesNotExist:  # merged into another member or erased meanwhile
        raise ReceiptRefusedError(_("Your account cannot submit receipts. Please contact the service desk.")) from None


def receipt_submit(*, receipt_id: int, member_id: int, fields: ReceiptFields, actor: Actor) -> Receipt:
    """The member's confirmed fields: checked, counted against the limits, flagged, claimed; auto-approved when the
    group allows it. The member's row is locked first (`_lock_member`), so the limits hold under concurrency."""
    fields = ReceiptFields(
        merchant_id=fields.merchant_id,
        amount_fen=fields.amount_fen,
        occurred_at=fields.occurred_at,
        receipt_no=normalise(fields.receipt_no)[:40],
    )
    now = timezone.now()
    with transaction.atomic(durable=True):
        _lock_member(member_id)
        receipt = _lock(receipt_id)
        if receipt.member_id != member_id:
            raise ReceiptStateError(_("This receipt is not yours."))
        if receipt.status not in (ReceiptStatus.READING, ReceiptStatus.DRAFT, ReceiptStatus.REJECTED):
            raise ReceiptStateError(_("This receipt was already submitted."))
        rules_ = selectors.settings_for(mall_group_id=receipt.mall_group_id)
        if selectors.is_blocked(mall_group_id=receipt.mall_group_id, member_id=member_id):
            raise ReceiptRefusedError(_("Your account cannot submit receipts. Please contact the service desk."))
        _check_fields(rules_, fields, now)
        today, month = selectors.member_counts(member_id=member_id, now=now, tz_name=_tz_of(receipt))
        message = rules.limit_error(
            today=today, this_month=month, daily_limit=rules_.daily_limit, monthly_limit=rules_.monthly_limit
        )
        if message:
            raise ReceiptRefusedError(message, code="receipt.limit")
        other, distance = rules.closest_image(
            receipt.image_phash, selectors.image_neighbours(mall_group_id=receipt.mall_group_id, exclude_id=receipt.pk)
        )
        flags = rules.submit_flags(
            parsed=parsed_of(receipt),
            fields=fields,
            was_read=receipt.ocr_status == OcrStatus.DONE,
            near_duplicate=other is not None and distance <= rules.NEAR_IMAGE_DISTANCE,
            same_sale_other_member=selectors.same_sale_other_member(
                receipt_id=receipt.pk,
                member_id=member_id,
                merchant_id=fields.merchant_id,
                amount_fen=fields.amount_fen,
                occurred_at=fields.occurred_at,
            ),
            min_confidence=rules_.auto_approve_min_confidence,
            auto_max_fen=rules_.auto_approve_max_fen,
        )
        receipt.merchant_id = fields.merchant_id
        receipt.amount_fen = fields.amount_fen
        receipt.occurred_at = fields.occurred_at
        receipt.receipt_no = fields.receipt_no
        receipt.flags = flags
        receipt.flag_note = f"#{other}" if other is not None and distance <= rules.NEAR_IMAGE_DISTANCE else ""
        receipt.needs_merchant = rules_.merchant_confirmation
        receipt.status = ReceiptStatus.PENDING
        receipt.submitted_at = now
        receipt.reject_reason = ""
        _claim(receipt)
        audit_record(
            actor=actor,
            action="receipt.submit",
            target_type="receipt",
            target_id=receipt.pk,
            mall_group_id=receipt.mall_group_id,
            changes={"amount_fen": fields.amount_fen, "merchant_id": fields.merchant_id, "flags": flags},
        )
        if rules.may_auto_approve(enabled=rules_.auto_approve, flags=flags, needs_merchant=receipt.needs_merchant):
            _approve_in_tx(receipt, actor=Actor.system("receipts:auto-approve"))
        else:
            _notify_after_commit(receipt.pk, "submitted")
        return receipt


# ---------------------------------------------------------------------------------------------------- decide


def _first_store_id(merchant_id: int) -> int:
    store = store_list(merchant_id=merchant_id).filter(is_active=True).first()
    if store is None:
        raise ReceiptStateError(_("This shop has no open store to book the purchase at."))
    return store.pk


def _approve_in_tx(receipt: Receipt, *, actor: Actor) -> None:
    assert receipt.merchant_id is not None and receipt.amount_fen is not None and receipt.occurred_at is not None
    amount = receipt.amount_fen
    result = sale_commit_in_tx(
        data=SaleIn(
            channel=Channel.RECEIPT,
            merchant_id=receipt.merchant_id,
            store_id=_first_store_id(receipt.merchant_id),
            terminal_id=None,
            pos_sale_id=f"receipt:{receipt.pk}",
            occurred_at=min(receipt.occurred_at, timezone.now()),
            lines=(
                LineIn(sku="receipt", name=RECEIPT_LINE_NAME, quantity=1, unit_price_fen=amount, amount_fen=amount),
            ),
            payments=(PaymentIn(method="other", amount_fen=amount),),
            member_id=receipt.member_id,
            client_dated=False,
        ),
        actor=actor,
    )
    receipt.sale_id = result.sale_id
    receipt.points_earned = result.points_earned
    receipt.status = ReceiptStatus.APPROVED
    receipt.decided_at = timezone.now()
    receipt.decided_by = actor.label[:100]
    _record_decision(
        receipt,
        actor=actor,
        action="receipt.approve",
        event="approved",
        changes={"sale_id": result.sale_id, "points": result.points_earned, "amount_fen": amount},
    )


def _record_decision(receipt: Receipt, *, actor: Actor, action: str, event: str, changes: dict[str, Any]) -> None:
    """Save a decided receipt, audit it and tell the member once the transaction commits."""
    receipt.save()
    audit_record(
        actor=actor,
        action=action,
        target_type="receipt",
        target_id=receipt.pk,
        mall_group_id=receipt.mall_group_id,
        changes=changes,
    )
    _notify_after_commit(receipt.pk, event)


def _decidable(receipt_id: int, mall_group_id: int, merchant_id: int | None) -> Receipt:
    receipt = _lock(receipt_id)
    if receipt.mall_group_id != mall_group_id or (merchant_id is not None and receipt.merchant_id != merchant_id):
        raise ReceiptStateError(_("This receipt does not exist."), code="receipt.not_found")
    if merchant_id is not None and not receipt.needs_merchant:
        raise ReceiptStateError(_("This receipt is reviewed by the mall."))
    return receipt


def receipt_approve(
    *,
    receipt_id: int,
    mall_group_id: int,
    actor: Actor,
    fields: ReceiptFields | None = None,
    merchant_id: int | None = None,
) -> Receipt:
    """Approve (optionally with corrected fields). `merchant_id`: the merchant confirming its own receipt."""
    with transaction.atomic(durable=True):
        receipt = _decidable(receipt_id, mall_group_id, merchant_id)
        if receipt.status == ReceiptStatus.APPROVED:
            return receipt  # a double click: the first approval stands, one sale
        if receipt.status != ReceiptStatus.PENDING:
            raise ReceiptStateError(_("Only receipts in review can be approved."))
        if fields is not None and merchant_id is None:
            rules_ = selectors.settings_for(mall_group_id=mall_group_id)
            fields = ReceiptFields(
                merchant_id=fields.merchant_id,
                amount_fen=fields.amount_fen,
                occurred_at=fields.occurred_at,
                receipt_no=normalise(fields.receipt_no)[:40],
            )
            _check_fields(rules_, fields, receipt.submitted_at or timezone.now())
            receipt.merchant_id = fields.merchant_id
            receipt.amount_fen = fields.amount_fen
            receipt.occurred_at = fields.occurred_at
            receipt.receipt_no = fields.receipt_no
            _claim(receipt)
        _approve_in_tx(receipt, actor=actor)
        return receipt


def receipt_reject(
    *, receipt_id: int, mall_group_id: int, reason: str, actor: Actor, merchant_id: int | None = None
) -> Receipt:
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise ReceiptInvalidError(_("Give the member a reason."), fields={"reason": _("Give the member a reason.")})
    with transaction.atomic(durable=True):
        receipt = _decidable(receipt_id, mall_group_id, merchant_id)
        if receipt.status == ReceiptStatus.REJECTED:
            return receipt
        if receipt.status != ReceiptStatus.PENDING:
            raise ReceiptStateError(_("Only receipts in review can be rejected."))
        receipt.status = ReceiptStatus.REJECTED
        receipt.reject_reason = reason
        receipt.decided_at = timezone.now()
        receipt.decided_by = actor.label[:100]
        _record_decision(receipt, actor=actor, action="receipt.reject", event="rejected", changes={"reason": reason})
        publish("receipt.rejected", member_id=receipt.member_id, receipt_id=receipt.pk)
        return receipt


def receipt_reverse(*, receipt_id: int, mall_group_id: int, reason: str, actor: Actor) -> Receipt:
    """An approved receipt found fraudulent: a full refund of its sale (points back, never below zero)."""
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise ReceiptInvalidError(_("Write why the receipt is reversed."), fields={"reason": _("Write a reason.")})
    with transaction.atomic(durable=True):
        receipt = _decidable(receipt_id, mall_group_id, None)
        if receipt.status == ReceiptStatus.REVERSED:
            return receipt
        if receipt.status != ReceiptStatus.APPROVED or receipt.merchant_id is None:
            raise ReceiptStateError(_("Only approved receipts can be reversed."))
        refund = sale_refund_in_tx(
            merchant_id=receipt.merchant_id,
            pos_sale_id=f"receipt:{receipt.pk}",
            pos_refund_id=f"receipt-reversal:{receipt.pk}",
            lines=None,
        )
        receipt.status = ReceiptStatus.REVERSED
        receipt.reverse_reason = reason
        receipt.reversed_at = timezone.now()
        receipt.reversed_by = actor.label[:100]
        receipt.points_clawed_back = refund.points_clawed_back
        receipt.points_shortfall = refund.points_shortfall
        changes = {
            "reason": reason,
            "refund_id": refund.refund_id,
            "points_clawed_back": refund.points_clawed_back,
            "points_shortfall": refund.points_shortfall,
        }
        _record_decision(receipt, actor=actor, action="receipt.reverse", event="reversed", changes=changes)
        return receipt


def receipts_bulk_approve(
    *, receipt_ids: Iterable[int], mall_group_id: int, actor: Actor
) -> tuple[int, dict[int, str]]:
    """Approve each receipt in its own transaction; (approved count, {id: why not})."""
    approved, errors = 0, {}
    for receipt_id in receipt_ids:
        try:
            receipt_approve(receipt_id=receipt_id, mall_group_id=mall_group_id, actor=actor)
            approved += 1
        except (ReceiptStateError, ReceiptInvalidError, ReceiptRefusedError) as exc:
            errors[receipt_id] = str(exc.message)
        except Exception as exc:  # a pipeline refusal (e.g. the member was erased): reported per row
            errors[receipt_id] = str(getattr(exc, "message", exc))
    return approved, errors


# ---------------------------------------------------------------------------------------------------- notify


def receipt_notify(*, receipt_id: int, event: str) -> None:
    """The member's inbox message for a change (in the mall's default language)."""
    receipt = Receipt.objects.select_related("merchant").get(pk=receipt_id)
    shop = receipt.merchant.name if receipt.merchant else ""
    amount = format_cny(receipt.amount_fen or 0)
    with translation.override(settings.LANGUAGE_CODE):
        if event == "submitted":
            title = _("Receipt received")
            body = _("Your receipt from %(shop)s (%(amount)s) is being reviewed. We will tell you the result.")
        elif event == "approved":
            title = _("Receipt approved")
            body = _("Your receipt from %(shop)s (%(amount)s) is approved: %(points)s points added.")
        elif event == "rejected":
            title = _("Receipt not approved")
            body = _("Your receipt from %(shop)s (%(amount)s) was not approved: %(reason)s")
        else:
            title = _("Receipt points reversed")
            body = _("The points for your receipt from %(shop)s (%(amount)s) were taken back: %(reason)s")
        body = body % {
            "shop": shop,
            "amount": amount,
            "points": receipt.points_earned,
            "reason": receipt.reject_reason or receipt.reverse_reason,
        }
    messaging.inbox_send(
        mall_group_id=receipt.mall_group_id,
        audience=Audience.MEMBER,
        member_id=receipt.member_id,
        title=title,
        body=body,
        actor=Actor.system("receipts"),
    )


# ---------------------------------------------------------------------------------------------------- settings


SETTINGS_FIELDS = (
    "is_enabled",
    "all_merchants",
    "accepted_merchant_ids",
    "auto_approve",
    "auto_approve_max_fen",
    "auto_approve_min_confidence",
    "max_age_days",
    "daily_limit",
    "monthly_limit",
    "merchant_confirmation",
    "retention_days",
    "reject_reasons",
)


def receipt_settings_save(*, mall_group_id: int, values: dict[str, Any], actor: Actor) -> ReceiptSettings:
    with transaction.atomic(durable=True):
        ReceiptSettings.objects.get_or_create(mall_group_id=mall_group_id)
        row = lock_one(ReceiptSettings.objects.filter(mall_group_id=mall_group_id))
        before = {f: getattr(row, f) for f in SETTINGS_FIELDS}
        for key in SETTINGS_FIELDS:
            if key in values:
                setattr(row, key, values[key])
        row.accepted_merchant_ids = sorted({int(i) for i in row.accepted_merchant_ids or []})
        row.save()
        after = {f: getattr(row, f) for f in SETTINGS_FIELDS}
        changes = {k: [str(before[k]), str(after[k])] for k in SETTINGS_FIELDS if before[k] != after[k]}
        audit_record(
            actor=actor,
            action="receipt.settings",
            target_type="receipt_settings",
            target_id=row.pk,
            mall_group_id=mall_group_id,
            changes=changes,
        )
        return row


def receipt_alias_add(*, mall_group_id: int, merchant_id: int, kind: str, value: str, actor: Actor) -> None:
    value = normalise(value) if kind == AliasKind.TAX_NO else normalise_name(value)
    if not value or len(value) > 60 or kind not in AliasKind.values:
        raise ReceiptInvalidError(_("Enter a name or number."), fields={"value": _("Enter a name or number.")})
    if merchant_id not in {pk for pk, _n in selectors.merchant_options(mall_group_id=mall_group_id)}:
        raise ReceiptInvalidError(_("Choose a merchant."), fields={"merchant": _("Choose a merchant.")})
    with transaction.atomic(durable=True):
        ReceiptMerchantAlias.objects.get_or_create(merchant_id=merchant_id, kind=kind, value=value)
        audit_record(
            actor=actor,
            action="receipt.alias_add",
            target_type="merchant",
            target_id=merchant_id,
            mall_group_id=mall_group_id,
            changes={"kind": kind, "value": value},
        )


def receipt_alias_remove(*, mall_group_id: int, alias_id: int, actor: Actor) -> None:
    with transaction.atomic(durable=True):
        alias = ReceiptMerchantAlias.objects.filter(pk=alias_id, merchant__mall__group_id=mall_group_id).first()
        if alias is None:
            return
        alias.delete()
        audit_record(
            actor=actor,
            action="receipt.alias_remove",
            target_type="merchant",
            target_id=alias.merchant_id,
            mall_group_id=mall_group_id,
            changes={"kind": alias.kind, "value": alias.value},
        )


def receipt_block_set(*, mall_group_id: int, member_id: int, blocked: bool, reason: str, actor: Actor) -> None:
    with transaction.atomic(durable=True):
        if blocked:
            ReceiptBlock.objects.get_or_create(
                mall_group_id=mall_group_id,
                member_id=member_id,
                defaults={"reason": reason[:200] or "-", "created_by": actor.label[:100]},
            )
        else:
            ReceiptBlock.objects.filter(mall_group_id=mall_group_id, member_id=member_id).delete()
        audit_record(
            actor=actor,
            action="receipt.block" if blocked else "receipt.unblock",
            target_type="member",
            target_id=member_id,
            mall_group_id=mall_group_id,
            changes={"reason": reason[:200]},
        )


# ---------------------------------------------------------------------------------------------------- retention


def receipt_images_purge(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Delete photos past each group's retention (decided receipts and abandoned drafts); hashes stay."""
    now = now or timezone.now()
    removed = 0
    for group_id in selectors.groups_with_receipts():
        days = selectors.settings_for(mall_group_id=group_id).retention_days
        if not days:
            continue
        while True:
            ids = list(
                selectors.purge_candidates(before=now - dt.timedelta(days=days), mall_group_id=group_id).values_list(
                    "pk", flat=True
                )[:batch]
            )
            if not ids:
                break
            for receipt_id in ids:
                with transaction.atomic(durable=True):
                    receipt = lock_one(Receipt.objects.filter(pk=receipt_id))
                    if receipt.image_name:
                        default_storage.delete(receipt.image_name)
                    receipt.image_name = ""
                    receipt.image_deleted_at = now
                    receipt.save(update_fields=["image_name", "image_deleted_at"])
                    removed += 1
    return removed
