"""Paying the cash part of an exchange at a payment gateway (WeChat Pay / Alipay) — docs/points-mall.md, "Paying
the cash part"; the same two steps as parking (galleria/parking/services_gateway.py).

- **Start** (`exchange_pay_start`): every check that needs no lock (`services.prepare`: open, on sale, tier,
  fulfilment, price confirmed) plus the member's limits and points balance as they are now, then a payments attempt
  of purpose `exchange` for the cash part. The attempt keeps the exchange (item, quantity, the price confirmed, how
  it is received, the address). Nothing is taken yet: no points, no stock.
- **Fulfilment** (`exchange_fulfil`, registered with payments in `CommerceConfig.ready()`; payments never imports
  commerce): payments calls it when the money has arrived, in the notification's durable transaction with the
  attempt row locked (lock order: the attempt, then the exchange's own order — services.py). The exchange is made
  exactly as with the wallet, the gateway's money as the sale's tender, key `gw:<out_trade_no>`. When it cannot be
  made any more — the item ran out, a limit was reached, the points are gone, the price changed — it raises, and
  payments refunds the whole amount at the gateway: the member is never charged for nothing. The attempt's state
  under its lock makes a redelivered notification, or a query racing it, make one order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError, NotFoundError
from galleria.payments.services import purpose_pay_start
from galleria.payments.types import Fulfilled, PaidAttempt, PaymentStarted, Purpose
from galleria.points.selectors import points_balance
from galleria.tiers.selectors import member_tier

from . import exceptions, rules, selectors
from .services import ExchangeIn, exchange_in_tx, prepare
from .types import Address, GatewayTender

KEY_PREFIX = "gw:"


def _order_data(data: ExchangeIn, at: dt.datetime) -> dict[str, object]:
    address = data.address
    return {
        "product_id": data.product_id,
        "quantity": data.quantity,
        "fulfilment": data.fulfilment,
        "unit_points": data.unit_points,
        "unit_fen": data.unit_fen,
        "address": [address.name, address.phone, address.address] if address else None,
        "quoted_at": at.isoformat(),
    }


def _exchange_of(paid: PaidAttempt) -> ExchangeIn:
    order: Mapping[str, object] = paid.order
    raw = order.get("address")
    address = Address(*(str(v) for v in raw)) if isinstance(raw, list) and len(raw) == 3 else None
    if paid.member_id is None:
        raise NotFoundError(_("No such member."), code="commerce.member_unknown")
    return ExchangeIn(
        member_id=paid.member_id,
        mall_group_id=paid.mall_group_id,
        product_id=int(str(order.get("product_id") or 0)),
        quantity=int(str(order.get("quantity") or 0)),
        fulfilment=str(order.get("fulfilment") or ""),
        unit_points=int(str(order.get("unit_points") or 0)),
        unit_fen=int(str(order.get("unit_fen") or 0)),
        address=address,
    )


def exchange_pay_start(
    data: ExchangeIn,
    *,
    provider: str,
    kind: str,
    key: str,
    actor: Actor,
    payer: str = "",
    client_ip: str = "",
    return_url: str = "",
    at: dt.datetime | None = None,
) -> PaymentStarted:
    """Start paying the cash part of an exchange at `provider`. The same key gives the same attempt (another item or
    quantity with it is payments' idempotency conflict). The order is made when the money arrives."""
    at = at or timeutil.now()
    prep = prepare(data, at=at)
    if prep.cash_fen <= 0:
        raise ConflictError(
            _("Nothing to pay by WeChat Pay or Alipay: points pay it all."), code="commerce.nothing_to_pay"
        )
    tier = member_tier(member_id=data.member_id, mall_group_id=data.mall_group_id)
    available = selectors.availability(
        product=prep.product, sku=prep.sku, member_id=data.member_id, member_rank=tier.rank, at=at, tz_name=prep.tz_name
    )
    if available.problem == "commerce.out_of_stock" or available.stock < data.quantity:
        raise exceptions.OutOfStockError()
    problem = rules.limit_problem(
        quantity=data.quantity,
        bought_total=available.bought_total,
        bought_today=available.bought_today,
        per_member=prep.product.per_member_limit,
        per_day=prep.product.per_day_limit,
    )
    if problem == "commerce.limit_reached":
        raise exceptions.LimitReachedError()
    if problem == "commerce.daily_limit_reached":
        raise exceptions.DailyLimitReachedError()
    balance = points_balance(member_id=data.member_id)
    if balance < prep.points:
        raise ConflictError(_("Not enough points."), code="points.insufficient", extra={"balance": balance})
    started = purpose_pay_start(
        purpose=Purpose.EXCHANGE,
        mall_group_id=data.mall_group_id,
        member_id=data.member_id,
        amount_fen=prep.cash_fen,
        order=_order_data(data, at),
        provider=provider,
        kind=kind,
        idempotency_key=key,
        description=f"{prep.product.title} ×{data.quantity}"[:120],
        payer=payer,
        client_ip=client_ip,
        return_url=return_url,
        match=("product_id", "quantity", "unit_points", "unit_fen", "fulfilment"),
    )
    audit_record(
        actor=actor,
        action="points_mall.pay_start",
        target_type="points_mall_item",
        target_id=prep.product.pk,
        target_label=prep.product.title,
        mall_group_id=data.mall_group_id,
        changes={
            "provider": provider,
            "amount_fen": prep.cash_fen,
            "points": prep.points,
            "quantity": data.quantity,
            "out_trade_no": started.out_trade_no,
        },
    )
    return started


def exchange_fulfil(paid: PaidAttempt) -> Fulfilled:
    """The gateway's money for an exchange arrived: make the order, or raise (payments refunds the money in full)."""
    data = _exchange_of(paid)
    moment = min(paid.paid_at, timeutil.now())
    order = exchange_in_tx(
        data,
        key=gateway_order_key(paid.out_trade_no),
        actor=Actor.system("points_mall:gateway"),
        at=moment,
        gateway=GatewayTender(method=paid.provider, amount_fen=paid.amount_fen, reference=paid.out_trade_no),
    )
    return Fulfilled(sale_id=order.sale_id)


def gateway_order_key(out_trade_no: str) -> str:
    """The idempotency key of the order a gateway payment makes."""
    return f"{KEY_PREFIX}{out_trade_no}"


__all__ = ["exchange_fulfil", "exchange_pay_start", "gateway_order_key"]
