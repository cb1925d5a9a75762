"""POS-signed endpoint of the online mall (docs/design/online-mall.md §9 "API"): a merchant's own system (its ERP,
its courier integration) posts the delivery timeline of its online orders. Signed exactly like the POS API
(`pos_auth`: the key's merchant must own the order — another merchant's order number is "not found"); every POST
carries an Idempotency-Key, and `external_id` makes one event count once even under different keys."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Schema
from pydantic import AwareDatetime, Field, StringConstraints

from galleria.commerce import services_orders
from galleria.commerce.types import ShipmentStatus

from .pos import ERRORS, _actor, _idempotent
from .pos_auth import PosContext, pos_auth
from .schemas import NO_NUL, PathText

router = Router(tags=["pos"], auth=pos_auth)

EVENT_STATUSES = [s for s in ShipmentStatus.values if s != ShipmentStatus.SHIPPED]


class ShipmentEventIn(Schema):
    status: Annotated[str, StringConstraints(max_length=20, pattern=NO_NUL)] = Field(
        description="in_transit | out_for_delivery | delivered | exception | note (delivered also delivers the order)"
    )
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)] = Field(
        description="Your id of the event: the same id again returns the first event"
    )
    at: AwareDatetime | None = Field(None, description="When it happened, with its UTC offset (default: now)")
    location: Annotated[str, StringConstraints(max_length=60, pattern=NO_NUL)] = ""
    text: Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)] = ""


class ShipmentEventOut(Schema):
    order: str
    order_state: str
    status: str
    at: str
    external_id: str
    created: bool


@router.post("/online-orders/{number}/events", response={201: ShipmentEventOut, 200: ShipmentEventOut, **ERRORS})
def online_order_event(request: HttpRequest, number: PathText, payload: ShipmentEventIn) -> HttpResponse:
    """Add an event to the timeline of one of your shipped online orders (`delivered` marks it delivered and
    starts its return window). Errors: `commerce.order_not_found`, `commerce.wrong_state` (not shipped),
    `commerce.event_invalid`."""
    ctx: PosContext = request.auth  # type: ignore[attr-defined]

    def operation() -> tuple[int, dict[str, Any]]:
        event, created = services_orders.order_event_post_in_tx(
            merchant_id=ctx.merchant.pk,
            number=number[:24],
            status=payload.status,
            at=payload.at or timezone.now(),
            external_id=payload.external_id,
            text=payload.text,
            location=payload.location,
            actor=_actor(ctx),
        )
        body = ShipmentEventOut(
            order=number[:24],
            order_state=event.order.state,
            status=event.status,
            at=event.at.isoformat(),
            external_id=event.external_id,
            created=created,
        )
        return (201 if created else 200), body.model_dump(mode="json")

    return _idempotent(request, ctx, operation)
