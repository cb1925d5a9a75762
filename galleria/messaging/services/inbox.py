"""The in-app inbox: messages stored once per audience, reads per member."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor

from ..exceptions import InboxMessageInvalidError, InboxMessageNotFoundError
from ..models import Audience, InboxMessage, InboxRead
from ..selectors import Reader, inbox_get, inbox_unread_ids

# ------------------------------------------------------------------------------------------------- in-app inbox

INBOX_TITLE_MAX = 60
INBOX_BODY_MAX = 2000


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
    errors = inbox_text_problems(title=title, body=body)
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


def inbox_send_members_in_tx(
    *, mall_group_id: int, member_ids: list[int], title: str, body: str, sent_by: str
) -> dict[int, int]:
    """One inbox message per member (a campaign's chunk), in the caller's transaction: {member id: message id}.
    The caller validated the text once (`inbox_text_problems`) and audits the campaign, not each message."""
    now = timezone.now()
    rows = [
        InboxMessage(
            mall_group_id=mall_group_id,
            audience=Audience.MEMBER,
            member_id=member_id,
            title=title,
            body=body,
            sent_at=now,
            sent_by=sent_by[:100],
        )
        for member_id in member_ids
    ]
    created = InboxMessage.objects.bulk_create(rows)
    return {int(m.member_id): int(m.pk) for m in created if m.member_id is not None}


def inbox_text_problems(*, title: str, body: str) -> dict[str, str]:
    """What is wrong with an inbox message's text ({} when nothing): the checks of `inbox_send`."""
    title = " ".join((title or "").split())
    body = (body or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = _("Write a title.")
    elif len(title) > INBOX_TITLE_MAX:
        errors["title"] = _("Keep the title under 60 characters.")
    if not body:
        errors["body"] = _("Write the message.")
    elif len(body) > INBOX_BODY_MAX:
        errors["body"] = _("Keep the message under 2000 characters.")
    return errors
