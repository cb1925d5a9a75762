"""Console staff API of the dedupe area (mounted at /api/v1/console): duplicate candidates, report a suspected pair,
merge (naturally idempotent: the same pair into the same survivor returns the existing merge, 200 instead of 201)
and un-merge. Permission `members.merge`; members of another mall group are 404. Errors are problem+json with the
stable codes of docs/merge.md."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from galleria.accounts import permissions as perms
from galleria.core.errors import NotFoundError
from galleria.dedupe import rules as dedupe_rules
from galleria.dedupe import selectors as dedupe_selectors
from galleria.dedupe import services as dedupe_services
from galleria.dedupe.models import MergeRecord

from ..common import actor_for
from .auth import staff_auth
from .schemas import NO_NUL
from .staff import ERRORS, _scope

router = Router(tags=["console"], auth=staff_auth)
ID_MAX = 2**62
MemberId = Annotated[int, Field(gt=0, lt=ID_MAX)]
Note = Annotated[str, StringConstraints(max_length=200, strip_whitespace=True, pattern=NO_NUL)]


class CandidateOut(Schema):
    member_a: int
    member_b: int
    score: int
    evidence: list[str]
    group_id: int
    group_size: int


class CandidatePage(Schema):
    count: int
    results: list[CandidateOut]


class CandidateQuery(Schema):
    kind: str = Field("", max_length=20, pattern=NO_NUL, description="only pairs with this evidence kind")
    offset: int = Field(0, ge=0, le=1_000_000)
    limit: int = Field(25, ge=1, le=100)


class PairIn(Schema):
    member_a: MemberId
    member_b: MemberId
    note: Note = ""


class PairOut(Schema):
    member_a: int
    member_b: int
    kind: str
    note: str
    created: bool


class MergeIn(Schema):
    survivor_id: MemberId
    absorbed_id: MemberId


class MergeOut(Schema):
    id: int
    survivor_id: int
    absorbed_id: int
    status: str
    merged_at: dt.datetime
    undone_at: dt.datetime | None
    points: int
    wallet_principal_fen: int
    wallet_bonus_fen: int
    rows: dict[str, int]


def _merge_out(record: MergeRecord) -> MergeOut:
    return MergeOut(
        id=record.pk,
        survivor_id=record.survivor_id,
        absorbed_id=record.absorbed_id,
        status=record.status,
        merged_at=record.merged_at,
        undone_at=record.undone_at,
        points=int(record.amounts.get("member_points", 0)),
        wallet_principal_fen=int(record.amounts.get("member_wallet", 0)),
        wallet_bonus_fen=int(record.amounts.get("member_wallet_bonus", 0)),
        rows={label: len(ids) for label, ids in record.moved.get("rows", {}).items()},
    )


@router.get("/duplicates", response={200: CandidatePage, **ERRORS})
def duplicates_list(request: HttpRequest, filters: Query[CandidateQuery]) -> CandidatePage:
    """Likely duplicate pairs of the caller's mall group, highest score first (platform admins: not available,
    403 — they act inside a group in the console)."""
    scope = _scope(request, perms.MEMBERS_MERGE)
    if scope.mall_group_id is None:
        raise NotFoundError(code="dedupe.group_required")
    kind = filters.kind if filters.kind in dedupe_rules.WEIGHTS else ""
    pairs = dedupe_selectors.duplicate_candidates(mall_group_id=scope.mall_group_id, kind=kind)
    window = pairs[filters.offset : filters.offset + filters.limit]
    return CandidatePage(
        count=len(pairs),
        results=[
            CandidateOut(
                member_a=p.low_id,
                member_b=p.high_id,
                score=p.score,
                evidence=list(p.kinds),
                group_id=p.group_id,
                group_size=p.group_size,
            )
            for p in window
        ],
    )


@router.post("/duplicates/reports", response={200: PairOut, 201: PairOut, **ERRORS})
def duplicate_report(request: HttpRequest, payload: PairIn) -> Status:
    """Report a suspected duplicate pair with a note; it joins the report as evidence. Reporting it again returns
    the first report (200)."""
    scope = _scope(request, perms.MEMBERS_MERGE)
    mark, created = dedupe_services.pair_report(
        mall_group_id=scope.mall_group_id,
        a_id=payload.member_a,
        b_id=payload.member_b,
        note=payload.note,
        actor=actor_for(request),
    )
    out = PairOut(
        member_a=mark.member_low_id, member_b=mark.member_high_id, kind=mark.kind, note=mark.note, created=created
    )
    return Status(201 if created else 200, out)


@router.post("/merges", response={200: MergeOut, 201: MergeOut, **ERRORS})
def merge_create(request: HttpRequest, payload: MergeIn) -> Status:
    """Merge `absorbed_id` into `survivor_id`, all or nothing. Merging an already merged pair into the same
    survivor returns the existing merge (200)."""
    scope = _scope(request, perms.MEMBERS_MERGE)
    record, created = dedupe_services.member_merge(
        mall_group_id=scope.mall_group_id,
        survivor_id=payload.survivor_id,
        absorbed_id=payload.absorbed_id,
        actor=actor_for(request),
    )
    return Status(201 if created else 200, _merge_out(record))


@router.get("/merges/{merge_id}", response={200: MergeOut, **ERRORS})
def merge_detail(request: HttpRequest, merge_id: int) -> MergeOut:
    scope = _scope(request, perms.MEMBERS_MERGE)
    if not 0 < merge_id < ID_MAX:
        raise NotFoundError(code="dedupe.merge_not_found")
    try:
        record = dedupe_selectors.merge_get(mall_group_id=scope.mall_group_id, merge_id=merge_id)
    except MergeRecord.DoesNotExist as exc:
        raise NotFoundError(code="dedupe.merge_not_found") from exc
    return _merge_out(record)


@router.post("/merges/{merge_id}/undo", response={200: MergeOut, **ERRORS})
def merge_undo(request: HttpRequest, merge_id: int) -> MergeOut:
    """Un-merge within GALLERIA_MERGE_UNDO_DAYS while nothing on the survivor depends on the merge (409 with a
    `dedupe.undo_*` code otherwise)."""
    scope = _scope(request, perms.MEMBERS_MERGE)
    if not 0 < merge_id < ID_MAX:
        raise NotFoundError(code="dedupe.merge_not_found")
    record = dedupe_services.member_unmerge(
        mall_group_id=scope.mall_group_id, merge_id=merge_id, actor=actor_for(request)
    )
    return _merge_out(record)
