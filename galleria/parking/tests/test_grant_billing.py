"""Merchant parking grants billed to the merchant (docs/parking.md, "How a stay uses a grant, and what the merchant
pays"; docs/settlement.md, figure 6): a grant a stay's fee used posts one balanced `parking_grant` ledger transaction
for the fee it covered — paid in the app, at the booth, or priced at the exit; a re-priced stay posts the difference;
a retry or a re-run posts nothing; a grant that saved nothing posts nothing. The total posted for a grant always
equals its `fen_used` (a hypothesis property). The merchant's monthly statement shows the figure, with its legs,
and its net (the payout) is reduced by it; a correction after the statement was confirmed goes to a supplement.

Stays are at fixed mall times with the clock frozen (time-machine), as in test_grants.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from galleria.audit.types import Actor
from galleria.ledger.models import Entry, Transaction
from galleria.ledger.selectors import ledger_check
from galleria.parking import rules, services
from galleria.parking import services_grants as grants
from galleria.parking.models import ParkingGrant
from galleria.sales.types import PaymentIn
from galleria.settlement import selectors as settlement_selectors
from galleria.settlement import services as settlement_services
from galleria.settlement.models import Statement
from galleria.settlement.tests.helpers import generate, new_member, sell
from galleria.settlement.types import Figure
from galleria.testing import PASSWORD

from .helpers import car_park, fund_wallet, local, member, next_noon, spend
from .test_grants import allow, bind, cinema, enter, fee_result, grant, settle

pytestmark = pytest.mark.django_db
_plates = itertools.count(10000)


def grants_actor() -> Actor:
    return Actor.system("test")


def billed(grant_id: int) -> tuple[int, int, int]:
    """(transactions posted for the grant, what they bill its merchant, what they credit the car park's income)."""
    txs = Transaction.objects.filter(source=grants.grant_source(grant_id))
    legs = Entry.objects.filter(transaction__in=txs)

    def total(kind: str) -> int:
        return int(legs.filter(account__kind=kind).aggregate(t=Sum("amount"))["t"] or 0)

    return txs.count(), -total("parking_grant_cost"), total("parking_grant_income")


def fen_used(grant_id: int) -> int:
    return ParkingGrant.objects.get(pk=grant_id).fen_used


# ---------------------------------------------------------------------------------- the three ways a stay settles


def test_a_stay_paid_in_the_app_bills_the_grant_once_on_its_merchants_account(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 9), tick=False) as clock:
        m = member(world, tier="gold")
        bind(m, "粤B12345")
        fund_wallet(world, m, 10_000)
        stay = enter(park, "粤B12345", local(2026, 3, 10, 10))
        clock.move_to(local(2026, 3, 10, 11))
        spend(world, m, 25_000, at=local(2026, 3, 10, 11))
        clock.move_to(local(2026, 3, 10, 18))
        given_ = grant(shop, "粤B12345", 3)
        clock.move_to(local(2026, 3, 10, 19))
        services.parking_pay(
            session_id=stay.pk, member_id=m.pk, points=0, key="app-1", actor=grants_actor(), at=local(2026, 3, 10, 19)
        )
        assert billed(given_.pk) == (1, 1500, 1500)  # the cinema's 3 h covered ¥15
        services.event_exit(car_park=park, event_id="out-1", plate="粤B12345", at=local(2026, 3, 10, 19, 5))
    assert billed(given_.pk) == (1, 1500, 1500)  # leaving within the minutes to leave bills nothing more
    tx = Transaction.objects.get(source=f"parking_grant:{given_.pk}")
    assert (tx.kind, tx.occurred_at) == ("parking_grant", given_.granted_at)  # the month it was granted in
    assert tx.explanation["plate"] == "粤B·****5" and tx.explanation["hours"] == 3  # never the full plate
    assert "粤B12345" not in tx.memo
    merchant_leg = Entry.objects.get(transaction=tx, account__kind="parking_grant_cost")
    assert (merchant_leg.account.merchant_id, merchant_leg.amount) == (shop.pk, -1500)
    assert ledger_check().ok


