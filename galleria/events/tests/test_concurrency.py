"""Races on PostgreSQL with real threads (each its own connection): 30 registrations for 20 seats, 10 at a time, make
exactly 20 confirmed and 10 waiting in arrival order; one idempotency key tapped at once makes one registration;
two desks scanning one ticket check it in once; cancelling and re-registering never overbook."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.events import exceptions, services
from galleria.events.models import Event, Registration
from galleria.testing import run_parallel

from .helpers import ACTOR, event, member, register

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _outcome(fn: Any) -> str:
    try:
        fn()
    except ApplicationError as exc:
        return exc.code
    return "ok"


def test_thirty_registrations_for_twenty_seats_ten_at_a_time(world):
    ev = event(world, capacity=20)
    members = [member(world) for _ in range(30)]
    regs: list[Any] = []
    for wave in range(3):  # 3 waves of 10 concurrent registrations
        regs += run_parallel(10, lambda i, w=wave: register(world, members[w * 10 + i], ev))

    states = [r.state for r in Registration.objects.filter(event=ev).order_by("queue_no")]
    assert states.count("confirmed") == 20 and states.count("waiting") == 10
    assert states == ["confirmed"] * 20 + ["waiting"] * 10  # arrival order: nobody waits ahead of a seat
    assert Event.objects.get(pk=ev.pk).seats_taken == 20
    queue = list(Registration.objects.filter(event=ev, state="waiting").order_by("queue_no"))
    assert [r.queue_no for r in queue] == list(range(21, 31))


def test_one_key_tapped_ten_times_at_once_makes_one_registration(world):
    ev = event(world)
    m = member(world)
    ids = run_parallel(10, lambda i: register(world, m, ev, key="the-same-tap").pk)
    assert len(set(ids)) == 1
    assert Registration.objects.filter(event=ev).count() == 1 and Event.objects.get(pk=ev.pk).seats_taken == 1


def test_two_desks_scanning_one_ticket_check_in_once(world):
    start = timeutil.now() + dt.timedelta(minutes=10)
    ev = event(world, starts_at=start, ends_at=start + dt.timedelta(hours=2))
    reg = register(world, member(world), ev)
    outcomes = run_parallel(
        8, lambda i: _outcome(lambda: services.check_in(mall_group_id=world.group.pk, code=reg.code, actor=ACTOR))
    )
    assert outcomes.count("ok") == 1
    assert set(outcomes) == {"ok", exceptions.AlreadyCheckedInError.code}
