from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditEvent


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