def test_a_stay_paid_at_the_booth_bills_the_grant(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 11), tick=False) as clock:
        enter(park, "沪A12345", local(2026, 3, 10, 10))
        given_ = grant(shop, "沪A12345", 3)
        clock.move_to(local(2026, 3, 10, 14))
        services.event_payment(
            car_park=park, event_id="booth-1", plate="沪A12345", amount_fen=500, at=local(2026, 3, 10, 14)
        )
        services.event_exit(car_park=park, event_id="out-1", plate="沪A12345", at=local(2026, 3, 10, 14, 5))
        # the same events again (a replayed queue): nothing new
        services.event_payment(
            car_park=park, event_id="booth-1", plate="沪A12345", amount_fen=500, at=local(2026, 3, 10, 14)
        )
        services.event_exit(car_park=park, event_id="out-1", plate="沪A12345", at=local(2026, 3, 10, 14, 5))
    assert billed(given_.pk) == (1, 1500, 1500) and fen_used(given_.pk) == 1500
    assert ledger_check().ok


def test_a_stay_priced_at_the_exit_bills_the_grant(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 10, 30), tick=False) as clock:
        enter(park, "沪A12345", local(2026, 3, 10, 10))
        given_ = grant(shop, "沪A12345", 3)
        clock.move_to(local(2026, 3, 10, 12))
        services.event_exit(car_park=park, event_id="out-1", plate="沪A12345", at=local(2026, 3, 10, 12))
    assert billed(given_.pk) == (1, 1000, 1000) and fen_used(given_.pk) == 1000  # a free exit: 2 h covered
    assert ledger_check().ok


def test_a_booth_payment_reported_after_the_exit_reprices_it_and_the_bill_follows(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 11), tick=False) as clock:
        enter(park, "沪A12345", local(2026, 3, 10, 10))
        given_ = grant(shop, "沪A12345", 3)
        clock.move_to(local(2026, 3, 10, 14, 10))
        services.event_exit(car_park=park, event_id="out-1", plate="沪A12345", at=local(2026, 3, 10, 14, 5))
        first = fen_used(given_.pk)
        assert first > 0 and billed(given_.pk) == (1, first, first)
        services.event_payment(  # paid at 14:00, before it left, reported late: the exit is priced again
            car_park=park, event_id="booth-1", plate="沪A12345", amount_fen=500, at=local(2026, 3, 10, 14)
        )
    count, total, income = billed(given_.pk)
    assert total == income == fen_used(given_.pk) > 0
    assert count == (1 if fen_used(given_.pk) == first else 2)
    assert ledger_check().ok


# ---------------------------------------------------------------------------------- re-pricing, retries, nothing


def test_a_repriced_stay_posts_the_difference_and_a_retry_posts_nothing(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 10, 30), tick=False) as clock:
        stay = enter(park, "沪A12345", local(2026, 3, 10, 10))
        given_ = grant(shop, "沪A12345", 3)
        clock.move_to(local(2026, 3, 10, 14))
        at_noon, at_two = fee_result(stay, local(2026, 3, 10, 12)), fee_result(stay, local(2026, 3, 10, 14))
        assert settle(stay, at_noon) == (given_.pk,)
        assert billed(given_.pk) == (1, 1000, 1000)  # 2 h covered
        settle(stay, at_noon)  # a retry
        assert billed(given_.pk) == (1, 1000, 1000)
        settle(stay, at_two)  # priced again later: 3 h covered
        assert (fen_used(given_.pk), billed(given_.pk)) == (1500, (2, 1500, 1500))
        settle(stay, at_noon)  # and back: the correction gives ¥5 back
        assert (fen_used(given_.pk), billed(given_.pk)) == (1000, (3, 1000, 1000))
        settle(stay, at_noon.benefits)  # the lines alone, as a payment stores them: nothing new
        assert billed(given_.pk) == (3, 1000, 1000)
    memos = list(Transaction.objects.filter(source=f"parking_grant:{given_.pk}").order_by("pk"))
    assert [t.explanation["delta_fen"] for t in memos] == [1000, 500, -500]
    assert ledger_check().ok


def test_a_grant_a_repriced_stay_no_longer_needs_is_freed_and_its_bill_given_back(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 10, 30), tick=False):
        stay = enter(park, "沪A12345", local(2026, 3, 10, 10))
        given_ = grant(shop, "沪A12345", 3)
        settle(stay, [_line(given_, minutes=120, fen=1000)])
        assert billed(given_.pk) == (1, 1000, 1000)
        settle(stay, [_line(given_, minutes=0, fen=0)])  # priced again: the grant saves nothing now
    freed = ParkingGrant.objects.get(pk=given_.pk)
    assert (freed.session_id, freed.minutes_used, freed.fen_used) == (None, 0, 0)  # free for a later stay
    assert billed(given_.pk) == (2, 0, 0)
    assert ledger_check().ok


