"""Sale commit and refund: the use cases over the checkout pipeline (galleria/sales/checkout).

One transaction writes the sale, its lines and payments and every ledger movement; `sale_commit_in_tx` and
`sale_refund_in_tx` are the pipeline's entries under the names every caller (the POS API, imports, the demo, the
tests) uses, `sale_commit` / `sale_refund` the durable use cases.

Refund formula (documented in docs/api.md): for each refunded line, the fraction f = refunded quantity so far /
quantity. The line's cumulative refunded amount, money, points earned to reverse and points spent to give back
are round-half-up(line value × f); each refund takes the cumulative due minus what earlier refunds took. A full
refund therefore reverses exactly what the sale earned and spent, whatever partial refunds came before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction

from galleria.audit.types import Actor
from galleria.merchants.models import Merchant, Store

from .checkout.cart import checkout_cart_in_tx
from .checkout.refund import refund_in_tx
from .checkout.sale import checkout_sale_in_tx
from .types import CartIn, CartResult, RefundLineIn, RefundResult, SaleIn, SaleResult

__all__ = [
    "CartResult",
    "RefundResult",
    "SaleResult",
    "cart_commit_in_tx",
    "sale_commit",
    "sale_commit_in_tx",
    "sale_refund",
    "sale_refund_in_tx",
]


def sale_commit_in_tx(
    *, data: SaleIn, actor: Actor, merchant: Merchant | None = None, store: Store | None = None
) -> SaleResult:
    """`merchant` and `store` may be passed already loaded (with mall and group, and a current config token),
    as the POS API has them from the terminal's key; otherwise they are read."""
    return checkout_sale_in_tx(data=data, actor=actor, merchant=merchant, store=store)


def cart_commit_in_tx(*, data: CartIn, actor: Actor) -> CartResult:
    """An online cart of several shops (docs/design/online-mall.md §5.3): one sale per sub-order, all in the
    caller's transaction (the checkout's placement or its payment's notification)."""
    return checkout_cart_in_tx(data=data, actor=actor)


def sale_commit(*, data: SaleIn, actor: Actor) -> SaleResult:
    with transaction.atomic(durable=True):
        return checkout_sale_in_tx(data=data, actor=actor)


def sale_refund_in_tx(
    *,
    merchant_id: int,
    pos_sale_id: str,
    pos_refund_id: str,
    lines: Sequence[RefundLineIn] | None,
    occurred_at: dt.datetime | None = None,
    client_dated: bool = False,
) -> RefundResult:
    """Refund a whole sale (`lines=None`) or some quantities of some lines."""
    return refund_in_tx(
        merchant_id=merchant_id,
        pos_sale_id=pos_sale_id,
        pos_refund_id=pos_refund_id,
        lines=lines,
        occurred_at=occurred_at,
        client_dated=client_dated,
    )


def sale_refund(
    *,
    merchant_id: int,
    pos_sale_id: str,
    pos_refund_id: str,
    lines: Sequence[RefundLineIn] | None,
    occurred_at: dt.datetime | None = None,
    client_dated: bool = False,
) -> RefundResult:
    with transaction.atomic(durable=True):
        return refund_in_tx(
            merchant_id=merchant_id,
            pos_sale_id=pos_sale_id,
            pos_refund_id=pos_refund_id,
            lines=lines,
            occurred_at=occurred_at,
            client_dated=client_dated,
        )
