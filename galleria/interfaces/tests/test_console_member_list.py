"""The console member list: tier and points columns, the tier and points filters, sorting, the capped count and
the query count of a platform admin's search (issue #12)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core import listing
from galleria.dedupe.services import member_merge
from galleria.ledger.models import Account, AccountKind, Asset
from galleria.malls.models import Mall, MallGroup
from galleria.members.models import JoinChannel, Member
from galleria.members.services import member_register
from galleria.testing import PASSWORD
from galleria.tiers.models import MemberTier, TierLevel
from galleria.tiers.services import tier_ladder_ensure_default

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def login(client, world, role: str) -> None:
    assert client.login(username=world.users[role].username, password=PASSWORD)


def register(world, phone: str, name: str = "", *, mall=None) -> Member:
    member = member_register(
        mall=mall or world.mall, phone=phone, channel=JoinChannel.DESK, actor=ACTOR, profile={"name": name}
    )
    MemberTier.objects.filter(member=member).delete()  # start without a tier row or points account
    Account.objects.filter(member=member).delete()
    return member


def give(member: Member, *, points: int | None = None, level: TierLevel | None = None) -> Member:
    if points is not None:
        Account.objects.create(
            mall_group_id=member.mall_group_id,
            member=member,
            kind=AccountKind.MEMBER_POINTS,
            asset=Asset.POINTS,
            balance=points,
        )
    if level is not None:
        MemberTier.objects.create(member=member, level=level, since=timezone.now())
    return member


def listed(client, **params) -> list[tuple[str, str, int]]:
    resp = client.get(reverse("console:members"), params)
    assert resp.status_code == 200
    return [(row.member.name, row.tier, row.points) for row in resp.context["rows"]]


@pytest.fixture
def ladder(world):
    levels = {lvl.code: lvl for lvl in tier_ladder_ensure_default(mall_group_id=world.group.pk)}
    return levels  # classic (普卡, entry), silver (银卡), gold (金卡), black (黑金)


@pytest.fixture
def crowd(world, ladder):
    return {
        "gold": give(register(world, "13800000001", "金多多"), points=5000, level=ladder["gold"]),
        "silver": give(register(world, "13800000002", "银小白"), points=800, level=ladder["silver"]),
        "entry_row": give(register(world, "13800000003", "张普通"), points=0, level=ladder["classic"]),
        "no_row": register(world, "13800000004", "李新人"),  # no tier row, no points account
        "nameless": give(register(world, "13800000005"), points=120),
    }


def test_tier_and_points_columns(client, world, crowd):
    login(client, world, "readonly")
    rows = {name: (tier, points) for name, tier, points in listed(client)}
    assert rows == {
        "金多多": ("金卡", 5000),
        "银小白": ("银卡", 800),
        "张普通": ("普卡", 0),
        "李新人": ("普卡", 0),  # no tier row: the entry tier; no account: 0 points
        "": ("普卡", 120),
    }
    html = client.get(reverse("console:members")).content.decode()
    assert "5,000" in html and 'data-testid="member-tier"' in html


def test_filter_by_tier_counts_members_without_a_tier_row_at_the_entry_tier(client, world, crowd, ladder):
    login(client, world, "group_admin")
    assert [r[0] for r in listed(client, tier=ladder["gold"].pk)] == ["金多多"]
    assert sorted(r[0] for r in listed(client, tier=ladder["classic"].pk)) == ["", "张普通", "李新人"]
    assert listed(client, tier=ladder["black"].pk) == []
    foreign = tier_ladder_ensure_default(mall_group_id=world.other_group.pk)[0]
    resp = client.get(reverse("console:members"), {"tier": foreign.pk})  # another group's tier: not a choice
    assert resp.status_code == 200 and "tier" in resp.context["form"].errors


def test_filter_by_points_range(client, world, crowd):
    login(client, world, "readonly")
    assert sorted(r[0] for r in listed(client, min_points=100, max_points=1000)) == ["", "银小白"]
    assert sorted(r[0] for r in listed(client, min_points=1000)) == ["金多多"]
    assert sorted(r[0] for r in listed(client, max_points=0)) == ["张普通", "李新人"]  # no account = 0 points
    assert sorted(r[0] for r in listed(client, min_points=0, max_points=120)) == ["", "张普通", "李新人"]


def test_a_dense_points_range_gives_the_same_members(client, world, crowd, monkeypatch):
    """Above SELECTIVE_POINTS_RANGE accounts the filter is a semi-join instead of a list of ids: same answer."""
    from galleria.ledger import selectors as ledger_selectors

    login(client, world, "readonly")
    expected = sorted(r[0] for r in listed(client, min_points=100))
    monkeypatch.setattr(ledger_selectors, "SELECTIVE_POINTS_RANGE", 1)
    assert sorted(r[0] for r in listed(client, min_points=100)) == expected == ["", "金多多", "银小白"]


def test_bad_points_bounds_are_shown_and_ignored(client, world, crowd):
    login(client, world, "readonly")
    for params in ({"min_points": 500, "max_points": 100}, {"min_points": -1}, {"max_points": "lots"}):
        resp = client.get(reverse("console:members"), params)
        assert resp.status_code == 200
        assert len(resp.context["rows"]) == 5, params  # the bad bound is ignored
        assert 'data-testid="filter-errors"' in resp.content.decode(), params
    resp = client.get(reverse("console:members"), {"min_points": 500, "max_points": 100}, headers={"HX-Request": "1"})
    assert 'data-testid="filter-errors"' in resp.content.decode()  # also in the htmx fragment


def test_sorting(client, world, crowd):
    login(client, world, "readonly")
    assert [r[0] for r in listed(client, order="-points")] == ["金多多", "银小白", "", "张普通", "李新人"]
    # fewest first: members without an account (0 points) first, then the holders by balance
    assert [r[0] for r in listed(client, order="points")] == ["李新人", "张普通", "", "银小白", "金多多"]
    assert [r[0] for r in listed(client, order="name")] == ["张普通", "李新人", "金多多", "银小白", ""]
    newest = [r[0] for r in listed(client)]
    assert newest == ["", "李新人", "张普通", "银小白", "金多多"]
    assert [r[0] for r in listed(client, order="joined")] == newest[::-1]
    assert listed(client, order="nonsense") == listed(client)  # an unknown order: the default
    html = client.get(reverse("console:members"), {"order": "-points", "q": "金"}).content.decode()
    assert "q=%E9%87%91&amp;order=points" in html  # the column head reverses the order and keeps the search


def test_points_order_pages_across_holders_and_members_without_an_account(client, world, ladder):
    for i in range(30):
        member = register(world, f"1390000{i:04d}", f"会员{i:02d}")
        if i % 3:
            give(member, points=i * 10)  # 20 holders, 10 members without an account
    login(client, world, "readonly")
    first = listed(client, order="-points")
    second = listed(client, order="-points", page=2)
    points = [p for _n, _t, p in first + second]
    assert len(first) == 25 and len(second) == 5
    assert points == sorted(points, reverse=True) and points[:20] == sorted({i * 10 for i in range(30) if i % 3})[::-1]
    names = [n for n, _t, _p in first + second]
    assert len(set(names)) == 30


def test_the_count_is_capped_beyond_a_thousand_rows(client, world, crowd, monkeypatch):
    monkeypatch.setattr(listing, "DEFAULT_CAP", 3)
    login(client, world, "readonly")
    resp = client.get(reverse("console:members"))
    assert resp.context["count_capped"] and resp.context["page_obj"].paginator.count == 3
    assert len(resp.context["rows"]) == 3
    assert "More than 3 members" in resp.content.decode() or "超过 3 位会员" in resp.content.decode()


def test_export_follows_the_filters_and_the_order(client, world, crowd):
    login(client, world, "group_admin")
    resp = client.get(reverse("console:members_export"), {"order": "-points", "min_points": 100})
    body = b"".join(resp.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))[1:]
    assert [row[2] for row in rows] == ["金多多", "银小白", ""]


def test_a_platform_admins_search_page_costs_a_fixed_number_of_queries(
    client, world, ladder, django_assert_max_num_queries
):
    """Issue #12: one resolution per member for a platform admin (9–10 s on the 5,000-member demo)."""
    for g in range(3):
        group = MallGroup.objects.create(name=f"集团{g}", code=f"grp{g}")
        mall = Mall.objects.create(group=group, name=f"商场{g}", code=f"mall{g}")
        for i in range(8):
            register(world, f"1350{g}00{i:04d}", f"王{g}{i}", mall=mall)
    for i in range(20):
        give(register(world, f"1360000{i:04d}", f"王小{i}"), points=i, level=ladder["silver"] if i % 2 else None)
    login(client, world, "platform_admin")
    for query in ["王", "13600000007", "0007", "粤B12345", ""]:
        # session, user, time zone; groups + identifiers; count, page; tiers (+ entry names), points; form choices
        with django_assert_max_num_queries(12):
            resp = client.get(reverse("console:members"), {"q": query})
        assert resp.status_code == 200
    assert resp.context["page_obj"].paginator.count == 44


def test_merge_keeps_the_phone_tail_search_right(client, world):
    """The tail is an expression of the phone column: a merge (dedupe) that moves the display copy needs no extra
    step for search to follow."""
    survivor = register(world, "13711112222", "合并后")
    absorbed = register(world, "13733334444", "被合并")
    Member.objects.filter(pk=survivor.pk).update(phone="")  # a survivor without a display phone takes the other's
    member_merge(mall_group_id=world.group.pk, survivor_id=survivor.pk, absorbed_id=absorbed.pk, actor=ACTOR)
    login(client, world, "readonly")
    assert [r[0] for r in listed(client, q="4444")] == ["合并后"]
    assert listed(client, q="被合并") == []
