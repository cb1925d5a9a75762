"""Merchant parking grants (docs/parking.md, "Merchant grants"): the allowance's limits, the month in mall time,
idempotent grants, revoking, a grant used by a stay (after the tier and spend hours) and billed for what it covered,
a grant never used by two stays — and, on PostgreSQL, clerks granting the last hours at once.

Stays are at fixed mall times with the clock frozen (time-machine): a grant counts for payments after it was made."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from django.db import transaction

from galleria.audit.models import AuditEvent
from galleria.core.errors import ApplicationError
from galleria.core.locking import lock_one
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_identifier_add
from galleria.merchants.models import Category, Merchant
from galleria.parking import selectors, services
from galleria.parking import selectors_grants as grant_selectors
from galleria.parking import services_grants as grants
from galleria.parking.models import CarPark, GrantAllowance, ParkingGrant, ParkingSession, TariffVersion
from galleria.testing import run_parallel

from .helpers import ACTOR, SHANGHAI, car_park, fund_wallet, local, member, spend

pytestmark = pytest.mark.django_db
TZ = "Asia/Shanghai"
_keys = itertools.count(1)


def cinema(world, name: str = "星河影城") -> Merchant:
    return Merchant.objects.create(mall=world.mall, name=name, category=Category.CINEMA)


def allow(merchant: Merchant, monthly: int = 100, most: int = 3) -> GrantAllowance:
    return grants.allowance_save(merchant_id=merchant.pk, monthly_hours=monthly, max_hours_per_grant=most, actor=ACTOR)


def grant(merchant: Merchant, plate: str, hours: int, *, key: str = "", note: str = "") -> ParkingGrant:
    return grants.grant_create(
        merchant_id=merchant.pk, plate=plate, hours=hours, actor=ACTOR, key=key or f"form-{next(_keys):06d}", note=note
    )


def code_of(fn) -> str:
    with pytest.raises(ApplicationError) as info:
        fn()
    return info.value.code


def enter(park: CarPark, plate: str, at: dt.datetime) -> ParkingSession:
    result = services.event_entry(car_park=park, event_id=f"in-{park.code}-{plate}-{at:%d%H%M}", plate=plate, at=at)
    assert result.session_id is not None
    return ParkingSession.objects.select_related("car_park", "car_park__mall").get(pk=result.session_id)


def fee_lines(session: ParkingSession, at: dt.datetime) -> list[tuple[str, int, int]]:
    _view, result = selectors.session_fee(session, at=at)
    assert result is not None
    return [(line.kind.value, line.minutes_used, line.fen) for line in result.benefits]


def fee_result(session: ParkingSession, at: dt.datetime):
    _view, result = selectors.session_fee(session, at=at)
    return result


def settle(session: ParkingSession, result) -> tuple[int, ...]:
    """What the exit (or a payment at the booth) does with the stay's row locked: record the grants its fee used."""
    with transaction.atomic():
        locked = lock_one(ParkingSession.objects.select_related("car_park", "car_park__mall").filter(pk=session.pk))
        return grants.grants_settle_in_tx(locked, result)


def second_car_park(world, park: CarPark) -> CarPark:
    """Another car park of the same mall (same operator store and tariff)."""
    other = CarPark.objects.create(mall=world.mall, code="p2", name="星河广场二号停车场", store=park.store)
    tariff = TariffVersion.objects.get(car_park=park)
    tariff.pk, tariff.car_park = None, other
    tariff.save()
    return other


def state_of(grant_id: int, at: dt.datetime) -> str:
    row = grant_selectors.grant_list(now=at).get(pk=grant_id)
    return grant_selectors.grant_state(row, now=at)


# ---------------------------------------------------------------------------------------------------- limits


