"""Builders for the dedupe tests: two members with points (lots), wallet principal and bonus, sales, coupons."""

from __future__ import annotations

import datetime as dt
import itertools

from django.core.management import call_command
from django.db.models import Sum

from galleria.audit.types import Actor
from galleria.coupons.tests.helpers import claim, template
from galleria.ledger.models import Account, AccountKind
from galleria.ledger.selectors import ledger_check
from galleria.members.models import Member
from galleria.members.services import member_register
from galleria.points.models import PointsLot
from galleria.sales.services import sale_commit
from galleria.sales.tests.helpers import sale_in
from galleria.tiers.services import tier_ladder_ensure_default, tier_override
from galleria.wallet.models import TopUpBonusRule
from galleria.wallet.tests.helpers import pay, top_up

ACTOR = Actor(user_id=None, label="dedupe-test")
_phones = itertools.count(20000000)


def new_member(world, phone=None, **profile):
    phone = phone or f"136{next(_phones):08d}"
    return member_register(mall=world.mall, phone=phone, channel="desk", actor=ACTOR, profile=profile or None)


def balances(member) -> dict[str, int]:
    rows = dict(Account.objects.filter(member_id=member.pk).values_list("kind", "balance"))
    return {
        k: rows.get(k) or 0
        for k in (AccountKind.MEMBER_POINTS, AccountKind.MEMBER_WALLET, AccountKind.MEMBER_WALLET_BONUS)
    }


def open_lots(member) -> list[tuple[int, dt.date | None, dt.datetime]]:
    return sorted(
        PointsLot.objects.filter(member_id=member.pk, remaining__gt=0).values_list(
            "remaining", "expires_on", "earned_at"
        )
    )


def lots_total(member) -> int:
    return PointsLot.objects.filter(member_id=member.pk).aggregate(t=Sum("remaining"))["t"] or 0


def assert_ledger_clean() -> None:
    report = ledger_check()
    assert report.ok, report
    call_command("ledger", "check")  # the command exits non-zero on any drift or imbalance


def loaded_pair(world):
    """(survivor, absorbed): the absorbed member has two lots with different expiries, wallet principal and bonus,
    a sale, a coupon and a higher tier; the survivor has a little of everything too."""
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    TopUpBonusRule.objects.create(mall_group=world.group, name="充100送10", min_amount_fen=10000, bonus_fen=1000)
    survivor = new_member(world, name="王小明")
    absorbed = new_member(world, name="王小明")
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    sale_commit(data=sale_in(world, member_id=absorbed.pk, amounts=(30000,), at=earlier), actor=ACTOR)
    sale_commit(data=sale_in(world, member_id=absorbed.pk, amounts=(12000,)), actor=ACTOR)
    sale_commit(data=sale_in(world, member_id=survivor.pk, amounts=(5000,)), actor=ACTOR)
    top_up(world, absorbed, 10000)
    pay(world, absorbed, 2500)  # principal first: 7500 principal and 1000 bonus are left
    top_up(world, survivor, 10000)
    tier_override(
        member_id=absorbed.pk,
        level_code="gold",
        until=dt.date.today() + dt.timedelta(days=100),
        reason="VIP",
        actor=ACTOR,
    )
    tmpl = template(world)
    claim(absorbed, tmpl)
    claim(survivor, tmpl)
    survivor.refresh_from_db()
    absorbed.refresh_from_db()
    return survivor, absorbed


def refreshed(member) -> Member:
    return Member.objects.get(pk=member.pk)
