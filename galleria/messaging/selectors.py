"""Reads of the in-app inbox. Visibility is computed from the message's audience at read time (see models)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from .models import Audience, InboxMessage, InboxRead


@dataclass(frozen=True)
class Reader:
    """Who reads the inbox: the member, their group, their current tier level (or None) and when they joined."""

    mall_group_id: int
    member_id: int
    tier_level_id: int | None
    joined_at: dt.datetime


def _visible(reader: Reader) -> Q:
    broadcast = Q(audience=Audience.ALL)
    if reader.tier_level_id is not None:
        broadcast |= Q(audience=Audience.TIER, tier_level_id=reader.tier_level_id)
    return Q(mall_group_id=reader.mall_group_id) & (
        (broadcast & Q(sent_at__gte=reader.joined_at)) | Q(audience=Audience.MEMBER, member_id=reader.member_id)
    )


def inbox_list(*, reader: Reader) -> QuerySet[InboxMessage]:
    """The reader's messages, newest first, each annotated `is_read`."""
    read = InboxRead.objects.filter(message_id=OuterRef("pk"), member_id=reader.member_id)
    return InboxMessage.objects.filter(_visible(reader)).annotate(is_read=Exists(read)).order_by("-sent_at", "-pk")


def inbox_get(*, reader: Reader, message_id: int) -> InboxMessage | None:
    """One of the reader's messages (someone else's looks exactly like a missing one)."""
    return inbox_list(reader=reader).filter(pk=message_id).first()


def inbox_unread_count(*, reader: Reader) -> int:
    """Unread messages of the reader: one query, whatever the audience sizes."""
    read = InboxRead.objects.filter(message_id=OuterRef("pk"), member_id=reader.member_id)
    return InboxMessage.objects.filter(_visible(reader)).exclude(Exists(read)).count()


def inbox_unread_ids(*, reader: Reader) -> list[int]:
    read = InboxRead.objects.filter(message_id=OuterRef("pk"), member_id=reader.member_id)
    return list(InboxMessage.objects.filter(_visible(reader)).exclude(Exists(read)).values_list("pk", flat=True))


def inbox_sent_list(*, mall_group_id: int | None) -> QuerySet[InboxMessage]:
    """Messages sent by the group (all groups for the platform), newest first, with how many members opened each."""
    qs = InboxMessage.objects.all()
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.annotate(read_count=Count("reads")).order_by("-sent_at", "-pk")
