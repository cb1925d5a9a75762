"""Real concurrency on PostgreSQL: threads with their own connections feeding spend for one member at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from galleria.testing import run_parallel
from galleria.tiers.models import MemberTier, TierChange, TierRun, TierSpend
from galleria.tiers.services import tier_ladder_ensure_default, tier_record_spend_in_tx, tier_reevaluate

from .helpers import new_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def feed(member, amount_fen, source):
    with transaction.atomic():
        change = tier_record_spend_in_tx(
            member_id=member.pk,
            mall_group_id=member.mall_group_id,
            amount_fen=amount_fen,
            occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
            source=source,
        )
        return None if change is None else (change.from_level.code, change.to_level.code)


def test_concurrent_spends_that_together_qualify_make_exactly_one_upgrade(world):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    m = new_member(world)  # no tier row yet: the threads also race to create it

    results = run_parallel(12, lambda i: feed(m, 100_000, f"sale:{i}"))  # 12 × ¥1,000; silver at ¥5,000

    assert [r for r in results if r is not None] == [("classic", "silver")]
    assert list(TierChange.objects.filter(member=m).order_by("pk").values_list("reason", flat=True)) == [
        "join",
        "upgrade",
    ]
    assert MemberTier.objects.get(member=m).level.code == "silver"
    assert sum(TierSpend.objects.filter(member=m).values_list("amount_fen", flat=True)) == 1_200_000


def test_concurrent_spends_that_each_qualify_make_exactly_one_upgrade(world):
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    m = new_member(world)

    results = run_parallel(10, lambda i: feed(m, 2_000_000, f"sale:{i}"))  # each alone reaches gold

    upgrades = [r for r in results if r is not None]
    # The first lands on gold; the one that crosses ¥80,000 (the 4th) goes on to black: one upgrade per level.
    assert upgrades.count(("classic", "gold")) == 1
    assert upgrades.count(("gold", "black")) == 1
    assert len(upgrades) == 2
    assert TierChange.objects.filter(member=m, reason="upgrade").count() == 2
    assert TierChange.objects.filter(member=m, reason="join").count() == 1


def test_two_reviews_of_one_group_at_once_apply_each_change_once(world):
    ladder = {lv.code: lv for lv in tier_ladder_ensure_default(mall_group_id=world.group.pk)}
    members = [new_member(world, phone=f"1390000002{i}") for i in range(6)]
    for m in members:
        MemberTier.objects.create(member=m, level=ladder["gold"], since=dt.datetime.now(dt.UTC))

    day = dt.date(2026, 6, 1)
    run_parallel(3, lambda i: tier_reevaluate(mall_group_id=world.group.pk, today=day, chunk_size=2))

    assert TierChange.objects.filter(reason="grace").count() == 6
    run = TierRun.objects.get(mall_group=world.group, run_on=day)
    assert run.finished_at is not None and run.members_seen == 6
