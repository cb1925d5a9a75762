"""Campaigns end to end on the database: the segment's members are drawn once into the treated group and the
hold-out; treated members get an inbox message, an SMS only with consent and a phone, the coupon; the hold-out gets
nothing; the weekly cap and quiet hours hold; a second run sends nothing twice; cancelling stops the rest; the report
compares what each group bought."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from galleria.audience import services as audience_services
from galleria.audience.tests.helpers import member, sale
from galleria.audit.types import Actor
from galleria.campaigns import rules, selectors, services
from galleria.campaigns.exceptions import CampaignInvalidError, CampaignStateError
from galleria.campaigns.models import Campaign, CampaignMember, MarketingSend, MarketingSettings
from galleria.coupons.models import Coupon, GrantBatch
from galleria.coupons.tests.helpers import template as coupon_template
from galleria.members.models import Consent
from galleria.messaging.models import InboxMessage, SmsMessage

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
NOON = dt.datetime(2026, 12, 8, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai: outside the quiet hours


def _setup(world, n=40, holdout_bp=2500, **extra):
    with time_machine.travel(NOON - dt.timedelta(days=1), tick=False):
        members = [member(world, joined_at=NOON - dt.timedelta(days=30), gender="female") for _ in range(n)]
    for m in members[::2]:
        Consent.objects.create(member=m, purpose="marketing_sms", is_granted=True, channel="app")
    segment = audience_services.segment_save(
        mall_group_id=world.group.pk,
        name="女性",
        definition={"conditions": [{"field": "gender", "in": ["female"]}]},
        actor=ACTOR,
    )
    values = {
        "name": "双十二预热",
        "segment_id": segment.pk,
        "holdout_bp": holdout_bp,
        "send_inbox": True,
        "send_sms": True,
        "title": "双十二会员专享",
        "body": "12 月 12 日全场满 300 减 50，会员再享双倍积分。",
        "sms_text": "满300减50，会员双倍积分",
        "scheduled_at": NOON,
        **extra,
    }
    with time_machine.travel(NOON, tick=False):
        c = services.campaign_save(mall_group_id=world.group.pk, actor=ACTOR, values=values)
    return c, members


def _run(world, c, at=NOON):
    with time_machine.travel(at, tick=False):
        services.campaign_schedule(mall_group_id=world.group.pk, campaign_id=c.pk, actor=ACTOR)
        return services.campaign_run(campaign_id=c.pk, now=at)


def test_treated_members_receive_it_and_the_holdout_nothing(world):
    tpl = coupon_template(world)
    c, members = _setup(world, coupon_template_id=tpl.pk)
    c = _run(world, c)
    assert c.status == "sent" and c.members == 40
    rows = {r.member_id: r for r in CampaignMember.objects.filter(campaign=c)}
    held = {m for m, r in rows.items() if r.arm == "holdout"}
    assert held == {m.pk for m in members if rules.in_holdout(c.pk, m.pk, 2500)}
    assert 0 < len(held) < 40 and c.held_out == len(held) and c.treated == 40 - len(held)
    treated = set(rows) - held
    inbox = set(InboxMessage.objects.filter(audience="member").values_list("member_id", flat=True))
    assert inbox == treated
    consenting = {m.pk for m in members[::2]}
    sms_members = {r.member_id for r in rows.values() if r.sms_message_id}
    assert sms_members == treated & consenting
    assert SmsMessage.objects.filter(template="marketing_notice").count() == len(sms_members)
    assert all(r.sms_skip == "no_consent" for m, r in rows.items() if m in treated - consenting)
    assert MarketingSend.objects.filter(campaign=c).count() == len(treated) + len(sms_members)
    assert c.inbox_sent == len(treated) and c.sms_sent == len(sms_members)
    batch = GrantBatch.objects.get(pk=c.grant_batch_id)
    assert sorted(batch.member_ids) == sorted(treated)
    assert set(Coupon.objects.filter(template=tpl).values_list("member_id", flat=True)) == treated

    again = services.campaign_run(campaign_id=c.pk, now=NOON + dt.timedelta(minutes=5))  # nothing twice
    assert again.status == "sent"
    assert InboxMessage.objects.filter(audience="member").count() == len(treated)
    assert SmsMessage.objects.count() == len(sms_members)


def test_the_weekly_cap_counts_every_channel(world):
    MarketingSettings.objects.create(mall_group=world.group, weekly_cap=1)
    c, _members = _setup(world, n=6, holdout_bp=0)
    c = _run(world, c)
    assert c.inbox_sent == 6
    c2 = services.campaign_save(
        mall_group_id=world.group.pk,
        actor=ACTOR,
        values={
            "name": "第二波",
            "segment_id": c.segment_id,
            "holdout_bp": 0,
            "title": "再次提醒",
            "body": "别错过",
            "send_inbox": True,
            "send_sms": False,
            "scheduled_at": NOON,
        },
    )
    c2 = _run(world, c2, NOON + dt.timedelta(hours=1))
    assert c2.inbox_sent == 0 and c2.skipped == 6
    assert set(CampaignMember.objects.filter(campaign=c2).values_list("sms_skip", flat=True)) == {"capped"}


def test_quiet_hours_hold_the_campaign_until_morning(world):
    c, _members = _setup(world, n=4, holdout_bp=0)
    night = dt.datetime(2026, 12, 8, 15, 0, tzinfo=dt.UTC)  # 23:00 Shanghai
    c = _run(world, c, night)
    assert c.status == "sending" and c.inbox_sent == 0
    morning = dt.datetime(2026, 12, 9, 1, 0, tzinfo=dt.UTC)  # 09:00 Shanghai
    with time_machine.travel(morning, tick=False):
        assert services.campaigns_run_due(now=morning) == 1
    c.refresh_from_db()
    assert c.status == "sent" and c.inbox_sent == 4


def test_cancel_stops_and_drafts_are_checked(world):
    c, _members = _setup(world, n=3)
    with pytest.raises(CampaignInvalidError) as caught:
        services.campaign_save(
            mall_group_id=world.group.pk, actor=ACTOR, campaign_id=c.pk, values={"send_sms": True, "sms_text": ""}
        )
    assert "sms_text" in caught.value.fields
    services.campaign_cancel(mall_group_id=world.group.pk, campaign_id=c.pk, actor=ACTOR)
    with pytest.raises(CampaignStateError):
        services.campaign_schedule(mall_group_id=world.group.pk, campaign_id=c.pk, actor=ACTOR)
    assert services.campaign_run(campaign_id=c.pk).status == "cancelled"
    assert not CampaignMember.objects.exists() and not InboxMessage.objects.exists()


def test_the_report_compares_the_groups(world):
    c, members = _setup(world, n=40, holdout_bp=5000)
    c = _run(world, c)
    rows = {r.member_id: r.arm for r in CampaignMember.objects.filter(campaign=c)}
    by_id = {m.pk: m for m in members}
    with time_machine.travel(NOON + dt.timedelta(days=2), tick=False):
        for member_id, arm in rows.items():
            if arm == "treated":
                sale(world, by_id[member_id], at=NOON + dt.timedelta(days=1), fen=20000)
        held = [m for m, arm in rows.items() if arm == "holdout"]
        sale(world, by_id[held[0]], at=NOON + dt.timedelta(days=1), fen=20000)
        sale(world, by_id[held[0]], at=NOON - dt.timedelta(days=1), fen=99999)  # before the start: not counted
    report = selectors.report(campaign=Campaign.objects.get(pk=c.pk), now=NOON + dt.timedelta(days=3))
    assert report.treated.buyers == c.treated and report.treated.spend_fen == 20000 * c.treated
    assert report.holdout.buyers == 1 and report.holdout.spend_fen == 20000
    assert report.incremental_fen == 20000 * c.treated - round(20000 / c.held_out * c.treated)
    assert report.conversion.significant and not report.complete
    assert report.sms_cost_fen == c.sms_sent * 5 and report.cost_fen == report.sms_cost_fen
    assert report.roi_bp == (report.incremental_fen - report.cost_fen) * 10000 // report.cost_fen
