"""The in-app inbox: one row per message whatever the audience, visibility by audience, reads per member."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.messaging import selectors, services
from galleria.messaging.exceptions import InboxMessageInvalidError, InboxMessageNotFoundError
from galleria.messaging.models import InboxMessage, InboxRead

pytestmark = pytest.mark.django_db
ACTOR = Actor(user_id=None, label="marketing")


def reader(world, member_id=1, tier=None, joined=None, group=None):
    return selectors.Reader(
        mall_group_id=(group or world.group).pk,
        member_id=member_id,
        tier_level_id=tier,
        joined_at=joined or timezone.now() - dt.timedelta(days=1),
    )


def send(world, audience="all", **kw):
    return services.inbox_send(
        mall_group_id=kw.pop("group", world.group).pk,
        audience=audience,
        title=kw.pop("title", "Hello"),
        body=kw.pop("body", "Spring sale"),
        actor=ACTOR,
        **kw,
    )


def test_audiences(world):
    everyone = send(world)
    gold = send(world, "tier", tier_level_id=7, title="Gold only")
    direct = send(world, "member", member_id=2, title="For you")
    send(world, group=world.other_group, title="Other group")
    assert InboxMessage.objects.count() == 4  # one row each, however many members
    assert [m.pk for m in selectors.inbox_list(reader=reader(world, 1))] == [everyone.pk]
    assert {m.pk for m in selectors.inbox_list(reader=reader(world, 1, tier=7))} == {everyone.pk, gold.pk}
    assert {m.pk for m in selectors.inbox_list(reader=reader(world, 2))} == {everyone.pk, direct.pk}
    # a broadcast sent before the member joined is not theirs; a direct message is
    late = reader(world, 2, joined=timezone.now() + dt.timedelta(seconds=5))
    assert [m.pk for m in selectors.inbox_list(reader=late)] == [direct.pk]
    assert AuditEvent.objects.filter(action="inbox.send").count() == 4


def test_unread_count_and_marking_read(world):
    a = send(world, title="A")
    send(world, title="B")
    r = reader(world, 1)
    assert selectors.inbox_unread_count(reader=r) == 2
    services.inbox_mark_read(reader=r, message_id=a.pk)
    services.inbox_mark_read(reader=r, message_id=a.pk)  # idempotent
    assert InboxRead.objects.filter(member_id=1).count() == 1
    assert selectors.inbox_unread_count(reader=r) == 1
    assert selectors.inbox_unread_count(reader=reader(world, 2)) == 2  # reads are per member
    assert services.inbox_mark_all_read(reader=r) == 1
    assert selectors.inbox_unread_count(reader=r) == 0
    with CaptureQueriesContext(connection) as ctx:
        selectors.inbox_unread_count(reader=r)
    assert len(ctx.captured_queries) == 1


def test_someone_elses_message_cannot_be_marked(world):
    direct = send(world, "member", member_id=2)
    with pytest.raises(InboxMessageNotFoundError):
        services.inbox_mark_read(reader=reader(world, 1), message_id=direct.pk)
    other = send(world, group=world.other_group)
    with pytest.raises(InboxMessageNotFoundError):
        services.inbox_mark_read(reader=reader(world, 2), message_id=other.pk)
    assert InboxRead.objects.count() == 0


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 61}, "title"),
        ({"body": ""}, "body"),
        ({"body": "x" * 2001}, "body"),
        ({"audience": "tier"}, "tier"),
        ({"audience": "member"}, "member"),
        ({"audience": "everyone"}, "audience"),
    ],
)
def test_invalid_messages_are_refused(world, kw, field):
    audience = kw.pop("audience", "all")
    with pytest.raises(InboxMessageInvalidError) as exc:
        send(world, audience, **kw)
    assert field in exc.value.fields
    assert InboxMessage.objects.count() == 0
