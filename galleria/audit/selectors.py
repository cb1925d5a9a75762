from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from .models import AuditEvent, PiiAccess


def audit_list(
    *, mall_group_id: int | None, target_type: str | None = None, target_id: object | None = None
) -> QuerySet[AuditEvent]:
    """Events in a group (None = every group: platform admins)."""
    qs = AuditEvent.objects.select_related("actor").order_by("-at", "-id")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if target_id is not None:
        qs = qs.filter(target_id=str(target_id))
    return qs


def audit_search(
    *,
    mall_group_id: int | None,
    action: str = "",
    actor: str = "",
    target_type: str = "",
    target: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The console's audit log: events in a group filtered by action (exact or "prefix.*"), actor (name fragment),
    object type, object (its id, or a fragment of its label) and a [since, until) time range. Newest first."""
    qs = audit_list(mall_group_id=mall_group_id, target_type=(target_type or "").strip()[:40] or None)
    action = (action or "").strip()[:60]
    if action.endswith(".*"):
        qs = qs.filter(action__startswith=action[:-1])
    elif action:
        qs = qs.filter(action=action)
    actor = (actor or "").strip()[:100]
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    target = (target or "").strip()[:150]
    if target:
        qs = qs.filter(Q(target_id=target.lstrip("#")) | Q(target_label__icontains=target))
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    return qs


def audit_action_names(*, mall_group_id: int | None) -> list[str]:
    """The distinct actions recorded in a group, for a filter menu."""
    qs = AuditEvent.objects.order_by("action")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return list(qs.values_list("action", flat=True).distinct())


def audit_target_types(*, mall_group_id: int | None) -> list[str]:
    """The distinct object types recorded in a group, for a filter menu."""
    qs = AuditEvent.objects.order_by("target_type")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return [t for t in qs.values_list("target_type", flat=True).distinct() if t]


def pii_access_search(
    *,
    mall_group_id: int | None,
    actor: str = "",
    member_id: int | None = None,
    date_from: dt.datetime | None = None,
    date_to: dt.datetime | None = None,
) -> QuerySet[PiiAccess]:
    """Who was shown whose unmasked personal data: filter by staff user (name fragment), member id and an
    [from, to) time range. Newest first."""
    qs = PiiAccess.objects.order_by("-at", "-id")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    actor = (actor or "").strip()[:100]
    if actor:
        qs = qs.filter(Q(actor_label__icontains=actor) | Q(actor__username__iexact=actor))
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    if date_from is not None:
        qs = qs.filter(at__gte=date_from)
    if date_to is not None:
        qs = qs.filter(at__lt=date_to)
    return qs
