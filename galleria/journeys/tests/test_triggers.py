"""Each trigger enters the right members once per occurrence: the event triggers as the event happens, the
scanned ones when the sweep finds them (and a second sweep finds nothing new)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from galleria.audience import services as audience_services
from galleria.audience.tests.helpers import member, sale
from galleria.coupons import services as coupon_services
from galleria.coupons.tests.helpers import template as coupon_template
from galleria.events.tests import helpers as events
from galleria.journeys import services
from galleria.parking.models import ParkingSession
from galleria.parking.tests.helpers import car_park
from galleria.testing_points import give_points

from .helpers import entered, running

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 12, 8, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
DAY = dt.timedelta(days=1)


def _member(world, **kw):
    with time_machine.travel(NOON - 400 * DAY, tick=False):
        return member(world, joined_at=NOON - 400 * DAY, **kw)


def _scan_twice(at):
    first = services.journeys_scan(now=at)
    assert services.journeys_scan(now=at) == 0  # the same occurrences enter once
    return first


def test_joined_enters_as_the_member_registers(world):
    running(world, "joined")
    m = _member(world)
    assert entered(world, "joined") == {(m.pk, "joined")}


def test_birthday_enters_on_the_mall_local_day_once_a_year(world):
    running(world, "birthday")
    today = _member(world, birthday=dt.date(1990, 12, 8))
    _member(world, birthday=dt.date(1990, 12, 9))
    leap = _member(world, birthday=dt.date(1992, 2, 29))
    late_evening = dt.datetime(2026, 12, 8, 15, 30, tzinfo=dt.UTC)  # 23:30 on 8 December in Shanghai
    assert _scan_twice(late_evening) == 1
    assert entered(world, "birthday") == {(today.pk, "birthday:2026")}
    services.journeys_scan(now=dt.datetime(2027, 2, 28, 4, 0, tzinfo=dt.UTC))  # 2027 is a common year
    assert (leap.pk, "birthday:2027") in entered(world, "birthday")


def test_points_expiring_within_the_days_enters_once_per_expiry_date(world):
    running(world, "points_expiring", days=30)
    soon, later = _member(world), _member(world)
    with time_machine.travel(NOON - 700 * DAY, tick=False):
        give_points(world, soon, 500)
    with time_machine.travel(NOON - 100 * DAY, tick=False):
        give_points(world, later, 500)
    from galleria.points.models import PointsLot

    lot = PointsLot.objects.get(member=soon)
    at = dt.datetime.combine(lot.expires_on - dt.timedelta(days=10), dt.time(4), tzinfo=dt.UTC)
    assert _scan_twice(at) == 1
    assert entered(world, "points_expiring") == {(soon.pk, f"points:{lot.expires_on.isoformat()}")}


def test_an_unused_coupon_about_to_expire_enters_per_coupon(world):
    running(world, "coupon_expiring", days=3)
    tpl = coupon_template(world, validity_kind="fixed", valid_until=timezone.now() + dt.timedelta(days=2))
    far = coupon_template(world, validity_kind="fixed", valid_until=timezone.now() + dt.timedelta(days=20))
    m = _member(world)

    def grant(t):
        with transaction.atomic():
            return coupon_services.coupon_issue_in_tx(
                mall_group_id=world.group.pk,
                template_id=t.pk,
                member_id=m.pk,
                source_key=f"t:{t.pk}",
                at=timezone.now(),
            )

    coupon = grant(tpl)
    grant(far)
    assert _scan_twice(timezone.now()) == 1
    assert entered(world, "coupon_expiring") == {(m.pk, f"coupon:{coupon.coupon_id}")}


def test_dormant_members_enter_once_per_last_purchase(world):
    running(world, "dormant", days=60)
    lapsed, recent, long_gone = _member(world), _member(world), _member(world)
    sale(world, lapsed, at=NOON - 62 * DAY)
    sale(world, recent, at=NOON - 10 * DAY)
    sale(world, long_gone, at=NOON - 200 * DAY)
    audience_services.profiles_rebuild(mall_group_id=world.group.pk, now=NOON)
    assert _scan_twice(NOON) == 1
    assert entered(world, "dormant") == {(lapsed.pk, f"dormant:{(NOON - 62 * DAY).date().isoformat()}")}


def test_a_first_purchase_after_the_journey_started_enters(world):
    with time_machine.travel(NOON - DAY, tick=False):
        running(world, "first_purchase")
    old_buyer, new_buyer = _member(world), _member(world)
    sale(world, old_buyer, at=NOON - 30 * DAY)
    sale(world, new_buyer, at=NOON - dt.timedelta(hours=2))
    audience_services.profiles_rebuild(mall_group_id=world.group.pk, now=NOON)
    assert _scan_twice(NOON) == 1
    assert entered(world, "first_purchase") == {(new_buyer.pk, "first")}


def test_leaving_the_car_park_without_buying_enters(world):
    with time_machine.travel(NOON - DAY, tick=False):
        running(world, "parked_no_purchase")
    park = car_park(world)
    shopper, browser, still_parked = _member(world), _member(world), _member(world)

    def stay(m, plate, exit_at):
        return ParkingSession.objects.create(
            car_park=park,
            plate=plate,
            member=m,
            state="exited" if exit_at else "parked",
            entry_at=NOON - dt.timedelta(hours=3),
            exit_at=exit_at,
        )

    stay(shopper, "沪A10001", NOON - dt.timedelta(hours=1))
    left = stay(browser, "沪A10002", NOON - dt.timedelta(hours=1))
    stay(still_parked, "沪A10003", None)
    sale(world, shopper, at=NOON - dt.timedelta(hours=2))
    assert _scan_twice(NOON) == 1
    assert entered(world, "parked_no_purchase") == {(browser.pk, f"stay:{left.pk}")}


def test_event_registration_and_check_in_enter(world):
    running(world, "event_registered")
    running(world, "event_attended")
    m = events.member(world)
    ev = events.event(world, starts_at=timezone.now() + dt.timedelta(minutes=10))
    reg = events.register(world, m, ev)
    assert entered(world, "event_registered") == {(m.pk, f"registration:{reg.pk}")}
    from galleria.events import services as event_services
    from galleria.events.tests.helpers import ACTOR

    event_services.check_in(mall_group_id=world.group.pk, code=reg.code, actor=ACTOR)
    assert entered(world, "event_attended") == {(m.pk, f"attended:{reg.pk}")}


def test_a_rejected_receipt_enters(world, settings, tmp_path):
    from galleria.receipts import services as receipt_services
    from galleria.receipts.ocr import ScriptedOcrEngine
    from galleria.receipts.tests.helpers import STAFF, committed, new_member, submit, upload

    settings.GALLERIA_RECEIPT_OCR_ENGINE = "galleria.receipts.ocr.ScriptedOcrEngine"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    ScriptedOcrEngine.reset()
    running(world, "receipt_rejected")
    m = new_member(world)
    spec, receipt = upload(world, m)
    submit(world, m, receipt, spec)
    committed(
        receipt_services.receipt_reject,
        receipt_id=receipt.pk,
        mall_group_id=world.group.pk,
        reason="照片不清晰",
        actor=STAFF,
    )
    ScriptedOcrEngine.reset()
    assert entered(world, "receipt_rejected") == {(m.pk, f"receipt:{receipt.pk}")}


def test_a_cart_left_for_n_hours_without_a_checkout_enters_once_per_change(world):
    from galleria.commerce.models import CartItem

    with time_machine.travel(NOON - DAY, tick=False):
        j = running(world, "cart_abandoned")
    j.trigger_hours = 2
    j.save(update_fields=["trigger_hours"])
    left, fresh = _member(world), _member(world)
    sku = _sku(world)
    for m, at in ((left, NOON - dt.timedelta(hours=3)), (fresh, NOON - dt.timedelta(minutes=30))):
        with time_machine.travel(at, tick=False):
            CartItem.objects.create(member=m, sku=sku, quantity=1)
    assert _scan_twice(NOON) == 1
    ((member_id, key),) = entered(world, "cart_abandoned")
    assert member_id == left.pk and key.startswith("cart:")
    # the fresh cart's turn comes once it has been left for two hours
    services.journeys_scan(now=NOON + dt.timedelta(hours=2))
    assert {m for m, _ in entered(world, "cart_abandoned")} == {left.pk, fresh.pk}


def _sku(world):
    from galleria.commerce.models import Sku
    from galleria.commerce.tests import catalog_helpers

    catalog_helpers.open_online_mall(world)
    _top, child = catalog_helpers.categories(world)
    product = catalog_helpers.product(world, category=child, publish=False)
    return Sku.objects.filter(product=product).order_by("pk").first()


def test_several_occurrences_of_one_member_enter_each_and_date_triggers_look_once_a_day(world):
    running(world, "coupon_expiring", days=3)
    tpl = coupon_template(world, validity_kind="fixed", valid_until=timezone.now() + dt.timedelta(days=2))
    other = coupon_template(
        world, name="第二张", validity_kind="fixed", valid_until=timezone.now() + dt.timedelta(days=2)
    )
    m = _member(world)
    coupons = []
    for t in (tpl, other):
        with transaction.atomic():
            coupons.append(
                coupon_services.coupon_issue_in_tx(
                    mall_group_id=world.group.pk,
                    template_id=t.pk,
                    member_id=m.pk,
                    source_key=f"t:{t.pk}",
                    at=timezone.now(),
                ).coupon_id
            )
    assert services.journeys_scan(now=timezone.now()) == 2
    assert entered(world, "coupon_expiring") == {(m.pk, f"coupon:{c}") for c in coupons}
    with transaction.atomic():
        coupon_services.coupon_issue_in_tx(
            mall_group_id=world.group.pk,
            template_id=tpl.pk,
            member_id=_member(world).pk,
            source_key="late",
            at=timezone.now(),
        )
    assert services.journeys_scan(now=timezone.now()) == 0  # the day was looked at: the next day's sweep finds it
    assert services.journeys_scan(now=timezone.now() + DAY) == 1
