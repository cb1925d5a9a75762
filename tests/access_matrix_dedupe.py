"""Access matrix entries of the dedupe area (merged into MATRIX by tests/access_matrix.py).

Nothing here changes the evidence world: the merge POSTs are refused by validation (no survivor chosen / a member
into itself), the undo POSTs name a merge that is already undone, a dismissal or report only records a decision, and
showing a pair's full phones only writes the audit and access logs."""

from __future__ import annotations

from typing import Any

from .access_matrix import (
    ROOT,
    Entry,
    action,
    api_console,
    console,
    op,
    page,
    problem,
    r,
)
from .evidence_world import EvidenceWorld

MERGERS = {"admin", "service", ROOT}  # members.merge


def _undone_merge(ew: EvidenceWorld) -> Any:
    from django.utils import timezone

    from galleria.dedupe.models import MergeRecord, MergeStatus

    record, _created = MergeRecord.objects.get_or_create(
        mall_group=ew.world.group,
        survivor=ew.member,
        absorbed=ew.other_member,
        status=MergeStatus.UNDONE,
        defaults={"merged_at": timezone.now(), "undone_at": timezone.now(), "actor_label": "evidence"},
    )
    return record


member_a = lambda ew: ew.member.pk  # noqa: E731
member_b = lambda ew: ew.other_member.pk  # noqa: E731
merge_id = lambda ew: _undone_merge(ew).pk  # noqa: E731

MATRIX_DEDUPE: dict[str, Entry] = {
    "console:duplicates": page(console(MERGERS))(r("console:duplicates")),
    "console:duplicate_pair": page(console(MERGERS, scoped=True), post=console(MERGERS, scoped=True))(
        r("console:duplicate_pair", member_a, member_b)
    ),
    "console:duplicate_phones": action(
        console(MERGERS, scoped=True), note="every role that may merge may also see personal data (audited)"
    )(r("console:duplicate_phones", member_a, member_b)),
    "console:duplicate_merge": action(console(MERGERS, scoped=True), data=lambda ew: {"survivor": ""})(
        r("console:duplicate_merge", member_a, member_b)
    ),
    "console:duplicate_dismiss": action(console(MERGERS, scoped=True), data=lambda ew: {"note": "matrix"})(
        r("console:duplicate_dismiss", member_a, member_b)
    ),
    "console:merges": page(console(MERGERS))(r("console:merges")),
    "console:merge_detail": page(console(MERGERS, scoped=True))(r("console:merge_detail", merge_id)),
    "console:merge_undo": action(console(MERGERS, scoped=True))(r("console:merge_undo", merge_id)),
    "api:GET /console/duplicates": op(
        "GET",
        {**api_console(MERGERS), ROOT: problem(404, "dedupe.group_required")},
        note="platform admins act inside a group (console); the API answers for the caller's group",
    )(lambda ew: "/api/v1/console/duplicates"),
    "api:POST /console/duplicates/reports": op(
        "POST",
        api_console(MERGERS, foreign=problem(404, "dedupe.member_not_found")),
        body=lambda ew: {"member_a": ew.member.pk, "member_b": ew.other_member.pk, "note": "matrix"},
    )(lambda ew: "/api/v1/console/duplicates/reports"),
    "api:POST /console/merges": op(
        "POST",
        api_console(MERGERS, foreign=problem(422, "dedupe.same_member")),
        body=lambda ew: {"survivor_id": ew.member.pk, "absorbed_id": ew.member.pk},
        note="refused before anything is read: a member into itself",
    )(lambda ew: "/api/v1/console/merges"),
    "api:GET /console/merges/{merge_id}": op(
        "GET", api_console(MERGERS, foreign=problem(404, "dedupe.merge_not_found"))
    )(lambda ew: f"/api/v1/console/merges/{merge_id(ew)}"),
    "api:POST /console/merges/{merge_id}/undo": op(
        "POST", api_console(MERGERS, foreign=problem(404, "dedupe.merge_not_found"))
    )(lambda ew: f"/api/v1/console/merges/{merge_id(ew)}/undo"),
}
