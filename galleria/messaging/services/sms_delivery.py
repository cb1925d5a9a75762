"""The SMS outbox and its delivery: queue in the caller's transaction, deliver from a task, retry with backoff.

Contract of `sms_deliver` (the task's one call):
- An attempt is *claimed* with one conditional UPDATE (still queued, attempt count unchanged, due): the count goes
  up, `in_doubt` is set and `next_attempt_at` becomes the attempt's lease — all before any I/O, and no row lock is
  held during the provider call. Two workers given the same message: one claims it, the other does nothing.
- A message whose previous attempt may have reached the provider (`in_doubt`: a timeout, a lost answer, a 5xx, a
  worker that died mid-send and whose lease ran out) is first looked up at the provider by its `out_id`
  (Aliyun OutId / Tencent SessionContext). Found: it is recorded as sent with the provider's reference and not sent
  again.
- Retryable failures (throttling, network, 5xx: `providers.base.classify`) wait `rules.retry_delay_s` (doubling,
  capped, with jitter; at least IN_DOUBT_MIN_SECONDS when in doubt) and return that delay so the task re-enqueues
  itself with `run_after`; `sms_retry_due` (the `sms_retry` command) picks up any due message a task did not.
  Final failures (invalid number, template or sign not approved, bad signature, configuration) and messages out of
  attempts are `failed` with the provider's code. A one-time code past its lifetime is not sent at all.
- Every attempt is appended to `attempt_log` (time, outcome, code).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from galleria.core.tasks import enqueue

from ..models import SmsMessage, SmsStatus
from ..providers.base import Found, SmsProviderError
from ..rules import retry_delay_s
from ..sms import build_request, get_backend
from ..templates import SMS_TEMPLATES

log = logging.getLogger("galleria.messaging")
CODE_RE = re.compile(r"(?<!\d)\d{4,8}(?!\d)")
MASK = "******"


def sms_queue(*, phone: str, template: str, body: str, params: dict[str, Any] | None = None) -> SmsMessage:
    """Write the message to the outbox and enqueue its delivery in the caller's transaction.

    `body` is the text in the member's language (logged by the outbox backend); `params` are the values of the
    Galleria template's parameters (`templates.py`), which real providers fill into their approved template."""
    message = SmsMessage.objects.create(
        phone=phone, template=template, body=body, params={k: str(v) for k, v in (params or {}).items()}
    )
    enqueue("galleria.messaging.tasks.sms_deliver_task", message_id=message.pk)
    return message


def _retry_conf(name: str) -> float:
    return float(settings.GALLERIA_MESSAGING_RETRY[name])


def _lease_s() -> float:
    return 2 * float(settings.GALLERIA_SMS_TIMEOUT_S) + 30


def _log_entry(now: dt.datetime, outcome: str, code: str = "") -> dict[str, str]:
    return {"at": now.isoformat(timespec="seconds"), "outcome": outcome, "code": code}


def _masked(message: SmsMessage) -> dict[str, Any]:
    """Body and params without the template's secrets (one-time codes), once a real gateway has them."""
    spec = SMS_TEMPLATES.get(message.template)
    if spec is None or not spec.secret_params:
        return {}
    params = {k: (MASK if k in spec.secret_params else v) for k, v in (message.params or {}).items()}
    return {"body": CODE_RE.sub(MASK, message.body), "params": params}


def _claim(message: SmsMessage, now: dt.datetime, backend_name: str) -> bool:
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return bool(
        SmsMessage.objects.filter(due, pk=message.pk, status=SmsStatus.QUEUED, attempts=message.attempts).update(
            attempts=F("attempts") + 1,
            in_doubt=True,
            next_attempt_at=now + dt.timedelta(seconds=_lease_s()),
            provider=backend_name[:20],
        )
    )


def sms_deliver(*, message_id: int) -> float | None:
    """One delivery attempt of a queued message (see the module docstring). Returns the seconds until its retry
    is due, or None when there is nothing more to do (sent, failed for good, not due, or another worker has it)."""
    message = SmsMessage.objects.filter(pk=message_id).first()
    now = timezone.now()
    if message is None or message.status != SmsStatus.QUEUED or not message.body:  # done, or recipient erased
        return None
    if message.next_attempt_at and message.next_attempt_at > now:
        return None  # a retry not yet due, or an attempt running elsewhere (its lease)
    spec = SMS_TEMPLATES.get(message.template)
    if spec and spec.expires_after_s and (now - message.created_at).total_seconds() > spec.expires_after_s:
        SmsMessage.objects.filter(pk=message.pk, status=SmsStatus.QUEUED).update(
            status=SmsStatus.FAILED,
            error_code="expired",
            error="not delivered within the template's lifetime",
            next_attempt_at=None,
            attempt_log=[*message.attempt_log, _log_entry(now, "expired")],
        )
        return None
    backend = get_backend()
    was_in_doubt = message.in_doubt
    if not _claim(message, now, backend.name):
        return None
    attempts = message.attempts + 1
    try:
        found = None
        if was_in_doubt:
            since = message.created_at - dt.timedelta(minutes=1)
            found = backend.lookup(phone=message.phone, out_id=message.out_id, since=since)
        if found is not None:
            _record_sent(message, attempts=attempts, ref=found.ref, found=found, keeps=backend_keeps(backend))
            return None
        request = build_request(
            backend=backend,
            phone=message.phone,
            template=message.template,
            params=message.params,
            out_id=message.out_id,
        )
        ref = backend.send(request, body=message.body)
    except SmsProviderError as exc:
        return _record_failure(message, attempts=attempts, error=exc)
    except Exception as exc:  # an adapter bug or an unexpected transport error: the request may have gone out
        log.exception("SMS %s: unexpected error from the %s backend", message.pk, backend.name)
        return _record_failure(
            message, attempts=attempts, error=SmsProviderError("unexpected", repr(exc), retryable=True, in_doubt=True)
        )
    _record_sent(message, attempts=attempts, ref=ref, found=None, keeps=backend_keeps(backend))
    return None