def test_a_merchant_grants_within_its_allowance_and_the_months_hours(world):
    shop = cinema(world)
    assert code_of(lambda: grant(shop, "粤B12345", 2)) == "parking.grant_not_allowed"  # no allowance: no grants
    allow(shop, monthly=10, most=3)

    assert code_of(lambda: grant(shop, "粤B12345", 4)) == "parking.grant_hours_max"
    assert code_of(lambda: grant(shop, "粤B12345", 0)) == "parking.grant_hours"
    assert code_of(lambda: grant(shop, "粤B1234", 2)) == "plate.length"
    assert code_of(lambda: grant(shop, "粤B12345", 2, note="x" * 81)) == "parking.grant_note"
    assert code_of(lambda: grant(shop, "粤B12345", 2, key="short")) == "parking.grant_key"
    assert not ParkingGrant.objects.exists()

    first = grant(shop, "粤b·12345", 3, note="IMAX 19:30")
    assert (first.plate, first.hours, first.note, first.merchant_id, first.mall_id) == (
        "粤B12345",
        3,
        "IMAX 19:30",
        shop.pk,
        world.mall.pk,
    )
    grant(shop, "沪A88888", 3)
    grant(shop, "京C55555", 3)
    with pytest.raises(ApplicationError) as info:
        grant(shop, "粤B54321", 2)
    assert info.value.code == "parking.grant_budget" and info.value.extra == {"hours_left": 1}
    assert "hours" in info.value.fields
    grant(shop, "粤B54321", 1)
    assert code_of(lambda: grant(shop, "粤B54321", 1)) == "parking.grant_budget"

    grants.grant_revoke(grant_id=first.pk, merchant_id=shop.pk, actor=ACTOR)  # revoked hours return to the budget
    grant(shop, "粤B11111", 3)
    month = grant_selectors.month_of(first.granted_at, TZ)
    usage = grant_selectors.grant_usage(merchant_id=shop.pk, month=month, tz_name=TZ)
    assert (usage.hours_granted, usage.hours_left, usage.grants, usage.percent_granted) == (10, 0, 4, 100)
    assert AuditEvent.objects.filter(action="parking.grant").count() == 5


def test_a_suspended_merchant_cannot_grant(world):
    shop = cinema(world)
    allow(shop)
    Merchant.objects.filter(pk=shop.pk).update(status="suspended")
    assert code_of(lambda: grant(shop, "粤B12345", 1)) == "parking.merchant_inactive"
    assert not ParkingGrant.objects.exists()


def test_the_budget_is_per_mall_local_month_and_a_grant_lasts_to_the_end_of_the_mall_day(world):
    shop = cinema(world)
    allow(shop, monthly=5, most=3)
    # 23:30 on 31 March in Shanghai is 15:30 UTC
    with time_machine.travel(local(2026, 3, 31, 23, 30), tick=False) as clock:
        late = grant(shop, "粤B12345", 3)
        grant(shop, "粤B22222", 2)
        assert code_of(lambda: grant(shop, "粤B33333", 1)) == "parking.grant_budget"
        assert late.valid_until == dt.datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI)
        # 00:10 on 1 April in Shanghai is still 31 March in UTC: a new month for the mall
        clock.move_to(local(2026, 4, 1, 0, 10))
        early = grant(shop, "粤B33333", 3)
        assert early.valid_until == dt.datetime(2026, 4, 1, 23, 59, 59, 999999, tzinfo=SHANGHAI)
        assert code_of(lambda: grant(shop, "粤B44444", 3)) == "parking.grant_budget"  # 3 of April's 5 granted
    march = grant_selectors.grant_usage(merchant_id=shop.pk, month=dt.date(2026, 3, 1), tz_name=TZ)
    april = grant_selectors.grant_usage(merchant_id=shop.pk, month=dt.date(2026, 4, 1), tz_name=TZ)
    assert (march.hours_granted, march.grants, april.hours_granted, april.hours_left) == (5, 2, 3, 2)


