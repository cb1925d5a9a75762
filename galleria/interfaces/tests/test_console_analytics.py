"""Console → Sales overview: any query string gives a page (bad periods inline, unknown malls and merchants ignored),
never a 500; a mall filter narrows the figures; the foreign group's figures never show."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from galleria.analytics import services
from galleria.sales.services import sale_commit
from galleria.sales.tests.helpers import ACTOR, sale_in
from galleria.testing import PASSWORD

pytestmark = pytest.mark.django_db

URL = "console:analytics_sales"


def login(client, world, role: str) -> None:
    assert client.login(username=world.users[role].username, password=PASSWORD)


@pytest.mark.parametrize(
    "params",
    [
        {"period": "custom", "start": "garbage", "end": "2026-01-01"},
        {"period": "custom", "start": "2026-03-10", "end": "2026-03-01"},
        {"period": "custom", "start": "2000-01-01", "end": "2026-01-01"},
        {"period": "fortnight"},
        {"compare": "yesterday"},
        {"mall": "abc", "merchant": "999999999"},
        {"mall": "-1", "merchant": "x", "start": "2026-02-30"},
    ],
)
def test_bad_input_is_a_page_with_a_message(client, world, params):
    login(client, world, "finance")
    resp = client.get(reverse(URL), params)
    assert resp.status_code == 200
    if params.get("period") in ("custom", "fortnight"):
        assert b'data-testid="analytics-error"' in resp.content


def test_the_mall_filter_narrows_and_the_foreign_group_stays_out(client, world):
    sale_commit(data=sale_in(world, amounts=(12_300,), pos_id="C1"), actor=ACTOR)
    services.rollup_refresh(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
    login(client, world, "finance")
    resp = client.get(reverse(URL), {"period": "7d"})
    assert resp.context["overview"].totals.gross_fen == 12_300
    resp = client.get(reverse(URL), {"period": "7d", "mall": str(world.mall2.pk)})
    assert resp.context["overview"].totals.gross_fen == 0
    login(client, world, "foreign_admin")
    resp = client.get(reverse(URL), {"period": "7d"})
    assert resp.status_code == 200 and resp.context["overview"].totals.gross_fen == 0