def test_a_grant_that_saved_nothing_posts_nothing(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 9), tick=False) as clock:
        enter(park, "沪A12345", local(2026, 3, 10, 8))
        given_ = grant(shop, "沪A12345", 1)
        clock.move_to(local(2026, 3, 10, 20))  # 12 h under the ¥50 cap: the granted hour saves ¥0
        services.event_exit(car_park=park, event_id="out-1", plate="沪A12345", at=local(2026, 3, 10, 20))
    assert billed(given_.pk) == (0, 0, 0)
    assert not Transaction.objects.filter(kind="parking_grant").exists()


# ---------------------------------------------------------------------------------- the property


def _line(grant_: ParkingGrant, *, minutes: int, fen: int) -> rules.BenefitLine:
    return rules.BenefitLine(
        kind=rules.BenefitKind.MERCHANT_GRANT,
        source_id=str(grant_.pk),
        funder=rules.Funder.MERCHANT,
        funder_id=str(grant_.merchant_id),
        minutes_offered=grant_.hours * 60,
        minutes_used=minutes,
        fen=fen,
        key="benefit.merchant_grant",
        params={},
    )


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # each example costs real transactions
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(prices=st.lists(st.tuples(st.integers(0, 180), st.integers(0, 5000)), min_size=1, max_size=6))
def test_what_is_posted_for_a_grant_always_equals_its_fen_used(world, prices):
    """Any sequence of pricings of one stay (each priced line recorded, retried once): after each, the grant's
    postings add up to its fen_used on both sides, one transaction per change, and the ledger checks clean. Run at
    noon in mall time so the stay, the grant and its pricing fall in one mall day (a run at 00:0x Shanghai failed)."""
    with time_machine.travel(next_noon(), tick=True):
        _postings_equal_fen_used(world, prices)


def _postings_equal_fen_used(world, prices):
    if not hasattr(world, "_billing_park"):
        world._billing_park = car_park(world, code=f"pb{next(_plates)}")
        world._billing_shop = cinema(world, name=f"影城{next(_plates)}")
        allow(world._billing_shop, monthly=100_000, most=3)
    plate = f"沪A{next(_plates):05d}"
    stay = enter(world._billing_park, plate, timezone.now() - dt.timedelta(hours=5))
    given_ = grant(world._billing_shop, plate, 3)
    changes, last = 0, 0
    for minutes, fen in prices:
        for _retry in range(2):
            settle(stay, [_line(given_, minutes=minutes, fen=fen)])
        if fen > 0 and fen != last:  # a line that saved nothing is not recorded (the grant keeps its last values)
            changes, last = changes + 1, fen
        assert fen_used(given_.pk) == last
        assert billed(given_.pk) == (changes, last, last)
    assert ledger_check().ok


# ---------------------------------------------------------------------------------- the merchant's statement


def _march_at_heytea(world):
    """March 2026 at 喜茶 (commission 8 %): a ¥100 wallet sale, and a 3-hour grant that covered ¥15 of a stay."""
    park = car_park(world)
    shop = world.merchant
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 10, 30), tick=False) as clock:
        buyer = new_member(world, topup_fen=10_000)
        sell(
            world,
            at=local(2026, 3, 10, 10, 30),
            member=buyer,
            amounts=(10_000,),
            payments=[PaymentIn("wallet", 10_000)],
        )
        stay = enter(park, "沪A12345", local(2026, 3, 10, 10))
        given_ = grant(shop, "沪A12345", 3)
        clock.move_to(local(2026, 3, 10, 14))
        services.event_payment(
            car_park=park, event_id="booth-1", plate="沪A12345", amount_fen=500, at=local(2026, 3, 10, 14)
        )
        clock.move_to(local(2026, 4, 1, 9))
        generate(world, "2026-03")
    return stay, given_, Statement.objects.get(merchant=shop, period_start="2026-03-01", sequence=1)


def test_the_months_statement_shows_the_parking_granted_and_the_payout_is_reduced_by_it(world):
    _stay, given_, s = _march_at_heytea(world)
    assert (s.wallet_fen, s.commission_fen, s.parking_grants_fen) == (10_000, 800, 1500)
    assert s.net_fen == 10_000 - 800 - 1500  # what the mall pays 喜茶
    assert s.commission_base_fen == 10_000  # parking is not a sale: not in the commission base
    [row] = settlement_selectors.figure_legs(statement=s, figure=Figure.PARKING_GRANTS)
    leg = settlement_selectors.leg_of(row)
    assert (leg.amount_fen, leg.kind, leg.plate, leg.hours) == (-1500, "parking_grant", "沪A·****5", 3)
    assert leg.occurred_at == given_.granted_at and leg.source == f"parking_grant:{given_.pk}"
    generate(world, "2026-03")  # nothing new: unchanged
    assert Statement.objects.get(pk=s.pk).version == s.version
    assert ledger_check().ok


