"""The console's parking pages (issue #16): who may read and change what, another group's objects as 404s, car
parks with zones and gates, a tariff version previewed before saving and its inline errors, live occupancy polled
without inline script, the stays search with masked plates and an audited CSV, a stay's page (full plate, view
logged), the exceptions queue and its two fixes, and the reports with their CSVs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape

import pytest
from django.urls import reverse

from galleria.audit.models import AuditEvent, PiiAccess
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.members.services import member_identifier_add
from galleria.parking import services
from galleria.parking.models import CarPark, Gate, ParkingGrant, ParkingSession, TariffVersion, Zone
from galleria.parking.tests.helpers import SHANGHAI, car_park, member, spend
from galleria.sales.models import Sale
from galleria.testing import PASSWORD
from galleria.testing_points import give_points

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
VIEWERS = {"platform_admin", "group_admin", "service", "finance", "readonly"}
MANAGERS = {"platform_admin", "group_admin"}
ROLES = ["platform_admin", "group_admin", "marketing", "service", "finance", "readonly", "merchant_owner"]


def login(client, world, role: str = "group_admin"):
    user = world.users[role]
    assert client.login(username=user.username, password=PASSWORD)
    return user


def text(resp) -> str:
    return unescape(resp.content.decode())


def day_before(h: int, mi: int = 0, *, days: int = 1) -> dt.datetime:
    day = timeutil.local_date(timeutil.now(), "Asia/Shanghai") - dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(h, mi), tzinfo=SHANGHAI)


def enter(park, plate: str, at: dt.datetime, *, zone: str = "") -> int:
    result = services.event_entry(car_park=park, event_id=f"in-{plate}-{at:%d%H%M}", plate=plate, at=at, zone=zone)
    assert result.session_id is not None
    return result.session_id


def leave(park, plate: str, at: dt.datetime) -> None:
    services.event_exit(car_park=park, event_id=f"out-{plate}-{at:%d%H%M}", plate=plate, at=at)


def errors_of(html: str, field: str) -> str:
    """The inline error text of a form field (the markup from `data-field="<name>"` to the next field)."""
    start = html.find(f'data-field="{field}"')
    if start < 0:
        return ""
    block = re.split(r'data-field="|</form>', html[start + 12 :], maxsplit=1)[0]
    errors = re.search(r'<ul class="errorlist"[^>]*>(.*?)</ul>', block, re.S)
    return re.sub(r"<[^>]+>", " ", errors.group(1)) if errors else ""


def table_of(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}".*?</table>', html, re.S)
    return match.group(0) if match else ""


# ---------------------------------------------------------------------------------------------------- access


def test_roles_read_and_change_what_their_permission_says(client, world):
    park = car_park(world)
    for role in ROLES:
        login(client, world, role)
        read = client.get(reverse("console:parking_car_parks")).status_code
        change = client.get(reverse("console:parking_car_park_edit", args=[park.pk])).status_code
        assert read == (200 if role in VIEWERS else 403), role
        assert change == (200 if role in MANAGERS else 403), role
        client.logout()


def test_another_groups_car_park_and_stay_are_not_found(client, world):
    park = car_park(world)
    session_id = enter(park, "粤B12345", day_before(9))
    login(client, world, "foreign_admin")
    for url in (
        reverse("console:parking_car_park", args=[park.pk]),
        reverse("console:parking_tariffs", args=[park.pk]),
        reverse("console:parking_zone_new", args=[park.pk]),
        reverse("console:parking_stay", args=[session_id]),
    ):
        assert client.get(url).status_code == 404, url
    close = client.post(reverse("console:parking_stay_close", args=[session_id]), {"reason": "gone away"})
    assert close.status_code == 404 and ParkingSession.objects.get(pk=session_id).state == "parked"
    assert 'data-testid="stay-row"' not in text(client.get(reverse("console:parking_stays") + "?plate=12345&since="))


# ---------------------------------------------------------------------------------------------------- car parks


def test_an_admin_creates_a_car_park_with_spend_steps_then_zones_and_gates(client, world):
    login(client, world)
    url = reverse("console:parking_car_park_new")
    base = {
        "mall": world.mall.pk,
        "code": "p1",
        "name": "星河广场停车场",
        "capacity": "500",
        "store": world.store.pk,
        "leave_grace_minutes": "15",
        "auto_pay_cap_fen": "100.00",
        "lost_ticket_fen": "50",
        "is_active": "on",
        "step1_threshold": "200",
        "step1_hours": "2",
    }
    bad = client.post(url, {**base, "opens_at": "08:00", "step2_threshold": "500", "code": "停车场"})
    html = text(bad)
    assert bad.status_code == 422 and not CarPark.objects.exists()
    assert "How many hours" in errors_of(html, "step2_hours")
    assert errors_of(html, "code")  # not a slug
    resp = client.post(url, {**base, "opens_at": "08:00"})
    assert resp.status_code == 422 and "Give both opening times" in errors_of(text(resp), "closes_at")
    resp = client.post(url, base)
    park = CarPark.objects.get(code="p1")
    assert resp.status_code == 302 and resp["Location"] == reverse("console:parking_car_park", args=[park.pk])
    assert (park.capacity, park.auto_pay_cap_fen, park.lost_ticket_fen, park.spend_steps) == (
        500,
        10000,
        5000,
        [[20000, 2]],
    )
    page = text(client.get(resp["Location"]))
    assert "星河广场停车场" in page and "No tariff is in force" in page

    resp = client.post(
        reverse("console:parking_zone_new", args=[park.pk]), {"code": "B1", "name": "B1 区", "capacity": "600"}
    )
    assert resp.status_code == 422 and "more spaces than the car park" in errors_of(text(resp), "capacity")
    client.post(reverse("console:parking_zone_new", args=[park.pk]), {"code": "B1", "name": "B1 区", "capacity": "300"})
    zone = Zone.objects.get(car_park=park, code="B1")
    client.post(
        reverse("console:parking_gate_new", args=[park.pk]),
        {"code": "E1", "name": "东入口", "direction": "entry", "zone": zone.pk},
    )
    gate = Gate.objects.get(car_park=park)
    assert (gate.code, gate.zone_id) == ("E1", zone.pk)
    client.post(
        reverse("console:parking_zone_edit", args=[park.pk, zone.pk]),
        {"code": "B1", "name": "负一层", "floor": "B1", "capacity": "320"},
    )
    zone.refresh_from_db()
    assert (zone.name, zone.capacity) == ("负一层", 320)
    client.post(reverse("console:parking_gate_remove", args=[park.pk, gate.pk]))
    client.post(reverse("console:parking_zone_remove", args=[park.pk, zone.pk]))
    assert not Zone.objects.filter(car_park=park).exists() and not Gate.objects.filter(car_park=park).exists()
    actions = set(AuditEvent.objects.filter(action__startswith="parking.").values_list("action", flat=True))
    assert {
        "parking.car_park_save",
        "parking.zone_save",
        "parking.gate_save",
        "parking.zone_remove",
        "parking.gate_remove",
    } <= actions


def test_the_list_shows_parked_now_and_todays_entries_and_income(client, world, django_assert_max_num_queries):
    park = car_park(world)
    now = timeutil.now()
    for i in range(3):
        services.event_entry(car_park=park, event_id=f"e{i}", plate=f"粤B1000{i}", at=now - dt.timedelta(minutes=5))
    services.event_payment(car_park=park, event_id="p1", plate="粤B10000", amount_fen=500, at=now)
    login(client, world, "readonly")
    with django_assert_max_num_queries(14):
        resp = client.get(reverse("console:parking_car_parks"))
    html = text(resp)
    row = re.search(r'data-testid="car-park-row".*?</tr>', html, re.S).group(0)
    assert re.search(r'data-testid="parked">3<', row) and re.search(r'data-testid="entries">3<', row)
    assert "¥5.00" in row and "0.4%" in row  # 3 of 800 spaces
    assert "New car park" not in html  # read only


# ---------------------------------------------------------------------------------------------------- tariffs


def tariff_post(**overrides) -> dict[str, str]:
    data = {
        "code": "P1-2027",
        "effective_from": "",
        "unit_minutes": "60",
        "free_minutes": "30",
        "free_minutes_mode": "charge_from_entry",
        "day_price_fen": "5",
        "daily_cap_fen": "50",
        "cap_mode": "calendar_day",
        "p-entry_at": "2026-06-01T10:00",
        "p-exit_at": "2026-06-01T16:00",
        "p-tier_hours": "3",
        "p-spend_today_fen": "250",
        "p-grant_hours": "0",
    }
    return {**data, **overrides}


def test_a_new_version_is_previewed_before_saving_and_then_saved(client, world):
    park = car_park(world)
    login(client, world)
    url = reverse("console:parking_tariff_new", args=[park.pk])
    assert 'name="day_price_fen" value="5.00"' in text(client.get(url))  # starts from the version in force
    resp = client.post(url, tariff_post(action="preview"))
    html = text(resp)
    assert resp.status_code == 200 and TariffVersion.objects.count() == 1  # nothing saved
    assert re.search(r'data-testid="fee-gross">¥30.00<', html) and re.search(r'data-testid="fee-net">¥5.00<', html)
    kinds = re.findall(r'data-testid="fee-benefit" data-kind="(\w+)"', html)
    assert kinds == ["tier_hours", "spend_hours"] and "−¥15.00" in html and "−¥10.00" in html

    resp = client.post(url, tariff_post(action="preview", night_starts="20:00"))
    assert resp.status_code == 422 and "night band needs a start and an end" in errors_of(text(resp), "night_ends")
    resp = client.post(url, tariff_post(action="save", h1_weekdays=["5", "6"]))
    assert resp.status_code == 422 and "at least one price or cap" in errors_of(text(resp), "h1_dates")
    resp = client.post(url, tariff_post(action="save", code="P1-2026"))
    assert resp.status_code == 422 and "already has a version with this code" in errors_of(text(resp), "code")

    resp = client.post(url, tariff_post(action="save", h1_weekdays=["5", "6"], h1_day_price="8"))
    version = TariffVersion.objects.get(code="P1-2027")
    assert resp.status_code == 302 and version.holidays == [{"dates": [], "weekdays": [5, 6], "day_price_fen": 800}]
    assert abs((version.effective_from - timeutil.now()).total_seconds()) < 60
    detail = reverse("console:parking_tariff", args=[park.pk, version.pk])
    html = text(client.get(detail + "?p-entry_at=2026-06-06T10:00&p-exit_at=2026-06-06T12:00"))  # a Saturday
    assert re.search(r'data-testid="fee-net">¥16.00<', html) and "Holiday day" in html
    listing = text(client.get(reverse("console:parking_tariffs", args=[park.pk])))
    assert re.findall(r'data-code="([\w-]+)" data-status="(\w+)"', listing) == [
        ("P1-2027", "in_force"),
        ("P1-2026", "past"),
    ]
    assert not re.search(r"tariff-withdraw", html)  # in force: no withdrawing


def test_a_scheduled_version_can_be_withdrawn_but_not_one_in_force(client, world):
    park = car_park(world)
    login(client, world)
    later = (timeutil.now() + dt.timedelta(days=3)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    client.post(reverse("console:parking_tariff_new", args=[park.pk]), tariff_post(action="save", effective_from=later))
    version = TariffVersion.objects.get(code="P1-2027")
    assert "tariff-withdraw" in text(client.get(reverse("console:parking_tariff", args=[park.pk, version.pk])))
    old = TariffVersion.objects.get(code="P1-2026")
    client.post(reverse("console:parking_tariff_withdraw", args=[park.pk, old.pk]))
    assert TariffVersion.objects.filter(pk=old.pk).exists()
    client.post(reverse("console:parking_tariff_withdraw", args=[park.pk, version.pk]))
    assert not TariffVersion.objects.filter(pk=version.pk).exists()
    login(client, world, "service")
    assert client.post(reverse("console:parking_tariff_withdraw", args=[park.pk, old.pk])).status_code == 403


# ---------------------------------------------------------------------------------------------------- live


def test_live_occupancy_polls_a_fragment_without_inline_script(client, world):
    park = car_park(world)
    now = timeutil.now()
    services.event_entry(car_park=park, event_id="e1", plate="粤B10001", at=now - dt.timedelta(minutes=3), zone="B1")
    login(client, world, "service")
    html = text(client.get(reverse("console:parking_live")))
    assert 'hx-trigger="every 10s"' in html and reverse("console:parking_live_feed") in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # scripts are files only (CSP)
    feed = text(client.get(reverse("console:parking_live_feed"), headers={"HX-Request": "true"}))
    assert feed.lstrip().startswith('<div id="parking-live"') and "<html" not in feed
    assert re.search(r'data-testid="live-parked">1<', feed) and re.search(r'data-testid="live-free">799<', feed)
    zone = re.search(r'data-testid="live-zone" data-code="B1">.*?</tr>', feed, re.S).group(0)
    assert re.findall(r'<td class="num">(\d+)</td>', zone)[-2:] == ["1", "0"]  # in and out in the last hour


# ---------------------------------------------------------------------------------------------------- stays


def test_the_stays_search_masks_plates_and_the_csv_is_audited(client, world, django_assert_max_num_queries):
    park = car_park(world)
    m = member(world)
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value="粤B12345")
    enter(park, "粤B12345", day_before(9))
    enter(park, "粤BD12345", day_before(10))
    enter(park, "京A88888", day_before(11))
    login(client, world, "finance")
    url = reverse("console:parking_stays")
    with django_assert_max_num_queries(12):
        html = text(client.get(url + "?plate=12345&since=&until="))
    assert re.findall(r'data-testid="stay-plate">([^<]+)<', html) == ["粤B·*****5", "粤B·****5"]
    assert "粤B12345" not in table_of(html, "stays-table") and "粤BD12345" not in table_of(html, "stays-table")
    html = text(client.get(url + f"?member={m.card_no}&since=&until="))
    assert re.findall(r'data-testid="stay-plate">([^<]+)<', html) == ["粤B·****5"]
    html = text(client.get(url + "?member=13000000000&since=&until="))
    assert "No member has this card number or phone" in html and 'data-testid="stay-row"' not in html
    assert "at least 2 characters" in text(client.get(url + "?plate=x"))

    default = text(client.get(url))  # the last 7 days, filled in
    assert len(re.findall(r'data-testid="stay-row"', default)) == 3 and 'name="since" value="' in default
    resp = client.get(url + "?plate=粤B&export=csv&since=&until=")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0][2] == "Plate (masked)" and sorted(r[2] for r in rows[1:]) == ["粤B·*****5", "粤B·****5"]
    assert AuditEvent.objects.filter(action="parking.export", actor_label="finance").count() == 1


def test_a_stays_page_explains_its_fee_and_logs_the_view_of_the_full_plate(client, world):
    park = car_park(world)
    gold = member(world, tier="gold")
    member_identifier_add(member_id=gold.pk, actor=ACTOR, kind="plate", value="粤B12345")
    give_points(world, gold, 2_000)
    spend(world, gold, 25_000, at=day_before(11))
    session_id = enter(park, "粤B12345", day_before(10), zone="B1")
    payment = services.parking_pay(
        session_id=session_id, member_id=gold.pk, points=500, key="k1", actor=ACTOR, at=day_before(16)
    )
    leave(park, "粤B12345", day_before(16, 5))
    login(client, world, "service")
    html = text(client.get(reverse("console:parking_stay", args=[session_id])))
    assert re.search(r'data-testid="stay-plate">粤B·12345<', html)
    assert [k for k in re.findall(r'data-testid="stay-event" data-kind="(\w+)"', html)] == ["entry", "exit"]
    assert reverse("console:member_sale", args=[gold.pk, payment.sale_id]) in html
    assert "Tier free hours" in html and "Same-day spend hours" in html  # the payment's benefit lines
    assert AuditEvent.objects.filter(action="parking.stay_view", target_id=str(session_id)).count() == 1
    assert PiiAccess.objects.filter(member_id=gold.pk, fields="plate").count() == 1

    parked = enter(park, "粤B66666", day_before(10, 30))
    html = text(client.get(reverse("console:parking_stay", args=[parked])))
    assert "Fee if it left now" in html and 'data-testid="fee-segment"' in html
    assert "stay-close" not in html  # service may read, not fix


def test_an_unpaid_exit_shows_its_fee_and_the_grant_it_used(client, world):
    park = car_park(world)
    session_id = enter(park, "粤B33333", day_before(9))
    from galleria.merchants.models import Category, Merchant

    cinema = Merchant.objects.create(mall=world.mall, name="影院", category=Category.ENTERTAINMENT)
    ParkingGrant.objects.create(
        mall=world.mall,
        merchant=cinema,
        plate="粤B33333",
        hours=2,
        granted_at=day_before(9, 30),
        valid_until=day_before(23),
        key="g1",
    )
    leave(park, "粤B33333", day_before(12))
    login(client, world)
    html = text(client.get(reverse("console:parking_stay", args=[session_id])))
    assert re.search(r'data-testid="fee-net">¥5.00<', html) and re.search(r'data-testid="stay-due">¥5.00 unpaid<', html)
    assert re.search(r'data-testid="fee-benefit" data-kind="merchant_grant"><td>Merchant grant</td><td>影院</td>', html)
    assert re.search(r'data-testid="stay-grant"><td>影院</td>', html)


# ---------------------------------------------------------------------------------------------------- exceptions


def test_the_queue_counts_exceptions_and_an_admin_fixes_them(client, world):
    park = car_park(world)
    stale = enter(park, "粤B10001", day_before(9, days=3))
    leave(park, "粤B10002", day_before(9))  # no entry
    unpaid = enter(park, "粤B10003", day_before(10))
    leave(park, "粤B10003", day_before(12))
    login(client, world)
    url = reverse("console:parking_exceptions")
    html = text(client.get(url))
    counts = dict(re.findall(r'data-testid="count-(\w+)">(\d+)<', html))
    assert (counts["stale"], counts["no_entry"], counts["unpaid_exit"], counts["no_exit"]) == ("1", "1", "1", "0")
    assert re.findall(r'data-testid="stay-row" data-id="(\d+)"', html) == [str(stale)]
    html = text(client.get(url + "?kind=unpaid_exit"))
    assert re.findall(r'data-testid="stay-row" data-id="(\d+)"', html) == [str(unpaid)]

    close = reverse("console:parking_stay_close", args=[stale])
    resp = client.post(close, {"reason": ""})
    assert resp.status_code == 422 and errors_of(text(resp), "reason")
    assert client.post(close, {"reason": "the exit camera was down on Sunday"}).status_code == 302
    assert ParkingSession.objects.get(pk=stale).state == "closed"

    sales = Sale.objects.count()
    resolve = reverse("console:parking_stay_resolve", args=[unpaid])
    resp = client.post(resolve, {"resolution": "written_off", "reason": "driver unknown, ¥10 not worth chasing"})
    assert resp.status_code == 302
    session = ParkingSession.objects.get(pk=unpaid)
    assert (session.exception, session.paid_fen, Sale.objects.count()) == ("", 0, sales)
    html = text(client.get(url))
    counts = dict(re.findall(r'data-testid="count-(\w+)">(\d+)<', html))
    assert (counts["stale"], counts["no_exit"], counts["unpaid_exit"]) == ("0", "1", "0")
    trail = text(client.get(reverse("console:parking_stay", args=[unpaid])))
    assert "driver unknown" in trail


# ---------------------------------------------------------------------------------------------------- reports


def test_reports_show_utilisation_revenue_and_benefits_with_csvs(client, world):
    park = car_park(world)
    gold = member(world, tier="gold")
    member_identifier_add(member_id=gold.pk, actor=ACTOR, kind="plate", value="粤B12345")
    give_points(world, gold, 2_000)
    spend(world, gold, 25_000, at=day_before(11))
    session_id = enter(park, "粤B12345", day_before(10))
    services.parking_pay(session_id=session_id, member_id=gold.pk, points=500, key="k1", actor=ACTOR, at=day_before(16))
    leave(park, "粤B12345", day_before(16, 5))
    enter(park, "粤B20000", day_before(12))
    leave(park, "粤B20000", day_before(13, 30))
    services.event_payment(car_park=park, event_id="booth", plate="粤B20000", amount_fen=1000, at=day_before(13, 40))
    login(client, world, "finance")
    day = day_before(0).date().isoformat()
    url = reverse("console:parking_reports") + f"?first={day}&last={day}"
    html = text(client.get(url))
    assert re.search(r'data-testid="revenue-total"><b>¥15.00<', html)
    assert re.search(r'data-testid="income-gross">¥40.00<', html)  # ¥30 + ¥10
    assert re.search(r'data-testid="income-net"><b>¥15.00<', html)
    assert re.findall(r'data-testid="benefit-row" data-kind="(\w+)"', html) == ["tier_hours", "spend_hours"]
    assert 'data-chart="line"' in html and 'id="chart-hours"' in html and "vendor/echarts/echarts.min.js" in html
    hours = list(csv.reader(io.StringIO(client.get(url + "&export=hours").content.decode("utf-8-sig"))))
    assert len(hours) == 25 and (hours[12][2], hours[14][2]) == ("1", "2")  # parked at 11:00 and at 13:00
    revenue = list(csv.reader(io.StringIO(client.get(url + "&export=revenue").content.decode("utf-8-sig"))))
    assert revenue[1][1:] == ["2", "500", "5.00", "0.00", "10.00", "15.00"]
    benefits = list(csv.reader(io.StringIO(client.get(url + "&export=benefits").content.decode("utf-8-sig"))))
    assert [r[0] for r in benefits[1:]] == [
        "Gross fees",
        "Tier free hours",
        "Same-day spend hours",
        "Fees after benefits",
        "Paid",
    ]
    resp = client.get(reverse("console:parking_reports") + "?first=2026-01-01&last=2026-12-31")
    assert resp.status_code == 422 and "At most 92 days" in text(resp)
