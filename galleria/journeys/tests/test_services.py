"""Journeys end to end on the database: triggers enter members once per occurrence; steps run in order, waits
wait, branches branch, messages obey consent, caps and quiet hours; coupons, points and tags are granted exactly
once however often the sweep runs; a refused grant is recorded and the member goes on; pausing holds everyone where
they are; a new version takes new entrants only; stopping lets everyone out."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from galleria.audience import services as audience_services
from galleria.audience.models import MemberTag
from galleria.audience.tests.helpers import member, sale
from galleria.audit.types import Actor
from galleria.campaigns.models import MarketingSend, MarketingSettings
from galleria.coupons.models import Coupon
from galleria.coupons.tests.helpers import template as coupon_template
from galleria.journeys import selectors, services
from galleria.journeys.exceptions import JourneyInvalidError, JourneyStateError
from galleria.journeys.models import Enrollment, StepRun
from galleria.ledger.models import Transaction
from galleria.members.models import Consent
from galleria.messaging.models import InboxMessage, SmsMessage
from galleria.points.models import PointsLot

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
NOON = dt.datetime(2026, 12, 8, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai: outside the quiet hours
DAY = dt.timedelta(days=1)

WELCOME = {
    "steps": [
        {
            "id": "hello",
            "kind": "message",
            "inbox": True,
            "sms": True,
            "title": "欢迎加入",
            "body": "欢迎",
            "sms_text": "欢迎",
        },
        {"id": "w", "kind": "wait", "minutes": 24 * 60},
        {
            "id": "b",
            "kind": "branch",
            "test": "purchased",
            "yes": [{"id": "thanks", "kind": "points", "points": 100}],
            "no": [{"id": "nudge", "kind": "coupon", "template_id": 0}],
        },
    ]
}


def _journey(world, trigger="joined", definition=None, publish=True, **values):
    definition = definition or WELCOME
    if definition is WELCOME:
        tpl = coupon_template(world)
        definition = {
            "steps": [
                *WELCOME["steps"][:2],
                {**WELCOME["steps"][2], "no": [{"id": "nudge", "kind": "coupon", "template_id": tpl.pk}]},
            ]
        }
    j = services.journey_save(
        mall_group_id=world.group.pk,
        actor=ACTOR,
        values={"name": "新会员欢迎旅程", "trigger": trigger, "draft": definition, **values},
    )
    if publish:
        j = services.journey_publish(mall_group_id=world.group.pk, journey_id=j.pk, actor=ACTOR, now=NOON - DAY)
    return j


def _join(world, at=NOON, **kw):
    with time_machine.travel(at, tick=False):
        return member(world, joined_at=at, **kw)


def _runs(enrollment):
    return dict(StepRun.objects.filter(enrollment=enrollment).values_list("step", "outcome"))


def test_a_new_member_is_welcomed_waits_a_day_and_is_rewarded_for_buying(world):
    j = _journey(world)
    buyer, idle = _join(world), _join(world)
    Consent.objects.create(member=buyer, purpose="marketing_sms", is_granted=True, channel="app")
    e_buyer, e_idle = (Enrollment.objects.get(journey=j, member=m) for m in (buyer, idle))
    assert e_buyer.key == "once" and e_buyer.step == "hello"

    assert services.journeys_advance(now=NOON) == 2
    assert InboxMessage.objects.filter(member_id__in=[buyer.pk, idle.pk]).count() == 2
    assert SmsMessage.objects.count() == 1  # only the buyer consented to SMS
    e_buyer.refresh_from_db()
    assert e_buyer.step == "w" and e_buyer.wake_at == NOON + DAY and e_buyer.waiting_since == NOON
    assert services.journeys_advance(now=NOON + DAY - dt.timedelta(minutes=1)) == 0  # still waiting

    sale(world, buyer, at=NOON + dt.timedelta(hours=5))
    assert services.journeys_advance(now=NOON + DAY) == 2
    for e in (e_buyer, e_idle):
        e.refresh_from_db()
        assert e.status == "done" and e.finished_at == NOON + DAY
    assert _runs(e_buyer) == {"hello": "done", "w": "done", "b": "yes", "thanks": "done"}
    assert _runs(e_idle) == {"hello": "done", "w": "done", "b": "no", "nudge": "done"}
    assert PointsLot.objects.get(member=buyer).points == 100
    grant = Transaction.objects.get(source=f"journey:{e_buyer.pk}:thanks")
    assert grant.kind == "adjust" and grant.explanation["journey"] == j.pk
    assert Coupon.objects.get(member=idle).source == "journey"
    assert not Coupon.objects.filter(member=buyer).exists()


def test_every_step_happens_once_however_often_the_sweep_runs(world):
    j = _journey(
        world,
        definition={
            "steps": [
                {"id": "m", "kind": "message", "inbox": True, "title": "t", "body": "b"},
                {"id": "p", "kind": "points", "points": 30},
            ]
        },
    )
    m = _join(world)
    for _ in range(3):
        services.journeys_advance(now=NOON)
        services.on_trigger(trigger="joined", member_id=m.pk, key="joined", now=NOON)  # the event again
    assert Enrollment.objects.filter(journey=j, member=m).count() == 1
    assert InboxMessage.objects.filter(member_id=m.pk).count() == 1
    assert PointsLot.objects.filter(member=m).count() == 1
    assert StepRun.objects.count() == 2
    assert MarketingSend.objects.get(member=m).origin == f"journey:{j.pk}:m"


def test_a_step_that_fails_is_rolled_back_and_the_member_goes_on(world, monkeypatch):
    j = _journey(
        world,
        definition={
            "steps": [
                {"id": "p", "kind": "points", "points": 10},
                {"id": "m", "kind": "message", "inbox": True, "title": "t", "body": "b"},
            ]
        },
    )
    m = _join(world)
    real = services.campaign_services.marketing_deliver_in_tx
    monkeypatch.setattr(services.campaign_services, "marketing_deliver_in_tx", lambda **kw: 1 / 0)
    services.journeys_advance(now=NOON)
    e = Enrollment.objects.get(journey=j, member=m)
    assert e.status == "active" and e.step == "p" and e.failures == 1 and e.error == "ZeroDivisionError"
    assert not PointsLot.objects.filter(member=m).exists()  # the points step rolled back with the message's failure
    assert not StepRun.objects.exists()
    monkeypatch.setattr(services.campaign_services, "marketing_deliver_in_tx", real)
    services.journeys_advance(now=NOON)
    e.refresh_from_db()
    assert e.status == "done" and PointsLot.objects.filter(member=m).count() == 1


def test_an_enrollment_that_keeps_failing_is_given_up(world, monkeypatch):
    j = _journey(
        world, definition={"steps": [{"id": "m", "kind": "message", "inbox": True, "title": "t", "body": "b"}]}
    )
    m = _join(world)
    monkeypatch.setattr(services.campaign_services, "marketing_deliver_in_tx", lambda **kw: 1 / 0)
    for _ in range(services.MAX_FAILURES):
        services.journeys_advance(now=NOON)
    e = Enrollment.objects.get(journey=j, member=m)
    assert e.status == "failed" and e.failures == services.MAX_FAILURES
    assert services.journeys_advance(now=NOON) == 0


def test_a_refused_grant_is_recorded_and_the_journey_goes_on(world):
    tpl = coupon_template(world, total_quantity=1)
    j = _journey(
        world,
        definition={
            "steps": [
                {"id": "c", "kind": "coupon", "template_id": tpl.pk},
                {"id": "m", "kind": "message", "inbox": True, "title": "t", "body": "b"},
            ]
        },
    )
    first, second = _join(world), _join(world)
    services.journeys_advance(now=NOON)
    got = {e.member_id: _runs(e) for e in Enrollment.objects.filter(journey=j)}
    assert got[first.pk] == {"c": "done", "m": "done"}
    assert got[second.pk] == {"c": "failed", "m": "done"}
    assert StepRun.objects.get(enrollment__member=second, step="c").detail == "coupon.sold_out"
    assert Coupon.objects.filter(template=tpl).count() == 1


def test_messages_wait_for_the_end_of_the_quiet_hours(world):
    j = _journey(
        world, definition={"steps": [{"id": "m", "kind": "message", "inbox": True, "title": "t", "body": "b"}]}
    )
    night = dt.datetime(2026, 12, 8, 14, 30, tzinfo=dt.UTC)  # 22:30 in Shanghai
    m = _join(world, at=night)
    services.journeys_advance(now=night)
    e = Enrollment.objects.get(journey=j, member=m)
    assert e.status == "active" and e.wake_at == dt.datetime(2026, 12, 9, 1, 0, tzinfo=dt.UTC)  # 09:00 local
    assert not InboxMessage.objects.filter(member_id=m.pk).exists()
    services.journeys_advance(now=e.wake_at)
    assert InboxMessage.objects.filter(member_id=m.pk).count() == 1


def test_the_weekly_cap_skips_the_message_but_not_the_journey(world):
    MarketingSettings.objects.create(mall_group=world.group, weekly_cap=1)
    j = _journey(
        world,
        definition={
            "steps": [
                {"id": "m1", "kind": "message", "inbox": True, "title": "t", "body": "b"},
                {"id": "m2", "kind": "message", "inbox": True, "title": "t2", "body": "b2"},
                {"id": "p", "kind": "points", "points": 5},
            ]
        },
    )
    m = _join(world)
    services.journeys_advance(now=NOON)
    e = Enrollment.objects.get(journey=j, member=m)
    assert _runs(e) == {"m1": "done", "m2": "skipped", "p": "done"}
    assert StepRun.objects.get(enrollment=e, step="m2").detail == "capped"


def test_tags_and_segment_branches(world):
    tag = audience_services.tag_save(mall_group_id=world.group.pk, name="旅程常客", actor=ACTOR)
    women = audience_services.segment_save(
        mall_group_id=world.group.pk,
        name="女性",
        definition={"conditions": [{"field": "gender", "in": ["female"]}]},
        actor=ACTOR,
    )
    j = _journey(
        world,
        definition={
            "steps": [
                {
                    "id": "b",
                    "kind": "branch",
                    "test": "segment",
                    "segment_id": women.pk,
                    "yes": [{"id": "t", "kind": "tag", "tag_id": tag.pk}],
                    "no": [],
                },
            ]
        },
    )
    she, he = _join(world, gender="female"), _join(world, gender="male")
    services.journeys_advance(now=NOON)
    assert set(MemberTag.objects.filter(tag=tag).values_list("member_id", flat=True)) == {she.pk}
    tag.refresh_from_db()
    assert tag.member_count == 1
    assert _runs(Enrollment.objects.get(journey=j, member=he)) == {"b": "no"}


def test_only_members_of_the_entry_segment_enter(world):
    women = audience_services.segment_save(
        mall_group_id=world.group.pk,
        name="女性",
        definition={"conditions": [{"field": "gender", "in": ["female"]}]},
        actor=ACTOR,
    )
    j = _journey(world, entry_segment_id=women.pk)
    she = _join(world)
    she.gender = "female"
    she.save(update_fields=["gender"])
    services.on_trigger(trigger="joined", member_id=she.pk, key="joined", now=NOON)
    he = _join(world, gender="male")
    assert set(Enrollment.objects.filter(journey=j).values_list("member_id", flat=True)) == {she.pk}
    assert he.pk


def test_pause_holds_everyone_and_resume_goes_on(world):
    j = _journey(
        world, definition={"steps": [{"id": "m", "kind": "message", "inbox": True, "title": "t", "body": "b"}]}
    )
    m = _join(world)
    services.journey_pause(mall_group_id=world.group.pk, journey_id=j.pk, actor=ACTOR)
    late = _join(world)  # nobody enters a paused journey
    assert services.journeys_advance(now=NOON) == 0
    assert not Enrollment.objects.filter(member=late).exists()
    services.journey_resume(mall_group_id=world.group.pk, journey_id=j.pk, actor=ACTOR)
    assert services.journeys_advance(now=NOON) == 1
    assert InboxMessage.objects.filter(member_id=m.pk).count() == 1
    with pytest.raises(JourneyStateError):
        services.journey_resume(mall_group_id=world.group.pk, journey_id=j.pk, actor=ACTOR)


def test_a_new_version_takes_new_entrants_and_stop_lets_everyone_out(world):
    v1 = {
        "steps": [
            {"id": "w", "kind": "wait", "minutes": 60},
            {"id": "m", "kind": "message", "inbox": True, "title": "v1", "body": "b"},
        ]
    }
    j = _journey(world, definition=v1)
    early = _join(world)
    services.journeys_advance(now=NOON)
    v2 = {"steps": [{"id": "m2", "kind": "message", "inbox": True, "title": "v2", "body": "b"}]}
    services.journey_save(mall_group_id=world.group.pk, journey_id=j.pk, actor=ACTOR, values={"draft": v2})
    j = services.journey_publish(mall_group_id=world.group.pk, journey_id=j.pk, actor=ACTOR, now=NOON)
    late = _join(world)
    services.journeys_advance(now=NOON + dt.timedelta(hours=1))
    assert InboxMessage.objects.get(member_id=early.pk).title == "v1"
    assert InboxMessage.objects.get(member_id=late.pk).title == "v2"
    stats = selectors.journey_stats(journey=j)
    assert [v["number"] for v in stats["versions"]] == [2, 1]
    assert stats["versions"][1]["steps"]["m"]["done"] == 1 and stats["versions"][0]["steps"]["m2"]["done"] == 1

    waiting = _join(world)
    services.journey_stop(mall_group_id=world.group.pk, journey_id=j.pk, actor=ACTOR)
    assert Enrollment.objects.get(member=waiting).status == "exited"
    with pytest.raises(JourneyStateError):
        services.journey_save(mall_group_id=world.group.pk, journey_id=j.pk, actor=ACTOR, values={"name": "x"})


def test_invalid_journeys_name_the_field_and_step(world):
    with pytest.raises(JourneyInvalidError) as caught:
        services.journey_save(
            mall_group_id=world.group.pk,
            actor=ACTOR,
            values={
                "name": "",
                "trigger": "dormant",
                "trigger_days": 0,
                "draft": {
                    "steps": [
                        {"id": "c", "kind": "coupon", "template_id": 999999},
                        {"id": "t", "kind": "tag", "tag_id": 999999},
                    ]
                },
            },
        )
    assert set(caught.value.fields) == {"name", "trigger_days", "step:c", "step:t"}


def test_every_time_journeys_enter_once_per_occurrence(world):
    from galleria.tiers.services import tier_ladder_ensure_default, tier_override

    j = _journey(
        world, trigger="tier_up", reentry="every", definition={"steps": [{"id": "p", "kind": "points", "points": 1}]}
    )
    m = _join(world)
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    for code in ("silver", "gold"):
        tier_override(member_id=m.pk, level_code=code, until=dt.date(2027, 12, 31), reason="VIP", actor=ACTOR)
    keys = sorted(Enrollment.objects.filter(journey=j, member=m).values_list("key", flat=True))
    assert len(keys) == 2 and all(k.startswith("tier:") for k in keys)