def test_a_correction_after_the_statement_was_confirmed_goes_to_a_supplement(world):
    stay, given_, s = _march_at_heytea(world)
    with time_machine.travel(local(2026, 4, 2, 10), tick=False) as clock:
        settlement_services.statement_confirm(
            statement_id=s.pk, merchant_id=s.merchant_id, actor=grants_actor(), version=s.version
        )
        clock.move_to(local(2026, 4, 2, 11))
        settle(stay, [_line(given_, minutes=180, fen=1200)])  # re-priced: the grant covered ¥12, not ¥15
        clock.move_to(local(2026, 4, 2, 12))
        generate(world, "2026-03")
    supplement = Statement.objects.get(merchant=s.merchant, period_start="2026-03-01", sequence=2)
    assert (supplement.parking_grants_fen, supplement.net_fen) == (-300, 300)  # ¥3 given back to 喜茶
    assert Statement.objects.get(pk=s.pk).parking_grants_fen == 1500  # the confirmed statement never changes
    [row] = settlement_selectors.figure_legs(statement=supplement, figure=Figure.PARKING_GRANTS)
    assert settlement_selectors.leg_of(row).amount_fen == 300  # the correction's leg, in the supplement
    assert billed(given_.pk) == (2, 1200, 1200)
    assert ledger_check().ok


def _staff(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_console_and_the_portal_show_the_figure_its_legs_and_the_exports(world):
    _stay, _given, s = _march_at_heytea(world)
    finance = _staff(world.users["finance"])
    html = finance.get(f"/console/settlement/{s.pk}/").content.decode()
    assert 'data-testid="amount-parking_grants">¥15.00' in html and 'data-testid="drill-parking_grants"' in html
    legs = finance.get(f"/console/settlement/{s.pk}/?figure=parking_grants").content.decode()
    assert legs.count('data-testid="leg-row"') == 1
    assert 'data-testid="leg-plate">沪A·****5<' in legs and 'data-testid="leg-hours">3<' in legs
    assert "沪A12345" not in legs
    portal = _staff(world.users["merchant_owner"])
    mine = portal.get(f"/merchant/settlement/{s.pk}/?figure=parking_grants").content.decode()
    assert 'data-testid="amount-parking_grants">¥15.00' in mine and 'data-testid="leg-plate">沪A·****5<' in mine

    wb = load_workbook(io.BytesIO(finance.get("/console/settlement/export/?period=2026-03&format=xlsx").content))
    summary, detail = wb.worksheets
    header = [c.value for c in summary[3]]
    row = dict(zip(header, [c.value for c in summary[4]], strict=True))
    assert Decimal(str(row["Parking granted to customers (¥)"])) == Decimal("15")
    assert Decimal(str(row["Net: the mall pays (¥)"])) == Decimal("77")
    parking = [
        [c.value for c in r] for r in detail.iter_rows(min_row=2) if r[3].value == "Parking granted to customers"
    ]
    assert len(parking) == 1 and Decimal(str(parking[0][8])) == Decimal("-15") and "沪A·****5" in parking[0][7]
    text = portal.get(f"/merchant/settlement/{s.pk}/export/?format=csv&sheet=detail").content.decode("utf-8-sig")
    assert any(r[3] == "Parking granted to customers" and r[8] == "-15.00" for r in csv.reader(io.StringIO(text)))


def test_grants_recorded_before_billing_existed_are_billed_once_by_the_command(world):
    park = car_park(world)
    shop = cinema(world)
    allow(shop)
    with time_machine.travel(local(2026, 3, 10, 10, 30), tick=False):
        stay = enter(park, "沪A12345", local(2026, 3, 10, 10))
        given_ = grant(shop, "沪A12345", 3)
        unused = grant(shop, "沪A54321", 1)
    ParkingGrant.objects.filter(pk=given_.pk).update(session=stay, minutes_used=120, fen_used=1000)  # as before
    out = io.StringIO()
    call_command("parking_grants_bill", stdout=out)
    assert "posted 1 " in out.getvalue()
    assert billed(given_.pk) == (1, 1000, 1000) and billed(unused.pk) == (0, 0, 0)
    call_command("parking_grants_bill", stdout=io.StringIO())  # again: nothing
    settle(stay, [_line(ParkingGrant.objects.get(pk=given_.pk), minutes=120, fen=1000)])  # the stay again: nothing
    assert billed(given_.pk) == (1, 1000, 1000)
    assert ledger_check().ok
