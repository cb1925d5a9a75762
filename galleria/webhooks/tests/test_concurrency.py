"""Several delivery workers at once (PostgreSQL, real threads): SKIP LOCKED claims and leases give every delivery
to exactly one worker — with no crash, each event reaches the receiver once — and a member's events still arrive in
order although workers race for them."""

from __future__ import annotations

import collections
import json
import threading

import pytest
from django.db import connection

from galleria.members.services import member_profile_update
from galleria.webhooks import services
from galleria.webhooks.models import Delivery

from .helpers import ACTOR, endpoint, member
from .receiver import receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
WORKERS = 6
MEMBERS = 60


def test_parallel_workers_send_each_event_once_and_in_member_order(world, settings):
    settings.GALLERIA_WEBHOOKS_ALLOW_HTTP = True
    with receiver(delay_s=0.002) as rec:
        endpoint(world, rec.url)
        members = [member(world) for _ in range(MEMBERS)]
        for m in members:
            member_profile_update(member_id=m.pk, actor=ACTOR, values={"name": "并发"})
        errors: list[BaseException] = []
        start = threading.Barrier(WORKERS)

        def work() -> None:
            try:
                start.wait()
                services.deliveries_run(batch=5)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=work) for _ in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        services.deliveries_run()  # whatever a worker left when it saw nothing due for a moment
        received = [json.loads(r.body) for r in rec.requests]
    assert errors == []
    counts = collections.Counter(doc["id"] for doc in received)
    assert len(counts) == MEMBERS * 2 and set(counts.values()) == {1}
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    position = {(doc["data"]["member_id"], doc["type"]): i for i, doc in enumerate(received)}
    for m in members:
        assert position[(m.pk, "member.joined")] < position[(m.pk, "member.updated")]
