from __future__ import annotations

from django.db.models import QuerySet

from .models import MERCHANT_ROLES, Role, User
from .permissions import ROLE_PERMISSIONS
from .types import Scope


def scope_for_user(user: User) -> Scope:
    role = Role.PLATFORM_ADMIN if user.is_superuser else Role(user.role)
    return Scope(
        user_id=user.pk,
        role=role,
        permissions=ROLE_PERMISSIONS[role] if user.is_active else frozenset(),
        mall_group_id=None if role == Role.PLATFORM_ADMIN else user.mall_group_id,
        merchant_id=user.merchant_id if role in MERCHANT_ROLES else None,
    )


def staff_list(*, scope: Scope, query: str = "") -> QuerySet[User]:
    """Staff the scope may manage: everyone (platform), the group's staff (group admin), the merchant's (owner)."""
    qs = User.objects.select_related("mall_group", "merchant").order_by("username")
    if scope.merchant_id is not None:
        qs = qs.filter(merchant_id=scope.merchant_id)
    elif scope.mall_group_id is not None:
        qs = qs.filter(mall_group_id=scope.mall_group_id)
    if query:
        qs = qs.filter(username__icontains=query[:50]) | qs.filter(display_name__icontains=query[:50])
    return qs
