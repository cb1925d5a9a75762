"""Pinned query budgets of the hot POS endpoints: a change that adds queries to the checkout path fails here."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from galleria.audit.types import Actor
from galleria.members import services as member_services
from galleria.merchants.models import PosTerminal
from galleria.merchants.services import pos_key_create
from galleria.testing_pos import PosSigner, PosTestClient
from galleria.tiers.services import tier_ladder_ensure_default

pytestmark = pytest.mark.django_db

SALE_BUDGET = 10  # BEGIN and COMMIT (savepoint here) included; the nonce rides with the idempotency record,
# the points lot with the posting, the tier spend with the upgrade check's window sum
SALE_BUDGET_SQLITE = 18  # the embedded default runs the plain statements (no data-modifying CTEs in SQLite)
QUOTE_BUDGET = 6  # with the member's coupons
LOOKUP_BUDGET = 5


@pytest.fixture
def pos(client, world):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    terminal = PosTerminal.objects.create(store=world.store, name="T")
    key, secret = pos_key_create(actor=Actor.system(), terminal_id=terminal.pk)
    member = member_services.member_register(mall=world.mall, phone="13812345678", channel="desk", actor=Actor.system())
    client = PosTestClient(client, PosSigner(key.key_id, secret))
    # warm: the member's accounts, tier row and first purchase at this merchant exist, as for a regular shopper
    client.post("/api/v1/pos/sales", body("WARM", member.card_no))
    # a second sale: the system accounts the first one created are remembered once their transaction commits,
    # which the test's enclosing transaction never does, so look them up once more here
    client.post("/api/v1/pos/sales", body("WARM-2", member.card_no))
    # and this connection has prepared the fixed statements (PostgreSQL: once per connection, core/sql.py)
    client.post("/api/v1/pos/quote", body("WARM-Q", member.card_no))
    client.get(f"/api/v1/pos/members/lookup?code={member.card_no}")
    return client, member


def body(pos_sale_id, card):
    return {
        "pos_sale_id": pos_sale_id,
        "member": card,
        "lines": [
            {"sku": "A", "name": "a", "quantity": 1, "unit_price_fen": 3800, "amount_fen": 3800},
            {"sku": "B", "name": "b", "quantity": 2, "unit_price_fen": 1900, "amount_fen": 3800},
        ],
        "payments": [{"method": "wechat", "amount_fen": 7600}],
    }


def count(fn):
    with CaptureQueriesContext(connection) as ctx:
        resp = fn()
    assert resp.status_code < 300, resp.content
    return len(ctx.captured_queries), [q["sql"][:120] for q in ctx.captured_queries]


def test_sale_commit_query_budget(pos):
    client, member = pos
    n, sql = count(lambda: client.post("/api/v1/pos/sales", body("S1", member.card_no)))
    assert n <= (SALE_BUDGET if connection.vendor == "postgresql" else SALE_BUDGET_SQLITE), "\n".join(sql)


def test_quote_query_budget(pos):
    client, member = pos
    n, sql = count(lambda: client.post("/api/v1/pos/quote", body("Q1", member.card_no)))
    assert n <= QUOTE_BUDGET, "\n".join(sql)


def test_lookup_query_budget(pos):
    client, member = pos
    n, sql = count(lambda: client.get(f"/api/v1/pos/members/lookup?code={member.card_no}"))
    assert n <= LOOKUP_BUDGET, "\n".join(sql)


FIRST_SALE_BUDGET = 12  # a registered member's first sale: + the accounts and the tier row (with its change), one
# statement each (INSERT … ON CONFLICT DO NOTHING), after the two locks that found nothing
JOIN_SALE_BUDGET = 16  # pay = join: + the member, both identifiers in one statement, the consent, the audit record
# and the `member.joined` handlers' task rows in one INSERT; the accounts and tier row are created without a look;
# and the webhooks outbox's one read of the endpoints subscribed to `member.joined` (docs/api.md, "Webhooks")
FIRST_SALE_BUDGET_SQLITE = 21
JOIN_SALE_BUDGET_SQLITE = 25


@pytest.fixture
def production_tasks(settings):
    """The database task backend, as in production: a published event writes its handlers' task rows (the test
    settings' immediate backend would run the handlers inside the request and count their queries)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_first_sale_of_a_registered_member_query_budget(pos, world, production_tasks):
    client, _member = pos
    newcomer = member_services.member_register(
        mall=world.mall, phone="13812340000", channel="desk", actor=Actor.system()
    )
    n, sql = count(lambda: client.post("/api/v1/pos/sales", body("F1", newcomer.card_no)))
    budget = FIRST_SALE_BUDGET if connection.vendor == "postgresql" else FIRST_SALE_BUDGET_SQLITE
    assert n <= budget, "\n".join(sql)


def test_pay_equals_join_sale_query_budget(pos, production_tasks):
    client, _member = pos
    payload = {**body("J1", None), "join_phone": "13812349999"}
    del payload["member"]
    n, sql = count(lambda: client.post("/api/v1/pos/sales", payload))
    budget = JOIN_SALE_BUDGET if connection.vendor == "postgresql" else JOIN_SALE_BUDGET_SQLITE
    assert n <= budget, "\n".join(sql)
