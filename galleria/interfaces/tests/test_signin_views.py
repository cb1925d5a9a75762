"""Staff sign-in through the web: limits and lock message, the 2-step code page, 2-step set-up and reset, staff
session expiry (idle and absolute), 2-step required by policy, password rules in every form that sets one."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.urls import reverse
from django.utils import timezone

from galleria.accounts import rules
from galleria.accounts.models import RecoveryCode, TwoStepDevice, User
from galleria.accounts.selectors import two_step_enabled
from galleria.accounts.services.two_step import two_step_begin, two_step_confirm
from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.demo import catalog
from galleria.testing import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/console/login/"
VERIFY = "/console/login/verify/"
TWO_STEP = "/console/security/two-step/"
T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
LOCK_TEXT = "Too many failed sign-in attempts. Please wait 15 minutes and try again."


def post_login(client, username="admin", password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def enable(user, moment=None) -> tuple[str, list[str]]:
    moment = moment or timezone.now()
    secret = two_step_begin(user=user)
    codes = two_step_confirm(
        user=user, code=rules.totp_code(secret=secret, step=rules.totp_step(moment)), actor=Actor.system()
    )
    return secret, codes


def next_code(secret: str, moment: dt.datetime, offset: int = 1) -> str:
    return rules.totp_code(secret=secret, step=rules.totp_step(moment) + offset)


class TestLoginLimits:
    def test_lock_message_is_shown_and_the_same_for_unknown_accounts(self, client, world):
        for _ in range(4):
            resp = post_login(client, password="wrong-password-1")
            assert resp.status_code == 200 and "Please enter a correct username and password" in resp.content.decode()
        locked = post_login(client, password="wrong-password-1").content.decode()
        assert LOCK_TEXT in locked
        assert LOCK_TEXT in post_login(client).content.decode()  # right password, still locked
        for _ in range(5):
            ghost = post_login(client, username="ghost", password="wrong-password-1", REMOTE_ADDR="10.0.0.9")
        assert LOCK_TEXT in ghost.content.decode()
        assert "_auth_user_id" not in client.session

    def test_ip_block(self, client, world, settings):
        settings.GALLERIA_SIGNIN = {**settings.GALLERIA_SIGNIN, "IP_MAX_FAILURES": 3}
        for name in ("a", "b"):
            post_login(client, username=name, password="wrong-password-1")
        assert "Please wait 60 minutes" in post_login(client, username="c", password="x-wrong-pw").content.decode()
        assert post_login(client, username="marketing").status_code == 200  # blocked, not signed in
        other = client.post(LOGIN, {"username": "marketing", "password": PASSWORD}, REMOTE_ADDR="10.1.1.1")
        assert other.status_code == 302

    def test_ip_block_behind_a_proxy_counts_the_forwarded_client_not_the_proxy(self, client, world, settings):
        settings.GALLERIA_SIGNIN = {**settings.GALLERIA_SIGNIN, "IP_MAX_FAILURES": 3}
        settings.GALLERIA_TRUSTED_PROXIES = 1

        def attempt(username, password, forwarded):
            data = {"username": username, "password": password}
            return client.post(LOGIN, data, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

        for name in ("a", "b", "c"):  # the attacker at 203.0.113.7 adds a made-up leftmost entry: not trusted
            attempt(name, "wrong-password-1", "198.51.100.1, 203.0.113.7")
        assert "Please wait 60 minutes" in attempt("marketing", PASSWORD, "203.0.113.7").content.decode()
        # another person behind the same proxy is not locked out with the attacker
        assert attempt("marketing", PASSWORD, "192.0.2.44").status_code == 302

    def test_forwarded_for_is_ignored_without_trusted_proxies(self, client, world, settings):
        settings.GALLERIA_SIGNIN = {**settings.GALLERIA_SIGNIN, "IP_MAX_FAILURES": 3}
        for i in range(3):  # a direct client cannot dodge the limit by inventing addresses
            data = {"username": f"u{i}", "password": "wrong-password-1"}
            client.post(LOGIN, data, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
        blocked = client.post(LOGIN, {"username": "marketing", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="192.0.2.9")
        assert "Please wait 60 minutes" in blocked.content.decode()

    def test_success_signs_in_stamps_the_session_and_audits(self, client, world, settings):
        resp = post_login(client)
        assert resp.status_code == 302 and resp.url == "/console/"
        assert client.session.get_expiry_age() == settings.GALLERIA_STAFF_SESSION_MAX_SECONDS
        assert AuditEvent.objects.filter(action="auth.login", changes={"method": "password"}).exists()

    def test_django_admin_login_goes_through_ours(self, client, world):
        resp = client.get("/django-admin/login/?next=/django-admin/")
        assert resp.status_code == 302 and resp.url.startswith("/console/login/?next=/django-admin/")
        client.force_login(world.users["group_admin"])  # not admin staff: no redirect loop
        assert client.get("/django-admin/", follow=True).status_code == 403
        client.force_login(world.users["platform_admin"])
        assert client.get("/django-admin/").status_code == 200


class TestSecondStep:
    def test_password_then_code(self, client, world):
        user = world.users["group_admin"]
        with time_machine.travel(T0, tick=False):
            secret, _codes = enable(user)
            resp = post_login(client, next="/console/members/")
            assert resp.status_code == 302 and resp.url == VERIFY
            assert "_auth_user_id" not in client.session  # not signed in yet
            assert client.get("/console/").status_code == 302
            page = client.get(VERIFY)
            assert page.status_code == 200 and "2-step sign-in" in page.content.decode()
            done = client.post(VERIFY, {"code": next_code(secret, T0)})
            assert done.status_code == 302 and done.url == "/console/members/"
            assert client.session["_auth_user_id"] == str(user.pk)
        assert AuditEvent.objects.filter(action="auth.login", changes={"method": "totp"}).exists()

    def test_wrong_code_inline_error_and_lock(self, client, world):
        user = world.users["group_admin"]
        enable(user)
        post_login(client)
        for _ in range(4):
            resp = client.post(VERIFY, {"code": "000000"})
            assert resp.status_code == 400
            assert resp.context["form"].errors["code"] == [
                "This code is not valid. Enter the current code from your authenticator app."
            ]
        locked = client.post(VERIFY, {"code": "000000"})
        assert locked.status_code == 429 and LOCK_TEXT in locked.content.decode()

    def test_recovery_code_signs_in_once(self, client, world):
        user = world.users["group_admin"]
        _secret, codes = enable(user)
        post_login(client)
        assert client.post(VERIFY, {"code": codes[0]}).status_code == 302
        client.post("/console/logout/")
        post_login(client)
        again = client.post(VERIFY, {"code": codes[0]})
        assert again.status_code == 400

    def test_pending_second_step_expires(self, client, world):
        user = world.users["group_admin"]
        with time_machine.travel(T0, tick=False):
            secret, _codes = enable(user)
            post_login(client)
        later = T0 + dt.timedelta(minutes=6)
        with time_machine.travel(later, tick=False):
            resp = client.post(VERIFY, {"code": next_code(secret, later, 0)})
        assert resp.status_code == 302 and resp.url == LOGIN
        assert "_auth_user_id" not in client.session

    def test_verify_without_password_step_goes_to_login(self, client, world):
        assert client.get(VERIFY).url == LOGIN


class TestTwoStepPage:
    def test_set_up_confirm_codes_shown_once(self, client, world):
        client.force_login(world.users["marketing"])
        page = client.get(TWO_STEP)
        assert page.status_code == 200 and page.context["enabled"] is False
        client.post(TWO_STEP, {"action": "start"})
        setup = client.get(TWO_STEP).content.decode()
        assert 'src="data:image/svg+xml' in setup
        device = TwoStepDevice.objects.get(user=world.users["marketing"])
        secret = rules.unseal(device.secret_sealed, key="test-secret-key-not-for-production-0123456789")
        assert " ".join(secret[i : i + 4] for i in range(0, 32, 4)) in setup
        wrong = client.post(TWO_STEP, {"action": "confirm", "code": "000000"})
        assert wrong.status_code == 400 and "This code is not valid" in wrong.content.decode()
        done = client.post(TWO_STEP, {"action": "confirm", "code": next_code(secret, timezone.now(), 0)})
        body = done.content.decode()
        assert done.status_code == 200 and "no-store" in done["Cache-Control"]
        assert body.count("<li><code>") == 10
        after = client.get(TWO_STEP).content.decode()
        assert secret[:8] not in after and "data:image/svg+xml" not in after
        assert "10 recovery codes left." in after

    def test_turn_off_with_a_code(self, client, world):
        user = world.users["marketing"]
        with time_machine.travel(T0, tick=False):
            secret, _ = enable(user)
        client.force_login(user)
        later = T0 + dt.timedelta(minutes=1)
        with time_machine.travel(later, tick=False):
            bad = client.post(TWO_STEP, {"action": "disable", "off-code": "000000"})
            assert bad.status_code == 400 and two_step_enabled(user_id=user.pk)
            ok = client.post(TWO_STEP, {"action": "disable", "off-code": next_code(secret, later, 0)})
        assert ok.status_code == 302 and not two_step_enabled(user_id=user.pk)

    def test_merchant_staff_page_uses_the_portal_shell(self, client, world):
        client.force_login(world.users["merchant_clerk"])
        resp = client.get(TWO_STEP)
        assert resp.status_code == 200 and "Merchant portal" in resp.content.decode()

    def test_group_admin_resets_a_colleague(self, client, world):
        colleague = world.users["service"]
        enable(colleague)
        client.force_login(world.users["group_admin"])
        edit = client.get(reverse("console:staff_edit", args=[colleague.pk])).content.decode()
        assert 'data-testid="two-step-reset"' in edit
        resp = client.post(reverse("console:staff_two_step_reset", args=[colleague.pk]))
        assert resp.status_code == 302 and not two_step_enabled(user_id=colleague.pk)
        assert not RecoveryCode.objects.filter(user=colleague).exists()
        assert AuditEvent.objects.filter(action="auth.two_step_reset", actor=world.users["group_admin"]).exists()
        foreign = world.users["foreign_admin"]
        enable(foreign)
        assert client.post(reverse("console:staff_two_step_reset", args=[foreign.pk])).status_code == 404
        client.force_login(world.users["marketing"])
        assert client.post(reverse("console:staff_two_step_reset", args=[foreign.pk])).status_code == 403


class TestRequiredTwoStep:
    def test_staff_without_it_is_sent_to_set_up(self, client, world, settings):
        settings.GALLERIA_TWO_STEP_REQUIRED = ["group_admin"]
        resp = post_login(client)
        assert resp.status_code == 302
        assert client.get("/console/").url == TWO_STEP
        assert client.get("/console/members/").url == TWO_STEP
        assert client.get(TWO_STEP).status_code == 200
        assert client.get("/api/v1/console/members").status_code == 403
        user = world.users["group_admin"]
        enable(user)
        assert client.get("/console/").status_code == 200

    def test_other_roles_are_not_affected(self, client, world, settings):
        settings.GALLERIA_TWO_STEP_REQUIRED = ["group_admin"]
        client.force_login(world.users["marketing"])
        assert client.get("/console/").status_code == 200

    def test_off_by_default(self, settings):
        assert settings.GALLERIA_TWO_STEP_REQUIRED == []


class TestSessionExpiry:
    def test_idle_staff_session_expires(self, client, world):
        with time_machine.travel(T0, tick=False):
            post_login(client)
        with time_machine.travel(T0 + dt.timedelta(minutes=29), tick=False):
            assert client.get("/console/").status_code == 200  # activity moves the idle clock
        with time_machine.travel(T0 + dt.timedelta(minutes=58), tick=False):
            assert client.get("/console/").status_code == 200
        with time_machine.travel(T0 + dt.timedelta(minutes=89), tick=False):
            resp = client.get("/console/")
            assert resp.status_code == 302 and resp.url.startswith(LOGIN)
            assert "_auth_user_id" not in client.session
            page = client.get(resp.url).content.decode()
            assert "signed out after 30 minutes without activity" in page

    def test_absolute_limit_even_when_active(self, client, world):
        with time_machine.travel(T0, tick=False):
            post_login(client)
        for minutes in range(20, 12 * 60, 20):
            with time_machine.travel(T0 + dt.timedelta(minutes=minutes), tick=False):
                assert client.get("/console/").status_code == 200
        with time_machine.travel(T0 + dt.timedelta(hours=12, minutes=1), tick=False):
            assert client.get("/console/").status_code == 302

    def test_staff_api_answers_401_after_expiry(self, client, world):
        with time_machine.travel(T0, tick=False):
            post_login(client)
        with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
            assert client.get("/api/v1/console/members").status_code == 401

    def test_member_app_session_keeps_its_month(self, client, world):
        session = client.session
        session["member_id"] = 1
        session.set_expiry(30 * 24 * 3600)
        session.save()
        with time_machine.travel(timezone.now() + dt.timedelta(hours=13)):
            client.get("/app/login/")
            assert client.session.get_expiry_age() > 29 * 24 * 3600

    def test_cookie_settings(self, settings):
        assert settings.SESSION_COOKIE_HTTPONLY is True
        assert settings.SESSION_COOKIE_SAMESITE == "Lax"


class TestPasswordRules:
    def test_demo_and_test_passwords_pass_the_validators(self, world):
        for username in ("admin", "group-admin", "marketing", "service", "finance", "viewer", "heytea-owner"):
            validate_password(catalog.DEMO_PASSWORD, User(username=username, display_name=username))
        for user in world.users.values():
            validate_password(PASSWORD, user)

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("Sh0rt-pw", "This password is too short. It must contain at least 10 characters."),
            ("password123", "This password is too common."),
            ("20262026202620", "This password is entirely numeric."),
            ("desk-worker-9", "The password is too similar to the username."),
        ],
    )
    def test_console_staff_creation_shows_each_rule_inline(self, client, world, password, message):
        client.force_login(world.users["group_admin"])
        resp = client.post(
            reverse("console:staff_new"), {"username": "desk-worker-9", "password": password, "role": "service"}
        )
        assert resp.status_code == 400
        assert message in " ".join(resp.context["form"].errors["password"])

    def test_merchant_portal_staff_creation_shows_the_rule_inline(self, client, world):
        client.force_login(world.users["merchant_owner"])
        resp = client.post(
            "/merchant/staff/",
            {"username": "tea-1", "display_name": "", "password": "password123", "role": "merchant_clerk"},
        )
        assert resp.status_code == 422
        assert "This password is too common." in " ".join(resp.context["form"].errors["password"])

    def test_password_change_enforces_the_rules_inline(self, client, world):
        client.force_login(world.users["merchant_clerk"])
        resp = client.post(
            "/console/password/",
            {"old_password": PASSWORD, "new_password1": "1234567890", "new_password2": "1234567890"},
        )
        assert resp.status_code == 200
        errors = " ".join(resp.context["form"].errors["new_password2"])
        assert "too common" in errors and "entirely numeric" in errors
        assert "Merchant portal" in resp.content.decode()
        ok = client.post(
            "/console/password/",
            {"old_password": PASSWORD, "new_password1": "Brand-New-Pass-77", "new_password2": "Brand-New-Pass-77"},
        )
        assert ok.status_code == 302 and ok.url == "/merchant/"
