"""Webhooks writes (docs/api.md, "Webhooks"): endpoints (the secret generated once and shown once, stored sealed),
the outbox hook that records an event in the transaction of the change, the delivery worker, replay and the
automatic disabling of a dead endpoint.

Outbox: `galleria.core.events.publish` calls `outbox_record` synchronously, in the publisher's transaction (settings
GALLERIA_EVENT_OUTBOXES), not through a task: the event and its deliveries commit or roll back with the change, so a
crash can neither lose a committed event nor deliver one whose change rolled back.

Delivery (at least once): `deliveries_run` claims due deliveries in a short transaction (SKIP LOCKED, a lease of two
minutes), sends them with no transaction open, and records each answer in another. A worker killed between sending and
recording leaves the lease to expire: the delivery is sent again — the receiver sees the same event id twice (the
documented at-least-once duplicate). A member's deliveries to one endpoint go in order: a delivery waits while an
earlier one of the same member and endpoint is pending (not delivered and not given up).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.locking import lock_one, lock_rows

from . import exceptions, rules, secrets, sql
from .models import Delivery, DeliveryAttempt, Endpoint, WebhookEvent
from .types import CreatedEndpoint, DeliveryStatus, RunResult

USER_AGENT = "Galleria-Webhooks/1"


# --- endpoints ------------------------------------------------------------------------------------------------------


def _allow_http() -> bool:
    return bool(settings.GALLERIA_WEBHOOKS_ALLOW_HTTP or settings.DEBUG)


def _check(*, url: str, event_types: list[str]) -> list[str]:
    problems: dict[str, str] = {}
    message = rules.url_problem(url, allow_http=_allow_http())
    if message is not None:
        problems["url"] = str(message)
    if len(url) > 500:
        problems["url"] = _("The URL is too long (500 characters at most).")
    chosen = [t for t in event_types if t in rules.EVENT_TYPES]
    if not chosen or len(chosen) != len(set(event_types)):
        problems["event_types"] = _("Choose at least one event type from the list.")
    if problems:
        raise exceptions.EndpointInvalidError(_("Check the highlighted fields."), fields=problems)
    return sorted(set(chosen))


def endpoint_create(
    *, mall_group_id: int, url: str, description: str, event_types: list[str], actor: Actor
) -> CreatedEndpoint:
    chosen = _check(url=url, event_types=event_types)
    secret = rules.new_secret()
    with transaction.atomic(durable=True):
        endpoint = Endpoint.objects.create(
            mall_group_id=mall_group_id,
            url=url,
            description=description[:120],
            event_types=rules.event_types_field(chosen),
            secret_sealed=secrets.seal(secret),
        )
        audit_record(
            actor=actor,
            action="webhook.endpoint_create",
            target_type="webhook_endpoint",
            target_id=endpoint.pk,
            target_label=url[:150],
            mall_group_id=mall_group_id,
            changes={"event_types": [None, ",".join(chosen)]},
        )
    return CreatedEndpoint(endpoint_id=endpoint.pk, secret=secret)


def _locked_endpoint(mall_group_id: int, endpoint_id: int) -> Endpoint:
    try:
        return lock_one(Endpoint.objects.filter(mall_group_id=mall_group_id, pk=endpoint_id))
    except Endpoint.DoesNotExist as exc:
        raise exceptions.EndpointNotFoundError() from exc


def endpoint_update(
    *, mall_group_id: int, endpoint_id: int, url: str, description: str, event_types: list[str], actor: Actor
) -> Endpoint:
    chosen = _check(url=url, event_types=event_types)
    with transaction.atomic(durable=True):
        endpoint = _locked_endpoint(mall_group_id, endpoint_id)
        before = {
            "url": endpoint.url,
            "event_types": endpoint.event_types.strip(","),
            "description": endpoint.description,
        }
        endpoint.url, endpoint.description = url, description[:120]
        endpoint.event_types = rules.event_types_field(chosen)
        endpoint.save(update_fields=["url", "description", "event_types", "updated_at"])
        after = {"url": url, "event_types": ",".join(chosen), "description": endpoint.description}
        audit_record(
            actor=actor,
            action="webhook.endpoint_update",
            target_type="webhook_endpoint",
            target_id=endpoint.pk,
            target_label=url[:150],
            mall_group_id=mall_group_id,
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        )
    return endpoint


def endpoint_set_enabled(*, mall_group_id: int, endpoint_id: int, enabled: bool, actor: Actor) -> Endpoint:
    """Turn an endpoint off or on. Turning it on clears the failure clock; its pending deliveries resume (one past
    its 24-hour window gets one more try, then is given up)."""
    with transaction.atomic(durable=True):
        endpoint = _locked_endpoint(mall_group_id, endpoint_id)
        if endpoint.is_enabled == enabled:
            return endpoint
        endpoint.is_enabled = enabled
        endpoint.disabled_reason = "" if enabled else _("Turned off by %(name)s") % {"name": actor.label}
        endpoint.failing_since = None
        endpoint.save(update_fields=["is_enabled", "disabled_reason", "failing_since", "updated_at"])
        audit_record(
            actor=actor,
            action="webhook.endpoint_enable" if enabled else "webhook.endpoint_disable",
            target_type="webhook_endpoint",
            target_id=endpoint.pk,
            target_label=endpoint.url[:150],
            mall_group_id=mall_group_id,
        )
    return endpoint


def endpoint_secret(*, endpoint: Endpoint) -> str:
    return secrets.unseal(endpoint.secret_sealed)


# --- the outbox -----------------------------------------------------------------------------------------------------


def _record(
    *, kind: str, mall_group_id: int, member_id: int | None, data: Mapping[str, Any], endpoint_ids: list[int]
) -> list[Delivery]:
    now = timezone.now()
    event = WebhookEvent.objects.create(
        mall_group_id=mall_group_id, kind=kind, member_id=member_id, data=dict(data), created_at=now
    )
    return Delivery.objects.bulk_create(
        [
            Delivery(endpoint_id=eid, event=event, member_id=member_id, next_attempt_at=now, created_at=now)
            for eid in endpoint_ids
        ]
    )


def outbox_record(*, event: str, payload: Mapping[str, Any]) -> None:
    """The publish hook (settings GALLERIA_EVENT_OUTBOXES): runs inside the publisher's transaction. An event that
    no enabled endpoint of the member's group subscribes to costs one SELECT and writes nothing."""
    kind = rules.WEBHOOK_TYPE_OF.get(event)
    if kind is None:
        return
    member_id = payload.get("member_id")
    group_id = payload.get("mall_group_id")
    if member_id is None and group_id is None:
        return
    found = sql.endpoints_for(
        kind=kind,
        member_id=int(member_id) if member_id is not None else None,
        mall_group_id=int(group_id) if group_id is not None else None,
    )
    if not found:
        return
    data = {k: v for k, v in payload.items() if k != "mall_group_id"}
    _record(
        kind=kind,
        mall_group_id=found[0][1],
        member_id=int(member_id) if member_id is not None else None,
        data=data,
        endpoint_ids=[eid for eid, _group in found],
    )


