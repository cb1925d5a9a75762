"""The console member search: every kind of query, scope, statuses, the phone tail after every phone writer, the
query count of a platform admin's search, and (PostgreSQL) that each kind is answered from its index."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core.locking import lock_one
from galleria.malls.models import Mall, MallGroup
from galleria.members import rules, selectors, services
from galleria.members.expressions import NameContains
from galleria.members.models import IdentifierKind, JoinChannel, Member, MemberStatus
from galleria.members.selectors import MemberOrder, member_order_runs, member_search

pytestmark = pytest.mark.django_db
ACTOR = Actor(user_id=None, label="test")


def register(mall, phone, name=""):
    return services.member_register(
        mall=mall, phone=phone, channel=JoinChannel.DESK, actor=ACTOR, profile={"name": name}
    )


def found(query, *, group_id=None, **kw):
    return sorted(member_search(mall_group_id=group_id, query=query, **kw).values_list("pk", flat=True))


@pytest.fixture
def people(world):
    return {
        "wang": register(world.mall, "13812345678", "王芳"),
        "ouyang": register(world.mall2, "13987654321", "欧阳娜娜"),
        "latin": register(world.mall, "13700001111", "Emma Wang"),
        "nameless": register(world.mall, "13600005678"),
        "foreign": register(world.foreign_mall, "13812345678", "王芳"),  # same phone and name, other group
    }


def test_name_fragments_of_one_two_three_and_more_characters(world, people):
    g = world.group.pk
    assert found("王", group_id=g) == [people["wang"].pk]
    assert found("王芳", group_id=g) == [people["wang"].pk]
    assert found("阳娜", group_id=g) == [people["ouyang"].pk]
    assert found("欧阳娜", group_id=g) == [people["ouyang"].pk]
    assert found("欧阳娜娜", group_id=g) == [people["ouyang"].pk]
    assert found("阳娜娜欧", group_id=g) == []  # every trigram occurs, the string does not
    assert found("emma wang", group_id=g) == [people["latin"].pk]  # case-insensitive
    assert found("WANG", group_id=g) == [people["latin"].pk]
    assert found("ma W", group_id=g) == [people["latin"].pk]
    assert found("100%", group_id=g) == [] and found("_", group_id=g) == []  # no LIKE wildcards


def test_identifiers_and_phone_tails(world, people):
    g = world.group.pk
    wang = people["wang"]
    assert found("13812345678", group_id=g) == [wang.pk]
    assert found("+86 138 1234 5678", group_id=g) == [wang.pk]
    assert found(wang.card_no, group_id=g) == [wang.pk]
    assert found("5678", group_id=g) == sorted([wang.pk, people["nameless"].pk])  # last 4 digits
    assert found("2345678", group_id=g) == [wang.pk]
    assert found("3812345678", group_id=g) == [wang.pk]  # 10 digits: still a tail
    assert found("567", group_id=g) == []  # 3 digits: too short for a tail, and not a name
    services.member_identifier_add(member_id=wang.pk, actor=ACTOR, kind=IdentifierKind.PLATE, value="粤B12345")
    services.member_identifier_add(member_id=wang.pk, actor=ACTOR, kind=IdentifierKind.PHYSICAL_CARD, value="ab1234")
    assert found("粤b·12345", group_id=g) == [wang.pk]
    assert found("ab1234", group_id=g) == [wang.pk]
    step = rules.time_step(time.time(), settings.GALLERIA_MEMBER_CODE_STEP_SECONDS)
    code = rules.dynamic_code(
        key=settings.GALLERIA_MEMBER_CODE_KEY, member_id=wang.pk, member_secret=wang.code_secret, step=step
    )
    assert found(code, group_id=g) == [wang.pk]
    assert found(code, group_id=world.other_group.pk) == []


def test_scope_a_group_sees_its_members_and_a_platform_admin_every_group(world, people):
    assert found("王芳", group_id=world.group.pk) == [people["wang"].pk]
    assert found("王芳", group_id=world.other_group.pk) == [people["foreign"].pk]
    assert found("王芳") == sorted([people["wang"].pk, people["foreign"].pk])
    assert found("13812345678") == sorted([people["wang"].pk, people["foreign"].pk])
    assert found(people["foreign"].card_no, group_id=world.group.pk) == []
    assert found(people["foreign"].card_no) == [people["foreign"].pk]
    assert found("", group_id=world.group.pk, channel=JoinChannel.DESK, mall_id=world.mall2.pk) == [people["ouyang"].pk]


def test_merged_and_erased_members_are_not_listed(world, people):
    wang, latin = people["wang"], people["latin"]
    Member.objects.filter(pk=latin.pk).update(status=MemberStatus.MERGED, merged_into=wang)
    assert found("Emma") == [] and found("1111") == []
    with transaction.atomic():
        member = lock_one(Member.objects.filter(pk=wang.pk))
        services.member_anonymise_in_tx(member=member, at=timezone.now())
    assert found("王芳", group_id=world.group.pk) == []
    assert found("5678", group_id=world.group.pk) == [people["nameless"].pk]
    assert found(wang.card_no) == []


def test_the_phone_tail_follows_every_phone_writer(world):
    """The tail is matched on an expression of `Member.phone` itself (an index on PostgreSQL), so there is no copy
    that a writer could forget: register, phone change, a bulk insert (imports) and erasure all show at once."""
    member = register(world.mall, "13811112222", "李雷")
    assert found("2222") == [member.pk]
    services.member_phone_change(member_id=member.pk, actor=ACTOR, phone="13933334444")
    assert found("2222") == [] and found("4444") == [member.pk]
    bulk = Member.objects.bulk_create(
        [
            Member(
                mall_group=world.group,
                phone="+8613755556666",
                join_channel=JoinChannel.IMPORT,
                join_mall=world.mall,
                code_secret="x",
                created_at=timezone.now(),
            )
        ]
    )
    assert found("556666") == [bulk[0].pk]
    with transaction.atomic():
        services.member_anonymise_in_tx(member=lock_one(Member.objects.filter(pk=member.pk)), at=timezone.now())
    assert found("4444") == []


def test_a_platform_admins_search_costs_the_same_few_queries_whatever_the_members_and_groups(
    world, django_assert_max_num_queries
):
    """The bug of issue #12: the platform admin's list of groups came from a DISTINCT over the members ordered by
    (created_at, id), i.e. one "group" per member, and each was resolved on its own."""
    for i in range(3):
        group = MallGroup.objects.create(name=f"集团{i}", code=f"g{i}")
        mall = Mall.objects.create(group=group, name=f"商场{i}", code=f"m{i}")
        for j in range(5):
            register(mall, f"1350000{i}{j:03d}", f"张{i}{j}")
    for j in range(20):
        register(world.mall, f"1360000{j:04d}", f"王{j}")
    for query in ["王", "13600000007", "0007", "粤B12345", "no such member"]:
        with django_assert_max_num_queries(3):  # groups + identifiers, then the page
            rows = list(member_search(mall_group_id=None, query=query)[:25])
        assert query != "王" or len(rows) == 20


def test_order_runs_by_name_put_the_nameless_last(world, people):
    runs = member_order_runs(member_search(mall_group_id=world.group.pk), order=MemberOrder.NAME)
    names = [m.name for run in runs for m in run]
    assert names == ["Emma Wang", "欧阳娜娜", "王芳", ""]
    newest = member_order_runs(member_search(mall_group_id=world.group.pk), order=MemberOrder.JOINED_DESC)
    oldest = member_order_runs(member_search(mall_group_id=world.group.pk), order=MemberOrder.JOINED_ASC)
    assert [m.pk for m in newest[0]] == [m.pk for m in oldest[0]][::-1]


# ---------------------------------------------------------------- PostgreSQL: the indexes answer every kind


def _plan(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # tiny tables: ask whether the index CAN answer (bitmap scans need an index that matches the condition)
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_each_search_kind_is_an_index_lookup(world, people):
    with transaction.atomic():
        assert "member_name_grams_idx" in _plan(member_search(mall_group_id=None, query="王芳"))
        assert "member_name_grams_idx" in _plan(member_search(mall_group_id=None, query="Emma W"))
        assert "member_name_grams_idx" in _plan(member_search(mall_group_id=None, query="王"))
        assert "member_phone_reversed_idx" in _plan(member_search(mall_group_id=None, query="5678"))
        with CaptureQueriesContext(connection) as ctx:
            selectors.member_search_identifier_ids(mall_group_id=None, raw=people["wang"].card_no)
        identifier_sql = ctx.captured_queries[-1]["sql"]
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + identifier_sql)
            assert "identifier_unique_in_group" in "\n".join(r[0] for r in cursor.fetchall())


@pytest.mark.postgres
def test_the_name_grams_agree_with_a_plain_substring_test(world):
    names = ["王芳", "欧阳娜娜", "Emma Wang", "ÉLODIE Chen", "李 小 龙", "a", "张伟伟伟"]
    members = [register(world.mall, f"1380000{i:04d}", name) for i, name in enumerate(names)]
    fragments = {n[i:j] for n in names for i in range(len(n)) for j in range(i + 1, min(len(n), i + 6) + 1)}
    fragments |= {"x", "王王", "ng W", "élodie", "伟伟伟伟"}
    by_id = {m.pk: m.name for m in members}
    for fragment in sorted(fragments):
        got = set(Member.objects.filter(NameContains(fragment)).values_list("pk", flat=True))
        assert got == {pk for pk, name in by_id.items() if fragment.lower() in name.lower()}, fragment