def test_the_allowance_is_validated_and_every_change_audited(world):
    shop = cinema(world)
    save = grants.allowance_save
    assert code_of(lambda: save(merchant_id=shop.pk, monthly_hours=-1, max_hours_per_grant=3, actor=ACTOR)) == (
        "parking.allowance_hours"
    )
    assert code_of(lambda: save(merchant_id=shop.pk, monthly_hours=True, max_hours_per_grant=3, actor=ACTOR)) == (
        "parking.allowance_hours"
    )
    for most in (0, 25):
        assert code_of(
            lambda m=most: save(merchant_id=shop.pk, monthly_hours=10, max_hours_per_grant=m, actor=ACTOR)
        ) == ("parking.allowance_max")
    assert code_of(lambda: save(merchant_id=987654, monthly_hours=10, max_hours_per_grant=3, actor=ACTOR)) == (
        "merchants.not_found"
    )
    assert not GrantAllowance.objects.exists()

    allowance = save(merchant_id=shop.pk, monthly_hours=40, max_hours_per_grant=4, actor=ACTOR)
    assert (allowance.monthly_hours, allowance.max_hours_per_grant, allowance.updated_by) == (40, 4, ACTOR.label)
    save(merchant_id=shop.pk, monthly_hours=40, max_hours_per_grant=4, actor=ACTOR)  # nothing changes: no record
    save(merchant_id=shop.pk, monthly_hours=0, max_hours_per_grant=4, actor=ACTOR)
    events = list(AuditEvent.objects.filter(action="parking.grant_allowance").order_by("pk"))
    assert [e.changes for e in events] == [
        {"monthly_hours": [None, 40], "max_hours_per_grant": [None, 4]},
        {"monthly_hours": [40, 0], "max_hours_per_grant": [4, 4]},
    ]
    assert code_of(lambda: grant(shop, "粤B12345", 1)) == "parking.grant_budget"  # 0 hours a month: no new grants


# ---------------------------------------------------------------------------------------------------- idempotency


def test_the_same_form_token_grants_once_and_cannot_be_reused_for_another_grant(world):
    shop, other = cinema(world), cinema(world, "海底捞")
    allow(shop)
    allow(other)
    first = grant(shop, "粤B12345", 2, key="token-0001", note="VIP")
    again = grant(shop, "粤B·12345", 2, key="token-0001", note="VIP")
    assert again.pk == first.pk and ParkingGrant.objects.count() == 1
    assert AuditEvent.objects.filter(action="parking.grant").count() == 1
    assert code_of(lambda: grant(shop, "粤B12345", 3, key="token-0001", note="VIP")) == "parking.grant_key_reused"
    assert code_of(lambda: grant(shop, "沪A12345", 2, key="token-0001", note="VIP")) == "parking.grant_key_reused"
    theirs = grant(other, "粤B12345", 2, key="token-0001", note="VIP")  # tokens are per merchant
    assert theirs.pk != first.pk and theirs.merchant_id == other.pk
    allow(shop, monthly=1, most=1)  # a replay after the allowance shrank still answers with the first grant
    assert grant(shop, "粤B12345", 2, key="token-0001", note="VIP").pk == first.pk


# ---------------------------------------------------------------------------------------------------- revoking


def test_only_an_unused_grant_of_ones_own_can_be_revoked(world):
    park = car_park(world)
    shop, other = cinema(world), cinema(world, "海底捞")
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 12), tick=False) as clock:
        unused = grant(shop, "粤B12345", 2)
        assert code_of(lambda: grants.grant_revoke(grant_id=unused.pk, merchant_id=other.pk, actor=ACTOR)) == (
            "parking.grant_not_found"
        )
        assert grants.grant_revoke(grant_id=unused.pk, merchant_id=shop.pk, actor=ACTOR).revoked_at is not None
        assert code_of(lambda: grants.grant_revoke(grant_id=unused.pk, merchant_id=shop.pk, actor=ACTOR)) == (
            "parking.grant_revoked"
        )
        stay = enter(park, "粤B12345", local(2026, 3, 10, 11))
        assert selectors.session_grants(stay, at=local(2026, 3, 10, 12)) == []  # a revoked grant is not offered

        used = grant(shop, "粤B12345", 2)
        clock.move_to(local(2026, 3, 10, 13, 30))
        # 2.5 h = 3 units (¥15); the 2 hours leave 30 minutes = 1 unit (¥5): the grant covered ¥10
        assert fee_lines(stay, local(2026, 3, 10, 13, 30)) == [("merchant_grant", 120, 1000)]
        assert settle(stay, fee_result(stay, local(2026, 3, 10, 13, 30))) == (used.pk,)
        assert code_of(lambda: grants.grant_revoke(grant_id=used.pk, merchant_id=shop.pk, actor=ACTOR)) == (
            "parking.grant_used"
        )
    assert AuditEvent.objects.filter(action="parking.grant_revoke").count() == 1
    used.refresh_from_db()
    assert (used.session_id, used.minutes_used, used.fen_used, used.revoked_at) == (stay.pk, 120, 1000, None)


