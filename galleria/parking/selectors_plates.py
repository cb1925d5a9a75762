"""Reads of plate claims (docs/parking.md, "Plates verified once"): the service desk's review queue, one claim
with what the reviewer must weigh (who holds the plate now, other claims of it), the member's own claims."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db.models import Count, Min, QuerySet

from galleria.members.selectors import member_plate_bindings, plate_binding
from galleria.members.types import PlateBinding

from .models import PlateClaim
from .types import ClaimStatus


def plate_claims(
    *, mall_group_id: int | None, status: str = ClaimStatus.PENDING, plate: str = ""
) -> QuerySet[PlateClaim]:
    """The queue: oldest first while waiting (first come, first served), newest first once decided."""
    claims = PlateClaim.objects.select_related("member")
    if mall_group_id is not None:
        claims = claims.filter(mall_group_id=mall_group_id)
    if status != "all":
        claims = claims.filter(status=status)
    if plate:
        claims = claims.filter(plate__contains=plate)
    return (
        claims.order_by("created_at", "pk") if status == ClaimStatus.PENDING else claims.order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class QueueCounts:
    pending: int
    oldest_pending_at: dt.datetime | None
    conflicts: int  # waiting claims of a plate bound to another member


def plate_claim_counts(*, mall_group_id: int | None) -> QueueCounts:
    claims = PlateClaim.objects.filter(status=ClaimStatus.PENDING)
    if mall_group_id is not None:
        claims = claims.filter(mall_group_id=mall_group_id)
    agg = claims.aggregate(n=Count("pk"), oldest=Min("created_at"))
    conflicts = 0
    for claim in claims.order_by("pk")[:200]:  # the queue is short; a plate held by another member is a flag
        holder = plate_binding(mall_group_id=claim.mall_group_id, plate=claim.plate)
        conflicts += holder is not None and holder.member_id != claim.member_id
    return QueueCounts(pending=agg["n"] or 0, oldest_pending_at=agg["oldest"], conflicts=conflicts)


def plate_claim_get(*, claim_id: int, mall_group_id: int | None) -> PlateClaim | None:
    claims = PlateClaim.objects.select_related("member").filter(pk=claim_id)
    if mall_group_id is not None:
        claims = claims.filter(mall_group_id=mall_group_id)
    return claims.first()


@dataclass(frozen=True)
class ClaimReview:
    """What the reviewer weighs besides the photo."""

    claim: PlateClaim
    holder: PlateBinding | None  # who holds the plate now (None: nobody)
    held_by_claimant: bool
    held_by_other: bool
    other_claims: int  # other members' claims of the same plate still waiting
    claimant_plates: int  # plates bound to the claimant now (at most 5)


def plate_claim_review(*, claim: PlateClaim) -> ClaimReview:
    holder = plate_binding(mall_group_id=claim.mall_group_id, plate=claim.plate)
    others = (
        PlateClaim.objects.filter(mall_group_id=claim.mall_group_id, plate=claim.plate, status=ClaimStatus.PENDING)
        .exclude(pk=claim.pk)
        .count()
    )
    return ClaimReview(
        claim=claim,
        holder=holder,
        held_by_claimant=holder is not None and holder.member_id == claim.member_id,
        held_by_other=holder is not None and holder.member_id != claim.member_id,
        other_claims=others,
        claimant_plates=len(member_plate_bindings(member_id=claim.member_id)),
    )


def plate_claim_photo(*, claim: PlateClaim) -> bytes | None:
    """The stored photo, or None once it was deleted (the claim decided)."""
    if not claim.image_name:
        return None
    try:
        with default_storage.open(claim.image_name, "rb") as fh:
            return bytes(fh.read())
    except OSError:
        return None


def member_plate_claims(*, member_id: int, limit: int = 20) -> list[PlateClaim]:
    """The member's claims, newest first (waiting ones and the recent answers)."""
    return list(PlateClaim.objects.filter(member_id=member_id).order_by("-created_at", "-pk")[:limit])


def member_waiting_plates(*, member_id: int) -> set[str]:
    return set(
        PlateClaim.objects.filter(member_id=member_id, status=ClaimStatus.PENDING).values_list("plate", flat=True)
    )


__all__ = [
    "ClaimReview",
    "QueueCounts",
    "member_plate_claims",
    "member_waiting_plates",
    "plate_claim_counts",
    "plate_claim_get",
    "plate_claim_photo",
    "plate_claim_review",
    "plate_claims",
]
