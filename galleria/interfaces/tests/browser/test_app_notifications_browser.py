"""The member app's notifications control, as far as headless Chromium allows: it renders on the profile page, the
service worker registers with the app's scope, and a refused permission (headless Chromium has no push service and
refuses notifications unless granted) shows an inline message and saves nothing. The server side of web push is
tested end to end against the sandbox's push service (galleria/messaging/tests/test_webpush.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from galleria.members.models import Member
from galleria.messaging.models import PushSubscription, SmsMessage

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PHONE = "13812340099"


def sms_code() -> str:
    body = SmsMessage.objects.filter(phone="+86" + PHONE).latest("id").body
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
    assert match, body
    return match.group(1)


def sign_in(page, live_server) -> Member:
    page.goto(live_server.url + "/app/")
    page.wait_for_url("**/app/login/")
    page.fill("#id_phone", PHONE)
    page.click("button.send-code")
    expect(page.get_by_test_id("code-sent")).to_be_visible()
    page.fill("#id_code", sms_code())
    page.check("#id_agree")
    page.click("[data-testid=sign-in]")
    page.wait_for_url(live_server.url + "/app/")
    return Member.objects.get(phone="+86" + PHONE)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_notifications_control_renders_and_a_refusal_shows_inline(mobile_page, live_server, world):
    page = mobile_page
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    sign_in(page, live_server)
    page.goto(live_server.url + "/app/profile/")
    panel = page.get_by_test_id("push-panel")
    expect(panel).to_be_visible()
    toggle = page.get_by_test_id("push-toggle")
    expect(toggle).to_have_text("Turn on notifications")
    expect(page.get_by_test_id("push-status")).to_have_text("Notifications are off on this device.")
    # the service worker registered for the member app's scope
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == live_server.url + "/app/"
    toggle.click()
    error = page.get_by_test_id("push-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("blocked")
    expect(toggle).to_be_enabled()
    assert not PushSubscription.objects.exists()
    SHOTS.mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(SHOTS / "app-notifications-denied.png"))


@pytest.mark.django_db
def test_the_service_worker_is_served_for_the_app_scope(client):
    response = client.get("/app/sw.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/app/"
    body = response.content.decode()
    assert "showNotification" in body and "notificationclick" in body and "openWindow" in body
