"""Staff sign-in services: failure limits per account and IP, second step (TOTP, recovery codes), 2-step life cycle."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.test import override_settings
from django.utils import timezone

from galleria.accounts import rules
from galleria.accounts.exceptions import SignInFailedError, SignInLockedError, TwoStepInvalidError, TwoStepStateError
from galleria.accounts.models import LoginThrottle, RecoveryCode, ThrottleKind, TwoStepDevice
from galleria.accounts.selectors import scope_for_user, two_step_enabled, two_step_key, two_step_required
from galleria.accounts.services.signin import (
    METHOD_RECOVERY,
    METHOD_TOTP,
    signin_password,
    signin_second_step,
)
from galleria.accounts.services.two_step import (
    recovery_codes_renew,
    two_step_begin,
    two_step_confirm,
    two_step_disable,
    two_step_reset,
)
from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from galleria.testing import PASSWORD

IP = "203.0.113.7"
ACTOR = Actor(user_id=None, label="test", ip=IP)
T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


def fail(username: str = "admin", ip: str = IP) -> Exception:
    with pytest.raises((SignInFailedError, SignInLockedError)) as info:
        signin_password(username=username, password="wrong-password-123", ip=ip)
    return info.value


def enable(user) -> tuple[str, list[str]]:
    """Turn 2-step on for `user`; returns the secret and the recovery codes."""
    secret = two_step_begin(user=user)
    code = rules.totp_code(secret=secret, step=rules.totp_step(timezone.now()))
    codes = two_step_confirm(user=user, code=code, actor=ACTOR)
    return secret, codes


def code_at(secret: str, moment: dt.datetime) -> str:
    return rules.totp_code(secret=secret, step=rules.totp_step(moment))


class TestPasswordStep:
    def test_right_password_returns_the_user(self, world):
        assert signin_password(username="admin", password=PASSWORD, ip=IP) == world.users["group_admin"]

    def test_account_locks_after_five_failures_even_for_the_right_password(self, world):
        with time_machine.travel(T0, tick=False):
            for _ in range(4):
                assert isinstance(fail(), SignInFailedError)
            locked = fail()
            assert isinstance(locked, SignInLockedError) and locked.retry_after == 900
            assert "15 minutes" in str(locked.message)
            with pytest.raises(SignInLockedError):
                signin_password(username="admin", password=PASSWORD, ip="198.51.100.1")
        with (
            time_machine.travel(T0 + dt.timedelta(minutes=14, seconds=59), tick=False),
            pytest.raises(SignInLockedError),
        ):
            signin_password(username="admin", password=PASSWORD, ip=IP)
        with time_machine.travel(T0 + dt.timedelta(minutes=15, seconds=1), tick=False):
            assert signin_password(username="admin", password=PASSWORD, ip=IP).username == "admin"

    def test_other_accounts_are_not_locked_by_one_account(self, world):
        for _ in range(5):
            fail()
        assert signin_password(username="marketing", password=PASSWORD, ip=IP).username == "marketing"

    def test_an_unknown_username_locks_the_same_way_and_says_the_same(self, world):
        known = [fail("admin") for _ in range(5)][-1]
        unknown = [fail("nobody-here") for _ in range(5)][-1]
        assert isinstance(unknown, SignInLockedError)
        assert str(known.message) == str(unknown.message)
        assert type(fail("admin", ip="198.51.100.9")) is type(fail("nobody-here", ip="198.51.100.9"))

    def test_success_resets_the_account_counter(self, world):
        for _ in range(4):
            fail()
        signin_password(username="admin", password=PASSWORD, ip=IP)
        assert not LoginThrottle.objects.filter(kind=ThrottleKind.ACCOUNT, key="admin").exists()
        for _ in range(4):
            assert isinstance(fail(), SignInFailedError)  # four more before the lock, not one

    def test_window_expiry_forgets_old_failures(self, world):
        with time_machine.travel(T0, tick=False):
            for _ in range(4):
                fail()
        with time_machine.travel(T0 + dt.timedelta(minutes=16), tick=False):
            assert isinstance(fail(), SignInFailedError)
            assert LoginThrottle.objects.get(kind=ThrottleKind.ACCOUNT, key="admin").failures == 1

    def test_ip_is_blocked_after_twenty_failures_across_accounts(self, world):
        with time_machine.travel(T0, tick=False):
            for i in range(19):
                assert isinstance(fail(f"guess-{i}"), SignInFailedError)
            assert isinstance(fail("guess-19"), SignInLockedError)
            # every account, even with the right password, from that IP
            with pytest.raises(SignInLockedError) as info:
                signin_password(username="admin", password=PASSWORD, ip=IP)
            assert info.value.retry_after == 3600
            assert signin_password(username="admin", password=PASSWORD, ip="198.51.100.1").username == "admin"
        with time_machine.travel(T0 + dt.timedelta(hours=1, seconds=1), tick=False):
            assert signin_password(username="admin", password=PASSWORD, ip=IP).username == "admin"

    def test_limits_come_from_settings(self, world, settings):
        settings.GALLERIA_SIGNIN = {**settings.GALLERIA_SIGNIN, "IP_MAX_FAILURES": 3}
        fail("a1")
        fail("a2")
        assert isinstance(fail("a3"), SignInLockedError)

    def test_failures_and_locks_are_audited_without_the_password(self, world):
        for _ in range(5):
            fail()
        failed = AuditEvent.objects.filter(action="auth.login_failed")
        assert failed.count() == 5
        event = failed.first()
        assert event.ip == IP and event.target_id == str(world.users["group_admin"].pk)
        assert event.mall_group_id == world.group.pk
        lock = AuditEvent.objects.get(action="auth.locked")
        assert lock.changes == {"counter": "account", "seconds": 900}
        assert not AuditEvent.objects.filter(changes__icontains="wrong-password").exists()

    def test_inactive_user_cannot_sign_in(self, world):
        user = world.users["readonly"]
        user.is_active = False
        user.save()
        with pytest.raises(SignInFailedError):
            signin_password(username="viewer", password=PASSWORD, ip=IP)


class TestSecondStep:
    def test_totp_code_signs_in_once_and_cannot_be_replayed(self, world):
        user = world.users["group_admin"]
        with time_machine.travel(T0, tick=False):
            secret, _codes = enable(user)
        later = T0 + dt.timedelta(seconds=60)
        with time_machine.travel(later, tick=False):
            code = code_at(secret, later)
            assert signin_second_step(user_id=user.pk, code=code, ip=IP) == METHOD_TOTP
            with pytest.raises(TwoStepInvalidError):
                signin_second_step(user_id=user.pk, code=code, ip=IP)  # same code, same window
        with time_machine.travel(later + dt.timedelta(seconds=20), tick=False), pytest.raises(TwoStepInvalidError):
            signin_second_step(user_id=user.pk, code=code, ip=IP)  # still inside the drift window

    def test_the_confirmation_code_cannot_be_reused_to_sign_in(self, world):
        user = world.users["group_admin"]
        with time_machine.travel(T0, tick=False):
            secret = two_step_begin(user=user)
            code = code_at(secret, T0)
            two_step_confirm(user=user, code=code, actor=ACTOR)
            with pytest.raises(TwoStepInvalidError):
                signin_second_step(user_id=user.pk, code=code, ip=IP)

    def test_recovery_code_works_once(self, world):
        user = world.users["group_admin"]
        _secret, codes = enable(user)
        assert signin_second_step(user_id=user.pk, code=codes[0].upper(), ip=IP) == METHOD_RECOVERY
        with pytest.raises(TwoStepInvalidError):
            signin_second_step(user_id=user.pk, code=codes[0], ip=IP)
        assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 9
        used = AuditEvent.objects.get(action="auth.recovery_code_used")
        assert used.changes == {"left": 9}

    def test_recovery_codes_are_stored_hashed(self, world):
        user = world.users["group_admin"]
        _secret, codes = enable(user)
        stored = set(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
        assert len(stored) == 10
        assert not stored & set(codes)
        assert rules.recovery_hash(key=two_step_key(), code=codes[3]) in stored

    def test_second_step_locks_after_five_wrong_codes(self, world):
        user = world.users["group_admin"]
        secret, _codes = enable(user)
        for _ in range(4):
            with pytest.raises(TwoStepInvalidError):
                signin_second_step(user_id=user.pk, code="000000", ip=IP)
        with pytest.raises(SignInLockedError):
            signin_second_step(user_id=user.pk, code="000000", ip=IP)
        with pytest.raises(SignInLockedError):  # even the right code, while locked
            signin_second_step(user_id=user.pk, code=code_at(secret, timezone.now()), ip=IP)
        assert AuditEvent.objects.filter(action="auth.two_step_failed").count() == 5
        assert AuditEvent.objects.filter(action="auth.locked", target_id=str(user.pk)).exists()

    def test_a_correct_password_does_not_reset_the_second_step_counter(self, world):
        user = world.users["group_admin"]
        enable(user)
        for _ in range(4):
            with pytest.raises(TwoStepInvalidError):
                signin_second_step(user_id=user.pk, code="000000", ip=IP)
        signin_password(username="admin", password=PASSWORD, ip=IP)
        with pytest.raises(SignInLockedError):
            signin_second_step(user_id=user.pk, code="000000", ip=IP)

    def test_without_two_step_the_second_step_is_refused(self, world):
        with pytest.raises(TwoStepStateError):
            signin_second_step(user_id=world.users["group_admin"].pk, code="123456", ip=IP)


class TestTwoStepLifeCycle:
    def test_set_up_is_off_until_a_code_confirms_it(self, world):
        user = world.users["marketing"]
        secret = two_step_begin(user=user)
        assert not two_step_enabled(user_id=user.pk)
        assert two_step_begin(user=user) == secret  # reloading the page shows the same QR code
        device = TwoStepDevice.objects.get(user=user)
        assert secret not in device.secret_sealed
        assert rules.unseal(device.secret_sealed, key=two_step_key()) == secret
        with pytest.raises(TwoStepInvalidError):
            two_step_confirm(user=user, code="000000", actor=ACTOR)
        assert not two_step_enabled(user_id=user.pk)
        codes = two_step_confirm(user=user, code=code_at(secret, timezone.now()), actor=ACTOR)
        assert len(codes) == 10 and two_step_enabled(user_id=user.pk)
        assert AuditEvent.objects.filter(action="auth.two_step_enable", target_id=str(user.pk)).exists()

    def test_the_secret_is_not_available_after_confirmation(self, world):
        user = world.users["marketing"]
        enable(user)
        with pytest.raises(TwoStepStateError):
            two_step_begin(user=user)

    def test_turn_off_needs_a_current_code(self, world):
        user = world.users["marketing"]
        with time_machine.travel(T0, tick=False):
            secret, _codes = enable(user)
        with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False):
            with pytest.raises(TwoStepInvalidError):
                two_step_disable(user=user, code="000000", actor=ACTOR)
            assert two_step_enabled(user_id=user.pk)
            two_step_disable(user=user, code=code_at(secret, timezone.now()), actor=ACTOR)
        assert not two_step_enabled(user_id=user.pk)
        assert not RecoveryCode.objects.filter(user=user).exists()
        assert AuditEvent.objects.filter(action="auth.two_step_disable").exists()

    def test_new_recovery_codes_replace_the_old(self, world):
        user = world.users["marketing"]
        with time_machine.travel(T0, tick=False):
            secret, old = enable(user)
        with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
            new = recovery_codes_renew(user=user, code=code_at(secret, timezone.now()), actor=ACTOR)
        assert set(new).isdisjoint(old)
        with pytest.raises(TwoStepInvalidError):
            signin_second_step(user_id=user.pk, code=old[0], ip=IP)
        assert signin_second_step(user_id=user.pk, code=new[0], ip=IP) == METHOD_RECOVERY

    def test_group_admin_resets_a_colleague_audited(self, world):
        user = world.users["service"]
        enable(user)
        admin = world.users["group_admin"]
        actor = Actor(user_id=admin.pk, label=admin.username, ip=IP)
        two_step_reset(scope=scope_for_user(admin), actor=actor, user_id=user.pk)
        assert not two_step_enabled(user_id=user.pk)
        event = AuditEvent.objects.get(action="auth.two_step_reset")
        assert event.actor_id == admin.pk and event.target_id == str(user.pk)
        assert event.mall_group_id == world.group.pk

    def test_platform_admin_resets_anyone_others_may_not(self, world):
        user = world.users["foreign_admin"]
        enable(user)
        root = world.users["platform_admin"]
        two_step_reset(scope=scope_for_user(root), actor=ACTOR, user_id=user.pk)
        assert not two_step_enabled(user_id=user.pk)
        enable(user)
        with pytest.raises(NotFoundError):  # another group's staff
            two_step_reset(scope=scope_for_user(world.users["group_admin"]), actor=ACTOR, user_id=user.pk)
        for role in ("marketing", "merchant_owner"):
            with pytest.raises(PermissionDeniedError):
                two_step_reset(scope=scope_for_user(world.users[role]), actor=ACTOR, user_id=user.pk)
        admin = world.users["group_admin"]
        with pytest.raises(ValidationError):
            two_step_reset(scope=scope_for_user(admin), actor=ACTOR, user_id=admin.pk)

    @override_settings(GALLERIA_TWO_STEP_REQUIRED=["group_admin", "platform_admin"])
    def test_required_by_role(self, world):
        assert two_step_required(world.users["group_admin"])
        assert two_step_required(world.users["platform_admin"])
        assert not two_step_required(world.users["merchant_clerk"])
        with override_settings(GALLERIA_TWO_STEP_REQUIRED=["all"]):
            assert two_step_required(world.users["merchant_clerk"])
        with override_settings(GALLERIA_TWO_STEP_REQUIRED=[]):
            assert not two_step_required(world.users["group_admin"])


class TestPasswordRules:
    @pytest.mark.parametrize(
        ("password", "ok"),
        [
            ("short1!", False),  # fewer than 10 characters
            ("password123", False),  # common
            ("12345678901234", False),  # numeric only
            ("heytea-owner-1", False),  # too similar to the username
            (PASSWORD, True),
            ("galleria-demo-2026", True),  # the demo's password
        ],
    )
    def test_validators(self, world, password, ok):
        user = world.users["merchant_owner"]
        if ok:
            validate_password(password, user)
        else:
            with pytest.raises(Exception):  # noqa: B017 - Django's ValidationError
                validate_password(password, user)
