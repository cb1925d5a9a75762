from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from . import rules
from .models import MERCHANT_ROLES, RecoveryCode, Role, TwoStepDevice, User
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


# ---------------------------------------------------------------- 2-step sign-in


def two_step_key() -> str:
    """The key that seals TOTP secrets and keys recovery-code hashes (`GALLERIA_TWO_STEP_KEY`, else SECRET_KEY)."""
    return str(getattr(settings, "GALLERIA_TWO_STEP_KEY", "") or settings.SECRET_KEY)


def two_step_enabled(*, user_id: int) -> bool:
    return TwoStepDevice.objects.filter(user_id=user_id, confirmed_at__isnull=False).exists()


def two_step_pending_secret(*, user_id: int) -> str | None:
    """The secret of a set-up not yet confirmed (drawn as a QR code); None once confirmed or when there is none."""
    device = TwoStepDevice.objects.filter(user_id=user_id, confirmed_at__isnull=True).first()
    if device is None:
        return None
    try:
        return rules.unseal(device.secret_sealed, key=two_step_key())
    except ValueError:
        return None  # sealed with a key no longer configured: "Set up" starts again


def two_step_required(user: User) -> bool:
    """Whether policy requires 2-step sign-in of this user: `GALLERIA_TWO_STEP_REQUIRED` lists roles, or "all"."""
    required = {str(r).strip() for r in getattr(settings, "GALLERIA_TWO_STEP_REQUIRED", []) if str(r).strip()}
    if not required:
        return False
    role = Role.PLATFORM_ADMIN if user.is_superuser else user.role
    return "all" in required or role in required


def recovery_codes_left(*, user_id: int) -> int:
    return RecoveryCode.objects.filter(user_id=user_id, used_at__isnull=True).count()
