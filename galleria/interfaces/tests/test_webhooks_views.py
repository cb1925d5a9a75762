"""Console webhooks (docs/api.md, "Webhooks"): an admin creates an endpoint and sees its secret once, chooses the
events, sends a test event to a real local receiver, turns the endpoint off and on, reads the delivery log and
sends an event again. Other roles are refused (the access matrix covers every URL)."""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings
from django.urls import reverse

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.testing import PASSWORD
from galleria.webhooks import rules, services
from galleria.webhooks.models import Delivery, Endpoint
from galleria.webhooks.tests.helpers import member
from galleria.webhooks.tests.receiver import receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _http(settings):
    settings.GALLERIA_WEBHOOKS_ALLOW_HTTP = True


def login(client, world, role: str = "group_admin") -> None:
    user = world.users[role]
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def test_the_secret_is_shown_once_and_signs_the_test_event(client, world):
    login(client, world)
    with receiver() as rec:
        res = client.post(
            reverse("console:webhook_new"),
            {"url": rec.url, "description": "ERP", "event_types": ["member.joined", "tier.changed"]},
        )
        assert res.status_code == 200 and res["Cache-Control"] == "no-store"
        secret = re.search(r'data-testid="wh-secret">(whsec_[\w-]+)<', res.content.decode()).group(1)
        endpoint = Endpoint.objects.get()
        assert rules.event_types_of(endpoint.event_types) == ["member.joined", "tier.changed"]
        page = client.get(reverse("console:webhook_endpoint", args=[endpoint.pk])).content.decode()
        assert secret not in page and rec.url in page
        res = client.post(reverse("console:webhook_endpoint_test", args=[endpoint.pk]), follow=True)
        assert "Test event delivered (HTTP 200)" in res.content.decode()
        (req,) = rec.requests
        assert rules.verify(
            secret=secret, header=req.headers["x-galleria-signature"], body=req.body, now=int(time.time())
        )
    assert AuditEvent.objects.filter(action="webhook.endpoint_create").count() == 1


def test_bad_input_is_shown_inline(client, world):
    login(client, world)
    res = client.post(reverse("console:webhook_new"), {"url": "ftp://x", "event_types": []})
    assert res.status_code == 422
    assert "errorlist" in res.content.decode()
    assert not Endpoint.objects.exists()


def test_turn_off_and_on_the_log_and_replay(client, world):
    login(client, world)
    with receiver() as rec:
        created = services.endpoint_create(
            mall_group_id=world.group.pk,
            url=rec.url,
            description="",
            event_types=["member.joined"],
            actor=Actor.system("t"),
        )
        eid = created.endpoint_id
        client.post(reverse("console:webhook_endpoint_toggle", args=[eid]), {"enabled": "0"})
        assert not Endpoint.objects.get(pk=eid).is_enabled
        member(world)
        assert not Delivery.objects.exists()
        client.post(reverse("console:webhook_endpoint_toggle", args=[eid]), {"enabled": "1"})
        member(world)
        services.deliveries_run()
        d = Delivery.objects.get()
        log = client.get(reverse("console:webhook_deliveries") + "?status=delivered").content.decode()
        assert f'data-id="{d.pk}"' in log and "member.joined" in log
        detail = client.get(reverse("console:webhook_delivery", args=[d.pk])).content.decode()
        assert "HTTP 200" in detail and str(d.event.event_id) in detail
        res = client.post(reverse("console:webhook_delivery_replay", args=[d.pk]))
        assert res.status_code == 302
        services.deliveries_run()
        assert len(rec.requests) == 2 and rec.requests[0].body == rec.requests[1].body


def test_only_admins_get_in(client, world):
    login(client, world, "marketing")
    assert client.get(reverse("console:webhooks")).status_code == 403
