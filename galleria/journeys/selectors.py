"""Reads of journeys: lists, one journey, its per-step statistics by version, and a member's journeys."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from .exceptions import JourneyNotFoundError
from .models import Enrollment, Journey, JourneyVersion, StepRun
from .rules import flatten
from .types import EnrollmentStatus


def journey_list(*, mall_group_id: int) -> QuerySet[Journey]:
    return Journey.objects.filter(mall_group_id=mall_group_id).select_related("version").order_by("-pk")


def journey_get(*, mall_group_id: int, journey_id: int) -> Journey:
    found = (
        Journey.objects.filter(mall_group_id=mall_group_id, pk=journey_id)
        .select_related("version", "entry_segment")
        .first()
    )
    if found is None:
        raise JourneyNotFoundError()
    return found


def journey_stats(*, journey: Journey) -> dict[str, Any]:
    """Members by status, and for every version (newest first) each step's outcomes and how many wait there."""
    by_status = dict(
        Enrollment.objects.filter(journey=journey).values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    outcomes: dict[int, dict[str, dict[str, int]]] = {}
    for version_id, step, outcome, n in (
        StepRun.objects.filter(version__journey=journey)
        .values("version_id", "step", "outcome")
        .annotate(n=Count("id"))
        .values_list("version_id", "step", "outcome", "n")
    ):
        outcomes.setdefault(version_id, {}).setdefault(step, {})[outcome] = n
    waiting: dict[int, dict[str, int]] = {}
    for version_id, step, n in (
        Enrollment.objects.filter(journey=journey, status=EnrollmentStatus.ACTIVE)
        .values("version_id", "step")
        .annotate(n=Count("id"))
        .values_list("version_id", "step", "n")
    ):
        waiting.setdefault(version_id, {})[step] = n
    entered = dict(
        Enrollment.objects.filter(journey=journey)
        .values("version_id")
        .annotate(n=Count("id"))
        .values_list("version_id", "n")
    )
    versions = []
    for v in JourneyVersion.objects.filter(journey=journey).order_by("-number"):
        steps: dict[str, dict[str, int]] = {}
        for sid in flatten(v.definition):
            steps[sid] = {**outcomes.get(v.pk, {}).get(sid, {}), "waiting": waiting.get(v.pk, {}).get(sid, 0)}
        versions.append(
            {
                "id": v.pk,
                "number": v.number,
                "published_at": v.published_at,
                "published_by": v.published_by,
                "definition": v.definition,
                "entered": entered.get(v.pk, 0),
                "steps": steps,
            }
        )
    return {
        "members": sum(by_status.values()),
        "by_status": {s: by_status.get(s, 0) for s in EnrollmentStatus.values},
        "versions": versions,
    }


def member_journeys(*, member_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The journeys a member entered (newest first) with the steps done: the member page and the privacy export."""
    rows = list(
        Enrollment.objects.filter(member_id=member_id)
        .select_related("journey", "version")
        .order_by("-entered_at", "-pk")[:limit]
    )
    runs: dict[int, list[StepRun]] = {}
    for r in StepRun.objects.filter(enrollment_id__in=[e.pk for e in rows]).order_by("at", "pk"):
        runs.setdefault(r.enrollment_id, []).append(r)
    return [
        {
            "journey_id": e.journey_id,
            "journey": e.journey.name,
            "version": e.version.number,
            "status": e.status,
            "status_label": e.get_status_display(),
            "entered_at": e.entered_at,
            "finished_at": e.finished_at,
            "steps": [(r.step, r.outcome, r.detail, r.at) for r in runs.get(e.pk, [])],
        }
        for e in rows
    ]
