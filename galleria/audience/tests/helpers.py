"""Builders for the audience tests: members and their sales, written directly (the facts the passes read)."""

from __future__ import annotations

import datetime as dt
import itertools

from django.db import transaction

from galleria.audit.types import Actor
from galleria.members.services import member_register_in_tx
from galleria.sales.models import Sale

_phones = itertools.count(13900000000)
_receipts = itertools.count(1)


def member(world, *, joined_at: dt.datetime, gender: str = "unknown", birthday: dt.date | None = None):
    with transaction.atomic():
        m = member_register_in_tx(
            mall=world.mall,
            phone=str(next(_phones)),
            channel="desk",
            actor=Actor.system("test"),
            joined_at=joined_at,
        )
    if gender != "unknown" or birthday is not None:
        m.gender, m.birthday = gender, birthday
        m.save(update_fields=["gender", "birthday"])
    return m


def sale(
    world,
    m,
    *,
    at: dt.datetime,
    fen: int = 10000,
    merchant=None,
    discount: int = 0,
    refunded: int = 0,
    channel: str = "pos",
) -> Sale:
    merchant = merchant or world.merchant
    store = merchant.stores.first()
    status = "refunded" if refunded and refunded == fen else ("partially_refunded" if refunded else "completed")
    return Sale.objects.create(
        mall_group=world.group,
        mall=merchant.mall,
        merchant=merchant,
        store=store,
        member=m,
        pos_sale_id=f"T{next(_receipts)}",
        occurred_at=at,
        channel=channel,
        status=status,
        total_fen=fen,
        paid_fen=fen - discount,
        discount_fen=discount,
        refunded_fen=refunded,
    )
