"""Webhooks on the database, delivered to a real local HTTP receiver: the outbox written with the change (and rolled
back with it), signed deliveries, retries with backoff, giving up after 24 hours, a dead endpoint turned off with an
audit entry, the per-member order, replay and the test event."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import time_machine
from django.db import transaction

from galleria.audit.models import AuditEvent
from galleria.members.services import member_profile_update
from galleria.webhooks import exceptions, rules, selectors, services
from galleria.webhooks.models import Delivery, Endpoint, WebhookEvent

from .helpers import ACTOR, endpoint, member
from .receiver import receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _http(settings):
    settings.GALLERIA_WEBHOOKS_ALLOW_HTTP = True


def _verify(secret: str, req) -> dict:
    assert rules.verify(secret=secret, header=req.headers["x-galleria-signature"], body=req.body, now=int(time.time()))
    return json.loads(req.body)


def test_a_member_joining_is_delivered_signed_to_the_endpoint(world):
    with receiver() as rec:
        _eid, secret = endpoint(world, rec.url)
        m = member(world)
        result = services.deliveries_run()
        assert result.delivered == 1
        (req,) = rec.requests
    doc = _verify(secret, req)
    assert doc["type"] == "member.joined"
    assert doc["data"] == {"member_id": m.pk}
    assert doc["mall_group_id"] == world.group.pk
    assert req.headers["x-galleria-event-id"] == doc["id"]
    assert req.headers["x-galleria-event-type"] == "member.joined"
    d = Delivery.objects.get()
    assert (d.status, d.attempts, d.last_status_code) == ("delivered", 1, 200)
    assert d.attempt_rows.get().response_body == '{"ok":true}'


def test_nothing_is_recorded_for_a_change_that_rolls_back_or_for_unsubscribed_or_disabled_endpoints(world):
    eid, _secret = endpoint(world, "http://127.0.0.1:9/x", types=["tier.changed"])
    member(world)  # member.joined: not chosen
    assert not WebhookEvent.objects.exists()
    services.endpoint_update(
        mall_group_id=world.group.pk,
        endpoint_id=eid,
        url="http://127.0.0.1:9/x",
        description="",
        event_types=["member.joined"],
        actor=ACTOR,
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        from galleria.members.services import member_register_in_tx

        member_register_in_tx(mall=world.mall, phone="13900009999", channel="desk", actor=ACTOR)
        assert WebhookEvent.objects.count() == 1  # written inside the change's transaction
        raise RuntimeError("the change fails")
    assert not WebhookEvent.objects.exists() and not Delivery.objects.exists()
    services.endpoint_set_enabled(mall_group_id=world.group.pk, endpoint_id=eid, enabled=False, actor=ACTOR)
    member(world)
    assert not Delivery.objects.exists()


def test_a_profile_change_is_member_updated_and_an_erasure_is_member_erased(world):
    with receiver() as rec:
        _eid, secret = endpoint(world, rec.url)
        m = member(world)
        member_profile_update(member_id=m.pk, actor=ACTOR, values={"name": "李雷"})
        from galleria.privacy import services as privacy

        req = privacy.erasure_request(member_id=m.pk, mall_group_id=world.group.pk, actor=ACTOR, via="console")
        privacy.erasure_execute(request_id=req.pk, actor=ACTOR)
        services.deliveries_run()
        kinds = [_verify(secret, r)["type"] for r in rec.requests]
    assert kinds == ["member.joined", "member.updated", "member.erased"]
    assert "李雷" not in json.dumps([r.body.decode() for r in rec.requests])  # ids only


def test_failures_are_retried_with_backoff_then_given_up_after_24_hours_and_the_endpoint_turned_off(world):
    with receiver(default=503) as rec:
        eid, _secret = endpoint(world, rec.url)
        start = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False) as clock:
            member(world)
            services.deliveries_run()
            d = Delivery.objects.get()
            assert (d.status, d.attempts, d.last_status_code) == ("pending", 1, 503)
            assert dt.timedelta(seconds=30) <= d.next_attempt_at - start <= dt.timedelta(seconds=38)
            assert services.deliveries_run().delivered == 0  # not due yet
            assert Delivery.objects.get().attempts == 1
            for _ in range(40):
                d = Delivery.objects.get()
                if d.status != "pending":
                    break
                clock.move_to(d.next_attempt_at + dt.timedelta(seconds=1))
                services.deliveries_run()
        d = Delivery.objects.get()
        assert d.status == "failed"
        assert 10 <= d.attempts <= 16
        assert len(rec.requests) == d.attempts
        assert max(a.at for a in d.attempt_rows.all()) - start <= dt.timedelta(hours=24)
    endpoint_row = Endpoint.objects.get(pk=eid)
    assert not endpoint_row.is_enabled and endpoint_row.disabled_reason
    assert AuditEvent.objects.filter(action="webhook.endpoint_auto_disable", target_id=str(eid)).count() == 1


def test_one_success_resets_the_failure_clock(world):
    with receiver(script=[500]) as rec:
        eid, _secret = endpoint(world, rec.url)
        start = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False) as clock:
            member(world)
            services.deliveries_run()
            assert Endpoint.objects.get(pk=eid).failing_since == start
            clock.shift(dt.timedelta(minutes=1))
            services.deliveries_run()
        assert len(rec.requests) == 2
    e = Endpoint.objects.get(pk=eid)
    assert e.failing_since is None and e.is_enabled and e.last_success_at is not None


def test_a_members_later_event_waits_until_the_earlier_one_is_delivered(world):
    with receiver(script=[500]) as rec:
        endpoint(world, rec.url)
        start = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False) as clock:
            m = member(world)
            member_profile_update(member_id=m.pk, actor=ACTOR, values={"name": "韩梅梅"})
            other = member(world)
            services.deliveries_run()
            # the first event failed: the member's update waits; the other member's join went out
            sent = [json.loads(r.body) for r in rec.requests]
            assert [(d["type"], d["data"]["member_id"]) for d in sent] == [
                ("member.joined", m.pk),
                ("member.joined", other.pk),
            ]
            clock.shift(dt.timedelta(minutes=1))
            services.deliveries_run()
        order = [(json.loads(r.body)["type"], json.loads(r.body)["data"]["member_id"]) for r in rec.requests]
    assert order[2:] == [("member.joined", m.pk), ("member.updated", m.pk)]


def test_replay_sends_the_same_event_again_and_keeps_the_log(world):
    with receiver() as rec:
        endpoint(world, rec.url)
        member(world)
        services.deliveries_run()
        first = Delivery.objects.get()
        replay = services.delivery_replay(mall_group_id=world.group.pk, delivery_id=first.pk, actor=ACTOR)
        services.deliveries_run()
        assert len(rec.requests) == 2
        assert rec.requests[0].body == rec.requests[1].body  # the same event, the same id
    assert Delivery.objects.get(pk=replay.pk).status == "delivered"
    assert Delivery.objects.get(pk=first.pk).attempt_rows.count() == 1
    assert AuditEvent.objects.filter(action="webhook.delivery_replay").count() == 1
    with pytest.raises(exceptions.DeliveryNotFoundError):
        services.delivery_replay(mall_group_id=world.group.pk + 999, delivery_id=first.pk, actor=ACTOR)


def test_the_test_event_is_sent_at_once_and_a_long_answer_is_truncated_in_the_log(world):
    with receiver(answer=b"x" * 9000, default=404) as rec:
        eid, secret = endpoint(world, rec.url)
        d = services.endpoint_send_test(mall_group_id=world.group.pk, endpoint_id=eid, actor=ACTOR)
        assert _verify(secret, rec.requests[0])["type"] == "webhook.test"
    assert d.last_status_code == 404 and d.status == "pending"
    body = selectors.delivery_attempts(delivery_id=d.pk).get().response_body
    assert len(body) == rules.RESPONSE_KEEP + 1


def test_an_unreachable_endpoint_is_logged_as_a_connection_error(world):
    eid, _secret = endpoint(world, "http://127.0.0.1:9/none")
    d = services.endpoint_send_test(mall_group_id=world.group.pk, endpoint_id=eid, actor=ACTOR)
    attempt = selectors.delivery_attempts(delivery_id=d.pk).get()
    assert attempt.status_code == 0 and attempt.error


def test_the_secret_is_stored_sealed_and_bad_input_is_refused(world):
    eid, secret = endpoint(world, "https://erp.example.com/hook")
    row = Endpoint.objects.get(pk=eid)
    assert secret.startswith("whsec_") and secret not in row.secret_sealed
    assert services.endpoint_secret(endpoint=row) == secret
    with pytest.raises(exceptions.EndpointInvalidError) as err:
        services.endpoint_create(
            mall_group_id=world.group.pk, url="ftp://x", description="", event_types=["nope"], actor=ACTOR
        )
    assert set(err.value.fields) == {"url", "event_types"}
    with pytest.raises(exceptions.EndpointNotFoundError):
        services.endpoint_set_enabled(mall_group_id=world.group.pk + 999, endpoint_id=eid, enabled=False, actor=ACTOR)


def test_a_merge_is_member_merged_for_the_survivor(world):
    from galleria.dedupe.services import member_merge

    with receiver() as rec:
        _eid, secret = endpoint(world, rec.url, types=["member.merged"])
        survivor, absorbed = member(world), member(world)
        member_merge(mall_group_id=world.group.pk, survivor_id=survivor.pk, absorbed_id=absorbed.pk, actor=ACTOR)
        member_merge(mall_group_id=world.group.pk, survivor_id=survivor.pk, absorbed_id=absorbed.pk, actor=ACTOR)
        services.deliveries_run()
        (req,) = rec.requests  # the repeated merge changed nothing: no second event
    doc = _verify(secret, req)
    assert doc["type"] == "member.merged"
    assert doc["data"] == {"member_id": survivor.pk, "absorbed_member_id": absorbed.pk}
