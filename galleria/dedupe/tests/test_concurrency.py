"""Real threads against PostgreSQL: a merge locks both members, then their ledger accounts in member-id order, so
racing sales and merges serialise and no value is lost."""

from __future__ import annotations

import pytest

from galleria.core.errors import ApplicationError
from galleria.dedupe import services
from galleria.dedupe.models import MergeRecord
from galleria.ledger.models import AccountKind
from galleria.members.models import Member, MemberStatus
from galleria.sales.models import Sale
from galleria.sales.services import sale_commit
from galleria.sales.tests.helpers import sale_in
from galleria.testing import run_parallel

from .helpers import ACTOR, assert_ledger_clean, balances, lots_total, new_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def points(member) -> int:
    return balances(member)[AccountKind.MEMBER_POINTS]


def test_sale_for_the_absorbed_member_racing_a_merge_never_loses_value(world):
    for _round in range(3):
        survivor, absorbed = new_member(world), new_member(world)
        sale_commit(data=sale_in(world, member_id=absorbed.pk, amounts=(10000,)), actor=ACTOR)
        before = points(survivor) + points(absorbed)
        earned: list[int] = []

        def work(i: int, survivor=survivor, absorbed=absorbed, earned=earned) -> object:
            if i == 0:
                return services.member_merge(
                    mall_group_id=world.group.pk, survivor_id=survivor.pk, absorbed_id=absorbed.pk, actor=ACTOR
                )
            result = sale_commit(data=sale_in(world, member_id=absorbed.pk, amounts=(5000,)), actor=ACTOR)
            earned.append(result.points_earned)
            return result

        run_parallel(2, work)
        assert_ledger_clean()
        # every point is on the survivor whichever committed first: a sale that waited for the absorbed member's
        # accounts while the merge committed finds them closed and goes to the survivor
        assert points(absorbed) == 0 and lots_total(absorbed) == 0
        assert points(survivor) == before + sum(earned) == lots_total(survivor)
        assert not Sale.objects.filter(member_id=absorbed.pk).exists()
        # merging again is idempotent and has nothing left to sweep
        _record, created = services.member_merge(
            mall_group_id=world.group.pk, survivor_id=survivor.pk, absorbed_id=absorbed.pk, actor=ACTOR
        )
        assert not created
        assert points(absorbed) == 0 and points(survivor) == before + sum(earned)
        assert_ledger_clean()


def test_opposite_merges_at_once_one_wins_without_deadlock(world):
    a, b = new_member(world), new_member(world)
    sale_commit(data=sale_in(world, member_id=a.pk, amounts=(10000,)), actor=ACTOR)
    sale_commit(data=sale_in(world, member_id=b.pk, amounts=(20000,)), actor=ACTOR)
    total = points(a) + points(b)

    def work(i: int) -> object:
        s, x = (a, b) if i % 2 == 0 else (b, a)
        try:
            return services.member_merge(mall_group_id=world.group.pk, survivor_id=s.pk, absorbed_id=x.pk, actor=ACTOR)
        except ApplicationError as exc:
            return exc.code

    outcomes = run_parallel(4, work)
    codes = [o for o in outcomes if isinstance(o, str)]
    assert set(codes) <= {"dedupe.member_not_active"}
    assert MergeRecord.objects.count() == 1
    merged = Member.objects.filter(status=MemberStatus.MERGED)
    assert merged.count() == 1
    winner = Member.objects.get(pk=merged.get().merged_into_id)
    assert points(winner) == total
    assert_ledger_clean()
