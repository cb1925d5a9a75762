"""The first-purchase award inside a sale (post._post_earn, fixed SQL in sales/sql.py and points/sql.py): once per
member and merchant, only for a member who never bought there, credited on the row the sale holds locked — and the
sale's own answer reports the balance before the award, as it always has."""

from __future__ import annotations

import dataclasses

import pytest

from galleria.points.models import BehaviourAward, BehaviourRule
from galleria.points.selectors import points_balance
from galleria.sales import services
from galleria.sales import sql as sales_sql
from galleria.sales.types import SaleIn

from .helpers import ACTOR, member, sale_in

pytestmark = pytest.mark.django_db


def _other_merchant(world, data: SaleIn) -> SaleIn:
    return dataclasses.replace(data, merchant_id=world.other_merchant.pk, store_id=world.other_merchant.stores.get().pk)


def test_the_bonus_comes_once_per_merchant(world):
    BehaviourRule.objects.create(mall_group=world.group, event="first_purchase_at_merchant", points=20)
    m = member(world)
    first = services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(1000,)), actor=ACTOR)
    second = services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(1000,)), actor=ACTOR)
    elsewhere = services.sale_commit(data=_other_merchant(world, sale_in(world, member_id=m.pk)), actor=ACTOR)
    assert (first.points_balance, second.points_balance) == (10, 10 + 20 + 10)
    assert elsewhere.points_balance == 40 + 100  # the other merchant's bonus is credited after the answer
    assert points_balance(member_id=m.pk) == 40 + 100 + 20
    awards = BehaviourAward.objects.filter(member=m, event="first_purchase_at_merchant").order_by("pk")
    assert [a.occasion for a in awards] == [f"merchant:{world.merchant.pk}", f"merchant:{world.other_merchant.pk}"]
    assert all(a.transaction_id is not None and a.points == 20 for a in awards)


def test_no_bonus_for_a_member_who_bought_there_before_the_rule(world):
    m = member(world)
    services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(1000,)), actor=ACTOR)
    BehaviourRule.objects.create(mall_group=world.group, event="first_purchase_at_merchant", points=20)
    services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(1000,)), actor=ACTOR)
    assert points_balance(member_id=m.pk) == 20 and not BehaviourAward.objects.exists()


def test_bought_at_merchant_reads_every_other_sale_of_the_member_there(world):
    m, n = member(world), member(world, phone="13812345679")
    only = services.sale_commit(data=sale_in(world, member_id=m.pk), actor=ACTOR).sale_id
    assert not sales_sql.member_bought_at_merchant(member_id=m.pk, merchant_id=world.merchant.pk, other_than=only)
    assert sales_sql.member_bought_at_merchant(member_id=m.pk, merchant_id=world.merchant.pk, other_than=0)
    assert not sales_sql.member_bought_at_merchant(member_id=n.pk, merchant_id=world.merchant.pk, other_than=0)
    assert not sales_sql.member_bought_at_merchant(member_id=m.pk, merchant_id=world.other_merchant.pk, other_than=0)
