from __future__ import annotations

from django.db.models import QuerySet

from .models import Mall, MallGroup


def mall_list(*, mall_group_id: int | None) -> QuerySet[Mall]:
    qs = Mall.objects.select_related("group").order_by("group_id", "id")
    return qs if mall_group_id is None else qs.filter(group_id=mall_group_id)


def mall_for_app(*, code: str | None) -> Mall:
    """The mall a member-app request is for: by code, else the first mall (single-mall installs)."""
    qs = Mall.objects.select_related("group").order_by("id")
    mall = qs.filter(code=code).first() if code else qs.first()
    if mall is None:
        raise Mall.DoesNotExist("no such mall")
    return mall


def mall_group_ids() -> list[int]:
    """Every mall group's id, ascending (nightly jobs run per group)."""
    return list(MallGroup.objects.order_by("pk").values_list("pk", flat=True))