# ---------------------------------------------------------------------------------------------------- used by stays


def bind(m, plate: str) -> None:
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind="plate", value=plate)


def test_a_grant_comes_after_the_tier_and_spend_hours_and_the_merchant_is_billed_what_it_covered(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 9), tick=False) as clock:
        m = member(world, tier="gold")  # 3 free hours a day
        bind(m, "粤B12345")
        fund_wallet(world, m, 10_000)
        stay = enter(park, "粤B12345", local(2026, 3, 10, 10))
        clock.move_to(local(2026, 3, 10, 11))
        spend(world, m, 25_000, at=local(2026, 3, 10, 11))  # ≥ ¥200 today: +2 h
        clock.move_to(local(2026, 3, 10, 18))
        given = grant(shop, "粤B12345", 3, note="IMAX")
        clock.move_to(local(2026, 3, 10, 19))
        at = local(2026, 3, 10, 19)
        # 9 h = ¥45: the tier's 3 h take ¥15, the spend's 2 h ¥10, the cinema's 3 h ¥15 (6 h → 1 h left: ¥5)
        assert fee_lines(stay, at) == [
            ("tier_hours", 180, 1500),
            ("spend_hours", 120, 1000),
            ("merchant_grant", 180, 1500),
        ]
        view, _result = selectors.session_fee(stay, at=at)
        assert (view.gross_fen, view.benefits_fen, view.due_fen) == (4500, 4000, 500)

        payment = services.parking_pay(session_id=stay.pk, member_id=m.pk, points=0, key="app-1", actor=ACTOR, at=at)
        assert (payment.amount_fen, payment.wallet_fen) == (500, 500)
        given.refresh_from_db()
        assert (given.session_id, given.minutes_used, given.fen_used) == (stay.pk, 180, 1500)
        assert state_of(given.pk, at) == grant_selectors.GrantState.USED

        services.event_exit(car_park=park, event_id="out-1", plate="粤B12345", at=local(2026, 3, 10, 19, 5))
        stay.refresh_from_db()
        assert (stay.state, stay.exception, stay.fee_fen) == ("exited", "", 500)
    usage = grant_selectors.grant_usage(merchant_id=shop.pk, month=dt.date(2026, 3, 1), tz_name=TZ)
    assert (usage.hours_granted, usage.grants_used, usage.minutes_used, usage.fen_covered) == (3, 1, 180, 1500)
    [row] = grant_selectors.merchant_months(mall_group_id=world.group.pk, month=dt.date(2026, 3, 1))
    assert (row.merchant_id, row.fen_covered, row.monthly_hours) == (shop.pk, 1500, 100)
    assert ledger_check().ok


