"""Events' web layer: the member registers (errors inline, a double tap is one registration), sees the waiting-list
position, the desk refuses a second check-in (POST 409), the console edits an event with errors inline, previews
without saving, exports registrations (audited)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from galleria.audit.models import AuditEvent
from galleria.core import timeutil
from galleria.events.models import Event, Registration
from galleria.events.tests.helpers import event, member, register

from .test_app_loyalty import sign_in_as
from .test_console_views import login

pytestmark = pytest.mark.django_db

KEY = "k" * 20


def test_member_registers_once_per_key_and_waits_in_line(client, world):
    ev = event(world, capacity=1)
    register(world, member(world), ev)
    m = member(world)
    sign_in_as(client, m)
    url = reverse("app:event", args=[ev.pk])
    assert client.get(url).status_code == 200
    first = client.post(url, {"key": KEY, "seats": 1})
    again = client.post(url, {"key": KEY, "seats": 1})
    reg = Registration.objects.get(member=m)
    assert first.url == again.url == reverse("app:event_ticket", args=[reg.pk])
    page = client.get(first.url)
    assert reg.state == "waiting" and page.context["position"] == 1
    assert b'data-testid="ev-position"' in page.content


def test_registration_errors_are_inline(client, world):
    ev = event(world)
    sign_in_as(client, member(world))
    resp = client.post(reverse("app:event", args=[ev.pk]), {"key": KEY, "seats": 3})
    assert resp.status_code == 422 and b"errorlist" in resp.content
    assert not Registration.objects.exists()


def test_the_desk_refuses_a_second_check_in(client, world):
    start = timeutil.now() + dt.timedelta(minutes=20)
    reg = register(world, member(world), event(world, starts_at=start, ends_at=start + dt.timedelta(hours=1)))
    login(client, world, "service")
    url = reverse("console:events_check_in")
    assert client.post(url, {"code": reg.code}).status_code == 200
    second = client.post(url, {"code": reg.code})
    assert second.status_code == 409 and b"ev-code-error" in second.content
    found = client.get(url, {"code": reg.code})
    assert b'data-testid="ev-check-in"' not in found.content and b"ev-code-error" in found.content


def test_console_editor_errors_preview_and_export(client, world):
    login(client, world, "marketing")
    start = (timeutil.now() + dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    end = (timeutil.now() + dt.timedelta(days=5, hours=2)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "title": "花艺沙龙",
        "mall": world.mall.pk,
        "place": "L2",
        "starts_at": start,
        "ends_at": end,
        "capacity": 10,
        "per_member_limit": 1,
        "tier_mode": "open",
        "price_points": 0,
        "cancel_hours_before": 24,
        "status": "published",
    }
    bad = client.post(reverse("console:event_new"), data | {"ends_at": start})
    assert bad.status_code == 422 and not Event.objects.exists()
    preview = client.post(reverse("console:event_new"), data | {"preview": "1"})
    assert preview.status_code == 200 and "花艺沙龙" in preview.content.decode() and not Event.objects.exists()
    saved = client.post(reverse("console:event_new"), data)
    ev = Event.objects.get()
    assert saved.url == reverse("console:event", args=[ev.pk])
    register(world, member(world), ev)
    export = client.get(reverse("console:event", args=[ev.pk]), {"export": "csv"})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert AuditEvent.objects.filter(action="event.export").count() == 1
