from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.tasks import enqueue

from .exceptions import InboxMessageInvalidError, InboxMessageNotFoundError
from .models import Audience, InboxMessage, InboxRead, SmsMessage, SmsStatus
from .selectors import Reader, inbox_get, inbox_unread_ids
from .sms import get_backend

SECRET_TEMPLATES = frozenset({"otp"})  # messages carrying a one-time code
CODE_RE = re.compile(r"(?<!\d)\d{4,8}(?!\d)")


def sms_queue(*, phone: str, template: str, body: str) -> SmsMessage:
    """Write the message to the outbox and enqueue its delivery in the caller's transaction."""
    message = SmsMessage.objects.create(phone=phone, template=template, body=body)
    enqueue("galleria.messaging.tasks.sms_deliver_task", message_id=message.pk)
    return message


def sms_deliver(*, message_id: int) -> None:
    """Deliver one queued message (idempotent: a sent message is not sent again)."""
    message = SmsMessage.objects.get(pk=message_id)
    if message.status == SmsStatus.SENT or not message.body:  # sent, or its recipient was erased meanwhile
        return
    message.attempts += 1
    backend = get_backend()
    try:
        message.provider_ref = backend.send(phone=message.phone, body=message.body)
    except Exception as exc:  # the provider's failure is recorded, the worker retries by re-enqueueing
        message.status = SmsStatus.FAILED
        message.error = str(exc)[:200]
    else:
        message.status = SmsStatus.SENT
        message.sent_at = timezone.now()
        if message.template in SECRET_TEMPLATES and not getattr(backend, "keeps_bodies", False):
            # the gateway has it: the code must not outlive its use in our database (the sandbox outbox, which is
            # where developers read their codes, keeps it)
            message.body = CODE_RE.sub("******", message.body)
    message.save(update_fields=["attempts", "provider_ref", "status", "error", "sent_at", "body"])


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


# ------------------------------------------------------------------------------------------------- in-app inbox

INBOX_TITLE_MAX = 60
INBOX_BODY_MAX = 2000


def sms_redact_phone(*, phone: str, replacement: str) -> int:
    """Erasure: the outbox rows of a phone keep their template, status and times; the number becomes
    `replacement` (a masked copy) and the text is dropped. Returns how many rows."""
    rows = SmsMessage.objects.filter(phone=phone)
    rows.filter(status=SmsStatus.QUEUED).update(status=SmsStatus.FAILED, error="recipient erased")  # never sent
    return rows.update(phone=replacement[:20], body="")


def inbox_send(
    *,
    mall_group_id: int,
    audience: str,
    title: str,
    body: str,
    actor: Actor,
    tier_level_id: int | None = None,
    member_id: int | None = None,
) -> InboxMessage:
    """Store one message for its audience (one row, however many members it reaches) and audit it.

    The caller has checked that `tier_level_id` / `member_id` belong to the group (they live in apps above this one)."""
    title = " ".join((title or "").replace("\x00", "").split())
    body = (body or "").replace("\x00", "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = _("Write a title.")
    elif len(title) > INBOX_TITLE_MAX:
        errors["title"] = _("Keep the title under 60 characters.")
    if not body:
        errors["body"] = _("Write the message.")
    elif len(body) > INBOX_BODY_MAX:
        errors["body"] = _("Keep the message under 2000 characters.")
    if audience not in Audience.values:
        errors["audience"] = _("Choose who receives the message.")
    elif audience == Audience.TIER and tier_level_id is None:
        errors["tier"] = _("Choose a tier.")
    elif audience == Audience.MEMBER and member_id is None:
        errors["member"] = _("Choose the member.")
    if errors:
        raise InboxMessageInvalidError(next(iter(errors.values())), fields=errors)
    with transaction.atomic(durable=True):
        message = InboxMessage.objects.create(
            mall_group_id=mall_group_id,
            audience=audience,
            tier_level_id=tier_level_id if audience == Audience.TIER else None,
            member_id=member_id if audience == Audience.MEMBER else None,
            title=title,
            body=body,
            sent_at=timezone.now(),
            sent_by=actor.label[:100],
        )
        audit_record(
            actor=actor,
            action="inbox.send",
            target_type="inbox_message",
            target_id=message.pk,
            target_label=title,
            mall_group_id=mall_group_id,
            changes={"audience": audience, "tier_level_id": message.tier_level_id, "member_id": message.member_id},
        )
        return message


def inbox_mark_read(*, reader: Reader, message_id: int) -> InboxMessage:
    """Mark one of the reader's messages read (idempotent: a second call changes nothing)."""
    message = inbox_get(reader=reader, message_id=message_id)
    if message is None:
        raise InboxMessageNotFoundError()
    if not message.is_read:  # type: ignore[attr-defined]
        InboxRead.objects.bulk_create(
            [InboxRead(message_id=message.pk, member_id=reader.member_id, read_at=timezone.now())],
            ignore_conflicts=True,
        )
    return message


def inbox_mark_all_read(*, reader: Reader) -> int:
    """Mark every unread message of the reader read; returns how many were unread."""
    now = timezone.now()
    ids = inbox_unread_ids(reader=reader)
    InboxRead.objects.bulk_create(
        [InboxRead(message_id=pk, member_id=reader.member_id, read_at=now) for pk in ids], ignore_conflicts=True
    )
    return len(ids)
