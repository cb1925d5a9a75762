"""Reads of the outboxes and the inbox for a member's data export (privacy, docs/privacy.md "Data export").

Messaging sits below members, so it knows a member only by the phone, the e-mail address and the plain member id
the caller passes. Each read is one query on an indexed column."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from .models import (
    Audience,
    EmailMessage,
    InboxMessage,
    InboxRead,
    PushMessage,
    PushSubscription,
    SmsMessage,
    WechatMessage,
    WechatSubscription,
)


def sms_to_phone(*, phone: str, since: dt.datetime) -> QuerySet[SmsMessage]:
    """SMS messages sent to `phone` (E.164) since `since`, oldest first; none for an empty phone. `since` keeps out
    what an earlier holder of the number was sent."""
    if not phone:
        return SmsMessage.objects.none()
    return SmsMessage.objects.filter(phone=phone, created_at__gte=since).order_by("created_at", "pk")


def emails_to_address(*, address: str, since: dt.datetime) -> QuerySet[EmailMessage]:
    """E-mails sent to `address` (as written, or in lower case) since `since`, oldest first; none for an empty
    address. An exact match, so the index on the recipient serves it."""
    if not address:
        return EmailMessage.objects.none()
    return EmailMessage.objects.filter(to__in={address, address.lower()}, created_at__gte=since).order_by(
        "created_at", "pk"
    )


def inbox_of_member(*, mall_group_id: int, member_id: int) -> QuerySet[InboxMessage]:
    """The inbox messages addressed to this member, and the group's broadcasts they opened, oldest first, each
    annotated `read_at` (None: not opened)."""
    reads = InboxRead.objects.filter(message_id=OuterRef("pk"), member_id=member_id)
    return (
        InboxMessage.objects.filter(mall_group_id=mall_group_id)
        .filter(Q(audience=Audience.MEMBER, member_id=member_id) | Q(Exists(reads)))
        .annotate(read_at=Subquery(reads.values("read_at")[:1]))
        .order_by("sent_at", "pk")
    )


def wechat_messages_of_member(*, member_id: int) -> QuerySet[WechatMessage]:
    """WeChat messages sent to the member, oldest first."""
    return WechatMessage.objects.filter(member_id=member_id).order_by("created_at", "pk")


def wechat_subscriptions_of_member(*, member_id: int) -> QuerySet[WechatSubscription]:
    """The member's remaining accepts of subscribe-message templates."""
    return WechatSubscription.objects.filter(member_id=member_id).order_by("pk")


def push_subscriptions_of_member(*, member_id: int) -> QuerySet[PushSubscription]:
    """The member's browser push subscriptions."""
    return PushSubscription.objects.filter(member_id=member_id).order_by("pk")


def push_messages_of_member(*, member_id: int) -> QuerySet[PushMessage]:
    """Push messages sent to the member's browsers, oldest first."""
    return PushMessage.objects.filter(member_id=member_id).order_by("created_at", "pk")
