"""API credential reads: a member's devices, staff tokens, and the bearer lookups (one index probe each)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from . import rules
from .models import MemberDevice, StaffApiToken
from .types import StaffTokenAuth


def member_devices(*, member_id: int) -> QuerySet[MemberDevice]:
    """The member's signed-in devices (not revoked, refresh still valid), most recently used first."""
    return MemberDevice.objects.filter(
        member_id=member_id, revoked_at__isnull=True, refresh_expires_at__gt=timezone.now()
    ).order_by("-last_used_at", "-pk")


def device_for_access(*, token: str) -> MemberDevice | None:
    """The live device of a bearer access token, or None (unknown, expired, revoked)."""
    if not token.startswith(rules.ACCESS_PREFIX):
        return None
    return MemberDevice.objects.filter(
        access_hash=rules.token_hash(token), revoked_at__isnull=True, access_expires_at__gt=timezone.now()
    ).first()


def staff_tokens(*, mall_group_id: int | None) -> QuerySet[StaffApiToken]:
    qs = StaffApiToken.objects.select_related("user").order_by("-created_at", "-pk")
    return qs if mall_group_id is None else qs.filter(mall_group_id=mall_group_id)


def staff_token_get(*, mall_group_id: int | None, token_id: int) -> StaffApiToken | None:
    return staff_tokens(mall_group_id=mall_group_id).filter(pk=token_id).first()


def staff_token_auth(*, token: str) -> StaffTokenAuth | None:
    if not token.startswith(rules.STAFF_PREFIX):
        return None
    row = (
        StaffApiToken.objects.filter(
            token_hash=rules.token_hash(token), revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        .values_list("pk", "user_id", "scopes")
        .first()
    )
    if row is None:
        return None
    return StaffTokenAuth(token_id=row[0], user_id=row[1], scopes=frozenset(row[2]))
