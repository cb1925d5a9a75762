"""Sign-in counters under real concurrency (PostgreSQL, threads with their own connections): no failure is lost,
and a TOTP code accepted by two requests at once still signs in only one of them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from galleria.accounts import rules
from galleria.accounts.exceptions import SignInFailedError, SignInLockedError, TwoStepInvalidError
from galleria.accounts.models import LoginThrottle, ThrottleKind
from galleria.accounts.services.signin import signin_password, signin_second_step
from galleria.accounts.services.two_step import two_step_begin, two_step_confirm
from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.testing import run_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_failures_are_all_counted_and_lock_once(world):
    def attempt(i):
        try:
            signin_password(username="admin", password=f"wrong-{i}-password", ip=f"198.51.100.{i}")
        except (SignInFailedError, SignInLockedError) as exc:
            return type(exc).__name__
        return "ok"

    results = run_parallel(8, attempt)
    counted = AuditEvent.objects.filter(action="auth.login_failed").count()
    assert "ok" not in results
    # every attempt was counted (the fifth of them answered "locked"), or refused before counting once locked
    assert counted == results.count("SignInFailedError") + 1
    assert counted >= 5
    row = LoginThrottle.objects.get(kind=ThrottleKind.ACCOUNT, key="admin")
    assert row.locked_until is not None and row.locked_until > timezone.now()
    assert row.failures == counted - 5  # none lost: the lock reset the count at the fifth
    assert AuditEvent.objects.filter(action="auth.locked").count() == 1


def test_one_totp_code_sent_twice_at_once_signs_in_once(world):
    user = world.users["group_admin"]
    secret = two_step_begin(user=user)
    step = rules.totp_step(timezone.now())
    two_step_confirm(user=user, code=rules.totp_code(secret=secret, step=step - 1), actor=Actor.system())
    code = rules.totp_code(secret=secret, step=step)

    def attempt(_i):
        try:
            return signin_second_step(user_id=user.pk, code=code, ip="203.0.113.5")
        except TwoStepInvalidError:
            return "replay"

    results = run_parallel(4, attempt)
    assert sorted(results) == ["replay", "replay", "replay", "totp"]
