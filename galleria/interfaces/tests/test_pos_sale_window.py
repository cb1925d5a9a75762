"""The accepted window of a POS sale time, and daily caps that hold however sales are dated (docs/api.md,
"Sale times").

The exploit this closes: a POS key could date a sale any time in the past, and the daily points cap counted per
mall-local day of the sale time, so five ¥20,000 sales dated 300 days back each earned full points after the member
had hit today's cap.
"""

import datetime as dt

import pytest
import time_machine

from galleria.audit.types import Actor
from galleria.ledger.selectors import ledger_check
from galleria.malls.models import MallGroup
from galleria.members import services as member_services
from galleria.merchants.models import PosTerminal
from galleria.merchants.services import pos_key_create
from galleria.points.selectors import points_balance
from galleria.points.services import points_policy_save
from galleria.sales.models import Sale
from galleria.testing_pos import PosSigner, PosTestClient

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()
CAP = 1000
BIG = 2_000_000  # ¥20,000: 20,000 points at the default rate, far over the cap


@pytest.fixture
def pos(client, world):
    terminal = PosTerminal.objects.create(store=world.store, name="收银台1")
    key, secret = pos_key_create(actor=ACTOR, terminal_id=terminal.pk)
    return PosTestClient(client, PosSigner(key.key_id, secret))


@pytest.fixture
def member(world):
    return member_services.member_register(mall=world.mall, phone="13812345678", channel="desk", actor=ACTOR)


@pytest.fixture
def capped(world):
    points_policy_save(mall_group_id=world.group.pk, values={"daily_cap": CAP}, actor=ACTOR)


def now():
    return dt.datetime.now(dt.UTC)


def sale(pos_sale_id, *, amount=12800, member=None, at=None):
    body = {
        "pos_sale_id": pos_sale_id,
        "lines": [{"sku": "T1", "name": "tea", "quantity": 1, "unit_price_fen": amount, "amount_fen": amount}],
        "payments": [{"method": "wechat", "amount_fen": amount}],
    }
    if member:
        body["member"] = member
    if at is not None:
        body["occurred_at"] = at.isoformat()
    return body


def problem(resp, status, code):
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == code, body
    return body


def offline(pos, *sales):
    resp = pos.post("/api/v1/pos/sales/offline", {"sales": list(sales)})
    assert resp.status_code == 200, resp.content
    return resp.json()["results"]


class TestWindow:
    def test_a_live_sale_is_dated_within_minutes_of_now(self, pos):
        assert pos.post("/api/v1/pos/sales", sale("L1", at=now() - dt.timedelta(minutes=14))).status_code == 201
        body = problem(
            pos.post("/api/v1/pos/sales", sale("L2", at=now() - dt.timedelta(minutes=16))), 422, "sale.too_old"
        )
        assert "occurred_at" in body["errors"] and body["earliest"] and body["latest"]
        problem(pos.post("/api/v1/pos/sales", sale("L3", at=now() + dt.timedelta(minutes=16))), 422, "sale.future")
        assert pos.post("/api/v1/pos/sales", sale("L4", at=now() + dt.timedelta(minutes=14))).status_code == 201
        assert set(Sale.objects.values_list("pos_sale_id", flat=True)) == {"L1", "L4"}

    def test_an_offline_upload_reaches_seven_days_back(self, pos):
        results = offline(
            pos,
            sale("O1", at=now() - dt.timedelta(days=6, hours=23)),
            sale("O2", at=now() - dt.timedelta(days=7, minutes=1)),
            sale("O3", at=now() - dt.timedelta(days=300)),
            sale("O4", at=now() + dt.timedelta(minutes=16)),
        )
        assert [r["status"] for r in results] == ["created", "error", "error", "error"]
        assert [r["error"]["code"] for r in results[1:]] == ["sale.too_old", "sale.too_old", "sale.future"]
        assert list(Sale.objects.values_list("pos_sale_id", "is_offline")) == [("O1", True)]

    def test_the_window_is_configured_per_group_and_reaches_a_warm_key_cache(self, pos, world):
        assert pos.post("/api/v1/pos/sales", sale("G0")).status_code == 201  # the key and its group are now cached
        token = MallGroup.objects.get(pk=world.group.pk).config_token
        MallGroup.objects.filter(pk=world.group.pk).update(sale_live_window_minutes=60, sale_offline_window_days=30)
        assert MallGroup.objects.get(pk=world.group.pk).config_token != token  # the trigger moved the token
        assert pos.post("/api/v1/pos/sales", sale("G1", at=now() - dt.timedelta(minutes=45))).status_code == 201
        results = offline(
            pos, sale("G2", at=now() - dt.timedelta(days=20)), sale("G3", at=now() - dt.timedelta(days=31))
        )
        assert [r["status"] for r in results] == ["created", "error"]
        # other groups keep the defaults
        other = MallGroup.objects.get(pk=world.other_group.pk)
        assert (other.sale_live_window_minutes, other.sale_offline_window_days) == (15, 7)

    def test_an_unrelated_change_to_the_group_keeps_its_token(self, world):
        token = MallGroup.objects.get(pk=world.group.pk).config_token
        MallGroup.objects.filter(pk=world.group.pk).update(name="新名字", sale_offline_window_days=7)
        assert MallGroup.objects.get(pk=world.group.pk).config_token == token

    def test_refund_times_are_checked_too(self, pos):
        sold_at = now() - dt.timedelta(minutes=5)
        assert pos.post("/api/v1/pos/sales", sale("RF", at=sold_at)).status_code == 201
        path = "/api/v1/pos/sales/RF/refunds"

        def refund(ref, at):
            return pos.post(path, {"pos_refund_id": ref, "occurred_at": at.isoformat()})

        problem(refund("F1", sold_at - dt.timedelta(minutes=1)), 422, "refund.before_sale")
        problem(refund("F2", now() + dt.timedelta(minutes=16)), 422, "refund.future")
        problem(refund("F3", now() - dt.timedelta(days=8)), 422, "refund.too_old")
        assert refund("F4", now()).status_code == 201


