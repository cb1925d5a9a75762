"""Reads of the in-app inbox (visibility is computed from the message's audience at read time, see models) and of
the WeChat and web push channels' reachability."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from .models import Audience, InboxMessage, InboxRead, PushSubscription, WechatSubscription


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


@dataclass(frozen=True)
class Reachability:
    """Which of the asked members each channel can reach now (sets of member ids).

    `wechat_subscribe`: has an accept left for the subscribe template asked about (empty when none was asked);
    `wechat_openid`: has given the mini-program an openid (accepted any template once); `push`: has at least one
    browser push subscription. Official-account template messages need the member's openid in the official account,
    which members hold (`members.selectors.member_wechat_openids`)."""

    wechat_subscribe: frozenset[int]
    wechat_openid: frozenset[int]
    push: frozenset[int]


def channels_reachable(*, member_ids: Sequence[int], wechat_template: str = "") -> Reachability:
    """Reachability of `member_ids` on the WeChat and web push channels; three indexed queries whatever the count.
    `wechat_template` is a Galleria template name (its subscribe template id comes from settings)."""
    ids = list({int(i) for i in member_ids})
    subs = WechatSubscription.objects.filter(member_id__in=ids)
    template_id = ""
    entry = (
        (settings.GALLERIA_WECHAT_TEMPLATES.get(wechat_template) or {}).get("subscribe") if wechat_template else None
    )
    if isinstance(entry, dict):
        template_id = str(entry.get("id") or "")
    subscribe = (
        set(subs.filter(template_id=template_id, remaining__gt=0).values_list("member_id", flat=True))
        if template_id
        else set()
    )
    return Reachability(
        wechat_subscribe=frozenset(subscribe),
        wechat_openid=frozenset(subs.values_list("member_id", flat=True).distinct()),
        push=frozenset(
            PushSubscription.objects.filter(member_id__in=ids).values_list("member_id", flat=True).distinct()
        ),
    )


def push_subscription_endpoints(*, member_id: int) -> list[str]:
    """The endpoints of the member's browser subscriptions (the member app shows whether this browser is one)."""
    return list(PushSubscription.objects.filter(member_id=member_id).values_list("endpoint", flat=True))


def wechat_quota(*, member_id: int) -> dict[str, int]:
    """Subscribe template id → accepts the member has left."""
    return dict(WechatSubscription.objects.filter(member_id=member_id).values_list("template_id", "remaining"))


def inbox_messages_read(*, message_ids: Sequence[int]) -> int:
    """How many of these (per-member) inbox messages their member has opened: a campaign's "opened in the app"."""
    ids = [int(i) for i in message_ids]
    return sum(InboxRead.objects.filter(message_id__in=ids[i : i + 5000]).count() for i in range(0, len(ids), 5000))