def endpoint_send_test(*, mall_group_id: int, endpoint_id: int, actor: Actor) -> Delivery:
    """A `webhook.test` event to this endpoint, sent now (it also shows in the delivery log)."""
    with transaction.atomic(durable=True):
        endpoint = _locked_endpoint(mall_group_id, endpoint_id)
        (delivery,) = _record(
            kind=rules.TEST_EVENT,
            mall_group_id=mall_group_id,
            member_id=None,
            data={"message": "hello from Galleria", "endpoint_id": endpoint.pk},
            endpoint_ids=[endpoint.pk],
        )
        audit_record(
            actor=actor,
            action="webhook.endpoint_test",
            target_type="webhook_endpoint",
            target_id=endpoint.pk,
            target_label=endpoint.url[:150],
            mall_group_id=mall_group_id,
        )
    deliveries_run(only_ids=[delivery.pk], ignore_enabled=True)
    delivery.refresh_from_db()
    return delivery


def delivery_replay(*, mall_group_id: int, delivery_id: int, actor: Actor) -> Delivery:
    """Send an event again: a new delivery of the same event to the same endpoint, due now (the original's log is
    kept). It keeps its member's order: it waits for that member's earlier pending deliveries."""
    with transaction.atomic(durable=True):
        try:
            original = lock_one(
                Delivery.objects.filter(endpoint__mall_group_id=mall_group_id, pk=delivery_id), of=("self",)
            )
        except Delivery.DoesNotExist as exc:
            raise exceptions.DeliveryNotFoundError() from exc
        now = timezone.now()
        replay = Delivery.objects.create(
            endpoint_id=original.endpoint_id,
            event_id=original.event_id,
            member_id=original.member_id,
            next_attempt_at=now,
            replay_of=original,
        )
        audit_record(
            actor=actor,
            action="webhook.delivery_replay",
            target_type="webhook_delivery",
            target_id=original.pk,
            target_label=str(original.event_id),
            mall_group_id=mall_group_id,
            changes={"replay": [None, str(replay.pk)]},
        )
    return replay


