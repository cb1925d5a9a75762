"""The nightly pass computes, in SQL over the whole group, what the rules say member by member: every profile
column, the RFM cuts, scores and segments, the lifecycle stage and the automatic tags are compared with a Python
reference computed from the same sales (random data, several seeds, PostgreSQL and SQLite)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest
import time_machine

from galleria.audience import rules, services
from galleria.audience.models import MemberProfile, MemberTag, RfmCuts, Tag
from galleria.merchants.models import Category, Merchant, Store

from .helpers import member, sale

NOW = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)
TZ = ZoneInfo("Asia/Shanghai")
NOT_SHOPPING = {"parking", "points_mall", "event"}


def _dataset(world, seed: int):
    rnd = random.Random(seed)
    cinema = Merchant.objects.create(mall=world.mall, name="万达影城", category=Category.CINEMA)
    Store.objects.create(merchant=cinema, name="影城", floor="L5", unit_no="L5-001")
    merchants = [world.merchant, world.other_merchant, cinema]
    for m in merchants:
        if not m.stores.exists():
            Store.objects.create(merchant=m, name=m.name, floor="L1", unit_no=f"L1-{m.pk}")
    members = []
    for _ in range(36):
        joined = NOW - dt.timedelta(days=rnd.choice([3, 20, 45, 200, 500, 900]), hours=rnd.randint(0, 23))
        members.append(member(world, joined_at=joined))
    for m in members:
        for _ in range(rnd.choice([0, 0, 1, 2, 3, 5, 8, 13])):
            at = NOW - dt.timedelta(
                days=rnd.choice([1, 5, 30, 61, 100, 150, 300, 400, 700]), minutes=rnd.randint(0, 1439)
            )
            at = max(at, m.created_at)
            fen = rnd.choice([990, 5000, 12800, 39900, 150000])
            sale(
                world,
                m,
                at=at,
                fen=fen,
                merchant=rnd.choice(merchants),
                discount=rnd.choice([0, 0, 500]),
                refunded=rnd.choice([0, 0, 0, 0, 100, fen]),
                channel=rnd.choice(["pos", "pos", "pos", "online", "parking", "counter"]),
            )
    return members


def _reference(world, members):
    """Per member: the profile facts, computed in Python from the Sale rows."""
    from galleria.sales.models import Sale

    window, d90 = NOW - dt.timedelta(days=365), NOW - dt.timedelta(days=90)
    out = {}
    for m in members:
        sales = [
            s
            for s in Sale.objects.filter(member=m).select_related("merchant")
            if s.status != "refunded" and s.channel not in NOT_SHOPPING
        ]
        times = sorted(s.occurred_at for s in sales)
        in_w = [s for s in sales if s.occurred_at >= window]

        def favourite(key, in_w=in_w):
            counts, spend = Counter(), Counter()
            for s in in_w:
                counts[key(s)] += 1
                spend[key(s)] += s.total_fen - s.refunded_fen
            if not counts:
                return None
            return sorted(counts, key=lambda k: (-counts[k], -spend[k], k))[0]

        out[m.pk] = {
            "first_sale_at": times[0] if times else None,
            "last_sale_at": times[-1] if times else None,
            "prev_sale_at": max((t for t in times if t < times[-1]), default=None) if times else None,
            "sales_count": len(sales),
            "spend_fen": sum(s.total_fen - s.refunded_fen for s in sales),
            "sales_365": len(in_w),
            "spend_365_fen": sum(s.total_fen - s.refunded_fen for s in in_w),
            "discounted_365": sum(1 for s in in_w if s.discount_fen > 0),
            "evening_365": sum(1 for s in in_w if 18 <= s.occurred_at.astimezone(TZ).hour <= 22),
            "weekend_365": sum(1 for s in in_w if s.occurred_at.astimezone(TZ).weekday() >= 5),
            "visit_days_90": len({s.occurred_at.astimezone(TZ).date() for s in sales if s.occurred_at >= d90}),
            "top_category": favourite(lambda s: s.merchant.category) or "",
            "top_merchant_id": favourite(lambda s: s.merchant_id),
            "channel": favourite(lambda s: s.channel) or "",
        }
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.django_db
def test_the_nightly_pass_matches_the_rules_member_by_member(world, seed):
    members = _dataset(world, seed)
    with time_machine.travel(NOW, tick=False):
        result = services.profiles_rebuild(mall_group_id=world.group.pk)
    assert result.profiles == len(members)
    expected = _reference(world, members)
    profiles = {p.member_id: p for p in MemberProfile.objects.filter(mall_group=world.group)}
    assert set(profiles) == {m.pk for m in members}
    for m in members:
        p = profiles[m.pk]
        for column, value in expected[m.pk].items():
            assert getattr(p, column) == value, (m.pk, column)
        assert p.joined_at == m.created_at
        assert p.drives is False  # no plates, no stays

    # RFM: the cuts are the rules' quintile cuts of the scored members, the scores and segments follow
    scored = [p for p in profiles.values() if p.sales_365 > 0]
    cuts = RfmCuts.objects.get(mall_group=world.group)
    assert cuts.scored == len(scored)
    assert cuts.f_cuts == list(rules.quintile_cuts([p.sales_365 for p in scored]))
    assert cuts.m_cuts == list(rules.quintile_cuts([p.spend_365_fen for p in scored]))
    r_values = [int(p.last_sale_at.timestamp()) for p in scored]
    assert cuts.r_cuts == list(rules.quintile_cuts(r_values))
    for p in profiles.values():
        if p.sales_365 == 0:
            assert (p.r_score, p.f_score, p.m_score, p.rfm) == (0, 0, 0, "")
            continue
        assert p.f_score == rules.score(p.sales_365, cuts.f_cuts)
        assert p.m_score == rules.score(p.spend_365_fen, cuts.m_cuts)
        assert p.r_score == rules.score(int(p.last_sale_at.timestamp()), cuts.r_cuts)
    n = len(scored)
    assert cuts.mean_f100 == sum(p.f_score for p in scored) * 100 // n
    for p in profiles.values():
        assert p.rfm == rules.rfm_segment(
            p.r_score,
            p.f_score,
            p.m_score,
            mean_r100=cuts.mean_r100,
            mean_f100=cuts.mean_f100,
            mean_m100=cuts.mean_m100,
        )
        assert p.lifecycle == rules.lifecycle(
            now=NOW,
            joined_at=p.joined_at,
            last_sale_at=p.last_sale_at,
            prev_sale_at=p.prev_sale_at,
            days=rules.LifecycleDays(),
        )

    # automatic tags: exactly the rules' tags, and the counts
    tags_by_code = {t.code: t for t in Tag.objects.filter(mall_group=world.group, kind="auto")}
    held = defaultdict(set)
    for member_id, tag_id in MemberTag.objects.filter(tag__mall_group=world.group).values_list("member_id", "tag_id"):
        held[member_id].add(tag_id)
    categories = [c for c, _ in Category.choices]
    for p in profiles.values():
        facts = rules.ProfileFacts(
            lifecycle=p.lifecycle,
            m_score=p.m_score,
            visit_days_90=p.visit_days_90,
            sales_365=p.sales_365,
            discounted_365=p.discounted_365,
            evening_365=p.evening_365,
            weekend_365=p.weekend_365,
            drives=p.drives,
            top_category=p.top_category,
            channel=p.channel,
        )
        assert held[p.member_id] == {tags_by_code[c].pk for c in rules.auto_tags(facts, categories)}
    for tag in tags_by_code.values():
        assert tag.member_count == sum(1 for s in held.values() if tag.pk in s)


@pytest.mark.django_db
def test_a_second_pass_changes_nothing_and_a_new_sale_moves_the_member(world):
    members = _dataset(world, 7)
    with time_machine.travel(NOW, tick=False):
        services.profiles_rebuild(mall_group_id=world.group.pk)
        before = list(MemberProfile.objects.order_by("pk").values())
        tags_before = set(MemberTag.objects.values_list("member_id", "tag_id"))
        again = services.profiles_rebuild(mall_group_id=world.group.pk)
    assert list(MemberProfile.objects.order_by("pk").values()) == before
    assert set(MemberTag.objects.values_list("member_id", "tag_id")) == tags_before
    assert again.tagged == 0

    quiet = next(m for m in members if not MemberProfile.objects.get(member=m).last_sale_at)
    later = NOW + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        sale(world, quiet, at=later - dt.timedelta(minutes=1), fen=880000)
    with time_machine.travel(later + dt.timedelta(seconds=30), tick=False):
        refreshed = services.profiles_refresh()
    assert refreshed.members >= 1
    p = MemberProfile.objects.get(member=quiet)
    assert p.sales_365 == 1 and p.spend_365_fen == 880000
    assert p.lifecycle == "active"
    assert p.m_score == 5  # scored against the nightly cuts: ¥8,800 is above every cut
    assert MemberTag.objects.filter(member=quiet, tag__code="lifecycle:active").exists()
    assert not MemberTag.objects.filter(member=quiet, tag__code__in=["lifecycle:new", "lifecycle:dormant"]).exists()
    # the mark moved: nothing new, nothing refreshed
    with time_machine.travel(later + dt.timedelta(seconds=40), tick=False):
        assert services.profiles_refresh().members == 0


@pytest.mark.django_db
def test_the_refresh_waits_for_sales_that_may_still_be_committing(world):
    m = member(world, joined_at=NOW - dt.timedelta(days=400))
    with time_machine.travel(NOW, tick=False):
        sale(world, m, at=NOW)
        assert services.profiles_refresh().members == 0  # written just now: next run
    with time_machine.travel(NOW + dt.timedelta(seconds=services.REFRESH_SETTLE_SECONDS + 1), tick=False):
        assert services.profiles_refresh().members == 1
    assert MemberProfile.objects.get(member=m).sales_count == 1


@pytest.mark.django_db
def test_merged_and_erased_members_leave_the_profiles(world):
    from galleria.members.models import Member

    a = member(world, joined_at=NOW - dt.timedelta(days=100))
    b = member(world, joined_at=NOW - dt.timedelta(days=100))
    with time_machine.travel(NOW, tick=False):
        services.profiles_rebuild(mall_group_id=world.group.pk)
        assert MemberTag.objects.filter(member=b).exists()
        Member.objects.filter(pk=b.pk).update(status="merged", merged_into=a)
        result = services.profiles_rebuild(mall_group_id=world.group.pk)
    assert result.removed == 1
    assert not MemberProfile.objects.filter(member=b).exists()
    assert not MemberTag.objects.filter(member=b).exists()
    assert services.member_erase_in_tx(member_id=a.pk, mall_group_id=world.group.pk, phone="", values=[]) >= 2
    assert not MemberProfile.objects.filter(member=a).exists()


@pytest.mark.django_db
def test_drivers_are_members_with_a_plate_or_a_stay(world):
    from galleria.members.models import MemberIdentifier

    driver = member(world, joined_at=NOW - dt.timedelta(days=10))
    walker = member(world, joined_at=NOW - dt.timedelta(days=10))
    MemberIdentifier.objects.create(mall_group=world.group, member=driver, kind="plate", value="粤B12345")
    with time_machine.travel(NOW, tick=False):
        services.profiles_rebuild(mall_group_id=world.group.pk)
    assert MemberProfile.objects.get(member=driver).drives is True
    assert MemberProfile.objects.get(member=walker).drives is False
    assert MemberTag.objects.filter(member=driver, tag__code="habit:drives").exists()
