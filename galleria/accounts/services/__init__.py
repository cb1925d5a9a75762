"""Staff accounts: create and update staff (this module), sign-in (`signin`), 2-step sign-in (`two_step`)."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record, diff
from galleria.audit.types import Actor
from galleria.core.errors import ConflictError, PermissionDeniedError, ValidationError
from galleria.core.locking import lock_one
from galleria.merchants.models import Merchant

from ..models import GROUP_ROLES, MERCHANT_ROLES, Role, User
from ..types import Scope

MERCHANT_ASSIGNABLE = {Role.MERCHANT_MANAGER, Role.MERCHANT_CLERK}


def _check_assignable(scope: Scope, role: str, mall_group_id: int | None, merchant_id: int | None) -> None:
    if role not in Role.values:
        raise ValidationError(_("Unknown role."), code="staff.role_invalid", fields={"role": role})
    if scope.is_platform:
        return
    if scope.merchant_id is not None:
        if role not in MERCHANT_ASSIGNABLE or merchant_id != scope.merchant_id:
            raise PermissionDeniedError(_("Merchant owners can add managers and clerks of their own shop only."))
        return
    if role == Role.PLATFORM_ADMIN or mall_group_id != scope.mall_group_id:
        raise PermissionDeniedError(_("You can only manage staff of your own mall group."))


def _scope_fields(role: str, mall_group_id: int | None, merchant_id: int | None) -> tuple[int | None, int | None]:
    if role == Role.PLATFORM_ADMIN:
        return None, None
    if role in GROUP_ROLES:
        if mall_group_id is None:
            raise ValidationError(_("A mall group role needs a mall group."), code="staff.group_required")
        return mall_group_id, None
    if merchant_id is None:
        raise ValidationError(
            _("A merchant role needs a merchant."), code="staff.merchant_required", fields={"merchant": "required"}
        )
    merchant = Merchant.objects.select_related("mall").filter(pk=merchant_id).first()
    if merchant is None:
        raise ValidationError(_("Unknown merchant."), code="staff.merchant_invalid", fields={"merchant": "unknown"})
    return merchant.mall.group_id, merchant_id


def staff_create(
    *,
    scope: Scope,
    actor: Actor,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    mall_group_id: int | None = None,
    merchant_id: int | None = None,
) -> User:
    group_id, merch_id = _scope_fields(role, mall_group_id, merchant_id)
    _check_assignable(scope, role, group_id, merch_id)
    user = User(
        username=username.strip(),
        display_name=display_name.strip(),
        role=role,
        mall_group_id=group_id,
        merchant_id=merch_id,
        is_staff=role == Role.PLATFORM_ADMIN,
    )
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationError(
            " ".join(exc.messages), code="staff.password_weak", fields={"password": " ".join(exc.messages)}
        ) from exc
    user.set_password(password)
    try:
        with transaction.atomic(durable=True):
            user.save()
            audit_record(
                actor=actor,
                action="staff.create",
                target_type="user",
                target_id=user.pk,
                target_label=user.username,
                mall_group_id=group_id,
                changes={"role": [None, role]},
            )
    except IntegrityError as exc:
        raise ConflictError(
            _("This username is taken."), code="staff.username_taken", fields={"username": "taken"}
        ) from exc
    return user


def staff_update(
    *,
    scope: Scope,
    actor: Actor,
    user_id: int,
    role: str,
    display_name: str,
    is_active: bool,
    merchant_id: int | None = None,
) -> User:
    with transaction.atomic(durable=True):
        user = lock_one(User.objects.filter(pk=user_id))
        _check_assignable(scope, user.role, user.mall_group_id, user.merchant_id)  # may touch this user at all
        if user.pk == scope.user_id and (role != user.role or not is_active):
            raise ValidationError(
                _("You cannot change your own role or deactivate yourself."), code="staff.self_change"
            )
        target_merchant = merchant_id if role in MERCHANT_ROLES else None
        if role in MERCHANT_ROLES and target_merchant is None:
            target_merchant = user.merchant_id
        group_id, merch_id = _scope_fields(role, user.mall_group_id or scope.mall_group_id, target_merchant)
        _check_assignable(scope, role, group_id, merch_id)
        before = {
            "role": user.role,
            "display_name": user.display_name,
            "is_active": user.is_active,
            "merchant": user.merchant_id,
        }
        user.role, user.display_name, user.is_active = role, display_name.strip(), is_active
        user.mall_group_id, user.merchant_id = group_id, merch_id
        user.save()
        after = {"role": role, "display_name": user.display_name, "is_active": is_active, "merchant": merch_id}
        audit_record(
            actor=actor,
            action="staff.update",
            target_type="user",
            target_id=user.pk,
            target_label=user.username,
            mall_group_id=group_id,
            changes=diff(before, after),
        )
        return user
