"""The checkout's two forms of its writes (the apps' sql.py modules) write exactly the same rows.

On PostgreSQL the sale with its lines and payments, each ledger posting (with its legs, member balances and points
lot), a new member's tier row with its `join` change and the tier spend with its window sum are one statement each
(data-modifying CTEs); SQLite, the demo's database, runs the portable statements instead. The same scenario —
sales with lines, coupons, points, wallet and card payments, a tier upgrade, a back-dated sale, an anonymous sale,
"pay = join", a partial and two full refunds — runs twice on PostgreSQL from the same empty database at the same
frozen instant, once each way, and every row of every table must come out the same (ids included: the sequences
are reset in between, and both forms insert the same rows in the same order). Randomness (top-up references, coupon
codes, member secrets) is seeded for the run; only the configuration token, which a database trigger draws from
PostgreSQL's random(), is left out."""

from __future__ import annotations

import datetime as dt
import random
import secrets
import uuid
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks import task_backends

from galleria.core import configcache, sql
from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind
from galleria.ledger.selectors import ledger_check
from galleria.ledger.services import clear_caches
from galleria.malls.models import MallGroup
from galleria.points.models import BehaviourRule, EarnRule, PointsCampaign, PointsPolicy
from galleria.sales import services
from galleria.sales.types import LineIn, PaymentIn, RefundLineIn, SaleIn
from galleria.testing import build_world
from galleria.tiers.models import MemberTier, TierLevel
from galleria.wallet import services as wallet_services
from galleria.wallet.models import TopUpBonusRule

from .helpers import ACTOR, member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = dt.datetime(2026, 3, 10, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
# random at the database: a new token whenever configuration changes (core/config_triggers.py)
UNCOMPARED = {(MallGroup, "config_token")}
ONE_STATEMENT = {
    "sale": 'WITH s AS (INSERT INTO "sales_sale"',
    "posting": 'WITH t AS (INSERT INTO "ledger_transaction"',
    "tier spend": 'WITH ins AS (INSERT INTO "tiers_tierspend"',
    "tier row with its join change": 'WITH r AS (INSERT INTO "tiers_membertier"',
    "points drawn from the lots": 'WITH u AS (UPDATE "points_pointslot"',
    "hold placed with its account's held": 'WITH a AS (UPDATE "ledger_account" SET held = held +',
    "hold released with its account's held": 'WITH a AS (SELECT a.id FROM "ledger_account" a JOIN',
}


def line(sku: str, qty: int, unit: int, category: str = "") -> LineIn:
    return LineIn(
        sku=sku, name=sku.lower(), quantity=qty, unit_price_fen=unit, amount_fen=qty * unit, category=category
    )


def sale(world, pos_id: str, lines, payments, *, minutes_ago: int, **kwargs: Any) -> SaleIn:
    return SaleIn(
        merchant_id=world.merchant.pk,
        store_id=world.store.pk,
        terminal_id=None,
        pos_sale_id=pos_id,
        occurred_at=NOW - dt.timedelta(minutes=minutes_ago),
        lines=tuple(lines),
        payments=tuple(PaymentIn(method, amount) for method, amount in payments),
        **kwargs,
    )


def scenario() -> dict[str, Any]:
    """Configuration, a member with a wallet and a coupon, sales and refunds. Returns what the services answered."""
    world = build_world()
    PointsPolicy.objects.create(mall_group=world.group, excluded_categories=["gift_card"], daily_cap=5000)
    EarnRule.objects.create(
        mall_group=world.group,
        name="heytea x2",
        scope="merchant",
        merchant=world.merchant,
        earn_points=2,
        earn_unit_fen=100,
        funder="split",
        merchant_share_bp=3000,
    )
    PointsCampaign.objects.create(
        mall_group=world.group,
        name="会员日",
        multiplier_bp=15000,
        starts_on=NOW.date() - dt.timedelta(days=1),
        ends_on=NOW.date() + dt.timedelta(days=1),
    )
    BehaviourRule.objects.create(mall_group=world.group, event="first_purchase_at_merchant", points=50)
    for rank, (code, threshold, multiplier) in enumerate([("basic", 0, 10000), ("silver", 50000, 12000)]):
        TierLevel.objects.create(
            mall_group=world.group,
            code=code,
            name=code,
            rank=rank,
            threshold=threshold,
            points_multiplier_bp=multiplier,
            discount_bp=0,
        )
    TierLevel.objects.create(mall_group=world.group, code="gold", name="gold", rank=2, threshold=10**7)
    TopUpBonusRule.objects.create(mall_group=world.group, name="充300送10", min_amount_fen=30000, bonus_fen=1000)
    coupon_template = template(world)  # ¥30 off ¥200
    template(
        world, name="返券", kind="cash_off", value_fen=1000, threshold_fen=0, trigger="spend", trigger_spend_fen=50000
    )

    m = member(world)
    assert MemberTier.objects.get(member=m).level.code == "basic"
    coupon = claim(m, coupon_template, key="parity")
    intent = wallet_services.wallet_topup_start(mall_id=world.mall.pk, member_id=m.pk, amount_fen=30000)
    wallet_services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=30000)

    answers: dict[str, Any] = {}
    commit = lambda data: services.sale_commit(data=data, actor=ACTOR)  # noqa: E731
    # earns (one line excluded), the first-purchase bonus, tier spend below the next tier
    answers["s1"] = commit(
        sale(
            world,
            "S1",
            [line("TEA", 2, 15000), line("CARD", 1, 12000, "gift_card")],
            [("wechat", 42000)],
            minutes_ago=50,
            member_id=m.pk,
        )
    )
    # a pending online checkout holds some points (the sale below may spend only the rest)
    points_account = Account.objects.get(member=m, kind=AccountKind.MEMBER_POINTS).pk
    with transaction.atomic():
        ledger.hold_place_in_tx(account_id=points_account, key="chk:P1", amount=40, reason="checkout")
    # coupon, points, wallet (principal and bonus) and card; qualifies for silver
    answers["s2"] = commit(
        sale(
            world,
            "S2",
            [line("CUP", 3, 10000), line("CAKE", 2, 15000), line("STRAW", 1, 5000)],
            [("wallet", 30500), ("card", 30600)],
            minutes_ago=40,
            member_id=m.pk,
            points_to_use=900,  # of the 950 the first sale earned
            coupon_ids=(coupon.coupon_id,),
        )
    )
    # back-dated (offline, 13 months ago): outside the tier window
    with transaction.atomic():  # the checkout ends; an order's earned points held through its return window
        answers["released"] = ledger.hold_release_in_tx(key="chk:P1")
        ledger.hold_place_in_tx(account_id=points_account, key="earn:S2", amount=30, check_available=False)
        answers["reduced"] = ledger.hold_reduce_in_tx(key="earn:S2", by=7)
    answers["s3"] = commit(
        sale(
            world,
            "S3",
            [line("TEA", 1, 8000)],
            [("cash", 8000)],
            minutes_ago=60 * 24 * 400,
            member_id=m.pk,
            is_offline=True,
        )
    )
    answers["s4"] = commit(sale(world, "S4", [line("TEA", 1, 3000)], [("cash", 3000)], minutes_ago=30))  # anonymous
    answers["s5"] = commit(  # pay = join
        sale(world, "S5", [line("TEA", 1, 6000)], [("alipay", 6000)], minutes_ago=20, join_phone="13700001234")
    )
    refund = lambda pos_id, refund_id, lines: services.sale_refund(  # noqa: E731
        merchant_id=world.merchant.pk,
        pos_sale_id=pos_id,
        pos_refund_id=refund_id,
        lines=lines,
        occurred_at=NOW - dt.timedelta(minutes=5),
    )
    answers["r1"] = refund("S2", "R1", [RefundLineIn(line_no=1, quantity=1), RefundLineIn(line_no=3, quantity=1)])
    answers["r2"] = refund("S2", "R2", None)
    answers["r3"] = refund("S1", "R3", None)
    report = ledger_check()
    assert report.ok, report
    # the scenario is what it says: the upgrade, the wallet, the coupons and the shortfall-free refunds happened
    assert answers["s2"].tier_upgraded_to == "silver" and answers["s2"].discount_fen == 3000
    assert answers["s2"].coupons_issued and answers["s5"].member_joined
    assert Coupon.objects.filter(member=m).count() == 2
    return answers


def rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, by table, in primary-key order."""
    out = {}
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if (model, f.attname) not in UNCOMPARED]
        out[model._meta.db_table] = list(model._base_manager.order_by("pk").values_list(*fields))
    return out


def run(monkeypatch) -> tuple[dict[str, Any], dict[str, list[tuple[Any, ...]]], list[str]]:
    """The scenario from an empty database with reset sequences, at NOW, with seeded randomness."""
    call_command("flush", interactive=False, verbosity=0)  # TRUNCATE … RESTART IDENTITY
    clear_caches()
    configcache.clear()
    for backend in task_backends.all():  # built once per process, drawing an id: before the seeded draws
        assert backend.alias
    seeded = random.Random(20260310)
    monkeypatch.setattr(secrets, "token_hex", lambda n=32: seeded.randbytes(n).hex())
    monkeypatch.setattr(secrets, "token_bytes", lambda n=32: seeded.randbytes(n))
    monkeypatch.setattr(secrets, "choice", seeded.choice)
    monkeypatch.setattr(secrets, "randbelow", seeded.randrange)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=seeded.getrandbits(128), version=4))
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        answers = scenario()
    return answers, rows(), [q["sql"] for q in queries.captured_queries]


def test_one_statement_and_portable_writes_store_the_same_rows(monkeypatch):
    monkeypatch.setattr(sql, "PREPARE", False)  # the statements' own text in the captured queries
    assert sql.one_statement_writes()
    native_answers, native_rows, native_sql = run(monkeypatch)
    with sql.portable_writes_for_tests():
        assert not sql.one_statement_writes()
        portable_answers, portable_rows, portable_sql = run(monkeypatch)
    assert sql.one_statement_writes()

    # the two runs really took different statements
    for what, prefix in ONE_STATEMENT.items():
        assert any(q.startswith(prefix) for q in native_sql), f"the native run wrote no one-statement {what}"
        assert not any(q.startswith(prefix) for q in portable_sql), f"the portable run wrote a one-statement {what}"
    assert len(portable_sql) > len(native_sql)

    assert portable_answers == native_answers
    assert portable_rows.keys() == native_rows.keys()
    differ = {table for table in native_rows if portable_rows[table] != native_rows[table]}
    assert not differ, {table: (native_rows[table], portable_rows[table]) for table in sorted(differ)}
    # and the comparison covered the checkout's rows
    for table in [
        "sales_sale",
        "sales_saleline",
        "sales_salepayment",
        "sales_refund",
        "ledger_transaction",
        "ledger_entry",
        "ledger_account",
        "points_pointslot",
        "points_lotmovement",
        "tiers_tierspend",
        "tiers_tierchange",
        "wallet_walletpayment",
        "coupons_couponredemption",
    ]:
        assert native_rows[table], f"{table} is empty: the scenario does not cover it"