class TestDailyCapHowEverSalesAreDated:
    def test_backdated_sales_earn_nothing_once_todays_cap_is_reached(self, pos, member, capped):
        """The reported exploit: today's cap reached, then five ¥20,000 sales dated in the past."""
        first = pos.post("/api/v1/pos/sales", sale("C0", amount=BIG, member=member.card_no))
        assert first.status_code == 201 and first.json()["points_earned"] == CAP
        # dated 300 days back: refused outright, live or offline
        problem(
            pos.post(
                "/api/v1/pos/sales", sale("C-old", amount=BIG, member=member.card_no, at=now() - dt.timedelta(days=300))
            ),
            422,
            "sale.too_old",
        )
        # dated back within the offline window: each counts against today's cap (the day of crediting) too
        results = offline(
            pos,
            *[
                sale(f"C{d}", amount=BIG, member=member.card_no, at=now() - dt.timedelta(days=d, hours=1))
                for d in range(1, 6)
            ],
            sale("C-300", amount=BIG, member=member.card_no, at=now() - dt.timedelta(days=300)),
        )
        assert [r["status"] for r in results] == ["created"] * 5 + ["error"]
        assert [r["sale"]["points_earned"] for r in results[:5]] == [0] * 5
        assert all(r["sale"]["explanation"]["capped_by"] == "daily_cap" for r in results[:5])
        assert points_balance(member_id=member.pk) == CAP
        assert ledger_check().ok

    def test_an_offline_upload_counts_against_the_cap_of_its_sale_day_and_of_today(self, pos, member, capped):
        # nothing credited today yet: a sale of two days ago earns up to the cap ...
        two_days_ago = now() - dt.timedelta(days=2)
        results = offline(
            pos,
            sale("U1", amount=60000, member=member.card_no, at=two_days_ago),  # 600
            sale("U2", amount=60000, member=member.card_no, at=two_days_ago),  # 400 left on that day
            sale("U3", amount=60000, member=member.card_no, at=now() - dt.timedelta(days=3)),  # today's cap: spent
        )
        assert [r["sale"]["points_earned"] for r in results] == [600, 400, 0]
        # ... and today has no cap left either: the credits of today count, whatever day they were for
        live = pos.post("/api/v1/pos/sales", sale("U4", amount=60000, member=member.card_no))
        assert live.status_code == 201 and live.json()["points_earned"] == 0
        quote = pos.post("/api/v1/pos/quote", sale("Q", amount=60000, member=member.card_no))
        assert quote.json()["points_to_earn"] == 0 and quote.json()["explanation"]["capped_by"] == "daily_cap"

    def test_the_cap_of_the_crediting_day_resets_at_mall_local_midnight(self, pos, member, capped):
        # 23:50 in Shanghai on Nov 22 (15:50 UTC), then 00:10 on Nov 23
        with time_machine.travel(dt.datetime(2026, 11, 22, 15, 50, tzinfo=dt.UTC), tick=False) as t:
            assert (
                pos.post("/api/v1/pos/sales", sale("M1", amount=BIG, member=member.card_no)).json()["points_earned"]
                == CAP
            )
            t.move_to(dt.datetime(2026, 11, 22, 15, 55, tzinfo=dt.UTC))
            results = offline(pos, sale("M2", amount=BIG, member=member.card_no, at=now() - dt.timedelta(days=1)))
            assert results[0]["sale"]["points_earned"] == 0  # Nov 21's cap is free, Nov 22's (today) is not
            t.move_to(dt.datetime(2026, 11, 22, 16, 10, tzinfo=dt.UTC))
            # Nov 23: today is free, and a sale dated Nov 22 (its day's cap spent by M1) still earns nothing
            results = offline(
                pos,
                sale("M3", amount=BIG, member=member.card_no, at=dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)),
                sale("M4", amount=BIG, member=member.card_no, at=dt.datetime(2026, 11, 21, 15, 0, tzinfo=dt.UTC)),
            )
            assert [r["sale"]["points_earned"] for r in results] == [0, CAP]
        assert points_balance(member_id=member.pk) == 2 * CAP