# --- delivery -------------------------------------------------------------------------------------------------------


def _due(now: dt.datetime, *, only_ids: list[int] | None, ignore_enabled: bool) -> Any:
    earlier = Delivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        member_id=OuterRef("member_id"),
        status=DeliveryStatus.PENDING,
        pk__lt=OuterRef("pk"),
    )
    qs = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).filter(
        Q(leased_until__isnull=True) | Q(leased_until__lte=now)
    )
    if only_ids is not None:
        return qs.filter(pk__in=only_ids)
    if not ignore_enabled:
        qs = qs.filter(endpoint__is_enabled=True)
    return qs.exclude(Exists(earlier))


def _claim(*, batch: int, lease: dt.timedelta, only_ids: list[int] | None, ignore_enabled: bool) -> list[int]:
    now = timezone.now()
    ids = list(
        _due(now, only_ids=only_ids, ignore_enabled=ignore_enabled).order_by("pk").values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return []
    with transaction.atomic(durable=True):
        # re-checked under the lock: another worker may have taken or finished some of them meanwhile
        rows = lock_rows(
            Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).filter(
                Q(leased_until__isnull=True) | Q(leased_until__lte=now)
            ),
            skip_locked=True,
        )
        claimed = [d.pk for d in rows]
        Delivery.objects.filter(pk__in=claimed).update(leased_until=now + lease)
    return claimed


def _body(event: WebhookEvent) -> bytes:
    doc = rules.envelope(
        event_id=str(event.event_id),
        kind=event.kind,
        created_at=event.created_at,
        mall_group_id=event.mall_group_id,
        data=event.data,
    )
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _send(session: requests.Session, delivery: Delivery) -> tuple[int, str, str, int]:
    """POST the event: (status code or 0, response text, error, milliseconds). No transaction is open here."""
    try:
        secret = secrets.unseal(delivery.endpoint.secret_sealed)
    except secrets.SecretUnreadableError:
        return 0, "", "webhooks.secret_unreadable", 0
    body = _body(delivery.event)
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Galleria-Event-Id": str(delivery.event.event_id),
        "X-Galleria-Event-Type": delivery.event.kind,
        "X-Galleria-Delivery-Id": str(delivery.pk),
        "X-Galleria-Signature": rules.sign(secret=secret, timestamp=ts, body=body),
    }
    started = time.monotonic()
    try:
        with session.post(
            delivery.endpoint.url,
            data=body,
            headers=headers,
            timeout=rules.TIMEOUT_S,
            allow_redirects=False,
            stream=True,
        ) as response:
            raw = response.raw.read(rules.RESPONSE_KEEP * 4, decode_content=True) or b""
            text = raw.decode(response.encoding or "utf-8", "replace")
            return response.status_code, text, "", int((time.monotonic() - started) * 1000)
    except (requests.RequestException, OSError) as exc:
        return 0, "", f"{type(exc).__name__}: {exc}"[:300], int((time.monotonic() - started) * 1000)


