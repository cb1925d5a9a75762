"""Staff sign-in security in a real browser: 2-step set-up → sign out → sign in with a code; a wrong code's inline
error; the locked-account message. Screenshots: var/screenshots/signin-*.png."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from galleria.accounts import rules
from galleria.accounts.selectors import two_step_enabled
from galleria.testing import PASSWORD

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def password_step(page: Page, live_server, username: str = "admin", password: str = PASSWORD) -> None:
    page.goto(live_server.url + "/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_set_up_sign_out_and_sign_in_with_a_code(page: Page, live_server, world):
    password_step(page, live_server)
    page.wait_for_url(live_server.url + "/console/")
    page.get_by_test_id("two-step-link").click()
    page.wait_for_url("**/console/security/two-step/")
    expect(page.get_by_test_id("two-step-status")).to_have_text("Off")
    page.get_by_test_id("two-step-start").click()
    expect(page.get_by_test_id("two-step-qr")).to_be_visible()
    qr_natural_width = page.get_by_test_id("two-step-qr").evaluate("img => img.naturalWidth")
    assert qr_natural_width > 0  # the data: URI loaded under the CSP
    shot(page, "signin-two-step-enrol.png")

    secret = page.get_by_test_id("two-step-secret").inner_text().replace(" ", "")
    assert len(secret) == 32
    step = int(time.time()) // rules.TOTP_INTERVAL
    page.get_by_test_id("confirm-form").locator("input[name=code]").fill(pyotp.TOTP(secret).at(step * 30))
    page.get_by_test_id("confirm-form").locator("button[type=submit]").click()
    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    shot(page, "signin-two-step-recovery-codes.png")
    assert two_step_enabled(user_id=world.users["group_admin"].pk)
    page.get_by_test_id("codes-done").click()
    page.wait_for_url(live_server.url + "/console/")

    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/console/login/")
    password_step(page, live_server)
    page.wait_for_url("**/console/login/verify/")
    expect(page.locator("input[name=code]")).to_be_focused()
    shot(page, "signin-two-step-verify.png")

    page.fill("input[name=code]", "000000")
    page.click("button[type=submit]")
    expect(page.get_by_test_id("code-error")).to_have_text(
        "This code is not valid. Enter the current code from your authenticator app."
    )
    shot(page, "signin-two-step-verify-error.png")

    # the confirmation used the current step's code: the next step's code is new (and within the drift window)
    page.fill("input[name=code]", pyotp.TOTP(secret).at((step + 1) * 30))
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/console/")
    expect(page.get_by_test_id("current-user")).to_contain_text("admin")


def test_locked_account_message(page: Page, live_server, world):
    for _ in range(5):
        password_step(page, live_server, password="not-the-password")
    alert = page.locator(".alert-error")
    expect(alert).to_have_text("Too many failed sign-in attempts. Please wait 15 minutes and try again.")
    shot(page, "signin-locked.png")
    password_step(page, live_server)  # the right password does not get through a lock
    expect(page.locator(".alert-error")).to_contain_text("Too many failed sign-in attempts")
    assert page.url.startswith(live_server.url + "/console/login/")
