"""The e-mail channel of campaigns and journeys: only with consent and an address; each e-mail carries a tracked
link, an open pixel and an unsubscribe link by its own token; opening, clicking and unsubscribing are recorded once
and show in the report; an unsubscribed member gets no more marketing e-mail."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from galleria.audience import services as audience_services
from galleria.audience.tests.helpers import member
from galleria.audit.types import Actor
from galleria.campaigns import selectors, services
from galleria.campaigns.models import MarketingSend
from galleria.members.models import Consent
from galleria.members.selectors import marketing_allowed_ids
from galleria.messaging.models import EmailMessage, InboxMessage, InboxRead

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
NOON = dt.datetime(2026, 12, 8, 4, 0, tzinfo=dt.UTC)


def _campaign(world, members, **extra):
    segment = audience_services.segment_save(
        mall_group_id=world.group.pk,
        name=f"女性 {extra.get('name', '')}",
        definition={"conditions": [{"field": "gender", "in": ["female"]}]},
        actor=ACTOR,
    )
    values = {
        "name": "会员日",
        "segment_id": segment.pk,
        "holdout_bp": 0,
        "send_inbox": True,
        "send_email": True,
        "title": "会员日 & 新品",
        "body": "周六会员日，全场双倍积分。\n<限时>",
        "scheduled_at": NOON,
        **extra,
    }
    with time_machine.travel(NOON, tick=False):
        c = services.campaign_save(mall_group_id=world.group.pk, actor=ACTOR, values=values)
        services.campaign_schedule(mall_group_id=world.group.pk, campaign_id=c.pk, actor=ACTOR)
        return services.campaign_run(campaign_id=c.pk, now=NOON)


def _members(world, n=4):
    with time_machine.travel(NOON - dt.timedelta(days=1), tick=False):
        members = [member(world, joined_at=NOON - dt.timedelta(days=30), gender="female") for _ in range(n)]
    for i, m in enumerate(members):
        m.email = f"m{i}@example.com" if i != 3 else ""
        m.save(update_fields=["email"])
    for m in members[:2] + members[3:]:
        Consent.objects.create(member=m, purpose="marketing_email", is_granted=True, channel="app")
    return members


def test_email_goes_only_with_consent_and_an_address_with_its_links(world, settings):
    settings.GALLERIA_PUBLIC_URL = "https://mall.example.com"
    members = _members(world)
    c = _campaign(world, members)
    assert c.email_sent == 2 and c.inbox_sent == 4
    mails = {e.to: e for e in EmailMessage.objects.all()}
    assert set(mails) == {"m0@example.com", "m1@example.com"}  # m2: no consent; m3: no address
    send = MarketingSend.objects.get(channel="email", member=members[0])
    mail = mails["m0@example.com"]
    assert mail.subject == "会员日 & 新品" and mail.template == "marketing_email"
    assert f"https://mall.example.com/m/{send.token}/c" in mail.body
    assert f"https://mall.example.com/m/{send.token}/unsubscribe" in mail.body
    assert f'src="https://mall.example.com/m/{send.token}/o.gif"' in mail.html_body
    assert "&lt;限时&gt;" in mail.html_body and "会员日 &amp; 新品" in mail.html_body  # escaped
    assert len({s.token for s in MarketingSend.objects.filter(channel="email")}) == 2


def test_opens_clicks_and_inbox_reads_are_counted_once(world, client):
    members = _members(world)
    c = _campaign(world, members)
    first, second = MarketingSend.objects.filter(channel="email").order_by("member_id")
    assert client.get(f"/m/{first.token}/o.gif").status_code == 200
    assert client.get(f"/m/{first.token}/o.gif")["Content-Type"] == "image/gif"
    response = client.get(f"/m/{second.token}/c")  # images blocked: the click counts as an open too
    assert response.status_code == 302 and response["Location"] == "/app/inbox/"
    client.get(f"/m/{second.token}/c")
    assert client.get("/m/not-a-real-token/o.gif").status_code == 200  # unknown: nothing recorded, no error
    message = InboxMessage.objects.get(member_id=members[0].pk)
    InboxRead.objects.create(message=message, member_id=members[0].pk, read_at=NOON)
    rows = {r["channel"]: r for r in selectors.report(campaign=c).engagement}
    assert (rows["email"]["sent"], rows["email"]["opened"], rows["email"]["clicked"]) == (2, 2, 1)
    assert rows["inbox"]["sent"] == 4 and rows["inbox"]["opened"] == 1 and rows["inbox"]["clicked"] is None


def test_unsubscribing_stops_the_next_marketing_email(world, client):
    members = _members(world)
    _campaign(world, members)
    send = MarketingSend.objects.filter(channel="email").order_by("member_id").first()
    page = client.get(f"/m/{send.token}/unsubscribe")
    assert page.status_code == 200 and b"unsubscribe-confirm" in page.content
    assert members[0].pk in marketing_allowed_ids(member_ids=[members[0].pk], channel="email")  # GET changes nothing
    done = client.post(f"/m/{send.token}/unsubscribe")
    assert done.status_code == 200 and b"unsubscribe-done" in done.content
    assert not marketing_allowed_ids(member_ids=[members[0].pk], channel="email")
    assert client.post("/m/unknown-token-123/unsubscribe").status_code == 404
    EmailMessage.objects.all().delete()
    _campaign(world, members, name="第二场")
    assert set(EmailMessage.objects.values_list("to", flat=True)) == {"m1@example.com"}


def test_wechat_needs_consent_and_an_accepted_template_and_push_a_subscription(world, client, settings):
    from galleria.messaging.models import PushMessage, PushSubscription, WechatMessage, WechatSubscription

    settings.GALLERIA_WECHAT_TEMPLATES = {
        "marketing_notice": {"subscribe": {"id": "TPL-MKT", "fields": {"thing1": "title", "thing2": "detail"}}}
    }
    members = _members(world)
    for m in members[:2]:
        Consent.objects.create(member=m, purpose="marketing_wechat", is_granted=True, channel="app")
    for m in (members[0], members[2]):  # members[1] never accepted the template; members[2] has no consent
        WechatSubscription.objects.create(
            member_id=m.pk, openid=f"o{m.pk}", template_id="TPL-MKT", remaining=1, accepted_at=NOON
        )
    PushSubscription.objects.create(
        member_id=members[3].pk, endpoint="https://push.example.com/1", p256dh="k" * 87, auth="a" * 22
    )
    c = _campaign(world, members, send_inbox=False, send_email=False, send_wechat=True, send_push=True)
    assert c.wechat_sent == 1 and c.push_sent == 1
    assert list(WechatMessage.objects.values_list("member_id", flat=True)) == [members[0].pk]
    push = PushMessage.objects.get()
    assert push.member_id == members[3].pk and push.url.startswith("/m/") and push.url.endswith("/c")
    assert client.get(push.url).status_code == 302  # the notification was clicked
    rows = {r["channel"]: r for r in selectors.report(campaign=c).engagement}
    assert rows["push"]["clicked"] == 1 and rows["wechat"]["sent"] == 1 and rows["wechat"]["opened"] is None
