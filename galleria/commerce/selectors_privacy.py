"""Commerce's part of a member's data export (PIPL right of access, docs/privacy.md "Data export").

Registered in settings.GALLERIA_EXPORT_SECTIONS: privacy sits below commerce in the layering and cannot import it,
so it calls `member_export_sections` by its dotted path. The contract of every such function: keyword-only
`member_id` and `mall_group_id`, returns {section name: [JSON-ready rows]} (times ISO 8601, money in fen as ints),
reads only this member's rows (a bounded number of queries, whatever the member's history), and leaves out what
is not the member's to see. Left out here: pickup codes (a one-time credential: whoever holds it collects the
gift; the export says whether and when it was collected), idempotency keys, gateway references, staff names,
stored picture names (a review's or a request's photos are counted), the per-product lock rows (MemberQuota:
no data of their own)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch

from .models import CartItem, Checkout, Order, OrderLine, ReturnLine, ReturnRequest, Review, ShipmentEvent
from .types import ShopChannel


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _order_row(o: Order) -> dict[str, Any]:
    return {
        "number": o.number,
        "merchant": o.merchant.name,
        "state": o.state,
        "fulfilment": o.fulfilment,
        "placed_at": _iso(o.created_at),
        "paid_at": _iso(o.paid_at),
        "checkout": o.checkout.number if o.checkout else None,
        "goods_fen": o.goods_fen,
        "discount_fen": o.discount_fen,
        "points": o.total_points,
        "points_value_fen": o.points_value_fen,
        "cash_fen": o.cash_fen,
        "wallet_fen": o.wallet_fen,
        "gateway_fen": o.gateway_fen,
        "pay_method": o.pay_method,
        "points_earned": o.points_earned,
        "refunded_fen": o.refunded_fen,
        "points_returned": o.points_returned,
        "ready_at": _iso(o.ready_at),
        "picked_up_at": _iso(o.picked_up_at),
        "ship_name": o.ship_name,
        "ship_phone": o.ship_phone,
        "ship_address": o.ship_address,
        "carrier": o.carrier,
        "tracking_no": o.tracking_no,
        "shipped_at": _iso(o.shipped_at),
        "delivered_at": _iso(o.delivered_at),
        "return_until": _iso(o.return_until),
        "completed_at": _iso(o.completed_at),
        "cancelled_at": _iso(o.cancelled_at),
        "cancel_reason": o.cancel_reason,
        "lines": [
            {
                "title": ln.title,
                "option": ln.sku_label,
                "quantity": ln.quantity,
                "unit_points": ln.unit_points,
                "unit_fen": ln.unit_fen,
                "amount_fen": ln.amount_fen,
                "discount_fen": ln.discount_fen,
                "refunded_quantity": ln.refunded_qty,
            }
            for ln in o.lines.all()
        ],
        "shipment_events": [
            {"at": _iso(ev.at), "status": ev.status, "place": ev.location, "details": ev.text}
            for ev in o.shipment_events.all()
        ],
    }


def member_export_sections(*, member_id: int, mall_group_id: int) -> dict[str, list[dict[str, Any]]]:
    """The member's points-mall and online-mall orders (with lines and delivery steps), cart, checkouts,
    after-sales requests and reviews. About ten queries, whatever the member's history."""
    orders = (
        Order.objects.filter(member_id=member_id, mall_group_id=mall_group_id)
        .select_related("merchant", "checkout")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("line_no", "pk")),
            Prefetch("shipment_events", queryset=ShipmentEvent.objects.order_by("at", "pk")),
        )
        .order_by("created_at", "pk")
    )
    points_mall: list[dict[str, Any]] = []
    online: list[dict[str, Any]] = []
    for o in orders:
        (points_mall if o.shop == ShopChannel.POINTS_MALL else online).append(_order_row(o))
    cart = [
        {
            "product": item.sku.product.title,
            "option": ", ".join(str(v) for v in (item.sku.options or {}).values()) or item.sku.name,
            "quantity": item.quantity,
            "added_at": _iso(item.created_at),
            "updated_at": _iso(item.updated_at),
        }
        for item in CartItem.objects.filter(member_id=member_id)
        .select_related("sku__product")
        .order_by("created_at", "pk")
    ]
    checkouts = [
        {
            "number": c.number,
            "state": c.state,
            "placed_at": _iso(c.placed_at),
            "pay_by": _iso(c.expires_at),
            "paid_at": _iso(c.paid_at),
            "cancelled_at": _iso(c.cancelled_at),
            "cancel_reason": c.cancel_reason,
            "goods_fen": c.goods_fen,
            "discount_fen": c.discount_fen,
            "points": c.points,
            "points_value_fen": c.points_value_fen,
            "wallet_fen": c.wallet_fen,
            "gateway_fen": c.gateway_fen,
            "pay_method": c.pay_method,
            "ship_name": c.ship_name,
            "ship_phone": c.ship_phone,
            "ship_address": c.ship_address,
        }
        for c in Checkout.objects.filter(member_id=member_id, mall_group_id=mall_group_id).order_by("placed_at", "pk")
    ]
    returns = [
        {
            "number": r.number,
            "order": r.order.number,
            "merchant": r.merchant.name,
            "kind": r.kind,
            "state": r.state,
            "reason": r.reason,
            "photo_count": len(r.photos or []),
            "requested_at": _iso(r.created_at),
            "respond_by": _iso(r.respond_by),
            "return_tracking_no": r.member_tracking_no,
            "decision_note": r.decision_note,
            "escalated_at": _iso(r.escalated_at),
            "money_fen": r.money_fen,
            "points_returned": r.points_returned,
            "lines": [{"title": ln.order_line.title, "quantity": ln.quantity} for ln in r.lines.all()],
        }
        for r in ReturnRequest.objects.filter(member_id=member_id)
        .select_related("order", "merchant")
        .prefetch_related(Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line").order_by("pk")))
        .order_by("created_at", "pk")
    ]
    reviews = [
        {
            "product": rv.product.title,
            "merchant": rv.merchant.name,
            "order": rv.order_line.order.number,
            "rating": rv.rating,
            "text": rv.text,
            "photo_count": len(rv.photos or []),
            "anonymous": rv.is_anonymous,
            "status": rv.status,
            "merchant_reply": rv.merchant_reply,
            "replied_at": _iso(rv.replied_at),
            "written_at": _iso(rv.created_at),
        }
        for rv in Review.objects.filter(member_id=member_id)
        .select_related("product", "merchant", "order_line__order")
        .order_by("created_at", "pk")
    ]
    return {
        "points_mall_orders": points_mall,
        "online_orders": online,
        "online_cart": cart,
        "online_checkouts": checkouts,
        "after_sales_requests": returns,
        "product_reviews": reviews,
    }
