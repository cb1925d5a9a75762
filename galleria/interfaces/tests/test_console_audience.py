"""The audience console: the overview, the live count (JSON, errors with their path), saving a segment (errors inline,
422), its persona page, the export (phones masked unless the role may see them, audited), tags (create, import, give
to a segment), a member's manual tags, and a coupon grant to a saved segment."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.urls import reverse

from galleria.audience import services
from galleria.audience.models import MemberTag, Segment, Tag
from galleria.audience.tests.helpers import member, sale
from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.core import timeutil

from .test_console_views import login

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
FEMALE = {"match": "all", "conditions": [{"field": "gender", "in": ["female"]}]}


def _members(world):
    now = timeutil.now()
    a = member(world, joined_at=now - dt.timedelta(days=5), gender="female")
    b = member(world, joined_at=now - dt.timedelta(days=5), gender="male")
    sale(world, a, at=now - dt.timedelta(days=1), fen=50000)
    services.profiles_rebuild(mall_group_id=world.group.pk)
    return a, b


def test_the_overview_and_the_live_count(client, world):
    _members(world)
    login(client, world, "marketing")
    page = client.get(reverse("console:audience"))
    assert page.status_code == 200 and b'data-testid="aud-rfm-table"' in page.content
    url = reverse("console:audience_segment_count")
    ok = client.post(url, {"definition": json.dumps(FEMALE)})
    assert ok.status_code == 200 and ok.json() == {"count": 1, "total": 2}
    bad = client.post(url, {"definition": json.dumps({"conditions": [{"field": "age", "min": 50, "max": 20}]})})
    assert bad.status_code == 422 and bad.json()["path"] == "conditions.0" and bad.json()["error"]
    junk = client.post(url, {"definition": "{not json"})
    assert junk.status_code == 422


def test_saving_a_segment_with_errors_inline_then_its_page(client, world):
    _members(world)
    login(client, world, "marketing")
    url = reverse("console:audience_segment_new")
    assert client.get(url).status_code == 200
    missing = client.post(url, {"name": "", "definition": json.dumps(FEMALE)})
    assert missing.status_code == 422 and b'data-testid="seg-error"' in missing.content
    assert not Segment.objects.exists()
    saved = client.post(url, {"name": "女性", "definition": json.dumps(FEMALE)})
    segment = Segment.objects.get()
    assert saved.status_code == 302 and saved.url == reverse("console:audience_segment", args=[segment.pk])
    assert segment.last_count == 1
    page = client.get(saved.url)
    assert page.status_code == 200 and page.context["persona"]["size"] == 1
    assert b'data-testid="seg-conditions"' in page.content


def test_the_export_masks_phones_unless_the_role_may_see_them(client, world):
    a, _b = _members(world)
    segment = services.segment_save(mall_group_id=world.group.pk, name="女性", definition=FEMALE, actor=ACTOR)
    url = reverse("console:audience_segment_export", args=[segment.pk])
    login(client, world, "marketing")
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][0] == str(a.pk) and "****" in rows[1][2]
    assert AuditEvent.objects.filter(action="audience.segment_export").count() == 1
    client.logout()
    login(client, world, "service")
    assert client.get(url).status_code == 403


def test_tags_create_import_and_a_members_tags(client, world):
    a, b = _members(world)
    login(client, world, "marketing")
    created = client.post(reverse("console:audience_tags"), {"name": "VIP 沙龙"})
    tag = Tag.objects.get(name="VIP 沙龙")
    assert created.status_code == 302
    imported = client.post(reverse("console:audience_tag", args=[tag.pk]), {"lines": f"{a.phone}\n{b.phone},x\n123"})
    assert imported.context["report"]["added"] == 2 and imported.context["report"]["unknown"] == 1
    client.logout()
    login(client, world, "service")
    page = client.get(reverse("console:member_detail", args=[a.pk]))
    assert b'data-testid="member-audience"' in page.content and "VIP 沙龙" in page.content.decode()
    removed = client.post(reverse("console:member_tag", args=[a.pk]), {"tag": tag.pk, "action": "remove"})
    assert removed.status_code == 302 and not MemberTag.objects.filter(member=a, tag=tag).exists()
    assert client.post(reverse("console:audience_tags"), {"name": "x"}).status_code == 403  # service cannot create


def test_a_coupon_grant_to_a_saved_segment(client, world):
    from galleria.coupons.models import GrantBatch
    from galleria.coupons.tests.helpers import template as coupon_template

    a, _b = _members(world)
    segment = services.segment_save(mall_group_id=world.group.pk, name="女性", definition=FEMALE, actor=ACTOR)
    template = coupon_template(world)
    login(client, world, "marketing")
    url = reverse("console:coupon_grant_batch_new", args=[template.pk])
    resp = client.post(url, {"target": "saved", "saved_segment": segment.pk, "key": "k-seg-1"})
    assert resp.status_code == 302
    assert GrantBatch.objects.get().member_ids == [a.pk]


def test_the_member_page_lists_the_marketing_messages_received(client, world):
    from galleria.campaigns.models import Campaign, MarketingSend

    a, _b = _members(world)
    segment = services.segment_save(mall_group_id=world.group.pk, name="女性", definition=FEMALE, actor=ACTOR)
    c = Campaign.objects.create(
        mall_group=world.group, name="双十二预热", segment=segment, title="t", body="b", scheduled_at=timeutil.now()
    )
    MarketingSend.objects.create(
        mall_group=world.group, member=a, channel="sms", campaign=c, sent_at=timeutil.now(), reference="1"
    )
    login(client, world, "marketing")
    page = client.get(reverse("console:member_detail", args=[a.pk])).content.decode()
    assert 'data-testid="member-marketing"' in page and "双十二预热" in page
    client.logout()
    login(client, world, "service")  # no campaigns.view: the list is not shown
    assert (
        'data-testid="member-marketing"'
        not in client.get(reverse("console:member_detail", args=[a.pk])).content.decode()
    )
