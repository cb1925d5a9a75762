"""The e-mail outbox: queue in the caller's transaction, deliver over SMTP (Django's mail API) from a task, retry.

The same contract as SMS delivery (`sms_delivery`): an attempt is claimed by one conditional UPDATE before any I/O;
4xx replies and lost connections are retried with backoff (`rules.smtp_classify`, `rules.retry_delay_s`); 5xx
replies and failed logins are final. SMTP has no idempotency key: every attempt carries the same Message-ID
header, which lets receiving systems drop a duplicate when a connection was lost after the server took the message.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import make_msgid
from django.db.models import F, Q
from django.utils import timezone

from galleria.core.tasks import enqueue

from ..models import EmailMessage, EmailStatus
from ..rules import retry_delay_s, smtp_classify

log = logging.getLogger("galleria.messaging")


def email_queue(*, to: str, subject: str, body: str, html_body: str = "", template: str = "") -> EmailMessage:
    """Write the e-mail to the outbox and enqueue its delivery in the caller's transaction."""
    message = EmailMessage.objects.create(
        to=to.strip(),
        subject=" ".join(subject.split())[:200],
        body=body,
        html_body=html_body,
        template=template[:40],
        message_id=make_msgid(domain=_domain()),
    )
    enqueue("galleria.messaging.tasks.email_deliver_task", message_id=message.pk)
    return message


def _domain() -> str:
    sender = str(settings.DEFAULT_FROM_EMAIL)
    address = sender.rsplit("<", 1)[-1].rstrip(">")
    return address.rsplit("@", 1)[-1] or "localhost"


def _conf(name: str) -> float:
    return float(settings.GALLERIA_MESSAGING_RETRY[name])


def email_deliver(*, message_id: int) -> float | None:
    """One delivery attempt; returns the seconds until the retry is due, or None when nothing more is to be done."""
    message = EmailMessage.objects.filter(pk=message_id).first()
    now = timezone.now()
    if message is None or message.status != EmailStatus.QUEUED:
        return None
    if message.next_attempt_at and message.next_attempt_at > now:
        return None
    lease = now + dt.timedelta(seconds=2 * int(settings.EMAIL_TIMEOUT or 20) + 30)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    claimed = EmailMessage.objects.filter(
        due, pk=message.pk, status=EmailStatus.QUEUED, attempts=message.attempts
    ).update(attempts=F("attempts") + 1, next_attempt_at=lease)
    if not claimed:
        return None
    attempts = message.attempts + 1
    mail = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={"Message-ID": message.message_id} if message.message_id else None,
        connection=get_connection(fail_silently=False, timeout=int(settings.EMAIL_TIMEOUT or 20)),
    )
    if message.html_body:
        mail.attach_alternative(message.html_body, "text/html")
    try:
        mail.send(fail_silently=False)
    except Exception as exc:
        code, retryable = smtp_classify(exc)
        return _failed(message, attempts=attempts, code=code, retryable=retryable, detail=str(exc))
    EmailMessage.objects.filter(pk=message.pk, attempts=attempts).update(
        status=EmailStatus.SENT,
        sent_at=timezone.now(),
        next_attempt_at=None,
        error="",
        error_code="",
        attempt_log=[*message.attempt_log, {"at": now.isoformat(timespec="seconds"), "outcome": "sent", "code": ""}],
    )
    return None


def _failed(message: EmailMessage, *, attempts: int, code: str, retryable: bool, detail: str) -> float | None:
    now = timezone.now()
    values: dict[str, Any] = {
        "error": detail[:200],
        "error_code": code,
        "attempt_log": [
            *message.attempt_log,
            {"at": now.isoformat(timespec="seconds"), "outcome": "retry" if retryable else "refused", "code": code},
        ],
    }
    delay: float | None = None
    if retryable and attempts < int(_conf("MAX_ATTEMPTS")):
        delay = retry_delay_s(attempt=attempts, base_s=_conf("BASE_SECONDS"), max_s=_conf("MAX_SECONDS"))
        values["next_attempt_at"] = now + dt.timedelta(seconds=delay)
    else:
        values.update(status=EmailStatus.FAILED, next_attempt_at=None)
    EmailMessage.objects.filter(pk=message.pk, attempts=attempts).update(**values)
    log.warning("e-mail %s attempt %s failed: %s", message.pk, attempts, code)
    return delay


def email_retry_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Attempt every queued e-mail whose retry is due (or whose task never ran); returns how many."""
    now = now or timezone.now()
    stale = now - dt.timedelta(minutes=5)
    ids = list(
        EmailMessage.objects.filter(status=EmailStatus.QUEUED)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lt=stale))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        email_deliver(message_id=pk)
    return len(ids)


def email_redact_address(*, address: str, replacement: str) -> int:
    """Erasure: the e-mail outbox rows of an address keep their template, status and times; the address becomes
    `replacement` and subject and texts are dropped (queued ones are never sent). Returns how many rows."""
    rows = EmailMessage.objects.filter(to__iexact=address.strip())
    rows.filter(status=EmailStatus.QUEUED).update(
        status=EmailStatus.FAILED, error="recipient erased", next_attempt_at=None
    )
    return rows.update(to=replacement[:254], subject="", body="", html_body="")