def _finish(*, delivery_id: int, status_code: int, text: str, error: str, ms: int) -> str:
    """Record one attempt and decide: delivered, retry later, or given up; the endpoint's failure clock."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        delivery = lock_one(Delivery.objects.filter(pk=delivery_id).select_related("endpoint"), of=("self",))
        DeliveryAttempt.objects.create(
            delivery=delivery,
            at=now,
            status_code=min(status_code, 999),
            response_body=rules.truncate(text),
            error=error[:300],
            duration_ms=ms,
        )
        delivery.attempts += 1
        delivery.last_status_code = status_code or None
        delivery.leased_until = None
        endpoint = delivery.endpoint
        if delivery.status != DeliveryStatus.PENDING:  # given up or replaced meanwhile: only the log grows
            outcome = "late"
        elif rules.is_success(status_code):
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
            outcome = "delivered"
        else:
            nxt = rules.next_attempt(failures=delivery.attempts, event_at=delivery.created_at, now=now)
            if nxt is None:
                delivery.status = DeliveryStatus.FAILED
                outcome = "given_up"
            else:
                delivery.next_attempt_at = nxt
                outcome = "retry"
        delivery.save(
            update_fields=["attempts", "last_status_code", "leased_until", "status", "delivered_at", "next_attempt_at"]
        )
        if outcome == "delivered":
            Endpoint.objects.filter(pk=endpoint.pk).update(last_success_at=now, failing_since=None)
        elif outcome in ("retry", "given_up") and endpoint.is_enabled:
            Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
            if _disable_if_dead(
                endpoint_id=endpoint.pk, now=now, gave_up_since=delivery.created_at if outcome == "given_up" else None
            ):
                outcome += "+disabled"
    return outcome


def _disable_if_dead(*, endpoint_id: int, now: dt.datetime, gave_up_since: dt.datetime | None) -> bool:
    """An endpoint that has answered nothing but failures for 24 hours — or whose delivery was just given up with no
    success since that delivery's first try (it failed through its whole 24-hour window) — is turned off, and the
    group's admins are told through the audit log (the console's webhooks page shows why it is off)."""
    endpoint = lock_one(Endpoint.objects.filter(pk=endpoint_id))
    if not endpoint.is_enabled or endpoint.failing_since is None:
        return False
    dead_window = gave_up_since is not None and endpoint.failing_since <= gave_up_since
    if not dead_window and now - endpoint.failing_since < rules.DISABLE_AFTER:
        return False
    endpoint.is_enabled = False
    endpoint.disabled_reason = _("Turned off automatically: every delivery failed for 24 hours")
    endpoint.save(update_fields=["is_enabled", "disabled_reason", "updated_at"])
    audit_record(
        actor=Actor.system("webhooks"),
        action="webhook.endpoint_auto_disable",
        target_type="webhook_endpoint",
        target_id=endpoint.pk,
        target_label=endpoint.url[:150],
        mall_group_id=endpoint.mall_group_id,
        changes={"failing_since": [endpoint.failing_since.isoformat(), None]},
    )
    return True


def deliveries_run(
    *,
    batch: int = 50,
    lease: dt.timedelta = rules.LEASE,
    max_rounds: int | None = None,
    only_ids: list[int] | None = None,
    ignore_enabled: bool = False,
) -> RunResult:
    """Send every due delivery (batch by batch, until none is due or `max_rounds` batches were done)."""
    counts = {"delivered": 0, "retry": 0, "given_up": 0, "disabled": 0}
    rounds = 0
    with requests.Session() as session:
        while max_rounds is None or rounds < max_rounds:
            rounds += 1
            claimed = _claim(batch=batch, lease=lease, only_ids=only_ids, ignore_enabled=ignore_enabled)
            if not claimed:
                break
            for delivery in Delivery.objects.filter(pk__in=claimed).select_related("event", "endpoint").order_by("pk"):
                code, text, error, ms = _send(session, delivery)
                outcome = _finish(delivery_id=delivery.pk, status_code=code, text=text, error=error, ms=ms)
                for part in outcome.split("+"):
                    if part in counts:
                        counts[part] += 1
            if only_ids is not None:
                break
    return RunResult(
        delivered=counts["delivered"], retried=counts["retry"], given_up=counts["given_up"], disabled=counts["disabled"]
    )


def delivery_body(*, delivery: Delivery) -> str:
    """The event's JSON as sent (pretty-printed for the console)."""
    return json.dumps(json.loads(_body(delivery.event)), ensure_ascii=False, indent=2)
