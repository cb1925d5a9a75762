"""Web Push: the installation's VAPID key pair, members' browser subscriptions, and the push outbox with its
delivery (docs/messaging.md "Web push").

Contract:
- `push_queue` writes one row per subscription of the member and enqueues each delivery, in the caller's
  transaction; a member without a subscription gets no row (`channels_reachable` tells the caller beforehand).
- `push_deliver` claims an attempt with one conditional UPDATE before any I/O (a task that runs twice sends a row
  at most once), encrypts to the subscription's keys and sends with a VAPID signature. 201/202: sent. 404/410: the
  subscription is gone — deleted, the row `failed` (`http_410`). 429 and 5xx: retried after the backoff or the push
  service's Retry-After, whichever is longer. Anything else: `failed` with the status.
- The VAPID key: `GALLERIA_WEBPUSH["VAPID_PRIVATE_KEY"]` (a PEM) when set, else the `VapidKey` row, generated on
  first use (or by `galleria webpush_keys`) and sealed at rest (`messaging/secrets.py`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from galleria.core.tasks import enqueue

from ..exceptions import PushSubscriptionInvalidError
from ..models import PushMessage, PushStatus, PushSubscription, VapidKey
from ..providers.webpush import PushError, PushTarget, p256_point_ok, push_send, vapid_generate, vapid_public_key
from ..rules import push_retry_after_s, retry_delay_s
from ..secrets import seal, unseal

log = logging.getLogger("galleria.messaging")
TASK = "galleria.messaging.tasks.push_deliver_task"
MAX_SUBSCRIPTIONS_PER_MEMBER = 10
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


# ------------------------------------------------------------------------------------------------------ VAPID


def vapid_keys() -> tuple[str, str]:
    """(private key PEM, public key base64url) of this installation: from settings, or the stored pair, created on
    first use (concurrent first uses agree: one row wins, the others read it)."""
    configured = str(settings.GALLERIA_WEBPUSH.get("VAPID_PRIVATE_KEY") or "")
    if configured:
        pem = configured.replace("\\n", "\n")
        return pem, vapid_public_key(pem)
    row = VapidKey.objects.order_by("pk").first()
    if row is None:
        pem, public = vapid_generate()
        try:
            with transaction.atomic():
                VapidKey.objects.create(pk=1, private_key_sealed=seal(pem), public_key=public)
        except IntegrityError:
            pass
        row = VapidKey.objects.order_by("pk").first()
        assert row is not None
    return unseal(row.private_key_sealed), row.public_key


def vapid_public() -> str:
    """The applicationServerKey the member app subscribes with."""
    return vapid_keys()[1]


def vapid_rotate() -> str:
    """A new key pair (every browser subscription made with the old one stops working: they are deleted)."""
    pem, public = vapid_generate()
    with transaction.atomic():
        VapidKey.objects.all().delete()
        VapidKey.objects.create(pk=1, private_key_sealed=seal(pem), public_key=public)
        PushSubscription.objects.all().delete()
    return public


# -------------------------------------------------------------------------------------------- subscriptions


def _b64(value: str, length: int) -> bool:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return False
    return len(raw) == length


def _endpoint_ok(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    if not parts.hostname or parts.username or parts.password:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)


def push_subscription_save(
    *, member_id: int, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Store a browser's subscription for the member (PushSubscription.toJSON()). The same endpoint again updates
    it (a browser that another member now uses moves to them). An https endpoint (http only on this machine, for
    the sandbox), a 65-byte P-256 point and a 16-byte auth secret, or `PushSubscriptionInvalidError`. A member keeps
    at most MAX_SUBSCRIPTIONS_PER_MEMBER: the oldest go."""
    problems = {}
    if len(endpoint) > 1000 or not _endpoint_ok(endpoint):
        problems["endpoint"] = "not an https URL"
    if not p256_point_ok(p256dh):
        problems["p256dh"] = "not a P-256 public key"
    if not _b64(auth, 16):
        problems["auth"] = "not a 16-byte secret"
    if problems:
        raise PushSubscriptionInvalidError(fields=problems)
    with transaction.atomic():
        sub, _ = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={"member_id": member_id, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:200]},
        )
        extra = list(
            PushSubscription.objects.filter(member_id=member_id)
            .order_by("-created_at", "-pk")
            .values_list("pk", flat=True)[MAX_SUBSCRIPTIONS_PER_MEMBER:]
        )
        if extra:
            PushSubscription.objects.filter(pk__in=extra).delete()
    return sub


def push_subscription_delete(*, member_id: int, endpoint: str) -> int:
    """Forget the member's subscription of this endpoint (the browser unsubscribed). Returns how many (0 or 1)."""
    return PushSubscription.objects.filter(member_id=member_id, endpoint=endpoint).delete()[0]


# ------------------------------------------------------------------------------------------------------ outbox


