"""Training on planted data, the request path (reasons, business rules, query count), the PIPL switch, the
offline evaluation stored on the model, the export section and the console switches."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.members.services import consent_record
from galleria.recommendations import selectors, services
from galleria.recommendations.exceptions import BlockUnknownError, NothingToTrainError
from galleria.recommendations.models import RecEntry, RecModel
from galleria.recommendations.selectors_privacy import member_export_sections
from galleria.recommendations.types import EntryKind, ReasonKind

from .helpers import members, merchant, planted_world, sales

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def switch_off(member):
    consent_record(member_id=member.pk, purpose="recommendations", is_granted=False, channel="app", actor=ACTOR)


def test_training_needs_purchases(world) -> None:
    with pytest.raises(NothingToTrainError):
        services.model_train(mall_group_id=world.group.pk)


def test_training_on_planted_tastes_recommends_the_members_group(world) -> None:
    planted = planted_world(world)
    model = services.model_train(mall_group_id=world.group.pk)
    assert model.version == 1 and model.is_active
    assert model.stats["members"] == 240 and model.stats["merchants"] == len(planted.merchants)
    assert RecEntry.objects.filter(model=model, kind=EntryKind.NEIGHBOUR).exists()
    assert RecEntry.objects.filter(model=model, kind=EntryKind.POPULAR, segment="seg:||").exists()
    inside = total = 0
    for no in range(1, 41):
        member = planted.members[no]
        own = {planted.merchants[i].pk for i in planted.data.merchants_of_group[planted.data.group_of_member[no]]}
        result = selectors.for_member(member=member, limit=3)
        assert result.personalised and not result.switched_off and result.model_version == 1
        bought = {m for m, _n in result.seeds}
        for pick in result.merchants:
            assert pick.merchant_id not in bought  # never what the member already shops at
            if pick.reason in (ReasonKind.OFTEN, ReasonKind.ALSO):
                assert pick.because_id in bought  # the reason names one of the member's own merchants
                assert pick.because
            total += 1
            inside += pick.merchant_id in own
    assert inside / total > 0.6
    again = services.model_train(mall_group_id=world.group.pk)
    assert again.version == 2
    assert list(RecModel.objects.filter(is_active=True).values_list("version", flat=True)) == [2]


def test_reason_often_for_a_frequent_merchant(world) -> None:
    tea, cake, shoes = merchant(world, "喜茶X"), merchant(world, "蛋糕店"), merchant(world, "鞋店")
    me, *others = members(world, 6)
    now = timeutil.now()
    rows = [(me, tea, now - dt.timedelta(days=d)) for d in (1, 2, 3)]
    for o in others:
        rows += [(o, tea, now - dt.timedelta(days=5)), (o, cake, now - dt.timedelta(days=4))]
    rows.append((others[0], shoes, now - dt.timedelta(days=3)))
    sales(world, rows)
    services.model_train(mall_group_id=world.group.pk)
    result = selectors.for_member(member=me)
    first = result.merchants[0]
    assert (first.merchant_id, first.reason, first.because) == (cake.pk, ReasonKind.OFTEN, "喜茶X")
    assert tea.pk not in [p.merchant_id for p in result.merchants]


def test_non_shopping_channels_are_not_training_data(world) -> None:
    park = merchant(world, "停车场")
    (m,) = members(world, 1)
    sales(world, [(m, park, timeutil.now() - dt.timedelta(days=1))], channel="parking")
    with pytest.raises(NothingToTrainError):
        services.model_train(mall_group_id=world.group.pk)


def test_switched_off_member_gets_popular_content_and_is_left_out_of_training(world) -> None:
    planted = planted_world(world, n_members=80)
    me = planted.members[1]
    switch_off(me)
    assert not selectors.is_personalised(member_id=me.pk)
    model = services.model_train(mall_group_id=world.group.pk)
    assert model.stats["members"] == 79 and model.stats["excluded_members"] == 1
    result = selectors.for_member(member=me)
    assert result.switched_off and not result.personalised and result.seeds == ()
    assert result.merchants and {p.reason for p in result.merchants} <= {ReasonKind.SEGMENT, ReasonKind.POPULAR}
    consent_record(member_id=me.pk, purpose="recommendations", is_granted=True, channel="app", actor=ACTOR)
    assert selectors.for_member(member=me).personalised


def test_cold_start_member_gets_segment_popularity(world) -> None:
    planted_world(world, n_members=60)
    services.model_train(mall_group_id=world.group.pk)
    (newcomer,) = members(world, 1)
    result = selectors.for_member(member=newcomer, limit=5)
    assert len(result.merchants) == 5 and not result.personalised
    assert all(p.reason in (ReasonKind.SEGMENT, ReasonKind.POPULAR) for p in result.merchants)


def test_without_a_model_nothing_breaks(world) -> None:
    (m,) = members(world, 1)
    result = selectors.for_member(member=m)
    assert result.merchants == () and result.model_version is None


def test_request_path_is_four_queries(world) -> None:
    planted = planted_world(world, n_members=60)
    services.model_train(mall_group_id=world.group.pk)
    member = planted.members[3]
    with CaptureQueriesContext(connection) as ctx:
        result = selectors.for_member(member=member)
    assert result.merchants
    assert len(ctx.captured_queries) <= 4, [q["sql"] for q in ctx.captured_queries]


def test_evaluation_on_planted_data_beats_popularity_and_is_stored(world) -> None:
    planted_world(world, n_members=400, seed=21)
    services.model_train(mall_group_id=world.group.pk)
    result = services.model_evaluate(mall_group_id=world.group.pk, test_days=30)
    assert result.members > 50
    lift = result.lift()
    assert lift is not None and lift >= 0.20, result.as_json()
    model = selectors.model_active(mall_group_id=world.group.pk)
    assert model is not None and model.metrics["model"]["hit_rate"] == round(result.model.hit_rate, 4)
    assert model.metrics["test_days"] == 30


def test_commands_train_and_evaluate(world) -> None:
    planted_world(world, n_members=120)
    out = StringIO()
    call_command("recommendations_train", "--group", str(world.group.pk), "--evaluate", stdout=out)
    assert "model v1" in out.getvalue() and "hit_rate" in out.getvalue()
    out = StringIO()
    call_command("recommendations_evaluate", "--group", str(world.group.pk), stdout=out)
    assert "popularity" in out.getvalue() and "random" in out.getvalue()
    out = StringIO()
    call_command("recommendations_train", "--group", str(world.other_group.pk), stdout=out)
    assert "no purchases" in out.getvalue()


def test_export_lists_the_members_profile_only(world) -> None:
    planted = planted_world(world, n_members=60)
    services.model_train(mall_group_id=world.group.pk)
    me = planted.members[2]
    sections = member_export_sections(member_id=me.pk, mall_group_id=world.group.pk)
    (profile,) = sections["recommendation_profile"]
    assert profile["personalised_recommendations"] is True
    mine = {m for m, _n in selectors.for_member(member=me).seeds}
    assert {row["merchant_id"] for row in profile["based_on_your_merchants"]} == mine
    assert all(row["merchant"] for row in profile["based_on_your_merchants"])
    assert profile["recommended"]


def test_switches_are_audited_and_validated(world) -> None:
    assert selectors.switches(mall_group_id=world.group.pk).coupons
    services.switches_update(mall_group_id=world.group.pk, values={"coupons": False}, actor=ACTOR)
    s = selectors.switches(mall_group_id=world.group.pk)
    assert not s.coupons and s.merchants
    assert AuditEvent.objects.filter(action="recommendations.switches_changed").count() == 1
    services.switches_update(mall_group_id=world.group.pk, values={"coupons": False}, actor=ACTOR)
    assert AuditEvent.objects.filter(action="recommendations.switches_changed").count() == 1  # no change, no row
    with pytest.raises(BlockUnknownError):
        services.switches_update(mall_group_id=world.group.pk, values={"nope": True}, actor=ACTOR)


def test_coupons_to_claim_come_from_recommended_merchants_and_respect_the_tier(world) -> None:
    from galleria.coupons.tests.helpers import template

    tea, cake, shoes = merchant(world, "喜茶Y"), merchant(world, "蛋糕铺"), merchant(world, "鞋铺")
    me, *others = members(world, 5)
    now = timeutil.now()
    rows = [(me, tea, now - dt.timedelta(days=1))]
    for o in others:
        rows += [(o, tea, now - dt.timedelta(days=2)), (o, cake, now - dt.timedelta(days=2))]
    sales(world, rows)
    services.model_train(mall_group_id=world.group.pk)
    at_cake = template(world, name="蛋糕券", merchant_id=cake.pk, is_claimable=True)
    template(world, name="鞋券", merchant_id=shoes.pk, is_claimable=True)  # not recommended: not offered
    template(world, name="金卡蛋糕券", merchant_id=cake.pk, is_claimable=True, min_tier_rank=3)  # tier too low
    result = selectors.for_member(member=me)
    ids = [p.merchant_id for p in result.merchants] + [m for m, _n in result.seeds]
    picks = selectors.coupons_for(member=me, merchant_ids=ids)
    assert [(c.template_id, c.merchant) for c in picks] == [(at_cake.pk, "蛋糕铺")]


def test_events_are_upcoming_open_and_allowed_for_the_tier(world) -> None:
    from galleria.events.tests.helpers import event
    from galleria.tiers.services import tier_ladder_ensure_default

    ladder = tier_ladder_ensure_default(mall_group_id=world.group.pk)
    top = max(ladder, key=lambda level: level.rank)
    (m,) = members(world, 1)
    open_event = event(world, title="亲子烘焙课")
    event(world, title="黑金之夜", tier_mode="tier_only", min_tier_id=top.pk)  # the member's tier is too low
    event(world, title="下月讲座", registration_opens_at=timeutil.now() + dt.timedelta(days=1))  # not open yet
    assert [e.event_id for e in selectors.events_for(member=m)] == [open_event.pk]