def test_a_grant_is_never_used_by_two_stays(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 10, 30), tick=False) as clock:
        first = enter(park, "沪A12345", local(2026, 3, 10, 10))
        given = grant(shop, "沪A12345", 3)
        clock.move_to(local(2026, 3, 10, 12))
        # 2 h: the 3-hour grant takes all of it, the car leaves for free
        assert fee_lines(first, local(2026, 3, 10, 12)) == [("merchant_grant", 120, 1000)]
        assert settle(first, fee_result(first, local(2026, 3, 10, 12))) == (given.pk,)
        left = services.event_exit(car_park=park, event_id="out-1", plate="沪A12345", at=local(2026, 3, 10, 12))
        first.refresh_from_db()
        assert (left.outcome, first.fee_fen, first.exception) == ("applied", 0, "")

        clock.move_to(local(2026, 3, 10, 15))
        second = enter(park, "沪A12345", local(2026, 3, 10, 13))
        assert fee_lines(second, local(2026, 3, 10, 15)) == []  # the grant is the first stay's
        decision = services.exit_request(car_park=park, plate="沪A12345", at=local(2026, 3, 10, 15))
        assert (decision.decision, decision.due_fen) == ("pay", 1000)

        # the same plate parked in two car parks at once (a stay whose exit was never seen): both fees offer a new
        # grant; the first to settle takes it, the other settles nothing and the grant is never billed twice
        other_park = second_car_park(world, park)
        stale = enter(other_park, "沪A12345", local(2026, 3, 10, 13, 30))
        clock.move_to(local(2026, 3, 10, 15, 30))
        late = grant(shop, "沪A12345", 1)
        at = local(2026, 3, 10, 16)
        clock.move_to(at)
        for_second, for_stale = fee_result(second, at), fee_result(stale, at)
        assert [b.source_id for b in for_stale.benefits] == [str(late.pk)]
        assert settle(second, for_second) == (late.pk,)
        assert settle(stale, for_stale) == ()
    late.refresh_from_db()
    assert (late.session_id, late.minutes_used, late.fen_used) == (second.pk, 60, 500)
    assert ParkingGrant.objects.filter(session=stale).count() == 0


def test_a_grant_that_was_not_needed_stays_for_a_later_stay(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 10, 5), tick=False) as clock:
        short = enter(park, "粤B12345", local(2026, 3, 10, 10))
        three = grant(shop, "粤B12345", 3)
        two = grant(shop, "粤B12345", 2)
        clock.move_to(local(2026, 3, 10, 10, 20))
        # 20 minutes: a free stay, no grant is needed
        assert settle(short, fee_result(short, local(2026, 3, 10, 10, 20))) == ()
        services.event_exit(car_park=park, event_id="out-short", plate="粤B12345", at=local(2026, 3, 10, 10, 20))
        clock.move_to(local(2026, 3, 10, 14))
        longer = enter(park, "粤B12345", local(2026, 3, 10, 12))
        # 2 h: the older grant covers it all, the second one saves nothing and is kept
        assert fee_lines(longer, local(2026, 3, 10, 14)) == [("merchant_grant", 120, 1000), ("merchant_grant", 0, 0)]
        assert settle(longer, fee_result(longer, local(2026, 3, 10, 14))) == (three.pk,)
        assert state_of(two.pk, local(2026, 3, 10, 14)) == grant_selectors.GrantState.WAITING
    three.refresh_from_db()
    two.refresh_from_db()
    assert (three.session_id, three.fen_used) == (longer.pk, 1000)
    assert (two.session_id, two.minutes_used, two.fen_used) == (None, 0, 0)


