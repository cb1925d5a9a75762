"""At least once across a crash (issue #21, "kill the worker mid-delivery"): a real `galleria webhooks_deliver`
process sends a few hundred events to a local receiver and is killed with SIGKILL part-way; a second run (after the
killed run's leases expire) finishes. Every event arrived, each member's events in order, and the only duplicate is
the one delivery that was in flight when the process died (sent, not yet recorded) — the documented at-least-once."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from django.db import connection

from galleria.members.services import member_profile_update
from galleria.webhooks.models import Delivery, WebhookEvent

from .helpers import ACTOR, endpoint, member
from .receiver import receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
MEMBERS = 120
LEASE_S = 2


def _worker_env() -> dict[str, str]:
    s = connection.settings_dict
    user, password = quote(s["USER"] or "", safe=""), quote(s["PASSWORD"] or "", safe="")
    url = f"postgres://{user}:{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{quote(s['NAME'], safe='')}"
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}


def _command() -> list[str]:
    return [sys.executable, "-m", "galleria", "webhooks_deliver", "--batch", "10", "--lease-seconds", str(LEASE_S)]


def test_a_worker_killed_mid_delivery_loses_nothing_and_duplicates_at_most_the_one_in_flight(world, settings):
    settings.GALLERIA_WEBHOOKS_ALLOW_HTTP = True
    with receiver(delay_s=0.01) as rec:
        endpoint(world, rec.url)
        members = [member(world) for _ in range(MEMBERS)]
        for m in members[: MEMBERS // 2]:
            member_profile_update(member_id=m.pk, actor=ACTOR, values={"name": "会员"})
        total = MEMBERS + MEMBERS // 2
        assert WebhookEvent.objects.count() == Delivery.objects.count() == total

        worker = subprocess.Popen(_command(), env=_worker_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(rec.requests) < total // 3 and worker.poll() is None:
            time.sleep(0.005)
        assert worker.poll() is None, f"the worker finished before it could be killed:\n{worker.communicate()[0]!r}"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        partial = len(rec.requests)
        assert 0 < partial < total, partial
        assert Delivery.objects.filter(status="pending").exists()

        time.sleep(LEASE_S + 0.5)  # the killed worker's leases run out
        rerun = subprocess.run(_command(), env=_worker_env(), capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr
        received = [json.loads(r.body) for r in rec.requests]

    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    ids = collections.Counter(doc["id"] for doc in received)
    assert set(ids) == {str(e) for e in WebhookEvent.objects.values_list("event_id", flat=True)}  # none lost
    duplicated = [i for i, n in ids.items() if n > 1]
    assert len(duplicated) <= 1, duplicated  # only the delivery in flight at the kill
    assert all(n <= 2 for n in ids.values())
    first_seen: dict[tuple[int, str], int] = {}
    for position, doc in enumerate(received):
        first_seen.setdefault((doc["data"]["member_id"], doc["type"]), position)
    for m in members[: MEMBERS // 2]:  # each member's join went out before their update
        assert first_seen[(m.pk, "member.joined")] < first_seen[(m.pk, "member.updated")]
