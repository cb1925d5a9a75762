"""Events use cases on the database: register, waiting list, promotion with an inbox message, confirm, lapse,
cancel (points refunded through the checkout pipeline), check-in once, the no-show block, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from galleria.core import timeutil
from galleria.events import exceptions, selectors, services
from galleria.events.models import Event, Registration
from galleria.events.types import NoShowPolicy
from galleria.ledger.selectors import ledger_check
from galleria.messaging.models import InboxMessage
from galleria.points.selectors import points_balance
from galleria.sales.models import Refund, Sale

from .helpers import ACTOR, desk, event, member, register

pytestmark = pytest.mark.django_db


def test_seats_then_the_waiting_list_in_order(world):
    ev = event(world, capacity=2)
    regs = [register(world, member(world), ev) for _ in range(4)]
    assert [r.state for r in regs] == ["confirmed", "confirmed", "waiting", "waiting"]
    assert Event.objects.get(pk=ev.pk).seats_taken == 2
    assert [selectors.waiting_position(registration=r) for r in regs[2:]] == [1, 2]


def test_the_same_key_twice_is_one_registration_and_another_event_is_a_conflict(world):
    ev, other = event(world), event(world, title="花艺课")
    m = member(world)
    first = register(world, m, ev, key="tap-1")
    assert register(world, m, ev, key="tap-1").pk == first.pk
    assert Registration.objects.count() == 1
    with pytest.raises(exceptions.IdempotencyConflictError):
        register(world, m, other, key="tap-1")
    with pytest.raises(exceptions.AlreadyRegisteredError):
        register(world, m, ev, key="tap-2")


def test_a_freed_seat_is_offered_to_the_next_with_an_inbox_message_and_a_deadline(
    world, django_capture_on_commit_callbacks
):
    ev = event(world, capacity=1)
    first, m2 = member(world), member(world)
    r1 = register(world, first, ev)
    r2 = register(world, m2, ev)
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_cancel(registration_id=r1.pk, member_id=first.pk, actor=ACTOR)
    r2.refresh_from_db()
    assert r2.state == "offered" and r2.offer_expires_at is not None
    message = InboxMessage.objects.get(member_id=m2.pk)
    assert "亲子烘焙课" in message.title
    confirmed = services.offer_confirm(registration_id=r2.pk, member_id=m2.pk, actor=ACTOR)
    assert confirmed.state == "confirmed"
    assert Event.objects.get(pk=ev.pk).seats_taken == 1


def test_an_unconfirmed_offer_lapses_to_the_next_in_line(world, django_capture_on_commit_callbacks):
    ev = event(world, capacity=1)
    m1, m2, m3 = member(world), member(world), member(world)
    r1, r2, r3 = register(world, m1, ev), register(world, m2, ev), register(world, m3, ev)
    services.registration_cancel(registration_id=r1.pk, member_id=m1.pk, actor=ACTOR)
    r2.refresh_from_db()
    later = r2.offer_expires_at + dt.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.offers_lapse(at=later) == 1
    r2.refresh_from_db()
    r3.refresh_from_db()
    assert (r2.state, r3.state) == ("lapsed", "offered")
    with pytest.raises(exceptions.OfferNotOpenError):
        services.offer_confirm(registration_id=r2.pk, member_id=m2.pk, actor=ACTOR)
    assert InboxMessage.objects.filter(member_id=m3.pk).count() == 1
    call_command("events_offers_lapse")  # nothing due now: runs clean


def test_points_priced_seats_go_through_the_pipeline_and_are_refunded_on_cancel(world):
    store = desk(world)
    ev = event(world, price_points=500, store_id=store.pk, per_member_limit=2)
    m = member(world, points=2000)
    reg = register(world, m, ev, seats=2)
    assert reg.points == 1000 and points_balance(member_id=m.pk) == 1000
    sale = Sale.objects.get(pk=reg.sale_id)
    assert sale.channel == "event"
    done = services.registration_cancel(registration_id=reg.pk, member_id=m.pk, actor=ACTOR)
    assert done.state == "cancelled" and done.points_returned == 1000
    assert points_balance(member_id=m.pk) == 2000
    assert Refund.objects.filter(sale_id=sale.pk).count() == 1
    assert Event.objects.get(pk=ev.pk).seats_taken == 0
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_not_enough_points_registers_nothing(world):
    store = desk(world)
    ev = event(world, price_points=500, store_id=store.pk)
    m = member(world, points=100)
    with pytest.raises(Exception):  # noqa: B017 - the pipeline's insufficient-points error
        register(world, m, ev)
    assert Registration.objects.count() == 0 and Event.objects.get(pk=ev.pk).seats_taken == 0


def test_members_may_cancel_until_the_deadline_staff_any_time(world):
    start = timeutil.now() + dt.timedelta(hours=10)
    ev = event(world, starts_at=start, ends_at=start + dt.timedelta(hours=2), cancel_hours_before=24)
    m = member(world)
    reg = register(world, m, ev)
    with pytest.raises(exceptions.CancelNotAllowedError):
        services.registration_cancel(registration_id=reg.pk, member_id=m.pk, actor=ACTOR)
    done = services.registration_cancel(registration_id=reg.pk, mall_group_id=world.group.pk, actor=ACTOR)
    assert done.state == "cancelled"


def test_check_in_once_and_a_second_scan_is_refused_politely(world):
    start = timeutil.now() + dt.timedelta(minutes=30)
    ev = event(world, starts_at=start, ends_at=start + dt.timedelta(hours=2))
    reg = register(world, member(world), ev)
    done = services.check_in(mall_group_id=world.group.pk, code=f"{reg.code[:4]} {reg.code[4:]}", actor=ACTOR)
    assert done.state == "checked_in" and done.checked_in_at is not None
    with pytest.raises(exceptions.AlreadyCheckedInError):
        services.check_in(mall_group_id=world.group.pk, code=reg.code, actor=ACTOR)
    with pytest.raises(exceptions.TicketInvalidError):
        services.check_in(mall_group_id=world.group.pk, code="00000000", actor=ACTOR)


def test_waiting_tickets_do_not_check_in(world):
    start = timeutil.now() + dt.timedelta(minutes=30)
    ev = event(world, capacity=1, starts_at=start, ends_at=start + dt.timedelta(hours=2))
    register(world, member(world), ev)
    waiting = register(world, member(world), ev)
    with pytest.raises(exceptions.TicketNotValidError):
        services.check_in(mall_group_id=world.group.pk, code=waiting.code, actor=ACTOR)


def test_two_no_shows_block_registration_and_attendance_counts_them(world):
    services.policy_save(
        mall_group_id=world.group.pk, policy=NoShowPolicy(limit=2, window_days=90, block_days=30), actor=ACTOR
    )
    m = member(world)
    now = timeutil.now()
    missed = []
    for days in (20, 5):
        ev = event(world)
        missed.append(register(world, m, ev))
        Event.objects.filter(pk=ev.pk).update(
            starts_at=now - dt.timedelta(days=days, hours=2), ends_at=now - dt.timedelta(days=days)
        )
    stats = selectors.attendance(event=Event.objects.get(pk=missed[1].event_id), at=now)
    assert (stats.registered, stats.checked_in, stats.no_shows) == (1, 0, 1)
    with pytest.raises(exceptions.NoShowBlockedError):
        register(world, m, event(world))
    rows = selectors.no_show_stats(mall_group_id=world.group.pk, at=now)
    assert [r.no_shows for r in rows] == [1, 1]


def test_tier_only_and_tier_priority_events(world):
    from galleria.tiers.services import tier_ladder_ensure_default

    top = max(tier_ladder_ensure_default(mall_group_id=world.group.pk), key=lambda lv: lv.rank)
    with pytest.raises(exceptions.TierRequiredError):
        register(world, member(world), event(world, tier_mode="tier_only", min_tier_id=top.pk))
    later = timeutil.now() + dt.timedelta(days=1)
    ev = event(world, title="品鉴会", tier_mode="tier_priority", min_tier_id=top.pk, priority_until=later)
    m = member(world)
    with pytest.raises(exceptions.TierPriorityError):
        register(world, m, ev)
    assert register(world, m, ev, at=later + dt.timedelta(minutes=1)).state == "confirmed"


def test_registration_window_and_drafts(world):
    ev = event(world, status="draft")
    with pytest.raises(exceptions.RegistrationClosedError):
        register(world, member(world), ev)


def test_the_poster_is_re_encoded_and_junk_is_refused(world):
    import io

    from PIL import Image

    ev = event(world)
    out = io.BytesIO()
    Image.new("RGB", (200, 120), (138, 28, 63)).save(out, format="PNG")
    saved = services.event_poster_set(mall_group_id=world.group.pk, event_id=ev.pk, data=out.getvalue(), actor=ACTOR)
    data = selectors.poster_bytes(event=saved)
    assert data is not None and data[:3] == b"\xff\xd8\xff" and len(saved.poster_sha) == 64  # a fresh JPEG
    with pytest.raises(exceptions.ImageInvalidError):
        services.event_poster_set(mall_group_id=world.group.pk, event_id=ev.pk, data=b"<svg onload=x>", actor=ACTOR)


def test_capacity_cannot_drop_below_seats_taken_and_a_larger_one_serves_the_queue(world):
    from galleria.events.types import EventIn

    ev = event(world, capacity=1)
    register(world, member(world), ev)
    waiting = register(world, member(world), ev)
    base = {
        "title": ev.title,
        "mall_id": ev.mall_id,
        "place": ev.place,
        "starts_at": ev.starts_at,
        "ends_at": ev.ends_at,
        "status": "published",
    }
    services.event_save(mall_group_id=world.group.pk, event_id=ev.pk, data=EventIn(**base, capacity=2), actor=ACTOR)
    waiting.refresh_from_db()
    assert waiting.state == "offered"
    with pytest.raises(exceptions.EventInvalidError):
        services.event_save(mall_group_id=world.group.pk, event_id=ev.pk, data=EventIn(**base, capacity=1), actor=ACTOR)
