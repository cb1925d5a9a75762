"""Access matrix entries of events (merged into tests/access_matrix.MATRIX): the member app's events, an event and
registering, tickets, cancelling and confirming, posters; the console's events, editor, registrations, the check-in
desk, attendance and the no-show rule.

The evidence event starts in an hour with a 24-hour cancellation rule, so the member's cancel POST is refused and
changes nothing; the console's cancel names a registration that is already cancelled (returned unchanged). Another
member asking for the member's ticket gets the tickets list, as for an unknown id."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from .access_matrix import NOT_ALLOWED, NOT_FOUND, ROOT, Entry, action, app, console, page, public, r, redirect
from .evidence_world import EvidenceWorld

GET_ONLY = public(NOT_ALLOWED)
VIEWERS = {"admin", "marketing", "service", "finance", "viewer", ROOT}  # events.view
MANAGERS = {"admin", "marketing", ROOT}  # events.manage
DESK = {"admin", "service", ROOT}  # events.check_in
TICKETS = "/app/events/tickets/"


def _event(ew: EvidenceWorld) -> Any:
    from django.utils import timezone

    from galleria.events.models import Event

    start = timezone.now() + dt.timedelta(hours=1)
    event, _created = Event.objects.get_or_create(
        mall_group=ew.world.group,
        title="证据烘焙课",
        defaults={
            "mall": ew.world.mall,
            "place": "L3 中庭",
            "starts_at": start,
            "ends_at": start + dt.timedelta(hours=2),
            "capacity": 10,
            "seats_taken": 1,
            "queue_seq": 2,
            "status": "published",
            "cancel_hours_before": 24,
        },
    )
    return event


def event_id(ew: EvidenceWorld) -> int:
    return int(_event(ew).pk)


def ticket_id(ew: EvidenceWorld) -> int:
    from galleria.events.models import Registration

    event = _event(ew)
    reg, _created = Registration.objects.get_or_create(
        event=event,
        member=ew.member,
        idempotency_key="evidence-ticket",
        defaults={"mall_group": ew.world.group, "state": "confirmed", "queue_no": 1, "code": "30260101"},
    )
    return int(reg.pk)


def cancelled_id(ew: EvidenceWorld) -> int:
    from galleria.events.models import Registration

    event = _event(ew)
    reg, _created = Registration.objects.get_or_create(
        event=event,
        member=ew.other_member,
        idempotency_key="evidence-cancelled",
        defaults={"mall_group": ew.world.group, "state": "cancelled", "queue_no": 2, "code": "30260102"},
    )
    return int(reg.pk)


def _poster_url(ew: EvidenceWorld) -> str:
    from django.urls import reverse
    from PIL import Image

    from galleria.audit.types import Actor
    from galleria.events import services

    event = _event(ew)
    if not event.poster_sha:
        out = io.BytesIO()
        Image.new("RGB", (64, 64), (138, 28, 63)).save(out, format="PNG")
        event = services.event_poster_set(
            mall_group_id=ew.world.group.pk, event_id=event.pk, data=out.getvalue(), actor=Actor.system("evidence")
        )
    return reverse("app:event_poster", args=[event.pk, event.poster_sha])


def _pay_key(ew: EvidenceWorld) -> str:
    """A WeChat Pay payment of the member's ticket that arrived after the seat was gone: refunded (no gateway is
    asked)."""
    from django.utils import timezone

    from galleria.payments.models import PaymentAttempt, PaymentCredential

    key = f"ev{ticket_id(ew)}-wechat-h5"
    if not PaymentAttempt.objects.filter(idempotency_key=key).exists():
        credential, _created = PaymentCredential.objects.get_or_create(
            mall_group=ew.world.group, provider="wechat", defaults={"base_url": "http://127.0.0.1:9", "app_id": "wx0"}
        )
        PaymentAttempt.objects.create(
            mall_group=ew.world.group,
            credential=credential,
            provider="wechat",
            purpose="event",
            out_trade_no="PEVIDENCEEV00000000001",
            amount_fen=3900,
            state="paid",
            fulfilment="refunded",
            failure="events.payment_not_open",
            pay_kind="h5",
            member=ew.member,
            order={"registration_id": ticket_id(ew), "seats": 1, "unit_fen": 3900},
            idempotency_key=key,
            paid_fen=3900,
            refunded_fen=3900,
            paid_at=timezone.now(),
            expires_at=timezone.now(),
        )
    return key


MATRIX_EVENTS: dict[str, Entry] = {
    # member app
    "app:events": page(app(), post=GET_ONLY)(r("app:events")),
    "app:event": page(app(), note="POST without a key: 422, nothing registered")(r("app:event", event_id)),
    "app:event_tickets": page(app(), post=GET_ONLY)(r("app:event_tickets")),
    "app:event_ticket": page(app(other_member=redirect(TICKETS)), post=GET_ONLY)(r("app:event_ticket", ticket_id)),
    "app:event_ticket_cancel": action(
        app(other_member=redirect(TICKETS)), note="starts within the cancellation deadline: refused, nothing changes"
    )(r("app:event_ticket_cancel", ticket_id)),
    "app:event_ticket_confirm": action(
        app(other_member=redirect(TICKETS)), note="already confirmed: returned unchanged"
    )(r("app:event_ticket_confirm", ticket_id)),
    "app:event_ticket_pay": action(
        app(other_member=redirect(TICKETS)), note="a free event's confirmed ticket: nothing to pay, unchanged"
    )(r("app:event_ticket_pay", ticket_id)),
    "app:event_payment": page(app(other_member=redirect(TICKETS)), post=GET_ONLY)(r("app:event_payment", _pay_key)),
    "app:event_payment_state": page(app(other_member=NOT_FOUND), post=GET_ONLY)(r("app:event_payment_state", _pay_key)),
    "app:event_poster": page(public(), post=GET_ONLY, note="posters of published events are public, by hash")(
        _poster_url
    ),
    # console
    "console:events": page(console(VIEWERS))(r("console:events")),
    "console:event_new": page(console(MANAGERS), note="POST without data: 422")(r("console:event_new")),
    "console:event": page(console(VIEWERS, scoped=True))(r("console:event", event_id)),
    "console:event_edit": page(console(MANAGERS, scoped=True), note="POST without data: 422")(
        r("console:event_edit", event_id)
    ),
    "console:event_questions": action(console(MANAGERS, scoped=True), note="without data: 422, nothing added")(
        r("console:event_questions", event_id)
    ),
    "console:event_question_delete": action(
        console(MANAGERS, scoped=True), note="an unknown question: an error message, nothing changes"
    )(r("console:event_question_delete", event_id, lambda ew: 999_999)),
    "console:event_registration_cancel": action(
        console(MANAGERS, scoped=True), note="an already cancelled registration: unchanged"
    )(r("console:event_registration_cancel", event_id, cancelled_id)),
    "console:events_check_in": page(console(DESK), note="POST without a code: the empty desk screen")(
        r("console:events_check_in")
    ),
    "console:events_attendance": page(console(VIEWERS))(r("console:events_attendance")),
    "console:events_policy": action(console(MANAGERS), note="without data: 422")(r("console:events_policy")),
}
