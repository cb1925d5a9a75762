"""Recommendations test data: a planted-taste world written straight to the tables (bulk), so training and the
request path run on data whose right answer is known."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from galleria.core import timeutil
from galleria.members.models import Member
from galleria.merchants.models import Category, Merchant, Store
from galleria.recommendations import rules
from galleria.sales.models import Sale

_seq = itertools.count(1)
CATEGORIES = [Category.DINING, Category.FASHION, Category.SERVICES]


@dataclass
class Planted:
    members: dict[int, Member]  # planted member number -> member
    merchants: dict[int, Merchant]  # planted merchant number -> merchant
    data: rules.PlantedDataset
    start: dt.datetime


def members(world: Any, n: int, **values: Any) -> list[Member]:
    now = timeutil.now()
    rows = [
        Member(
            mall_group=world.group,
            phone=f"+86139{next(_seq):08d}",
            join_channel="desk",
            join_mall=world.mall,
            code_secret="x" * 20,
            created_at=now - dt.timedelta(days=400),
            **values,
        )
        for _ in range(n)
    ]
    return Member.objects.bulk_create(rows)


def merchant(world: Any, name: str, category: str = Category.DINING) -> Merchant:
    m = Merchant.objects.create(mall=world.mall, name=name, category=category)
    Store.objects.create(merchant=m, name=f"{name} 店", floor="L1", unit_no=f"U{next(_seq)}")
    return m


def sales(world: Any, rows: list[tuple[Member, Merchant, dt.datetime]], *, channel: str = "pos") -> None:
    stores = {s.merchant_id: s for s in Store.objects.filter(merchant_id__in={m.pk for _mem, m, _at in rows})}
    Sale.objects.bulk_create(
        [
            Sale(
                mall_group=world.group,
                mall=world.mall,
                merchant=m,
                store=stores[m.pk],
                member=mem,
                pos_sale_id=f"T{next(_seq)}",
                occurred_at=at,
                channel=channel,
                total_fen=5000,
                paid_fen=5000,
            )
            for mem, m, at in rows
        ],
        batch_size=2000,
    )


def planted_world(world: Any, *, seed: int = 11, n_members: int = 240, groups: int = 4, per_group: int = 8) -> Planted:
    """The planted dataset (rules.planted_dataset) ending now, written as members, merchants and sales."""
    start = timeutil.now() - dt.timedelta(days=200)
    data = rules.planted_dataset(
        seed=seed, members=n_members, groups=groups, merchants_per_group=per_group, anchors=4, start=start, days=200
    )
    n_merchants = 4 + groups * per_group
    merchants = {i: merchant(world, f"商户{i:02d}", CATEGORIES[i % len(CATEGORIES)]) for i in range(1, n_merchants + 1)}
    made = members(world, n_members)
    by_no = {i + 1: m for i, m in enumerate(made)}
    sales(world, [(by_no[m], merchants[i], at) for m, i, at in data.purchases])
    return Planted(members=by_no, merchants=merchants, data=data, start=start)
