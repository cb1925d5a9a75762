"""Plates verified once (docs/parking.md, "Plates verified once").

A member binds a plate by typing it (members app); that is enough to see the car's stay and use the member's
benefits. To prove the car is theirs — needed for the frictionless exit, which charges the wallet whenever the
camera reads the plate, and to take a plate someone else bound — the member either shows the vehicle licence
(行驶证) at the service desk (`plate_verify_at_desk`) or sends its photo from the app (`plate_claim_submit`), which
the service desk reviews (`plate_claim_decide`). Verification happens once per binding: a verified plate cannot be
taken by another member except through another reviewed proof, and its owner is told.

The photo shows the owner's name and address: it is re-encoded without EXIF/GPS on arrival, read in the background
for a hint (does the plate appear in its text — never a decision), and deleted as soon as the claim is decided,
withdrawn, expires unreviewed (`plate_claims_expire`, 14 days) or the member is erased. The decision stays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError, NotFoundError, ValidationError
from galleria.core.locking import lock_one, lock_rows
from galleria.core.tasks import enqueue
from galleria.members import exceptions as member_errors
from galleria.members.selectors import plate_binding
from galleria.members.services import plate_verify_in_tx
from galleria.members.types import PlateVerified, PlateVerifiedVia
from galleria.messaging import services as messaging
from galleria.messaging.types import Audience
from galleria.receipts import conf as photo_conf
from galleria.receipts.exceptions import ReceiptImageInvalidError
from galleria.receipts.images import clean_upload
from galleria.receipts.ocr import OcrTimeoutError, read_with_timeout

from . import rules
from .models import PlateClaim
from .services import plate_or_error
from .types import ClaimStatus

READ_TASK = "galleria.parking.tasks.plate_claim_read_task"
CLAIM_EXPIRE_DAYS = 14
MAX_PENDING_PER_MEMBER = 5
STORAGE_PREFIX = "plate-claims"
STORED_MAX_SIDE = 2000


class ClaimPhotoError(ValidationError):
    code = "parking.claim_photo_invalid"


class ClaimPendingError(ConflictError):
    code = "parking.claim_pending"

    def default_message(self) -> str:
        return str(_("Your photo of this plate's vehicle licence is already waiting for review."))


class ClaimLimitError(ValidationError):
    code = "parking.claim_limit"

    def default_message(self) -> str:
        return str(_("You have 5 photos waiting for review; wait for the answer before sending more."))


class ClaimNotFoundError(NotFoundError):
    code = "parking.claim_not_found"

    def default_message(self) -> str:
        return str(_("No such plate claim."))


class ClaimDecidedError(ConflictError):
    code = "parking.claim_decided"

    def default_message(self) -> str:
        return str(_("This claim was already decided."))


class ClaimReasonError(ValidationError):
    code = "parking.claim_reason_required"

    def default_message(self) -> str:
        return str(_("Say why the photo is not accepted: the member reads it."))


@dataclass(frozen=True)
class DeskVerification:
    verified: PlateVerified
    claims_closed: int  # the member's pending photo claims of this plate, now approved by the desk check


def plate_claim_submit(*, mall_group_id: int, member_id: int, plate: str, photo: bytes, actor: Actor) -> PlateClaim:
    """The member sends a photo of the vehicle licence for `plate` (bound to them, to nobody, or to someone
    else). Refused with a clear message, nothing stored: a bad plate, a bad photo, a plate already verified as
    theirs, a claim of this plate already waiting, more than 5 waiting."""
    clean_plate = plate_or_error(plate)
    binding = plate_binding(mall_group_id=mall_group_id, plate=clean_plate)
    if binding is not None and binding.member_id == member_id and binding.is_verified:
        raise member_errors.PlateVerifiedError()
    try:
        image = clean_upload(
            photo,
            max_bytes=photo_conf.max_upload_bytes(),
            max_pixels=photo_conf.max_pixels(),
            max_side=STORED_MAX_SIDE,
        )
    except ReceiptImageInvalidError as exc:
        raise ClaimPhotoError(str(exc.message), fields={"photo": str(exc.message)}) from exc
    elsewhere = binding is not None and binding.member_id != member_id
    now = timeutil.now()
    name = default_storage.save(
        f"{STORAGE_PREFIX}/{mall_group_id}/{now:%Y/%m}/{uuid.uuid4().hex}.jpg", ContentFile(image.data)
    )
    try:
        with transaction.atomic(durable=True):
            pending = PlateClaim.objects.filter(member_id=member_id, status=ClaimStatus.PENDING)
            if pending.count() >= MAX_PENDING_PER_MEMBER:
                raise ClaimLimitError()
            try:
                with transaction.atomic():
                    claim = PlateClaim.objects.create(
                        mall_group_id=mall_group_id,
                        member_id=member_id,
                        plate=clean_plate,
                        created_at=now,
                        image_name=name,
                        image_sha256=hashlib.sha256(image.data).hexdigest(),
                    )
            except IntegrityError as exc:
                raise ClaimPendingError() from exc
            audit_record(
                actor=actor,
                action="parking.plate_claim",
                target_type="member",
                target_id=member_id,
                mall_group_id=mall_group_id,
                changes={"claim": claim.pk, "plate": clean_plate, "bound_elsewhere": elsewhere},
            )
            transaction.on_commit(lambda: enqueue(READ_TASK, claim_id=claim.pk))
    except BaseException:
        default_storage.delete(name)
        raise
    return claim


def plate_claim_read(*, claim_id: int) -> PlateClaim | None:
    """The background read: does the plate appear in the photo's text? A hint for the reviewer only. An engine
    that fails or times out leaves the hint empty (the reviewer reads the photo anyway)."""
    claim = PlateClaim.objects.filter(pk=claim_id, status=ClaimStatus.PENDING).first()
    if claim is None or not claim.image_name or claim.ocr_done:
        return claim
    try:
        with default_storage.open(claim.image_name, "rb") as fh:
            data = fh.read()
        text = " ".join(line.text for line in read_with_timeout(data))
        seen: bool | None = rules.plate_in_text(claim.plate, text)
    except (OSError, OcrTimeoutError, RuntimeError, ValueError):
        seen = None
    PlateClaim.objects.filter(pk=claim.pk, ocr_done=False).update(ocr_done=True, ocr_plate_seen=seen)
    claim.refresh_from_db()
    return claim


def plate_claim_decide(
    *, claim_id: int, mall_group_id: int, approve: bool, reason: str = "", actor: Actor
) -> PlateClaim:
    """The service desk's decision on a photo. Approving verifies the plate for the member (moving it from anyone
    who held it: they are told); refusing needs a reason, which the member reads. Either way the photo is deleted.
    A claim is decided once: a second click, or two reviewers at once, find it decided."""
    reason = " ".join((reason or "").split())[:200]
    if not approve and not reason:
        raise ClaimReasonError(fields={"reason": ClaimReasonError().message})
    now = timeutil.now()
    verified: PlateVerified | None = None
    with transaction.atomic(durable=True):
        claim = _locked(PlateClaim.objects.filter(pk=claim_id, mall_group_id=mall_group_id))
        if claim.status != ClaimStatus.PENDING:
            raise ClaimDecidedError()
        if approve:
            try:
                verified = plate_verify_in_tx(
                    mall_group_id=mall_group_id,
                    member_id=claim.member_id,
                    plate=claim.plate,
                    via=PlateVerifiedVia.DOCUMENT,
                    actor=actor,
                    at=now,
                )
            except member_errors.PlateVerifiedError:
                verified = None  # verified at the desk meanwhile: the photo only confirms it
        _close(claim, ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED, now=now, actor=actor, reason=reason)
        audit_record(
            actor=actor,
            action="parking.plate_claim_approve" if approve else "parking.plate_claim_reject",
            target_type="member",
            target_id=claim.member_id,
            mall_group_id=mall_group_id,
            changes={"claim": claim.pk, "plate": claim.plate, "reason": reason},
        )
        transaction.on_commit(lambda: _tell_claimant(claim, mall_group_id=mall_group_id))
        if verified is not None and verified.previous_member_id is not None:
            moved = verified
            transaction.on_commit(lambda: _tell_previous(moved, mall_group_id=mall_group_id))
    return claim


def plate_verify_at_desk(*, mall_group_id: int, member_id: int, plate: str, actor: Actor) -> DeskVerification:
    """Staff saw the vehicle licence: the plate is verified for the member now (bound first if it was not; moved
    from anyone who held it, who is told). The member's photo claims of this plate still waiting are closed as
    approved, their photos deleted."""
    clean_plate = plate_or_error(plate)
    now = timeutil.now()
    with transaction.atomic(durable=True):
        verified = plate_verify_in_tx(
            mall_group_id=mall_group_id,
            member_id=member_id,
            plate=clean_plate,
            via=PlateVerifiedVia.DESK,
            actor=actor,
            at=now,
        )
        waiting = PlateClaim.objects.filter(member_id=member_id, plate=clean_plate, status=ClaimStatus.PENDING)
        closed = 0
        for claim in waiting:
            _close(claim, ClaimStatus.APPROVED, now=now, actor=actor, reason=gettext("Verified at the service desk."))
            closed += 1
        if verified.previous_member_id is not None:
            transaction.on_commit(lambda: _tell_previous(verified, mall_group_id=mall_group_id))
    return DeskVerification(verified=verified, claims_closed=closed)


def plate_claim_withdraw(*, claim_id: int, member_id: int, actor: Actor) -> PlateClaim:
    """The member takes back a photo still waiting (wrong picture, sold the car): the photo is deleted."""
    with transaction.atomic(durable=True):
        claim = _locked(PlateClaim.objects.filter(pk=claim_id, member_id=member_id))
        if claim.status != ClaimStatus.PENDING:
            raise ClaimDecidedError()
        _close(claim, ClaimStatus.WITHDRAWN, now=timeutil.now(), actor=actor, reason="")
        audit_record(
            actor=actor,
            action="parking.plate_claim_withdraw",
            target_type="member",
            target_id=member_id,
            mall_group_id=claim.mall_group_id,
            changes={"claim": claim.pk, "plate": claim.plate},
        )
    return claim


def plate_claims_expire(*, now: dt.datetime | None = None, days: int = CLAIM_EXPIRE_DAYS, batch: int = 500) -> int:
    """The nightly job: claims left unreviewed for `days` expire and their photos are deleted (the member may send
    a new one). Returns how many."""
    cutoff = (now or timeutil.now()) - dt.timedelta(days=days)
    done = 0
    while True:
        with transaction.atomic(durable=True):
            ids = list(
                PlateClaim.objects.filter(status=ClaimStatus.PENDING, created_at__lt=cutoff).values_list(
                    "pk", flat=True
                )[:batch]
            )
            claims = PlateClaim.objects.filter(pk__in=ids, status=ClaimStatus.PENDING)
            for claim in lock_rows(claims, skip_locked=True):
                _close(claim, ClaimStatus.EXPIRED, now=now or timeutil.now(), actor=Actor.system("parking"), reason="")
                done += 1
        if len(ids) < batch:
            return done


def member_erase_in_tx(*, member_id: int, mall_group_id: int, phone: str, values: list[str]) -> int:
    """Erasure (settings.GALLERIA_ERASURE_HANDLERS): the member's vehicle licence photos are deleted and waiting
    claims withdrawn. Returns how many photos."""
    photos = 0
    for claim in PlateClaim.objects.filter(member_id=member_id).exclude(image_name="").order_by("pk"):
        status = ClaimStatus.WITHDRAWN if claim.status == ClaimStatus.PENDING else claim.status
        _close(claim, status, now=timeutil.now(), actor=Actor.system("privacy"), reason=claim.reason)
        photos += 1
    return photos


def _locked(claims: QuerySet[PlateClaim]) -> PlateClaim:
    try:
        return lock_one(claims)
    except PlateClaim.DoesNotExist:
        raise ClaimNotFoundError() from None


def _close(claim: PlateClaim, status: str, *, now: dt.datetime, actor: Actor, reason: str) -> None:
    """Decide the claim and delete its photo once the decision commits (a rollback keeps both)."""
    name = claim.image_name
    claim.status = status
    claim.decided_at = now
    claim.decided_by = actor.label[:100]
    claim.reason = reason
    claim.image_name = ""
    claim.image_deleted_at = now if name else claim.image_deleted_at
    claim.save(update_fields=["status", "decided_at", "decided_by", "reason", "image_name", "image_deleted_at"])
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


def _tell_claimant(claim: PlateClaim, *, mall_group_id: int) -> None:
    if claim.status == ClaimStatus.APPROVED:
        title = gettext("Plate %(plate)s is verified") % {"plate": claim.plate}
        body = gettext(
            "Your vehicle licence was checked: %(plate)s is verified as yours. You can turn on the frictionless exit."
        ) % {"plate": claim.plate}
    else:
        title = gettext("Plate %(plate)s: photo not accepted") % {"plate": claim.plate}
        body = gettext("Your vehicle licence photo for %(plate)s was not accepted: %(reason)s") % {
            "plate": claim.plate,
            "reason": claim.reason,
        }
    messaging.inbox_send(
        mall_group_id=mall_group_id,
        audience=Audience.MEMBER,
        member_id=claim.member_id,
        title=title[:60],
        body=body,
        actor=Actor.system("parking"),
    )


def _tell_previous(verified: PlateVerified, *, mall_group_id: int) -> None:
    plate = verified.binding.plate
    messaging.inbox_send(
        mall_group_id=mall_group_id,
        audience=Audience.MEMBER,
        member_id=verified.previous_member_id,
        title=(gettext("Plate %(plate)s was removed from your membership") % {"plate": plate})[:60],
        body=gettext(
            "Another member proved with the vehicle licence that %(plate)s is their car, so it is no longer bound to "
            "your membership. If this is a mistake, please contact the service desk."
        )
        % {"plate": plate},
        actor=Actor.system("parking"),
    )
