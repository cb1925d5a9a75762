"""Stock races on PostgreSQL with real threads (each its own connection, released together by a barrier): staff
counts never lose an update and never take `on_hand` below what concurrent allocations promised (docs/design/
online-mall.md §12, "a staff count vs an allocation"). The allocation here is the conditional UPDATE of §4 written
out (the checkout's own statement arrives with build step O1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction

from galleria.commerce import services_catalog as catalog
from galleria.commerce.models import Sku, SkuStock
from galleria.core.errors import ApplicationError
from galleria.testing import run_parallel

from .catalog_helpers import open_online_mall, product
from .helpers import ACTOR

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def _outcome(fn: Any) -> str:
    try:
        fn()
    except ApplicationError as exc:
        return exc.code
    return "ok"


def _allocate(stock_id: int, quantity: int) -> str:
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE commerce_skustock SET allocated = allocated + %s WHERE id = %s AND on_hand - allocated >= %s",
            [quantity, stock_id, quantity],
        )
        return "ok" if cursor.rowcount == 1 else "commerce.out_of_stock"


@pytest.fixture
def stock(world) -> tuple[Any, dict[str, Any]]:
    open_online_mall(world)
    sku = Sku.objects.filter(product=product(world, publish=False)).order_by("pk").first()
    assert sku is not None
    args = {
        "mall_group_id": world.group.pk,
        "merchant_id": world.merchant.pk,
        "sku_id": sku.pk,
        "store_id": world.store.pk,
        "actor": ACTOR,
    }
    row = catalog.sku_stock_set(on_hand=10, reason="到货", **args)
    return row, args


def test_concurrent_receipts_all_count(stock):
    row, args = stock
    outcomes = run_parallel(
        THREADS, lambda i: _outcome(lambda: catalog.sku_stock_adjust(delta=1, reason="到货", **args))
    )
    assert outcomes == ["ok"] * THREADS
    assert SkuStock.objects.get(pk=row.pk).on_hand == 10 + THREADS


def test_write_offs_racing_allocations_never_go_below_what_is_promised(stock):
    row, args = stock

    def work(i: int) -> tuple[str, str]:
        if i % 2:
            return "allocate", _allocate(row.pk, 1)
        return "write_off", _outcome(lambda: catalog.sku_stock_adjust(delta=-1, reason="破损", **args))

    outcomes = run_parallel(THREADS, work)
    allocated = sum(1 for kind, out in outcomes if kind == "allocate" and out == "ok")
    written_off = sum(1 for kind, out in outcomes if kind == "write_off" and out == "ok")
    final = SkuStock.objects.get(pk=row.pk)
    assert (final.on_hand, final.allocated) == (10 - written_off, allocated)
    assert allocated + written_off == 10  # 20 requests for 10 units: exactly 10 succeed, whatever the order
    refused = {out for _kind, out in outcomes if out != "ok"}
    assert refused <= {"commerce.stock_invalid", "commerce.out_of_stock"}


def test_the_first_count_of_a_store_creates_one_row(stock):
    _row, args = stock
    from galleria.merchants.models import Store

    second = Store.objects.create(merchant_id=args["merchant_id"], name="喜茶 二店", floor="L3", unit_no="L3-01")
    outcomes = run_parallel(
        8,
        lambda i: _outcome(lambda: catalog.sku_stock_set(**(args | {"store_id": second.pk}), on_hand=i, reason="盘点")),
    )
    assert outcomes == ["ok"] * 8
    assert SkuStock.objects.filter(sku_id=args["sku_id"], store=second).count() == 1