def test_each_grant_shows_its_state_and_the_list_filters_by_it(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 19), tick=False) as clock:
        overnight = enter(park, "粤B00003", local(2026, 3, 10, 18))
        waiting = grant(shop, "粤B00001", 1)
        revoked = grant(shop, "粤B00002", 1)
        grants.grant_revoke(grant_id=revoked.pk, merchant_id=shop.pk, actor=ACTOR)
        parked = grant(shop, "粤B00003", 2)
        used_stay = enter(park, "粤B00004", local(2026, 3, 10, 17))
        used = grant(shop, "粤B00004", 1)
        settle(used_stay, fee_result(used_stay, local(2026, 3, 10, 19)))
        today = local(2026, 3, 10, 20)
        assert {g: state_of(g.pk, today) for g in (waiting, revoked, parked, used)} == {
            waiting: "waiting",
            revoked: "revoked",
            parked: "waiting",
            used: "used",
        }
        # the next morning: the unused grant's day is over; the car parked since yesterday evening can still use its
        clock.move_to(local(2026, 3, 11, 9))
        morning = local(2026, 3, 11, 9)
        assert state_of(waiting.pk, morning) == "expired" and state_of(parked.pk, morning) == "waiting"
        assert fee_lines(overnight, morning)[0][0] == "merchant_grant"

        def listed(state: str) -> set[int]:
            return set(
                grant_selectors.grant_list(merchant_id=shop.pk, state=state, now=morning).values_list("pk", flat=True)
            )

        assert (listed("waiting"), listed("expired"), listed("used"), listed("revoked")) == (
            {parked.pk},
            {waiting.pk},
            {used.pk},
            {revoked.pk},
        )
        assert set(grant_selectors.grant_list(merchant_id=shop.pk, plate="b0000", now=morning)) == {
            waiting,
            revoked,
            parked,
            used,
        }


def test_every_merchants_month_for_the_console(world):
    park = car_park(world)
    shop, restaurant, idle = cinema(world), cinema(world, "海底捞"), cinema(world, "星巴克")
    allow(shop, monthly=50)
    allow(restaurant, monthly=20, most=2)
    allow(idle, monthly=5)
    with time_machine.travel(local(2026, 3, 31, 22), tick=False) as clock:
        stay = enter(park, "粤B12345", local(2026, 3, 31, 20))
        grant(shop, "粤B12345", 3)
        grant(restaurant, "粤B12345", 2)
        settle(stay, fee_result(stay, local(2026, 3, 31, 22, 30)))  # 2.5 h: the cinema's grant takes all of it
        clock.move_to(local(2026, 4, 1, 9))
        grant(restaurant, "沪A12345", 1)  # April
    march = {
        r.merchant_name: r
        for r in grant_selectors.merchant_months(mall_group_id=world.group.pk, month=dt.date(2026, 3, 1))
    }
    assert set(march) == {"星河影城", "海底捞", "星巴克"}
    assert (march["星河影城"].hours_granted, march["星河影城"].minutes_used, march["星河影城"].fen_covered) == (
        3,
        150,
        1500,
    )
    assert (march["海底捞"].hours_granted, march["海底捞"].grants_used, march["海底捞"].fen_covered) == (2, 0, 0)
    assert (march["星巴克"].monthly_hours, march["星巴克"].grants) == (5, 0)
    april = grant_selectors.merchant_months(
        mall_group_id=world.group.pk, month=dt.date(2026, 4, 1), merchant_id=restaurant.pk
    )
    assert [(r.merchant_name, r.hours_granted) for r in april] == [("海底捞", 1)]
    assert grant_selectors.merchant_months(mall_group_id=world.other_group.pk, month=dt.date(2026, 3, 1)) == []


# ---------------------------------------------------------------------------- leaving without an app payment


def test_a_stay_that_leaves_free_thanks_to_a_grant_records_it_at_the_exit(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 10, 30), tick=False) as clock:
        stay = enter(park, "沪A12345", local(2026, 3, 10, 10))
        given = grant(shop, "沪A12345", 3)
        clock.move_to(local(2026, 3, 10, 12))
        decision = services.exit_request(car_park=park, plate="沪A12345", at=local(2026, 3, 10, 12))
        assert (decision.decision, decision.reason) == ("open", "free")
        services.event_exit(car_park=park, event_id="out-1", plate="沪A12345", at=local(2026, 3, 10, 12))
        again = enter(park, "沪A12345", local(2026, 3, 10, 13))
        assert fee_lines(again, local(2026, 3, 10, 15)) == []  # used by the first stay
    given.refresh_from_db()
    assert (given.session_id, given.minutes_used, given.fen_used) == (stay.pk, 120, 1000)


