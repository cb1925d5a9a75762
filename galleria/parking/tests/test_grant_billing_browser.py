"""A merchant's parking grants on its statement, in a real browser: finance opens 喜茶's March statement, sees
"Parking granted to customers" netted in the payout and the leg behind it (date, masked plate, hours, amount); 喜茶's
owner sees the same in the merchant portal.

Screenshots: var/screenshots/settlement-parking-grants-*.png (the console's drill-down, the portal's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from galleria.settlement.tests.test_browser import sign_in

from .test_grant_billing import _march_at_heytea

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"settlement-parking-grants-{name}.png"), full_page=True)


def test_finance_and_the_merchant_see_the_parking_granted_and_its_legs(browser: Browser, live_server, world):
    _stay, _grant, s = _march_at_heytea(world)
    for username, landing, base in (
        ("finance", "/console/", "/console/settlement/"),
        ("heytea-owner", "/merchant/", "/merchant/settlement/"),
    ):
        page = sign_in(browser, live_server, username, landing)
        page.goto(f"{live_server.url}{base}{s.pk}/")
        expect(page.get_by_test_id("amount-parking_grants")).to_have_text("¥15.00")
        expect(page.get_by_test_id("amount-net")).to_have_text("¥77.00")  # ¥100 wallet − ¥15 parking − ¥8 commission
        page.get_by_test_id("drill-parking_grants").click()
        expect(page.get_by_test_id("leg-row")).to_have_count(1)
        expect(page.get_by_test_id("leg-plate")).to_have_text("沪A·****5")
        expect(page.get_by_test_id("leg-hours")).to_have_text("3")
        expect(page.get_by_test_id("legs-total")).to_contain_text("-¥15.00")
        shot(page, "console" if username == "finance" else "portal")
        page.context.close()
