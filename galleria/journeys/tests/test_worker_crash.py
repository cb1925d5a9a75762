"""Exactly once across a crash (issue #18, "tested by killing the worker mid-journey"): a real `galleria
journeys_run` process works through a journey of a few hundred members — an inbox message, points, a coupon and a
tag each — and is killed with SIGKILL part-way; a second run finishes. Every member got each thing exactly once and
every step is recorded once: the transaction in flight when the process died rolled back whole."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from django.db import connection

from galleria.audience import services as audience_services
from galleria.audience.models import MemberTag
from galleria.audience.tests.helpers import member
from galleria.audit.types import Actor
from galleria.campaigns.models import MarketingSettings
from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import template as coupon_template
from galleria.journeys import services
from galleria.journeys.models import Enrollment, StepRun
from galleria.messaging.models import InboxMessage
from galleria.points.models import PointsLot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ACTOR = Actor.system("test")
MEMBERS = 240


def _worker_env() -> dict[str, str]:
    s = connection.settings_dict
    user, password = quote(s["USER"] or "", safe=""), quote(s["PASSWORD"] or "", safe="")
    url = f"postgres://{user}:{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{quote(s['NAME'], safe='')}"
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}


def test_a_worker_killed_mid_journey_leaves_every_step_done_exactly_once(world, monkeypatch):
    # the tests' task backend runs a task at once, in this process: the kick that would run the new entrants' first
    # steps right after they join is switched off, so the worker process does all the work
    monkeypatch.setattr(services, "_kick", lambda journey_id: None)
    MarketingSettings.objects.create(mall_group=world.group, quiet_start=dt.time(0), quiet_end=dt.time(0))  # none
    tag = audience_services.tag_save(mall_group_id=world.group.pk, name="旅程会员", actor=ACTOR)
    tpl = coupon_template(world)
    j = services.journey_save(
        mall_group_id=world.group.pk,
        actor=ACTOR,
        values={
            "name": "崩溃测试旅程",
            "trigger": "joined",
            "draft": {
                "steps": [
                    {"id": "m", "kind": "message", "inbox": True, "title": "欢迎", "body": "欢迎加入"},
                    {"id": "p", "kind": "points", "points": 10},
                    {"id": "c", "kind": "coupon", "template_id": tpl.pk},
                    {"id": "t", "kind": "tag", "tag_id": tag.pk},
                ]
            },
        },
    )
    services.journey_publish(mall_group_id=world.group.pk, journey_id=j.pk, actor=ACTOR)
    from django.utils import timezone

    members = [member(world, joined_at=timezone.now()) for _ in range(MEMBERS)]
    assert Enrollment.objects.filter(journey=j).count() == MEMBERS
    assert not StepRun.objects.exists()
    total = MEMBERS * 4

    worker = subprocess.Popen(
        [sys.executable, "-m", "galleria", "journeys_run"],
        env=_worker_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline:
        done = StepRun.objects.count()
        if done >= total // 4 or worker.poll() is not None:
            break
        time.sleep(0.02)
    assert worker.poll() is None, f"the worker finished before it could be killed:\n{worker.communicate()[0]!r}"
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    partial = StepRun.objects.count()
    assert 0 < partial < total, partial  # killed part-way

    rerun = subprocess.run(
        [sys.executable, "-m", "galleria", "journeys_run"],
        env=_worker_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr

    ids = [m.pk for m in members]
    assert StepRun.objects.count() == total
    assert set(Enrollment.objects.filter(journey=j).values_list("status", flat=True)) == {"done"}
    assert InboxMessage.objects.filter(member_id__in=ids).count() == MEMBERS
    assert sorted(InboxMessage.objects.filter(member_id__in=ids).values_list("member_id", flat=True)) == sorted(ids)
    assert PointsLot.objects.filter(member_id__in=ids).count() == MEMBERS
    assert Coupon.objects.filter(template=tpl).count() == MEMBERS
    assert len(set(Coupon.objects.filter(template=tpl).values_list("member_id", flat=True))) == MEMBERS
    assert MemberTag.objects.filter(tag=tag).count() == MEMBERS
