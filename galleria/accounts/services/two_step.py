"""2-step sign-in (TOTP) of staff: set up, confirm, turn off, new recovery codes, and a colleague's reset.

The secret is sealed with `selectors.two_step_key()` and is only ever returned while the set-up is unconfirmed
(to draw the QR code); once a code confirms it, nothing returns it again. Recovery codes are returned once, by the
call that creates them, and stored as keyed hashes.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from galleria.core.locking import lock_one, lock_rows

from .. import permissions as perms
from .. import rules
from ..exceptions import TwoStepInvalidError, TwoStepStateError
from ..models import LoginThrottle, RecoveryCode, ThrottleKind, TwoStepDevice, User
from ..selectors import staff_list, two_step_key
from ..types import Scope
from .signin import signin_second_step


def _audit(*, actor: Actor, action: str, user: User, changes: dict[str, object] | None = None) -> None:
    audit_record(
        actor=actor,
        action=action,
        target_type="user",
        target_id=user.pk,
        target_label=user.username,
        mall_group_id=user.mall_group_id,
        changes=changes,
    )


def _new_recovery_codes_in_tx(user: User) -> list[str]:
    codes = rules.recovery_codes_new()
    key = two_step_key()
    RecoveryCode.objects.filter(user_id=user.pk).delete()
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user_id=user.pk, code_hash=rules.recovery_hash(key=key, code=code)) for code in codes]
    )
    return codes


def two_step_begin(*, user: User) -> str:
    """Start (or continue) setting up: the secret to show as a QR code. Refused once 2-step is on."""
    with transaction.atomic(durable=True):
        lock_rows(User.objects.filter(pk=user.pk))  # one set-up at a time per user
        device = TwoStepDevice.objects.filter(user_id=user.pk).first()
        if device is not None and device.confirmed_at is not None:
            raise TwoStepStateError()
        if device is not None:
            try:
                return rules.unseal(device.secret_sealed, key=two_step_key())
            except ValueError:
                device.delete()  # sealed with a key no longer configured: start again
        secret = rules.totp_new_secret()
        TwoStepDevice.objects.create(user_id=user.pk, secret_sealed=rules.seal(secret, key=two_step_key()))
        return secret


def two_step_confirm(*, user: User, code: str, actor: Actor) -> list[str]:
    """Turn 2-step on with a code from the app just set up; returns the 10 recovery codes (shown once)."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        try:
            device = lock_one(TwoStepDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=True))
        except TwoStepDevice.DoesNotExist as exc:
            raise TwoStepStateError() from exc
        secret = rules.unseal(device.secret_sealed, key=two_step_key())
        step = rules.totp_match(secret=secret, code=code, now=now, after_step=device.last_step)
        if step is None:
            raise TwoStepInvalidError(fields={"code": ""})
        device.confirmed_at, device.last_step = now, step
        device.save(update_fields=["confirmed_at", "last_step"])
        codes = _new_recovery_codes_in_tx(user)
        _audit(actor=actor, action="auth.two_step_enable", user=user)
    return codes


def two_step_disable(*, user: User, code: str, actor: Actor) -> None:
    """Turn 2-step off; needs a current code (or a recovery code), counted and limited like the sign-in step."""
    signin_second_step(user_id=user.pk, code=code, ip=actor.ip, actor=actor)
    with transaction.atomic(durable=True):
        TwoStepDevice.objects.filter(user_id=user.pk).delete()
        RecoveryCode.objects.filter(user_id=user.pk).delete()
        _audit(actor=actor, action="auth.two_step_disable", user=user)


def recovery_codes_renew(*, user: User, code: str, actor: Actor) -> list[str]:
    """Replace the recovery codes (the old ones stop working); needs a current code."""
    signin_second_step(user_id=user.pk, code=code, ip=actor.ip, actor=actor)
    with transaction.atomic(durable=True):
        codes = _new_recovery_codes_in_tx(user)
        _audit(actor=actor, action="auth.recovery_codes_renew", user=user)
    return codes


def two_step_reset(*, scope: Scope, actor: Actor, user_id: int) -> User:
    """A group admin (own group's staff) or platform admin turns off a colleague's 2-step, e.g. a lost phone.

    The colleague signs in with the password only and sets 2-step up again (at once, when policy requires it)."""
    if not scope.can(perms.STAFF_MANAGE):
        raise PermissionDeniedError()
    user = staff_list(scope=scope).filter(pk=user_id).first()
    if user is None:
        raise NotFoundError(code="staff.not_found")
    if user.pk == scope.user_id:
        raise ValidationError(
            _("You cannot reset your own 2-step sign-in: turn it off on your 2-step page."),
            code="auth.two_step_reset_self",
        )
    with transaction.atomic(durable=True):
        deleted, _counts = TwoStepDevice.objects.filter(user_id=user.pk).delete()
        RecoveryCode.objects.filter(user_id=user.pk).delete()
        LoginThrottle.objects.filter(kind=ThrottleKind.SECOND_STEP, key=str(user.pk)).delete()
        _audit(actor=actor, action="auth.two_step_reset", user=user, changes={"had_two_step": bool(deleted)})
    return user
