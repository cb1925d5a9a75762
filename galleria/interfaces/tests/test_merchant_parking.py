"""Parking for customers in the merchant portal (grant, revoke, budget, months, CSV) and the console's merchant grants
and allowances (docs/parking.md, "Merchant grants")."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import time_machine

from galleria.accounts.models import Role
from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.merchants.models import Merchant
from galleria.parking import selectors_grants as grant_selectors
from galleria.parking import services as parking_services
from galleria.parking import services_grants as grants
from galleria.parking.models import GrantAllowance, ParkingGrant
from galleria.parking.tests.helpers import car_park, local
from galleria.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
NOW = local(2026, 3, 10, 15)  # a Tuesday afternoon in Shanghai


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


def login(client, username: str) -> None:
    assert client.login(username=username, password=PASSWORD)


def allow(world, monthly: int = 10, most: int = 3, merchant: Merchant | None = None) -> GrantAllowance:
    return grants.allowance_save(
        merchant_id=(merchant or world.merchant).pk, monthly_hours=monthly, max_hours_per_grant=most, actor=ACTOR
    )


def give(world, plate: str, hours: int, *, key: str, merchant: Merchant | None = None) -> ParkingGrant:
    return grants.grant_create(
        merchant_id=(merchant or world.merchant).pk, plate=plate, hours=hours, actor=ACTOR, key=key
    )


def form_key(html: str) -> str:
    match = re.search(r'name="key" value="([0-9a-f]+)"', html)
    assert match, "the grant form carries a token"
    return match.group(1)


def hour_options(html: str) -> list[str]:
    select = re.search(r'<select name="hours"[^>]*>(.*?)</select>', html, re.S)
    assert select, "the hours select"
    return re.findall(r'<option value="(\d+)"', select.group(1))


def test_without_an_allowance_the_clerk_is_told_to_ask_the_mall(client, world):
    login(client, "heytea-clerk")
    resp = client.get("/merchant/parking/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'data-testid="no-allowance"' in html and 'data-testid="grant-form"' not in html
    assert 'data-nav="parking"' in html  # the nav entry
    resp = client.post("/merchant/parking/", {"plate": "粤B12345", "hours": "1", "key": "a" * 32})
    assert resp.status_code == 422 and not ParkingGrant.objects.exists()


def test_a_clerk_grants_hours_to_a_plate_and_sees_it_in_todays_list(client, world):
    allow(world, monthly=10, most=3)
    login(client, "heytea-clerk")
    page = client.get("/merchant/parking/").content.decode()
    assert hour_options(page) == ["1", "2", "3"]
    key = form_key(page)
    resp = client.post("/merchant/parking/", {"plate": "粤b 12345", "hours": "3", "note": "IMAX 19:30", "key": key})
    assert resp.status_code == 302 and resp["Location"] == "/merchant/parking/"
    again = client.post("/merchant/parking/", {"plate": "粤B12345", "hours": "3", "note": "IMAX 19:30", "key": key})
    assert again.status_code == 302  # a double tap grants once
    grant = ParkingGrant.objects.get()
    assert (grant.plate, grant.hours, grant.note, grant.granted_by) == ("粤B12345", 3, "IMAX 19:30", "heytea-clerk")
    assert AuditEvent.objects.filter(action="parking.grant", actor_label="heytea-clerk").count() == 1

    html = client.get("/merchant/parking/").content.decode()
    assert "粤B·12345" in html and "IMAX 19:30" in html
    assert html.count('data-testid="grant-row"') == 1 and 'data-state="waiting"' in html
    assert "For a car that enters by 03-10 23:59" in html
    assert re.search(r'data-testid="hours-granted">3 ', html)
    assert "7 hours left to grant" in html


def test_errors_show_next_to_the_field_and_the_select_offers_only_what_is_left(client, world):
    allow(world, monthly=10, most=3)
    give(world, "沪A11111", 3, key="k-00000001")
    give(world, "沪A22222", 3, key="k-00000002")
    give(world, "沪A33333", 2, key="k-00000003")
    login(client, "heytea-manager")
    page = client.get("/merchant/parking/").content.decode()
    assert hour_options(page) == ["1", "2"]  # 8 of 10 granted
    bad = client.post("/merchant/parking/", {"plate": "粤B1234", "hours": "1", "key": form_key(page)})
    html = bad.content.decode()
    assert bad.status_code == 422
    assert re.search(r'field has-error">\s*<label for="id_plate"', html) and "Not a valid plate: 粤B1234" in html
    over = client.post("/merchant/parking/", {"plate": "粤B12345", "hours": "3", "key": form_key(page)})
    html = over.content.decode()
    assert over.status_code == 422
    assert re.search(r'field has-error">\s*<label for="id_hours"', html)
    assert "Only 2 hours are left in this month&#x27;s parking budget." in html
    assert ParkingGrant.objects.count() == 3

    give(world, "沪A44444", 2, key="k-00000004")
    full = client.get("/merchant/parking/").content.decode()
    assert 'data-testid="budget-used-up"' in full and 'data-testid="grant-form"' not in full


def test_an_unused_grant_is_revoked_and_a_used_one_or_another_shops_cannot_be(client, world, _frozen):
    park = car_park(world)
    allow(world, monthly=10)
    unused = give(world, "粤B12345", 2, key="k-00000001")
    used = give(world, "沪A12345", 1, key="k-00000002")
    parking_services.event_entry(car_park=park, event_id="in-1", plate="沪A12345", at=local(2026, 3, 10, 13))
    _frozen.move_to(local(2026, 3, 10, 16, 30))
    parking_services.event_exit(car_park=park, event_id="out-1", plate="沪A12345", at=local(2026, 3, 10, 16, 30))
    used.refresh_from_db()
    assert used.fen_used == 500  # 3.5 h = 4 units (¥20): the hour took ¥5 off

    login(client, "uniqlo-owner")
    assert client.post(f"/merchant/parking/grants/{unused.pk}/revoke/").status_code == 404
    client.logout()
    login(client, "heytea-clerk")
    html = client.get("/merchant/parking/").content.decode()
    assert html.count('data-testid="grant-revoke"') == 1  # only the unused grant has the button
    assert "Used in a stay on 03-10 16:30: 1 h, covering ¥5.00" in html
    resp = client.post(
        f"/merchant/parking/grants/{unused.pk}/revoke/", {"next": "/merchant/parking/?list=month"}, follow=True
    )
    assert resp.redirect_chain[-1][0] == "/merchant/parking/?list=month"
    assert "Revoked the 2 h granted to 粤B·12345" in resp.content.decode()
    unused.refresh_from_db()
    assert unused.revoked_at is not None
    refused = client.post(f"/merchant/parking/grants/{used.pk}/revoke/", {"next": "https://evil.example/"}, follow=True)
    assert refused.redirect_chain[-1][0] == "/merchant/parking/"
    assert "A stay already used this grant: it cannot be revoked." in refused.content.decode()
    assert client.get(f"/merchant/parking/grants/{unused.pk}/revoke/").status_code == 405


def test_the_month_picker_shows_a_past_month_and_the_budget_counts_in_mall_time(client, world, _frozen):
    allow(world, monthly=10)
    _frozen.move_to(local(2026, 2, 28, 23, 50))  # 15:50 UTC on 28 February
    give(world, "粤B12345", 3, key="k-00000001")
    _frozen.move_to(local(2026, 3, 1, 0, 20))  # still 28 February in UTC, March in Shanghai
    give(world, "沪A12345", 2, key="k-00000002")
    _frozen.move_to(NOW)
    login(client, "heytea-owner")
    march = client.get("/merchant/parking/?list=month").content.decode()
    assert re.search(r'data-testid="hours-granted">2 ', march) and "沪A·12345" in march and "粤B·12345" not in march
    february = client.get("/merchant/parking/?month=2026-02").content.decode()
    assert "Grants in 2026-02" in february and "粤B·12345" in february and "沪A·12345" not in february
    assert re.search(r'data-testid="hours-granted">3 ', february)
    assert 'data-testid="grant-form"' not in february and "New grants count in the current month." in february
    assert 'data-state="expired"' in february
    future = client.get("/merchant/parking/?month=2027-01").content.decode()
    assert "Grants in" not in future and 'data-testid="show-month"' in future  # a month not begun: the current one


def test_a_months_grants_export_as_csv(client, world):
    allow(world)
    give(world, "粤B12345", 2, key="k-00000001")
    grants.grant_create(
        merchant_id=world.merchant.pk, plate="沪A12345", hours=1, actor=ACTOR, key="k-00000002", note="=cmd"
    )
    login(client, "heytea-clerk")
    resp = client.get("/merchant/parking/export/?month=2026-03")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    assert 'filename="parking-grants-2026-03.csv"' in resp["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Granted at", "Licence plate", "Hours granted", "State"]
    assert [(r[1], r[2], r[3]) for r in rows[1:]] == [
        ("沪A·12345", "1", "Waiting for the car"),
        ("粤B·12345", "2", "Waiting for the car"),
    ]
    assert rows[1][-1] == "'=cmd"  # a note cannot run as a spreadsheet formula
    assert (
        len(
            list(
                csv.reader(
                    io.StringIO(client.get("/merchant/parking/export/?month=2026-01").content.decode("utf-8-sig"))
                )
            )
        )
        == 1
    )


def test_mall_staff_do_not_use_the_portal_page(client, world):
    login(client, "admin")
    assert client.get("/merchant/parking/").status_code == 403


# ---------------------------------------------------------------------------------------------------- console


def test_the_console_lists_every_merchants_month_and_its_grants(client, world):
    park = car_park(world)
    allow(world, monthly=10)
    allow(world, monthly=5, most=2, merchant=world.other_merchant)
    give(world, "粤B12345", 3, key="k-00000001")
    give(world, "沪A12345", 2, key="k-00000002", merchant=world.other_merchant)
    parking_services.event_entry(car_park=park, event_id="in-1", plate="粤B12345", at=local(2026, 3, 10, 12))
    parking_services.event_exit(car_park=park, event_id="out-1", plate="粤B12345", at=NOW)
    login(client, "finance")
    html = client.get("/console/parking/grants/").content.decode()
    assert html.count('data-testid="grant-merchant-row"') == 2 and html.count('data-testid="grant-row"') == 2
    assert re.search(r'data-testid="grants-billed">¥15.00<', html)  # 3 units, all taken by the grant
    assert 'data-testid="edit-allowance"' not in html  # finance reads, does not edit
    only = client.get(
        f"/console/parking/grants/?merchant={world.other_merchant.pk}&state=waiting&q=沪a·123"
    ).content.decode()
    assert only.count('data-testid="grant-row"') == 1 and "沪A·12345" in only
    export = client.get("/console/parking/grants/?export=csv&state=used").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(export)))
    assert rows[0][0] == "Merchant" and [(r[0], r[2], r[7]) for r in rows[1:]] == [("喜茶", "粤B·12345", "15.00")]
    assert client.get("/console/parking/grants/?month=2026-02").content.decode().count('data-testid="grant-row"') == 0


def test_an_admin_sets_a_merchants_allowance_with_errors_inline(client, world):
    login(client, "admin")
    page = client.get("/console/parking/grants/").content.decode()
    assert 'data-testid="grant-setup"' in page
    to_form = client.get(f"/console/parking/grants/?setup={world.merchant.pk}")
    assert (
        to_form.status_code == 302 and to_form["Location"] == f"/console/parking/grants/merchants/{world.merchant.pk}/"
    )
    bad = client.post(to_form["Location"], {"monthly_hours": "-1", "max_hours_per_grant": "30"})
    html = bad.content.decode()
    assert bad.status_code == 422 and html.count("errorlist") == 2 and not GrantAllowance.objects.exists()
    ok = client.post(to_form["Location"], {"monthly_hours": "60", "max_hours_per_grant": "4"})
    assert ok.status_code == 302 and ok["Location"] == f"/console/parking/grants/?merchant={world.merchant.pk}"
    allowance = GrantAllowance.objects.get(merchant=world.merchant)
    assert (allowance.monthly_hours, allowance.max_hours_per_grant, allowance.updated_by) == (60, 4, "admin")
    assert AuditEvent.objects.filter(action="parking.grant_allowance", target_id=str(world.merchant.pk)).count() == 1
    assert client.get(f"/console/parking/grants/merchants/{world.foreign_merchant.pk}/").status_code == 404
    client.logout()
    login(client, "service")
    assert client.get(to_form["Location"]).status_code == 403  # parking.view reads the list only
    assert client.get("/console/parking/grants/").status_code == 200


def test_a_manager_of_a_cinema_can_grant_too(client, world):
    cinema = Merchant.objects.create(mall=world.mall, name="星河影城", category="cinema")
    make_user("cinema-manager", Role.MERCHANT_MANAGER, group=world.group, merchant=cinema)
    allow(world, merchant=cinema)
    login(client, "cinema-manager")
    page = client.get("/merchant/parking/").content.decode()
    resp = client.post("/merchant/parking/", {"plate": "粤BD12345", "hours": "2", "key": form_key(page)})
    assert resp.status_code == 302
    assert ParkingGrant.objects.get().merchant_id == cinema.pk
    usage = grant_selectors.grant_usage(merchant_id=cinema.pk, month=dt.date(2026, 3, 1), tz_name="Asia/Shanghai")
    assert usage.hours_granted == 2
