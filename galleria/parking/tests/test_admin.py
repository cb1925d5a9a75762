"""The console's parking administration (galleria/parking/services_admin.py) and reads (selectors_console.py):
car parks, zones and gates with their checks, tariff versions (validated by the rules, never edited once in force),
the fee preview, closing a stale stay and resolving an unpaid exit (audited, no money moved), and the figures the
console shows — occupancy, the stays search, the exceptions queue and the reports."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from galleria.audit.models import AuditEvent, PiiAccess
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError, NotFoundError, ValidationError
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_identifier_add
from galleria.merchants.models import Category, Merchant, Store
from galleria.parking import rules, selectors_console, services, services_admin
from galleria.parking.models import CarPark, Gate, ParkingGrant, ParkingSession, TariffVersion, Zone
from galleria.parking.services_admin import CarParkIn, GateIn, HolidayIn, TariffIn, ZoneIn
from galleria.sales.models import Sale
from galleria.testing_points import give_points

from .helpers import SHANGHAI, car_park, local, member, next_noon, spend

pytestmark = pytest.mark.django_db

ADMIN = Actor(user_id=None, label="admin")


def day_before(h: int, mi: int = 0, *, days: int = 1) -> dt.datetime:
    day = timeutil.local_date(timeutil.now(), "Asia/Shanghai") - dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(h, mi), tzinfo=SHANGHAI)


def enter(park, plate: str, at: dt.datetime) -> int:
    result = services.event_entry(car_park=park, event_id=f"in-{plate}-{at.isoformat()}", plate=plate, at=at)
    assert result.session_id is not None
    return result.session_id


def leave(park, plate: str, at: dt.datetime) -> None:
    services.event_exit(car_park=park, event_id=f"out-{plate}-{at.isoformat()}", plate=plate, at=at)


def park_in(world, **overrides) -> CarParkIn:
    values = {"code": "p2", "name": "星河天地停车场", "capacity": 300, "store_id": world.store.pk, "spend_steps": ()}
    return CarParkIn(**{**values, **overrides})


def bare_park(world, code: str = "p9") -> CarPark:
    """A second car park (in the other mall, no operator's store) with one zone."""
    park = CarPark.objects.create(mall=world.mall2, code=code, name="星河天地停车场", capacity=100)
    Zone.objects.create(car_park=park, code="A", name="A 区", capacity=100)
    return park


def fields_of(exc: pytest.ExceptionInfo) -> set[str]:
    return set(exc.value.fields)


# ---------------------------------------------------------------------------------------------------- car parks


def test_a_car_park_is_created_in_a_mall_of_the_group_and_edited_with_an_audit_trail(world):
    park = services_admin.car_park_save(
        mall_group_id=world.group.pk,
        mall_id=world.mall.pk,
        data=park_in(world, spend_steps=((30000, 3), (20000, 2)), opens_at=dt.time(7), closes_at=dt.time(23)),
        actor=ADMIN,
    )
    assert (park.mall_id, park.code, park.capacity, park.store_id) == (world.mall.pk, "p2", 300, world.store.pk)
    assert park.spend_steps == [[20000, 2], [30000, 3]]  # kept sorted by threshold
    services_admin.car_park_save(
        mall_group_id=world.group.pk, car_park_id=park.pk, data=park_in(world, capacity=350), actor=ADMIN
    )
    park.refresh_from_db()
    assert park.capacity == 350 and park.opens_at is None
    events = list(AuditEvent.objects.filter(action="parking.car_park_save", target_id=str(park.pk)).order_by("id"))
    assert len(events) == 2 and events[1].changes["capacity"] == ["300", "350"]


def test_a_car_park_form_is_refused_field_by_field(world):
    existing = car_park(world)
    foreign_store = Store.objects.create(merchant=world.foreign_merchant, name="星巴克", floor="L1", unit_no="L1-1")
    with pytest.raises(ValidationError) as exc:
        services_admin.car_park_save(
            mall_group_id=world.group.pk,
            mall_id=world.mall.pk,
            data=park_in(
                world,
                code=existing.code,
                store_id=foreign_store.pk,
                opens_at=dt.time(8),
                leave_grace_minutes=2000,
                spend_steps=((20000, 2), (20000, 3)),
            ),
            actor=ADMIN,
        )
    assert fields_of(exc) == {"code", "store", "closes_at", "leave_grace_minutes", "spend_steps"}
    with pytest.raises(ValidationError) as exc:  # a mall of another group
        services_admin.car_park_save(
            mall_group_id=world.group.pk, mall_id=world.foreign_mall.pk, data=park_in(world), actor=ADMIN
        )
    assert fields_of(exc) == {"mall"}
    with pytest.raises(NotFoundError):  # another group's car park
        services_admin.car_park_save(
            mall_group_id=world.other_group.pk, car_park_id=existing.pk, data=park_in(world), actor=ADMIN
        )
    with pytest.raises(ValidationError) as exc:  # the zones hold 400 spaces
        services_admin.car_park_save(
            mall_group_id=world.group.pk, car_park_id=existing.pk, data=park_in(world, capacity=399), actor=ADMIN
        )
    assert fields_of(exc) == {"capacity"}
    assert not AuditEvent.objects.filter(action="parking.car_park_save").exists()


def test_zones_fit_in_the_car_park_and_a_zone_cars_used_cannot_be_removed(world):
    park = car_park(world)  # 800 spaces, zone B1 with 400
    b2 = services_admin.zone_save(
        mall_group_id=world.group.pk,
        car_park_id=park.pk,
        data=ZoneIn(code="B2", name="B2 区", floor="B2", capacity=400),
        actor=ADMIN,
    )
    with pytest.raises(ValidationError) as exc:
        services_admin.zone_save(
            mall_group_id=world.group.pk,
            car_park_id=park.pk,
            data=ZoneIn(code="B3", name="B3", capacity=1),
            actor=ADMIN,
        )
    assert fields_of(exc) == {"capacity"}
    with pytest.raises(ValidationError) as exc:
        services_admin.zone_save(
            mall_group_id=world.group.pk, car_park_id=park.pk, data=ZoneIn(code="B1", name="again"), actor=ADMIN
        )
    assert fields_of(exc) == {"code"}
    services.event_entry(car_park=park, event_id="e1", plate="粤B12345", at=day_before(9), zone="B1")
    b1 = Zone.objects.get(car_park=park, code="B1")
    with pytest.raises(ConflictError):
        services_admin.zone_remove(mall_group_id=world.group.pk, car_park_id=park.pk, zone_id=b1.pk, actor=ADMIN)
    services_admin.zone_remove(mall_group_id=world.group.pk, car_park_id=park.pk, zone_id=b2.pk, actor=ADMIN)
    assert list(Zone.objects.filter(car_park=park).values_list("code", flat=True)) == ["B1"]
    assert AuditEvent.objects.filter(action="parking.zone_remove", target_id=str(b2.pk)).exists()


def test_gates_name_a_zone_of_their_own_car_park(world):
    park = car_park(world)
    zone = Zone.objects.get(car_park=bare_park(world))
    with pytest.raises(ValidationError) as exc:
        services_admin.gate_save(
            mall_group_id=world.group.pk,
            car_park_id=park.pk,
            data=GateIn(code="E1", name="again", direction="sideways", zone_id=zone.pk),
            actor=ADMIN,
        )
    assert fields_of(exc) == {"code", "direction", "zone"}
    gate = services_admin.gate_save(
        mall_group_id=world.group.pk,
        car_park_id=park.pk,
        data=GateIn(code="E2", name="西入口", direction="both"),
        actor=ADMIN,
    )
    services_admin.gate_remove(mall_group_id=world.group.pk, car_park_id=park.pk, gate_id=gate.pk, actor=ADMIN)
    assert not Gate.objects.filter(pk=gate.pk).exists()
    with pytest.raises(NotFoundError):
        services_admin.gate_remove(mall_group_id=world.other_group.pk, car_park_id=park.pk, gate_id=1, actor=ADMIN)


# ---------------------------------------------------------------------------------------------------- tariffs


def tariff(**overrides) -> TariffIn:
    values = {"code": "P1-NEW", "day_price_fen": 600, "free_minutes": 15, "daily_cap_fen": 6000}
    return TariffIn(**{**values, **overrides})


def test_a_tariff_the_rules_refuse_comes_back_with_its_fields(world):
    cases = [
        (tariff(unit_minutes=0), {"unit_minutes"}),
        (tariff(code=""), {"code"}),
        (tariff(night_starts=dt.time(20)), {"night_ends"}),
        (tariff(night_starts=dt.time(20), night_ends=dt.time(8)), {"night_price_fen"}),
        (tariff(night_price_fen=100), {"night_starts"}),
        (tariff(night_starts=dt.time(20), night_ends=dt.time(20), night_price_fen=100), {"night_ends"}),
        (tariff(night_starts=dt.time(20, 0, 30), night_ends=dt.time(8), night_price_fen=100), {"night_starts"}),
        (tariff(day_price_fen=10**9 + 1), {"day_price_fen"}),
        (tariff(holidays=(HolidayIn(day_price_fen=800),)), {"holidays.0"}),
        (tariff(holidays=(HolidayIn(weekdays=(5, 6)),)), {"holidays.0"}),
        (tariff(holidays=(HolidayIn(weekdays=(7,), day_price_fen=800),)), {"holidays.0"}),
    ]
    for data, expected in cases:
        with pytest.raises(ValidationError) as exc:
            services_admin.tariff_build(data)
        assert fields_of(exc) == expected, data
    built = services_admin.tariff_build(
        tariff(
            night_starts=dt.time(20),
            night_ends=dt.time(8),
            night_price_fen=100,
            night_cap_fen=1000,
            holidays=(HolidayIn(weekdays=(5, 6), day_price_fen=800),),
        )
    )
    assert built.night == rules.NightBand(dt.time(20), dt.time(8)) and built.rates.night == rules.Rate(100, 1000)
    assert built.rates_on(dt.date(2026, 6, 6)).day.unit_price_fen == 800  # a Saturday
    assert built.rates_on(dt.date(2026, 6, 6)).daily_cap_fen == 6000  # caps left empty: as on ordinary days


def test_versions_only_grow_at_the_end_and_a_scheduled_one_can_be_withdrawn(world):
    park = car_park(world)  # P1-2026 in force since 1 January 2026
    now = timeutil.now()
    with pytest.raises(ValidationError) as exc:
        services_admin.tariff_version_create(
            mall_group_id=world.group.pk,
            car_park_id=park.pk,
            data=tariff(effective_from=now - dt.timedelta(hours=1)),
            actor=ADMIN,
        )
    assert fields_of(exc) == {"effective_from"}
    later = services_admin.tariff_version_create(
        mall_group_id=world.group.pk,
        car_park_id=park.pk,
        data=tariff(effective_from=now + dt.timedelta(days=10)),
        actor=ADMIN,
    )
    for data in (tariff(code="P1-B"), tariff(code="P1-B", effective_from=now + dt.timedelta(days=5))):
        with pytest.raises(ValidationError) as exc:  # "now" and day 5 are both before the scheduled version
            services_admin.tariff_version_create(
                mall_group_id=world.group.pk, car_park_id=park.pk, data=data, actor=ADMIN
            )
        assert fields_of(exc) == {"effective_from"}
    with pytest.raises(ValidationError) as exc:
        services_admin.tariff_version_create(
            mall_group_id=world.group.pk,
            car_park_id=park.pk,
            data=tariff(code="P1-NEW", effective_from=now + dt.timedelta(days=20)),
            actor=ADMIN,
        )
    assert fields_of(exc) == {"code"}
    rows = selectors_console.tariff_rows(car_park_id=park.pk)
    assert [(r.version.code, r.status) for r in rows] == [("P1-NEW", "scheduled"), ("P1-2026", "in_force")]
    assert rows[1].until == later.effective_from
    in_force = TariffVersion.objects.get(car_park=park, code="P1-2026")
    with pytest.raises(ConflictError):
        services_admin.tariff_version_withdraw(
            mall_group_id=world.group.pk, car_park_id=park.pk, version_id=in_force.pk, actor=ADMIN
        )
    services_admin.tariff_version_withdraw(
        mall_group_id=world.group.pk, car_park_id=park.pk, version_id=later.pk, actor=ADMIN
    )
    now_version = services_admin.tariff_version_create(
        mall_group_id=world.group.pk, car_park_id=park.pk, data=tariff(code="P1-NOW"), actor=ADMIN
    )
    assert abs((now_version.effective_from - timeutil.now()).total_seconds()) < 60
    assert [r.status for r in selectors_console.tariff_rows(car_park_id=park.pk)] == ["in_force", "past"]
    actions = list(AuditEvent.objects.filter(target_type="tariffversion").values_list("action", flat=True))
    assert sorted(actions) == ["parking.tariff_create", "parking.tariff_create", "parking.tariff_withdraw"]


def test_a_stay_that_entered_under_the_old_version_keeps_its_price(world):
    park = car_park(world)
    session_id = enter(park, "粤B12345", day_before(10))
    services_admin.tariff_version_create(
        mall_group_id=world.group.pk, car_park_id=park.pk, data=tariff(code="P1-X", day_price_fen=900), actor=ADMIN
    )
    leave(park, "粤B12345", day_before(12))
    session = ParkingSession.objects.get(pk=session_id)
    assert (session.gross_fen, session.explanation["tariff"]) == (1000, "P1-2026")  # 2 h at ¥5, not ¥9


def test_the_fee_preview_reproduces_the_issues_example():
    built = services_admin.tariff_build(
        TariffIn(code="A", day_price_fen=500, free_minutes=30, daily_cap_fen=5000), effective_from=local(2026, 1, 1)
    )
    result = services_admin.fee_preview(
        built,
        entry_at=local(2026, 6, 1, 10),
        exit_at=local(2026, 6, 1, 16),
        tz=SHANGHAI,
        tier_hours=3,
        spend_today_fen=25000,
        spend_steps=[(20000, 2)],
    )
    assert (result.gross_fen, result.net_fen) == (3000, 500)
    assert [(b.kind.value, b.fen) for b in result.benefits] == [("tier_hours", 1500), ("spend_hours", 1000)]
    with pytest.raises(ValidationError) as exc:
        services_admin.fee_preview(built, entry_at=local(2026, 6, 1, 10), exit_at=local(2026, 6, 1, 9), tz=SHANGHAI)
    assert fields_of(exc) == {"exit_at"}


# ---------------------------------------------------------------------------------------------------- stays


def test_closing_a_stale_stay_is_audited_and_charges_nothing(world):
    park = car_park(world)
    session_id = enter(park, "粤B12345", day_before(9, days=3))
    with pytest.raises(ValidationError) as exc:
        services_admin.session_close(mall_group_id=world.group.pk, session_id=session_id, reason="x", actor=ADMIN)
    assert fields_of(exc) == {"reason"}
    with pytest.raises(NotFoundError):
        services_admin.session_close(
            mall_group_id=world.other_group.pk, session_id=session_id, reason="towed away", actor=ADMIN
        )
    closed = services_admin.session_close(
        mall_group_id=world.group.pk, session_id=session_id, reason="towed away on Monday", actor=ADMIN
    )
    assert (closed.state, closed.exception, closed.fee_fen, closed.paid_fen) == ("closed", "no_exit", None, 0)
    assert "towed away on Monday" in closed.note
    event = AuditEvent.objects.get(action="parking.stay_close", target_id=str(session_id))
    assert event.changes["reason"] == "towed away on Monday" and event.changes["state"] == ["parked", "closed"]
    with pytest.raises(ConflictError):
        services_admin.session_close(mall_group_id=world.group.pk, session_id=session_id, reason="again!", actor=ADMIN)
    assert enter(park, "粤B12345", day_before(10)) != session_id  # the plate can park again


def test_writing_off_an_unpaid_exit_records_who_and_why_and_moves_no_money(world):
    park = car_park(world)
    session_id = enter(park, "粤B12345", day_before(10))
    leave(park, "粤B12345", day_before(13))
    session = ParkingSession.objects.get(pk=session_id)
    assert (session.exception, session.fee_fen, session.paid_fen) == ("unpaid_exit", 1500, 0)
    sales_before = Sale.objects.count()
    with pytest.raises(ValidationError):
        services_admin.session_unpaid_resolve(
            mall_group_id=world.group.pk, session_id=session_id, resolution="forgiven", reason="nice", actor=ADMIN
        )
    done = services_admin.session_unpaid_resolve(
        mall_group_id=world.group.pk,
        session_id=session_id,
        resolution="written_off",
        reason="barrier fault, driver gone",
        actor=ADMIN,
    )
    assert (done.exception, done.fee_fen, done.paid_fen) == ("", 1500, 0)
    assert "¥15.00" in done.note and "barrier fault" in done.note
    event = AuditEvent.objects.get(action="parking.unpaid_written_off", target_id=str(session_id))
    assert event.changes == {"unpaid_fen": 1500, "paid_fen": 0, "reason": "barrier fault, driver gone"}
    assert Sale.objects.count() == sales_before and ledger_check().ok
    with pytest.raises(ConflictError):
        services_admin.session_unpaid_resolve(
            mall_group_id=world.group.pk, session_id=session_id, resolution="settled", reason="again", actor=ADMIN
        )


def test_opening_a_members_stay_is_logged_as_a_pii_access(world):
    park = car_park(world)
    m = member(world)
    member_identifier_add(member_id=m.pk, actor=ADMIN, kind="plate", value="粤B12345")
    session = ParkingSession.objects.get(pk=enter(park, "粤B12345", day_before(10)))
    services_admin.session_view_record(session=session, actor=ADMIN, source="console:parking_stay")
    assert AuditEvent.objects.filter(action="parking.stay_view", target_id=str(session.pk)).count() == 1
    access = PiiAccess.objects.get(member_id=m.pk)
    assert (access.fields, access.source) == ("plate", "console:parking_stay")


# ---------------------------------------------------------------------------------------------------- reads


def test_car_park_rows_and_live_occupancy_count_open_stays_by_zone(world):
    with time_machine.travel(next_noon(), tick=True):  # "today" in mall time holds every entry (not after midnight)
        _rows_and_live(world)


def _rows_and_live(world):
    park = car_park(world)  # 800 spaces, B1 400
    now = timeutil.now()
    for i, plate in enumerate(["粤B10001", "粤B10002", "粤B10003"]):
        services.event_entry(
            car_park=park, event_id=f"e{i}", plate=plate, at=now - dt.timedelta(minutes=30 + i), zone="B1"
        )
    services.event_entry(car_park=park, event_id="e9", plate="粤B10009", at=now - dt.timedelta(hours=3))
    services.event_exit(car_park=park, event_id="x1", plate="粤B10001", at=now - dt.timedelta(minutes=5))
    Zone.objects.filter(car_park=park).update(free_reported=398, free_reported_at=now - dt.timedelta(minutes=1))
    (row,) = selectors_console.car_park_rows(mall_group_id=world.group.pk)
    assert (row.parked, row.free, str(row.occupancy_pct)) == (3, 797, "0.4")
    assert row.entries_today == 4  # today's entries in mall time
    assert selectors_console.car_park_rows(mall_group_id=world.other_group.pk) == []
    (live,) = selectors_console.live_occupancy(mall_group_id=world.group.pk)
    assert (live.parked, live.entries_hour, live.exits_hour, live.unzoned) == (3, 3, 1, 1)
    (zone,) = live.zones
    assert (zone.parked, zone.free, zone.entries_hour, zone.exits_hour) == (2, 398, 3, 1)
    assert live.sensors_free == 398


def test_the_stays_search_finds_whole_and_partial_plates_and_members(world):
    park = car_park(world)
    m = member(world)
    member_identifier_add(member_id=m.pk, actor=ADMIN, kind="plate", value="粤B12345")
    first = enter(park, "粤B12345", day_before(9))
    enter(park, "粤BD12345", day_before(10))
    enter(park, "京A88888", day_before(11))
    group = world.group.pk

    def plates(**kwargs) -> list[str]:
        f = selectors_console.StayFilters(**kwargs)
        return list(selectors_console.stay_search(mall_group_id=group, f=f).values_list("plate", flat=True))

    assert selectors_console.plate_query("粤b·12345") == ("粤B12345", True)
    assert selectors_console.plate_query(" 粵Ｂ12 ") == ("粤B12", False)
    assert selectors_console.plate_query("x") is None and selectors_console.plate_query("hello!") is None
    assert plates(plate="粤B12345", plate_exact=True) == ["粤B12345"]
    assert plates(plate="12345") == ["粤BD12345", "粤B12345"]  # most recent first
    assert plates(member_id=selectors_console.member_for_search(mall_group_id=group, text=m.card_no)) == ["粤B12345"]
    assert plates(since=day_before(10), until=day_before(11)) == ["粤BD12345"]
    assert plates(parked_before=day_before(10)) == ["粤B12345"]
    assert selectors_console.stay_one(session_id=first, mall_group_id=world.other_group.pk) is None


def test_the_exceptions_queue_counts_each_kind(world):
    park = car_park(world)
    enter(park, "粤B10001", day_before(9, days=3))  # stale
    leave(park, "粤B10002", day_before(9))  # an exit without an entry
    enter(park, "粤B10003", day_before(10))
    leave(park, "粤B10003", day_before(12))  # unpaid
    counts = selectors_console.exception_counts(
        mall_group_id=world.group.pk,
        car_park_id=None,
        since=day_before(0, days=30),
        stale_before=timeutil.now() - dt.timedelta(hours=24),
    )
    assert (counts["stale"], counts["no_entry"], counts["unpaid_exit"], counts["no_exit"]) == (1, 1, 1, 0)
    listed = selectors_console.exception_list(
        mall_group_id=world.group.pk,
        car_park_id=park.pk,
        kind="unpaid_exit",
        since=day_before(0, days=30),
        stale_before=timeutil.now(),
    )
    assert [s.plate for s in listed] == ["粤B10003"]


def test_utilisation_counts_the_cars_present_at_the_top_of_each_hour(world):
    park = car_park(world)
    enter(park, "粤B10001", day_before(22, days=2))  # present when the day starts, leaves at 10:30
    leave(park, "粤B10001", day_before(10, 30))
    enter(park, "粤B10002", day_before(9, 15))
    leave(park, "粤B10002", day_before(11, 45))
    enter(park, "粤B10003", day_before(10, 5))  # still parked
    day = day_before(0).date()
    scope = selectors_console.report_scope(car_parks=[park], first=day, last=day)
    report = selectors_console.utilisation(scope)
    parked = {h.hour: h.peak_parked for h in report.hours}
    assert [parked[h] for h in (0, 9, 10, 11, 12, 23)] == [1, 1, 2, 2, 1, 1]
    (row,) = report.days
    assert (row.entries, row.exits, row.peak_parked) == (2, 2, 2)
    assert report.hours[9].avg_entries == 1 and report.hours[10].avg_entries == 1


def test_revenue_and_income_vs_benefits_add_up(world):
    park = car_park(world)
    gold = member(world, tier="gold")
    member_identifier_add(member_id=gold.pk, actor=ADMIN, kind="plate", value="粤B12345")
    give_points(world, gold, 2_000)
    spend(world, gold, 25_000, at=day_before(11))
    enter(park, "粤B12345", day_before(10))  # the issue's example: ¥30 gross, ¥25 of benefits, ¥5 paid in points
    session = ParkingSession.objects.get(plate="粤B12345")
    services.parking_pay(session_id=session.pk, member_id=gold.pk, points=500, key="k1", actor=ADMIN, at=day_before(16))
    leave(park, "粤B12345", day_before(16, 5))
    enter(park, "粤B33333", day_before(9))  # a visitor with a ¥10 merchant grant who pays ¥5 at the booth
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
    services.event_payment(car_park=park, event_id="booth", plate="粤B33333", amount_fen=500, at=day_before(12, 10))
    day = day_before(0).date()
    scope = selectors_console.report_scope(car_parks=[park], first=day, last=day)

    (revenue,) = selectors_console.revenue_by_day(scope)
    assert (revenue.payments, revenue.points_fen, revenue.wallet_fen, revenue.other_fen) == (2, 500, 0, 500)
    assert revenue.total_fen == 1000 and revenue.points == 500

    report = selectors_console.income_vs_benefits(scope)
    assert (report.stays, report.gross_fen, report.fee_fen, report.paid_fen) == (2, 4500, 1000, 1000)
    assert report.benefits_fen == 3500 and report.other_fen == 0 and report.unpaid_fen == 0
    lines = {(r.kind, r.funder, r.merchant_name): (r.lines, r.fen) for r in report.rows}
    assert lines == {
        ("tier_hours", "mall", ""): (1, 1500),
        ("spend_hours", "mall", ""): (1, 1000),
        ("merchant_grant", "merchant", "影院"): (1, 1000),
    }
    empty = selectors_console.income_vs_benefits(
        selectors_console.report_scope(car_parks=[bare_park(world)], first=day, last=day)
    )
    assert (empty.stays, empty.rows) == (0, ())


def test_a_car_park_of_another_group_is_not_found(world):
    park = car_park(world)
    assert selectors_console.car_park_one(car_park_id=park.pk, mall_group_id=world.other_group.pk) is None
    assert selectors_console.car_park_one(car_park_id=park.pk, mall_group_id=None) == park
    assert CarPark.objects.count() == 1
    assert selectors_console.tariff_rows(car_park_id=bare_park(world).pk) == []