def test_a_stay_paid_at_the_booth_records_the_grant_its_fee_used(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 11), tick=False) as clock:
        stay = enter(park, "沪A12345", local(2026, 3, 10, 10))
        given = grant(shop, "沪A12345", 3)
        clock.move_to(local(2026, 3, 10, 14))
        decision = services.exit_request(car_park=park, plate="沪A12345", at=local(2026, 3, 10, 14))
        assert decision.due_fen == 500  # 4 h = ¥20, the grant's 3 h take ¥15
        services.event_payment(
            car_park=park, event_id="booth-1", plate="沪A12345", amount_fen=500, at=local(2026, 3, 10, 14)
        )
        services.event_exit(car_park=park, event_id="out-1", plate="沪A12345", at=local(2026, 3, 10, 14, 5))
    given.refresh_from_db()
    assert (given.session_id, given.minutes_used, given.fen_used) == (stay.pk, 180, 1500)


def _capped_day(world):
    """08:00–20:00 under the ¥50 daily cap (12 h = ¥60 → ¥50): one granted hour takes 60 minutes off, saves ¥0."""
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    stay = enter(park, "沪A12345", local(2026, 3, 10, 8))
    return park, stay, grant(shop, "沪A12345", 1)


def test_a_grant_that_saved_nothing_under_the_daily_cap_is_not_recorded(world):
    with time_machine.travel(local(2026, 3, 10, 9), tick=False) as clock:
        _park, stay, given = _capped_day(world)
        clock.move_to(local(2026, 3, 10, 20))
        assert fee_lines(stay, local(2026, 3, 10, 20)) == [("merchant_grant", 60, 0)]
        assert settle(stay, fee_result(stay, local(2026, 3, 10, 20))) == ()
    given.refresh_from_db()
    assert (given.session_id, given.fen_used) == (None, 0)


def test_at_the_exit_a_grant_that_saved_nothing_under_the_daily_cap_stays_free(world):
    with time_machine.travel(local(2026, 3, 10, 9), tick=False) as clock:
        park, _stay, given = _capped_day(world)
        clock.move_to(local(2026, 3, 10, 20))
        services.event_exit(car_park=park, event_id="out-1", plate="沪A12345", at=local(2026, 3, 10, 20))
    given.refresh_from_db()
    assert (given.session_id, given.fen_used) == (None, 0)


# ------------------------------------------------------------------------------------------- races (PostgreSQL)


def _attempt(shop: Merchant, plate: str, hours: int, key: str) -> str:
    try:
        grant(shop, plate, hours, key=key)
    except ApplicationError as exc:
        return exc.code
    return "ok"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_granting_the_last_hours_at_once_one_is_refused(world):
    shop = cinema(world)
    allow(shop, monthly=5, most=3)
    grant(shop, "粤B00001", 2)
    outcomes = run_parallel(2, lambda i: _attempt(shop, f"粤B1000{i}", 3, f"race-{i:04d}"))
    assert sorted(outcomes) == ["ok", "parking.grant_budget"]
    assert ParkingGrant.objects.filter(merchant=shop).count() == 2
    assert (
        grant_selectors.grant_usage(
            merchant_id=shop.pk, month=grant_selectors.month_of(ParkingGrant.objects.first().granted_at, TZ), tz_name=TZ
        ).hours_granted
        == 5
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_grants_at_once_never_exceed_the_month_and_one_form_grants_once(world):
    shop = cinema(world)
    allow(shop, monthly=7, most=1)
    outcomes = run_parallel(12, lambda i: _attempt(shop, f"粤B2{i:04d}", 1, f"many-{i:04d}"))
    assert outcomes.count("ok") == 7 and set(outcomes) == {"ok", "parking.grant_budget"}
    allow(shop, monthly=20, most=1)
    same = run_parallel(6, lambda i: _attempt(shop, "粤B30000", 1, "same-form-0001"))
    assert same == ["ok"] * 6
    assert ParkingGrant.objects.filter(merchant=shop).count() == 8
