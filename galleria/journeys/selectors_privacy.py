"""Journeys' part of a member's data export (PIPL right of access, docs/privacy.md "Data export").

Registered in settings.GALLERIA_EXPORT_SECTIONS (privacy sits below journeys and calls it by dotted path; the contract
is `audience/selectors_privacy.py`'s). Every automated journey the member entered: which, when and why (the
occurrence), where they are, and each step done for them with its outcome. The messages themselves are under
`sms_messages` and `inbox_messages`; coupons and points under theirs."""

from __future__ import annotations

from typing import Any

from .models import Enrollment, StepRun


def member_export_sections(*, member_id: int, mall_group_id: int) -> dict[str, list[dict[str, Any]]]:
    """The journeys the member entered, oldest first, with their steps: two queries."""
    rows = list(
        Enrollment.objects.filter(member_id=member_id, journey__mall_group_id=mall_group_id)
        .select_related("journey", "version")
        .order_by("entered_at", "pk")
    )
    steps: dict[int, list[dict[str, Any]]] = {}
    for r in StepRun.objects.filter(enrollment_id__in=[e.pk for e in rows]).order_by("at", "pk"):
        steps.setdefault(r.enrollment_id, []).append(
            {"step": r.step, "outcome": r.outcome, "detail": r.detail or None, "at": r.at.isoformat()}
        )
    return {
        "marketing_journeys": [
            {
                "journey": e.journey.name,
                "trigger": e.journey.trigger,
                "occurrence": e.key,
                "version": e.version.number,
                "status": e.status,
                "entered_at": e.entered_at.isoformat(),
                "finished_at": e.finished_at.isoformat() if e.finished_at else None,
                "steps": steps.get(e.pk, []),
            }
            for e in rows
        ]
    }
