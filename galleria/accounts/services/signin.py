"""Staff sign-in: password step and second step, with failure counters per account, per IP and per second step.

Limits are in `settings.GALLERIA_SIGNIN`. A counter is one `LoginThrottle` row updated under its row lock, so
concurrent failures are all counted (the member SMS code follows the same pattern). A locked account or blocked IP is
refused before the password is even checked, with one message for both that does not say whether the account exists.
Failures, locks and sign-ins are written to the audit log; the failure is committed before the error is raised.
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.locking import lock_one

from .. import rules
from ..exceptions import SignInFailedError, SignInLockedError, TwoStepInvalidError, TwoStepStateError
from ..models import LoginThrottle, RecoveryCode, ThrottleKind, TwoStepDevice, User
from ..selectors import two_step_key

METHOD_PASSWORD = "password"
METHOD_TOTP = "totp"
METHOD_RECOVERY = "recovery_code"


def _conf(name: str) -> int:
    return int(settings.GALLERIA_SIGNIN[name])


def limit_for(kind: str) -> rules.Limit:
    if kind == ThrottleKind.IP:
        return rules.Limit(_conf("IP_MAX_FAILURES"), _conf("IP_WINDOW_SECONDS"), _conf("IP_BLOCK_SECONDS"))
    return rules.Limit(_conf("ACCOUNT_MAX_FAILURES"), _conf("ACCOUNT_WINDOW_SECONDS"), _conf("ACCOUNT_LOCK_SECONDS"))


def _locked_for(kind: str, key: str, now: dt.datetime) -> int:
    """Seconds left on the lock of (kind, key); 0 when open."""
    until = (
        LoginThrottle.objects.filter(kind=kind, key=key, locked_until__gt=now)
        .values_list("locked_until", flat=True)
        .first()
    )
    return 0 if until is None else max(1, math.ceil((until - now).total_seconds()))


def throttle_check(*, keys: list[tuple[str, str]], now: dt.datetime | None = None) -> None:
    """Raise SignInLockedError if any of (kind, key) is locked."""
    now = now or timezone.now()
    waits = [_locked_for(kind, key, now) for kind, key in keys if key]
    if any(waits):
        raise SignInLockedError(retry_after=max(waits))


def _count_failure_in_tx(kind: str, key: str, now: dt.datetime) -> int:
    """Count one failure for (kind, key) under the row lock; returns the seconds of a lock it started, else 0."""
    LoginThrottle.objects.get_or_create(kind=kind, key=key, defaults={"window_started_at": now})
    row = lock_one(LoginThrottle.objects.filter(kind=kind, key=key))
    before = rules.ThrottleState(row.failures, row.window_started_at, row.locked_until)
    after = rules.after_failure(before, now=now, limit=limit_for(kind))
    row.failures, row.window_started_at, row.locked_until = after.failures, after.window_started_at, after.locked_until
    row.save(update_fields=["failures", "window_started_at", "locked_until", "updated_at"])
    started = after.locked_until is not None and after.locked_until != before.locked_until
    return limit_for(kind).lock_seconds if started else 0


def throttle_reset(*, kind: str, key: str) -> None:
    """Forget the failures of (kind, key): after a successful step (a locked counter never gets that far)."""
    LoginThrottle.objects.filter(kind=kind, key=key).delete()


def _record_failures(
    *,
    counters: list[tuple[str, str]],
    actor: Actor,
    action: str,
    user: User | None,
    label: str,
    now: dt.datetime,
) -> int:
    """Count a failure on every counter and audit it (and any lock it starts). Returns the longest new lock."""
    target_id = user.pk if user is not None else ""
    group_id = user.mall_group_id if user is not None else None
    with transaction.atomic(durable=True):
        locks: dict[str, int] = {}
        for kind, key in counters:
            if key:
                seconds = _count_failure_in_tx(kind, key, now)
                if seconds:
                    locks[kind] = seconds
        audit_record(
            actor=actor,
            action=action,
            target_type="user",
            target_id=target_id,
            target_label=label,
            mall_group_id=group_id,
        )
        for kind, seconds in locks.items():
            audit_record(
                actor=actor,
                action="auth.ip_blocked" if kind == ThrottleKind.IP else "auth.locked",
                target_type="user",
                target_id=target_id,
                target_label=label,
                mall_group_id=group_id,
                changes={"counter": kind, "seconds": seconds},
            )
    return max(locks.values(), default=0)


def signin_password(*, username: str, password: str, ip: str | None) -> User:
    """The password step. Returns the user (who may still need the second step) or raises SignInFailedError /
    SignInLockedError. A locked account or blocked IP is refused without checking the password."""
    now = timezone.now()
    account = rules.account_key(username)
    throttle_check(keys=[(ThrottleKind.IP, ip or ""), (ThrottleKind.ACCOUNT, account)], now=now)
    user = authenticate(None, username=username, password=password)
    if not isinstance(user, User):
        known = User.objects.filter(username=username).first()
        lock = _record_failures(
            counters=[(ThrottleKind.ACCOUNT, account), (ThrottleKind.IP, ip or "")],
            actor=Actor(user_id=None, label="anonymous", ip=ip),
            action="auth.login_failed",
            user=known,
            label=(username or "")[:150],
            now=now,
        )
        if lock:
            raise SignInLockedError(retry_after=lock)
        raise SignInFailedError()
    throttle_reset(kind=ThrottleKind.ACCOUNT, key=account)
    return user


def signin_second_step(*, user_id: int, code: str, ip: str | None, actor: Actor | None = None) -> str:
    """Check a TOTP code (or a recovery code) for a user who passed the password step; returns the method used.

    Limits like the password step (per user, per IP). A TOTP code is accepted once: the accepted time step is
    stored with a conditional update, so the same code (or an older one) is refused afterwards, even concurrently.
    A recovery code is marked used by a conditional update, so it works once.
    """
    now = timezone.now()
    key = str(user_id)
    throttle_check(keys=[(ThrottleKind.IP, ip or ""), (ThrottleKind.SECOND_STEP, key)], now=now)
    user = User.objects.get(pk=user_id)
    method = _second_step_match(user=user, code=code, now=now)
    if method is None:
        lock = _record_failures(
            counters=[(ThrottleKind.SECOND_STEP, key), (ThrottleKind.IP, ip or "")],
            actor=actor or Actor(user_id=None, label="anonymous", ip=ip),
            action="auth.two_step_failed",
            user=user,
            label=user.username,
            now=now,
        )
        if lock:
            raise SignInLockedError(retry_after=lock)
        raise TwoStepInvalidError(fields={"code": ""})
    throttle_reset(kind=ThrottleKind.SECOND_STEP, key=key)
    if method == METHOD_RECOVERY:
        audit_record(
            actor=Actor(user_id=user.pk, label=user.username, ip=ip),
            action="auth.recovery_code_used",
            target_type="user",
            target_id=user.pk,
            target_label=user.username,
            mall_group_id=user.mall_group_id,
            changes={"left": RecoveryCode.objects.filter(user_id=user.pk, used_at__isnull=True).count()},
        )
    return method


def _second_step_match(*, user: User, code: str, now: dt.datetime) -> str | None:
    device = TwoStepDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).first()
    if device is None:
        raise TwoStepStateError()
    if rules.looks_like_totp(code):
        secret = rules.unseal(device.secret_sealed, key=two_step_key())
        step = rules.totp_match(secret=secret, code=code, now=now, after_step=device.last_step)
        if step is not None and TwoStepDevice.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step):
            return METHOD_TOTP
        return None
    normalized = rules.recovery_normalize(code)
    if len(normalized) != 2 * rules.RECOVERY_GROUP:
        return None
    used = RecoveryCode.objects.filter(
        user_id=user.pk, code_hash=rules.recovery_hash(key=two_step_key(), code=normalized), used_at__isnull=True
    ).update(used_at=now)
    return METHOD_RECOVERY if used else None


def signin_complete(*, user: User, ip: str | None, method: str) -> None:
    """Audit a completed sign-in (after the last step) and clear the account's counters."""
    throttle_reset(kind=ThrottleKind.ACCOUNT, key=rules.account_key(user.get_username()))
    audit_record(
        actor=Actor(user_id=user.pk, label=user.username, ip=ip),
        action="auth.login",
        target_type="user",
        target_id=user.pk,
        target_label=user.username,
        mall_group_id=user.mall_group_id,
        changes={"method": method},
    )
