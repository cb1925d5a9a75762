"""Real concurrency on PostgreSQL: threads with their own connections hitting the same member at once."""

import json

import pytest
from django.test import Client

from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.ledger.selectors import ledger_check
from galleria.merchants.models import PosTerminal
from galleria.merchants.services import pos_key_create
from galleria.points.selectors import points_balance
from galleria.sales import services
from galleria.sales.models import Sale
from galleria.testing import run_parallel
from galleria.testing_pos import PosSigner, PosTestClient

from .helpers import ACTOR, member, sale_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_sales_for_one_member_never_lose_an_update(world):
    m = member(world)

    def sell(i):
        return services.sale_commit(
            data=sale_in(world, member_id=m.pk, amounts=(1000 + i,), pos_id=f"C{i}"), actor=ACTOR
        ).points_earned

    earned = run_parallel(20, sell)
    assert sum(earned) == 20 * 10
    assert points_balance(member_id=m.pk) == 200
    assert Sale.objects.count() == 20
    assert ledger_check().ok


def test_concurrent_points_payments_exactly_the_affordable_ones_succeed(world):
    m = member(world)
    services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(100000,), pos_id="FUND"), actor=ACTOR)
    assert points_balance(member_id=m.pk) == 1000

    def spend(i):
        # each uses 300 points (¥3) on a ¥10 sale and pays the rest; the ¥7 paid earns 7 points
        data = sale_in(world, member_id=m.pk, amounts=(1000,), points=300, pos_id=f"S{i}")
        try:
            services.sale_commit(data=data, actor=ACTOR)
            return "ok"
        except ApplicationError as exc:
            return exc.code

    outcomes = run_parallel(10, spend)
    # 1000 points afford 3 payments of 300; the 7-point credits arrive only after each spend,
    # so whether a 4th fits depends on ordering: 1000 - 900 + 21 = 121 < 300, it never does.
    assert outcomes.count("ok") == 3
    assert set(outcomes) == {"ok", "points.insufficient"}
    assert points_balance(member_id=m.pk) == 1000 - 900 + 3 * 7
    assert ledger_check().ok


def test_fifty_concurrent_replays_of_one_idempotency_key_make_one_sale(world):
    m = member(world)
    terminal = PosTerminal.objects.create(store=world.store, name="T1")
    key, secret = pos_key_create(actor=Actor.system(), terminal_id=terminal.pk)
    body = {
        "pos_sale_id": "IDEM-1",
        "member": m.card_no,
        "lines": [{"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": 5000, "amount_fen": 5000}],
        "payments": [{"method": "card", "amount_fen": 5000}],
    }

    def post(i):
        client = PosTestClient(Client(), PosSigner(key.key_id, secret))
        resp = client.post("/api/v1/pos/sales", body, idempotency_key="same-key")
        return resp.status_code, resp.json()

    results = run_parallel(50, post)
    statuses = {status for status, _body in results}
    bodies = {repr(sorted(b.items())) for _status, b in results}
    assert statuses == {201}
    assert len(bodies) == 1
    assert Sale.objects.count() == 1
    assert points_balance(member_id=m.pk) == 50
    assert ledger_check().ok


def test_one_signed_request_sent_concurrently_many_times_makes_one_sale_and_refusals(world):
    """The same captured request (same nonce, same key) fired 12 times at once: the nonce rides in the sale's
    transaction, so exactly one runs and every other copy is refused as a replay — none is answered as a retry."""
    m = member(world)
    terminal = PosTerminal.objects.create(store=world.store, name="T1")
    key, secret = pos_key_create(actor=Actor.system(), terminal_id=terminal.pk)
    body = {
        "pos_sale_id": "NONCE-1",
        "member": m.card_no,
        "lines": [{"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": 5000, "amount_fen": 5000}],
        "payments": [{"method": "card", "amount_fen": 5000}],
    }
    headers = PosSigner(key.key_id, secret).headers(
        "POST", "/api/v1/pos/sales", json.dumps(body).encode(), nonce="one-captured-nonce", idempotency_key="k1"
    )

    def post(i):
        resp = Client().generic(
            "POST", "/api/v1/pos/sales", json.dumps(body).encode(), content_type="application/json", headers=headers
        )
        return resp.status_code, resp.json().get("code")

    results = run_parallel(12, post)
    assert sorted(results) == [(201, None)] + [(401, "auth.nonce_reused")] * 11
    assert Sale.objects.filter(pos_sale_id="NONCE-1").count() == 1
    assert points_balance(member_id=m.pk) == 50
    assert ledger_check().ok
