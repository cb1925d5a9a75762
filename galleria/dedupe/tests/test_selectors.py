from __future__ import annotations

import datetime as dt

import pytest

from galleria.dedupe import rules, selectors
from galleria.members.models import IdentifierKind, Member, MemberIdentifier

from .helpers import new_member

pytestmark = pytest.mark.django_db


def kinds_of(world) -> dict[tuple[int, int], tuple[str, ...]]:
    return {(p.low_id, p.high_id): p.kinds for p in selectors.duplicate_candidates(mall_group_id=world.group.pk)}


def test_each_evidence_kind_is_found(world):
    # phone: an imported display copy formatted differently from another member's phone identifier
    a, b = new_member(world, phone="13811112222"), new_member(world)
    Member.objects.filter(pk=b.pk).update(phone="138-1111 2222")
    # phone-like physical card value equal to another member's phone
    c, d = new_member(world, phone="13833334444"), new_member(world)
    MemberIdentifier.objects.create(
        mall_group=world.group, member=d, kind=IdentifierKind.PHYSICAL_CARD, value="13833334444"
    )
    # card: a physical card carrying another member's card number
    e, f = new_member(world), new_member(world)
    MemberIdentifier.objects.create(
        mall_group=world.group, member=f, kind=IdentifierKind.PHYSICAL_CARD, value=e.card_no
    )
    # name + birthday, and e-mail (case-insensitive)
    g = new_member(world, name="李娜", birthday=dt.date(1990, 5, 1))
    h = new_member(world, name="李娜 ", birthday=dt.date(1990, 5, 1))
    i = new_member(world, email="Someone@Example.com")
    j = new_member(world, email="someone@example.com")
    found = kinds_of(world)
    assert found[(a.pk, b.pk)] == (rules.PHONE,)
    assert found[(c.pk, d.pk)] == (rules.PHONE,)
    assert rules.CARD in found[(e.pk, f.pk)]
    assert found[(g.pk, h.pk)] == (rules.NAME_BIRTHDAY,)
    assert found[(i.pk, j.pk)] == (rules.EMAIL,)
    assert len(found) == 5  # nothing else pairs up (each member has a unique phone and card)


def test_scores_sum_and_groups_connect(world):
    a = new_member(world, name="张三", birthday=dt.date(1985, 1, 2), email="zs@example.com")
    b = new_member(world, name="张三", birthday=dt.date(1985, 1, 2), email="zs@example.com")
    c = new_member(world, email="zs@example.com")
    pairs = selectors.duplicate_candidates(mall_group_id=world.group.pk)
    top = pairs[0]
    assert (top.low_id, top.high_id) == (a.pk, b.pk)
    assert top.score == rules.WEIGHTS[rules.NAME_BIRTHDAY] + rules.WEIGHTS[rules.EMAIL]
    assert [p.score for p in pairs] == sorted((p.score for p in pairs), reverse=True)
    assert {p.group_id for p in pairs} == {a.pk} and {p.group_size for p in pairs} == {3}
    assert {(p.low_id, p.high_id) for p in pairs} == {(a.pk, b.pk), (a.pk, c.pk), (b.pk, c.pk)}
    assert selectors.duplicate_candidates(mall_group_id=world.group.pk, kind=rules.NAME_BIRTHDAY)[0].low_id == a.pk


def test_other_groups_and_inactive_members_are_left_out(world):
    from galleria.members.models import MemberStatus
    from galleria.members.services import member_register

    from .helpers import ACTOR

    a = new_member(world, email="x@example.com")
    foreign = member_register(
        mall=world.foreign_mall, phone="13900001111", channel="desk", actor=ACTOR, profile={"email": "x@example.com"}
    )
    assert foreign.email == "x@example.com"
    assert kinds_of(world) == {}
    b = new_member(world, email="x@example.com")
    assert (a.pk, b.pk) in kinds_of(world)
    Member.objects.filter(pk=b.pk).update(status=MemberStatus.ERASED)
    assert kinds_of(world) == {}


def test_junk_keys_shared_by_many_are_not_evidence(world):
    for _ in range(rules.MAX_SHARED + 1):
        new_member(world, email="noemail@mall.cn")
    assert kinds_of(world) == {}


def test_rules_are_pure():
    assert rules.score(["phone", "phone", "email"]) == 90
    assert rules.score(["unionid", "phone"]) == 100
    assert rules.score(["email"]) == 20
    assert rules.groups([(3, 4), (4, 5), (7, 8)]) == {3: 3, 4: 3, 5: 3, 7: 7, 8: 7}
    assert rules.ordered(9, 2) == (2, 9)


def test_pair_candidate_matches_the_report_for_that_pair(world):
    a = new_member(world, name="周杰", birthday=dt.date(1979, 1, 18), email="zj@example.com")
    b = new_member(world, name="周杰", birthday=dt.date(1979, 1, 18), email="ZJ@example.com")
    c = new_member(world)
    report = {(p.low_id, p.high_id): p for p in selectors.duplicate_candidates(mall_group_id=world.group.pk)}
    pair = selectors.pair_candidate(mall_group_id=world.group.pk, a_id=b.pk, b_id=a.pk)
    assert pair is not None and (pair.kinds, pair.score) == (report[(a.pk, b.pk)].kinds, report[(a.pk, b.pk)].score)
    assert selectors.pair_candidate(mall_group_id=world.group.pk, a_id=a.pk, b_id=c.pk) is None


def test_a_shared_email_alone_never_outranks_name_and_phone(world):
    """The demo's top suggestion was two different people sharing one mailbox; name + phone must come first."""
    # two different people (names and birthdays differ) who share only an e-mail address
    a = new_member(world, name="夏晶", birthday=dt.date(1983, 12, 30), email="na63@example.net")
    b = new_member(world, name="张雪梅", birthday=dt.date(1995, 1, 30), email="NA63@example.net")
    # one person registered twice: same name, the same phone written differently on an imported copy
    c = new_member(world, name="陈静", phone="13811113333")
    d = new_member(world, name="陈静 ")
    Member.objects.filter(pk=d.pk).update(phone="138 1111 3333")
    # the same e-mail and the same name, nothing else known
    e = new_member(world, name="王磊", email="wl@example.com")
    f = new_member(world, name="王磊", email="wl@example.com")
    pairs = selectors.duplicate_candidates(mall_group_id=world.group.pk)
    order = [(p.low_id, p.high_id) for p in pairs]
    assert order == [(c.pk, d.pk), (e.pk, f.pk), (a.pk, b.pk)]
    by_pair = {(p.low_id, p.high_id): p for p in pairs}
    assert by_pair[(c.pk, d.pk)].kinds == (rules.PHONE,) and by_pair[(c.pk, d.pk)].signals == (rules.SAME_NAME,)
    assert by_pair[(c.pk, d.pk)].score == rules.WEIGHTS[rules.PHONE] + rules.SAME_NAME_BONUS
    assert by_pair[(a.pk, b.pk)].signals == (rules.DIFFERENT_NAME, rules.DIFFERENT_BIRTHDAY)
    assert by_pair[(a.pk, b.pk)].score == rules.MIN_SCORE
    assert by_pair[(e.pk, f.pk)].score == rules.WEIGHTS[rules.EMAIL] + rules.SAME_NAME_BONUS
    # the pair page computes the same evidence and score as the report
    single = selectors.pair_candidate(mall_group_id=world.group.pk, a_id=b.pk, b_id=a.pk)
    assert single is not None
    assert (single.kinds, single.score, single.signals) == (
        (rules.EMAIL,),
        rules.MIN_SCORE,
        by_pair[(a.pk, b.pk)].signals,
    )
