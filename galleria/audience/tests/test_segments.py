"""A segment's count is one SQL statement; here it must equal an independent count — each condition evaluated in
Python over the ORM rows — for random definitions (AND/OR groups, every kind of condition) on random members."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
import time_machine

from galleria.audience import rules, selectors, services
from galleria.audience.exceptions import SegmentInvalidError
from galleria.audience.models import MemberProfile, MemberTag, Tag
from galleria.audit.types import Actor
from galleria.ledger.models import Account
from galleria.members.models import Consent, Member, MemberIdentifier
from galleria.merchants.models import Category, Merchant, Store
from galleria.sales.models import Sale

from .helpers import member, sale

NOW = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)
TZ = ZoneInfo("Asia/Shanghai")
TODAY = NOW.astimezone(TZ).date()
ACTOR = Actor.system("test")


def _world_data(world, seed: int):
    rnd = random.Random(seed)
    cinema = Merchant.objects.create(mall=world.mall, name="影城", category=Category.CINEMA)
    Store.objects.create(merchant=cinema, name="影城", floor="L5", unit_no="L5-001")
    if not world.other_merchant.stores.exists():
        Store.objects.create(merchant=world.other_merchant, name="x", floor="L2", unit_no="L2-9")
    merchants = [world.merchant, world.other_merchant, cinema]
    tags = [services.tag_save(mall_group_id=world.group.pk, name=f"标签{i}", actor=ACTOR).pk for i in range(3)]
    members = []
    for _ in range(30):
        birthday = rnd.choice([None, dt.date(rnd.randint(1960, 2008), rnd.randint(1, 12), rnd.randint(1, 28))])
        m = member(
            world,
            joined_at=NOW - dt.timedelta(days=rnd.choice([2, 40, 300, 800])),
            gender=rnd.choice(["male", "female", "unknown"]),
            birthday=birthday,
        )
        members.append(m)
        for _ in range(rnd.choice([0, 1, 3, 6])):
            sale(
                world,
                m,
                at=NOW - dt.timedelta(days=rnd.choice([3, 20, 80, 200, 500])),
                fen=rnd.choice([1000, 20000, 90000]),
                merchant=rnd.choice(merchants),
                channel=rnd.choice(["pos", "pos", "parking"]),
            )
        Account.objects.filter(member=m, kind="member_points").update(balance=rnd.choice([0, 100, 5000, 20000]))
        if rnd.random() < 0.5:
            Consent.objects.create(member=m, purpose="marketing_sms", is_granted=True, channel="app")
            if rnd.random() < 0.3:
                Consent.objects.create(member=m, purpose="marketing_sms", is_granted=False, channel="app")
        if rnd.random() < 0.3:
            MemberIdentifier.objects.create(
                mall_group=world.group,
                member=m,
                kind="plate",
                value=f"粤B{m.pk:05d}",
                verified_at=NOW if rnd.random() < 0.5 else None,
            )
    for tag_id in tags:
        services.tag_members_add(
            mall_group_id=world.group.pk, tag_id=tag_id, member_ids=rnd.sample([m.pk for m in members], 10), actor=ACTOR
        )
    Member.objects.filter(pk=members[-1].pk).update(status="erased")  # never counted
    with time_machine.travel(NOW, tick=False):
        services.profiles_rebuild(mall_group_id=world.group.pk)
    return members, merchants, tags


def _age(b: dt.date) -> int:
    return TODAY.year - b.year - ((TODAY.month, TODAY.day) < (b.month, b.day))


def _in_range(value: int, cond) -> bool:
    return cond.get("min", -(10**18)) <= value <= cond.get("max", 10**18)


def _matches(m: Member, cond, ctx) -> bool:
    if "conditions" in cond:
        results = [_matches(m, c, ctx) for c in cond["conditions"]]
        return all(results) if cond["match"] == "all" else any(results)
    field = cond["field"]
    p = ctx["profiles"].get(m.pk)
    if field == "gender":
        return m.gender in cond["in"]
    if field == "age":
        return m.birthday is not None and _in_range(_age(m.birthday), cond)
    if field == "birthday_month":
        return m.birthday is not None and m.birthday.month in cond["in"]
    if field == "joined":
        ok = True
        if "within_days" in cond:
            ok &= m.created_at >= NOW - dt.timedelta(days=cond["within_days"])
        if "before_days" in cond:
            ok &= m.created_at < NOW - dt.timedelta(days=cond["before_days"])
        return ok
    if field == "join_channel":
        return m.join_channel in cond["in"]
    if field == "tag":
        held = ctx["tags"].get(m.pk, set())
        return (
            ("any" not in cond or bool(held & set(cond["any"])))
            and all(t in held for t in cond.get("all", []))
            and ("none" not in cond or not held & set(cond["none"]))
        )
    if field in ("rfm", "lifecycle"):
        return p is not None and getattr(p, field) in cond["in"]
    if field in ("r_score", "f_score", "m_score"):
        return _in_range(getattr(p, field) if p else 0, cond)
    if field == "points":
        return _in_range(ctx["points"].get(m.pk, 0), cond)
    if field in ("spend", "visits"):
        since = NOW - dt.timedelta(days=cond["days"])
        rows = [
            s
            for s in ctx["sales"].get(m.pk, [])
            if s.occurred_at >= since
            and (not cond.get("merchants") or s.merchant_id in cond["merchants"])
            and (not cond.get("categories") or s.merchant.category in cond["categories"])
        ]
        value = sum(s.total_fen - s.refunded_fen for s in rows) if field == "spend" else len(rows)
        return _in_range(value, cond)
    if field == "consent":
        latest = ctx["consent"].get(m.pk)
        return bool(latest) == cond["granted"]
    if field == "plate":
        plates = ctx["plates"].get(m.pk, [])
        return any(v is not None for v in plates) if cond["verified"] else bool(plates)
    raise AssertionError(field)


def _random_condition(rnd: random.Random, merchants, tags):
    field = rnd.choice(
        [
            "gender",
            "age",
            "birthday_month",
            "joined",
            "join_channel",
            "tag",
            "rfm",
            "lifecycle",
            "r_score",
            "m_score",
            "points",
            "spend",
            "visits",
            "consent",
            "plate",
        ]
    )
    if field == "gender":
        return {"field": field, "in": rnd.sample(["male", "female", "unknown"], rnd.randint(1, 2))}
    if field == "age":
        lo = rnd.randint(15, 50)
        return {"field": field, "min": lo, "max": lo + rnd.randint(0, 30)}
    if field == "birthday_month":
        return {"field": field, "in": rnd.sample(range(1, 13), 4)}
    if field == "joined":
        return rnd.choice([{"field": field, "within_days": 100}, {"field": field, "before_days": 30}])
    if field == "join_channel":
        return {"field": field, "in": ["desk"]}
    if field == "tag":
        key = rnd.choice(["any", "all", "none"])
        return {"field": field, key: rnd.sample(tags, rnd.randint(1, 2))}
    if field == "rfm":
        return {"field": field, "in": rnd.sample(list(rules.RFM_CODES), 3)}
    if field == "lifecycle":
        return {"field": field, "in": rnd.sample(list(rules.LIFECYCLE_CODES), 2)}
    if field in ("r_score", "m_score"):
        return {"field": field, "min": rnd.randint(0, 3), "max": rnd.randint(3, 5)}
    if field == "points":
        return rnd.choice(
            [{"field": field, "min": 100}, {"field": field, "max": 5000}, {"field": field, "min": 1, "max": 100}]
        )
    if field in ("spend", "visits"):
        cond = {"field": field, "days": rnd.choice([30, 90, 365])}
        if rnd.random() < 0.3:
            cond["merchants"] = [rnd.choice(merchants).pk]
        elif rnd.random() < 0.3:
            cond["categories"] = ["cinema", "dining"]
        bounds = rnd.choice([{"min": 1}, {"max": 0}, {"max": 2}, {"min": 2, "max": 5}, {"min": 20000}, {"max": 30000}])
        cond.update(bounds)
        return cond
    if field == "consent":
        return {"field": field, "channel": "sms", "granted": rnd.random() < 0.5}
    return {"field": "plate", "verified": rnd.random() < 0.5}


def _random_definition(rnd, merchants, tags):
    items = []
    for _ in range(rnd.randint(1, 4)):
        if rnd.random() < 0.25:
            items.append(
                {
                    "match": rnd.choice(["all", "any"]),
                    "conditions": [_random_condition(rnd, merchants, tags) for _ in range(rnd.randint(1, 3))],
                }
            )
        else:
            items.append(_random_condition(rnd, merchants, tags))
    return {"match": rnd.choice(["all", "any"]), "conditions": items}


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.django_db
def test_the_live_count_equals_an_independent_count(world, seed):
    _members, merchants, tags = _world_data(world, seed)
    active = [m for m in Member.objects.filter(mall_group=world.group, status="active")]
    ctx = {
        "profiles": {p.member_id: p for p in MemberProfile.objects.all()},
        "tags": {},
        "points": dict(Account.objects.filter(kind="member_points").values_list("member_id", "balance")),
        "sales": {},
        "consent": {},
        "plates": {},
    }
    for member_id, tag_id in MemberTag.objects.values_list("member_id", "tag_id"):
        ctx["tags"].setdefault(member_id, set()).add(tag_id)
    for s in Sale.objects.select_related("merchant").order_by("pk"):
        if s.status != "refunded" and s.channel not in ("parking", "points_mall", "event"):
            ctx["sales"].setdefault(s.member_id, []).append(s)
    for c in Consent.objects.filter(purpose="marketing_sms").order_by("recorded_at", "pk"):
        ctx["consent"][c.member_id] = c.is_granted
    for member_id, verified in MemberIdentifier.objects.filter(kind="plate").values_list("member_id", "verified_at"):
        ctx["plates"].setdefault(member_id, []).append(verified)

    rnd = random.Random(seed)
    seen_sizes = set()
    for _ in range(60):
        definition = selectors.segment_validate(_random_definition(rnd, merchants, tags), mall_group_id=world.group.pk)
        expected = sum(1 for m in active if _matches(m, definition, ctx))
        with time_machine.travel(NOW, tick=False):
            got = selectors.segment_count(mall_group_id=world.group.pk, definition=definition)
            page = selectors.segment_member_ids(mall_group_id=world.group.pk, definition=definition, limit=1000)
        assert got == expected, definition
        assert page == sorted(m.pk for m in active if _matches(m, definition, ctx))
        seen_sizes.add(got)
    assert len(seen_sizes) > 5  # the random segments are not all empty or all full


@pytest.mark.django_db
def test_the_other_apps_conditions(world):
    """Tier, coupon, parking stays and events: each a fragment of its own app."""
    from galleria.coupons.models import Coupon, CouponTemplate
    from galleria.tiers.models import MemberTier, TierLevel

    a = member(world, joined_at=NOW - dt.timedelta(days=10))
    b = member(world, joined_at=NOW - dt.timedelta(days=10))
    gold = TierLevel.objects.create(mall_group=world.group, code="gold", name="金卡", rank=2)
    MemberTier.objects.update_or_create(member=a, defaults={"level": gold, "since": NOW})
    g = world.group.pk
    with time_machine.travel(NOW, tick=False):
        assert selectors.segment_member_ids(
            mall_group_id=g, definition={"conditions": [{"field": "tier", "in": [gold.pk]}]}
        ) == [a.pk]
    template = CouponTemplate.objects.filter(mall_group=world.group).first()
    if template is not None:
        Coupon.objects.filter(template=template).delete()
    assert (
        selectors.segment_count(
            mall_group_id=g, definition={"conditions": [{"field": "coupon", "templates": [999999], "state": "holding"}]}
        )
        == 0
    )
    # everyone: an empty definition; nobody outside the group is counted
    assert (
        selectors.segment_count(mall_group_id=g, definition={"conditions": []})
        == Member.objects.filter(mall_group=world.group, status="active").count()
    )
    assert b.pk in selectors.segment_member_ids(mall_group_id=g, definition={"conditions": []})


@pytest.mark.parametrize(
    ("definition", "reason", "path"),
    [
        ({"conditions": [{"field": "nope"}]}, "unknown_field", "conditions.0.field"),
        ({"conditions": [{"field": "age", "min": 40, "max": 30}]}, "min_above_max", "conditions.0"),
        ({"conditions": [{"field": "spend", "days": 0, "min": 1}]}, "out_of_range", "conditions.0.days"),
        ({"conditions": [{"field": "gender", "in": []}]}, "choose_some", "conditions.0.in"),
        ({"conditions": [{"field": "rfm", "in": ["vip"]}]}, "unknown_choice", "conditions.0.in"),
        ({"match": "some", "conditions": []}, "unknown_match", "match"),
        (
            {"conditions": [{"match": "all", "conditions": [{"match": "any", "conditions": []}]}]},
            "too_deep",
            "conditions.0.conditions.0",
        ),
        ({"conditions": [{"field": "points", "min": "lots"}]}, "not_a_number", "conditions.0.min"),
    ],
)
@pytest.mark.django_db
def test_a_wrong_definition_says_what_and_where(world, definition, reason, path):
    with pytest.raises(SegmentInvalidError) as caught:
        selectors.segment_count(mall_group_id=world.group.pk, definition=definition)
    assert caught.value.extra == {"reason": reason, "path": path}
    assert str(caught.value.message)


@pytest.mark.django_db
def test_saved_segments_and_manual_tags(world):
    a = member(world, joined_at=NOW - dt.timedelta(days=10), gender="female")
    member(world, joined_at=NOW - dt.timedelta(days=10), gender="male")
    seg = services.segment_save(
        mall_group_id=world.group.pk,
        name="女性会员",
        definition={"conditions": [{"field": "gender", "in": ["female"]}]},
        actor=ACTOR,
    )
    assert seg.last_count == 1
    tag = services.tag_save(mall_group_id=world.group.pk, name="VIP 沙龙", actor=ACTOR)
    assert (
        services.tag_members_from_segment(
            mall_group_id=world.group.pk, tag_id=tag.pk, definition=seg.definition, actor=ACTOR
        )
        == 1
    )
    assert services.tag_members_add(mall_group_id=world.group.pk, tag_id=tag.pk, member_ids=[a.pk], actor=ACTOR) == 0
    tag.refresh_from_db()
    assert tag.member_count == 1
    report = services.tag_import(
        mall_group_id=world.group.pk, tag_id=tag.pk, text=f"{a.phone}\n13000000000\n\n", actor=ACTOR
    )
    assert report == {
        "lines": 2,
        "matched": 1,
        "added": 0,
        "already": 1,
        "unknown": 1,
        "unknown_sample": ["13000000000"],
    }
    auto = Tag.objects.create(mall_group=world.group, kind="auto", code="habit:frequent", name="habit:frequent")
    from galleria.audience.exceptions import AutoTagReadOnlyError

    with pytest.raises(AutoTagReadOnlyError):
        services.tag_members_add(mall_group_id=world.group.pk, tag_id=auto.pk, member_ids=[a.pk], actor=ACTOR)
    # the foreign group cannot use this group's tag
    from galleria.audience.exceptions import TagNotFoundError

    with pytest.raises(TagNotFoundError):
        services.tag_members_add(mall_group_id=world.other_group.pk, tag_id=tag.pk, member_ids=[a.pk], actor=ACTOR)