def backend_keeps(backend: object) -> bool:
    return bool(getattr(backend, "keeps_bodies", False))


def _record_sent(message: SmsMessage, *, attempts: int, ref: str, found: Found | None, keeps: bool) -> None:
    now = timezone.now()
    values: dict[str, Any] = {
        "status": SmsStatus.SENT,
        "sent_at": now,
        "provider_ref": (ref or "")[:80],
        "in_doubt": False,
        "next_attempt_at": None,
        "error": "",
        "error_code": "",
        "attempt_log": [*message.attempt_log, _log_entry(now, "found" if found else "sent")],
    }
    if not keeps:  # the gateway has it: the code must not outlive its use in our database
        values.update(_masked(message))
    if found is not None and found.delivered is not None:  # the lookup brought the receipt along
        values.update(
            status=SmsStatus.DELIVERED if found.delivered else SmsStatus.FAILED,
            reported_at=now,
            receipt_code=found.code[:80],
            delivered_at=now if found.delivered else None,
        )
    SmsMessage.objects.filter(pk=message.pk, attempts=attempts).update(**values)


def _record_failure(message: SmsMessage, *, attempts: int, error: SmsProviderError) -> float | None:
    now = timezone.now()
    max_attempts = int(_retry_conf("MAX_ATTEMPTS"))
    values: dict[str, Any] = {
        "in_doubt": error.in_doubt,
        "error": str(error)[:200],
        "error_code": error.code,
        "attempt_log": [*message.attempt_log, _log_entry(now, "retry" if error.retryable else "refused", error.code)],
    }
    delay: float | None = None
    if error.retryable and attempts < max_attempts:
        delay = retry_delay_s(attempt=attempts, base_s=_retry_conf("BASE_SECONDS"), max_s=_retry_conf("MAX_SECONDS"))
        if error.in_doubt:
            delay = max(delay, _retry_conf("IN_DOUBT_MIN_SECONDS"))
        values["next_attempt_at"] = now + dt.timedelta(seconds=delay)
    else:
        values.update(status=SmsStatus.FAILED, next_attempt_at=None)
    SmsMessage.objects.filter(pk=message.pk, attempts=attempts).update(**values)
    log.warning(
        "SMS %s attempt %s failed: %s%s",
        message.pk,
        attempts,
        error.code,
        "" if delay is None else f" (retry in {delay:.0f} s)",
    )
    return delay


def sms_retry_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Attempt every queued message whose retry (or lost attempt's lease) is due, and any queued message whose
    task never ran; returns how many were attempted. What the `sms_retry` command runs."""
    now = now or timezone.now()
    stale = now - dt.timedelta(minutes=5)
    ids = list(
        SmsMessage.objects.filter(status=SmsStatus.QUEUED)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lt=stale))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        sms_deliver(message_id=pk)
    return len(ids)


def sms_prune(*, older_than_days: int, now: dt.datetime | None = None) -> int:
    """Delete outbox rows (phone numbers and texts) older than `older_than_days`, except messages still queued.
    Batched; idempotent. Returns how many rows were deleted."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=older_than_days)
    deleted = 0
    while True:
        ids = list(
            SmsMessage.objects.filter(created_at__lt=cutoff)
            .exclude(status=SmsStatus.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)[:5000]
        )
        if not ids:
            return deleted
        deleted += SmsMessage.objects.filter(pk__in=ids).delete()[0]


def sms_redact_phone(*, phone: str, replacement: str) -> int:
    """Erasure: the outbox rows of a phone keep their template, status and times; the number becomes
    `replacement` (a masked copy) and the text and parameters are dropped. Returns how many rows."""
    rows = SmsMessage.objects.filter(phone=phone)
    rows.filter(status=SmsStatus.QUEUED).update(status=SmsStatus.FAILED, error="recipient erased", next_attempt_at=None)
    return rows.update(phone=replacement[:20], body="", params={})