def push_queue(*, member_id: int, title: str, body: str = "", url: str = "", template: str = "") -> list[PushMessage]:
    """Write a push message to each of the member's browser subscriptions and enqueue their delivery, in the caller's
    transaction. `title` (≤ 100) and `body` (≤ 500) are shown by the member app's service worker, `url` (a path of
    this site: an app page such as "/app/coupons/", or a tracking link that redirects into the app) opens on click.
    Returns the rows (none: the member has no subscription)."""
    subs = list(PushSubscription.objects.filter(member_id=member_id).values_list("pk", flat=True))
    rows = PushMessage.objects.bulk_create(
        [
            PushMessage(
                member_id=member_id,
                subscription_id=pk,
                template=template[:40],
                title=title[:100],
                body=body[:500],
                url=url[:500],
                ttl_s=int(settings.GALLERIA_WEBPUSH["TTL_S"]),
            )
            for pk in subs
        ]
    )
    for row in rows:
        enqueue(TASK, message_id=row.pk)
    return rows


def _log_entry(now: dt.datetime, outcome: str, code: str = "") -> dict[str, str]:
    return {"at": now.isoformat(timespec="seconds"), "outcome": outcome, "code": code}


def _retry_conf(name: str) -> float:
    return float(settings.GALLERIA_MESSAGING_RETRY[name])


def push_deliver(*, message_id: int) -> float | None:
    """One delivery attempt (module docstring). Returns the seconds until its retry is due, or None."""
    message = PushMessage.objects.filter(pk=message_id).first()
    now = timezone.now()
    if message is None or message.status != PushStatus.QUEUED:
        return None
    if message.next_attempt_at and message.next_attempt_at > now:
        return None
    timeout_s = float(settings.GALLERIA_WEBPUSH["TIMEOUT_S"])
    lease = now + dt.timedelta(seconds=2 * timeout_s + 30)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    if not PushMessage.objects.filter(due, pk=message.pk, status=PushStatus.QUEUED, attempts=message.attempts).update(
        attempts=F("attempts") + 1, next_attempt_at=lease
    ):
        return None
    attempts = message.attempts + 1
    sub = PushSubscription.objects.filter(pk=message.subscription_id).first() if message.subscription_id else None
    if sub is None:
        return _finish(message, attempts, PushError("gone", "subscription deleted", retryable=False))
    payload: dict[str, Any] = {"title": message.title, "body": message.body, "url": message.url, "id": message.pk}
    try:
        pem, _ = vapid_keys()
        push_send(
            target=PushTarget(endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth),
            payload=payload,
            private_pem=pem,
            subject=str(settings.GALLERIA_WEBPUSH["SUBJECT"]),
            ttl_s=message.ttl_s,
            timeout_s=timeout_s,
        )
    except PushError as exc:
        if exc.gone:
            PushSubscription.objects.filter(pk=sub.pk).delete()
        else:
            PushSubscription.objects.filter(pk=sub.pk).update(
                last_failure_at=timezone.now(), last_failure_code=exc.code[:40]
            )
        return _finish(message, attempts, exc)
    except Exception as exc:  # an adapter bug or an unreadable key
        log.exception("push message %s: unexpected error", message.pk)
        return _finish(message, attempts, PushError("unexpected", repr(exc), retryable=True))
    done = timezone.now()
    PushSubscription.objects.filter(pk=sub.pk).update(last_success_at=done)
    PushMessage.objects.filter(pk=message.pk, attempts=attempts).update(
        status=PushStatus.SENT,
        sent_at=done,
        next_attempt_at=None,
        error="",
        error_code="",
        attempt_log=[*message.attempt_log, _log_entry(done, "sent")],
    )
    return None


def _finish(message: PushMessage, attempts: int, error: PushError) -> float | None:
    now = timezone.now()
    values: dict[str, Any] = {
        "error": str(error)[:200],
        "error_code": error.code,
        "attempt_log": [*message.attempt_log, _log_entry(now, "retry" if error.retryable else "refused", error.code)],
    }
    delay: float | None = None
    if error.retryable and attempts < int(_retry_conf("MAX_ATTEMPTS")):
        delay = retry_delay_s(attempt=attempts, base_s=_retry_conf("BASE_SECONDS"), max_s=_retry_conf("MAX_SECONDS"))
        asked = push_retry_after_s(error.retry_after, now=now.timestamp())
        if asked is not None:
            delay = max(delay, min(asked, _retry_conf("MAX_SECONDS")))
        values["next_attempt_at"] = now + dt.timedelta(seconds=delay)
    else:
        values.update(status=PushStatus.FAILED, next_attempt_at=None)
    PushMessage.objects.filter(pk=message.pk, attempts=attempts).update(**values)
    log.warning("push message %s attempt %s failed: %s", message.pk, attempts, error.code)
    return delay


def push_retry_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Attempt every queued push message whose retry is due (or whose task never ran); returns how many."""
    now = now or timezone.now()
    stale = now - dt.timedelta(minutes=5)
    ids = list(
        PushMessage.objects.filter(status=PushStatus.QUEUED)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lt=stale))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        push_deliver(message_id=pk)
    return len(ids)
