"""Member services' web layer: the desk screen finds a member by phone, lends an umbrella against a points deposit,
takes it back late (the fee and its explanation shown, charged once when the button is pressed twice), refuses an
old screen; the member app shows the rental with the fee so far and books a service; the console pages render and
save with errors inline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from galleria.amenities.models import Booking, Rental, RentalItemType, TimeSlot
from galleria.amenities.tests.helpers import desk, lend, member
from galleria.core import timeutil
from galleria.ledger.selectors import member_balance

from .test_app_loyalty import sign_in_as
from .test_console_views import login

pytestmark = pytest.mark.django_db


def _identify(client, d, m):
    return client.post(reverse("console:amenities_desk_screen", args=[d.pk]), {"action": "identify", "q": m.phone})


def test_the_desk_lends_and_takes_back_late_with_the_fee_explained(client, world):
    d = desk(world)
    m = member(world, points=5000)
    login(client, world, "service")
    page = _identify(client, d, m)
    assert page.status_code == 200 and b'data-testid="am-member"' in page.content
    panel = page.context["panel"]
    item = RentalItemType.objects.get(code="umbrella")
    url = reverse("console:amenities_desk_screen", args=[d.pk])
    lent = client.post(
        url,
        {
            "action": "lend",
            "token": panel["token"],
            "key": panel["lend_key"],
            "item_type": item.pk,
            "deposit_kind": "points",
        },
    )
    assert lent.status_code == 200 and b'data-testid="am-lent"' in lent.content
    rental = Rental.objects.get(member=m)
    Rental.objects.filter(pk=rental.pk).update(
        lent_at=timeutil.now() - dt.timedelta(hours=3, minutes=55)
    )  # kept 3 h 55
    back = client.post(url, {"action": "return", "token": panel["token"], "rental": rental.pk})
    assert back.status_code == 200 and b'data-testid="am-fee-lines"' in back.content
    assert "¥4.00" in back.content.decode()
    again = client.post(url, {"action": "return", "token": panel["token"], "rental": rental.pk})
    assert again.status_code == 200
    assert member_balance(member_id=m.pk, kind="member_points") == 4600  # charged once


def test_an_old_or_forged_screen_is_refused(client, world):
    d = desk(world)
    login(client, world, "service")
    resp = client.post(
        reverse("console:amenities_desk_screen", args=[d.pk]), {"action": "lend", "token": "forged", "item_type": 1}
    )
    assert resp.status_code == 422 and b'data-testid="am-error"' in resp.content
    resp = client.post(
        reverse("console:amenities_desk_screen", args=[d.pk]), {"action": "identify", "q": "13000000000"}
    )
    assert resp.status_code == 422 and b"errorlist" in resp.content


def test_the_member_sees_the_rental_and_the_fee_so_far(client, world):
    d = desk(world)
    m = member(world, points=5000)
    lend(world, d, m, at=timeutil.now() - dt.timedelta(hours=2, minutes=55))
    sign_in_as(client, m)
    page = client.get(reverse("app:amenities"))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="am-app-rental"' in html and "¥2.00" in html
    assert 'data-testid="am-app-overdue"' in html


def _gift_wrap(client, world):
    login(client, world, "group_admin")
    resp = client.post(
        reverse("console:amenities_offerings"),
        {
            "mall": world.mall.pk,
            "kind": "gift_wrap",
            "name": "礼品包装",
            "access": "open",
            "slot_minutes": 60,
            "is_active": "on",
        },
    )
    assert resp.status_code == 302
    url = resp.url
    resp = client.post(url, {"action": "hours", "hours": "0-6 10:00-12:00 2"})
    assert resp.status_code == 302
    bad = client.post(url, {"action": "hours", "hours": "monday 10-12"})
    assert bad.status_code == 422 and b"errorlist" in bad.content
    return url


def test_the_console_sets_up_a_service_and_the_member_books_it(client, world):
    _gift_wrap(client, world)
    slot = TimeSlot.objects.filter(starts_at__gt=timeutil.now()).order_by("starts_at").first()
    client.logout()
    m = member(world)
    sign_in_as(client, m)
    url = reverse("app:amenity_offering", args=[slot.offering_id])
    assert client.get(url).status_code == 200
    assert client.post(url, {"key": "k" * 20}).status_code == 422  # no slot chosen
    assert client.post(url, {"key": "k" * 20, "slot": slot.pk}).status_code == 302
    assert client.post(url, {"key": "k" * 20, "slot": slot.pk}).status_code == 302  # a double tap: one booking
    assert Booking.objects.filter(member=m).count() == 1


def test_console_item_and_stock_forms_show_errors_inline(client, world):
    desk(world)
    login(client, world, "group_admin")
    resp = client.post(reverse("console:amenities_items"), {"code": "BAD CODE", "name": ""})
    assert resp.status_code == 422 and b"errorlist" in resp.content
    resp = client.post(
        reverse("console:amenities_items"),
        {
            "code": "power-bank",
            "name": "充电宝",
            "icon": "power_bank",
            "deposit_points": 0,
            "deposit_yuan": "50",
            "free_minutes": 60,
            "tier_minutes": "gold=120",
            "fee_unit": "hour",
            "fee_yuan": "1",
            "cap_yuan": "10",
            "lost_yuan": "50",
            "is_active": "on",
        },
    )
    assert resp.status_code == 302
    assert RentalItemType.objects.get(code="power-bank").deposit_fen == 5000
    for name in (
        "console:amenities",
        "console:amenities_stock",
        "console:amenities_report",
        "console:amenities_bookings",
        "console:amenities_items",
        "console:amenities_offerings",
    ):
        assert client.get(reverse(name)).status_code == 200, name
    resp = client.post(reverse("console:amenities_stock"), {"action": "adjust", "desk": 0, "item_type": 0, "delta": 1})
    assert resp.status_code == 422
