from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from galleria.audit.types import Actor
from galleria.members import services as member_services
from galleria.sales.types import LineIn, PaymentIn, SaleIn

ACTOR = Actor(user_id=None, label="pos-test")
_ids = itertools.count(1)


def member(world, phone="13812345678"):
    return member_services.member_register(mall=world.mall, phone=phone, channel="desk", actor=ACTOR)


def sale_in(
    world,
    *,
    member_id=None,
    amounts=(10000,),
    pay=None,
    points=0,
    category="",
    pos_id=None,
    at=None,
    join_phone=None,
    skus=None,
):
    lines = tuple(
        LineIn(
            sku=(skus[i] if skus else f"SKU{i}"),
            name=f"item {i}",
            quantity=1,
            unit_price_fen=a,
            amount_fen=a,
            category=category,
        )
        for i, a in enumerate(amounts)
    )
    total = sum(amounts)
    if pay is None:
        value = points  # default policy: 100 points = ¥1, so one point is worth one fen
        pay = total - value
    payments = (PaymentIn("wechat", pay),) if pay else ()
    return SaleIn(
        merchant_id=world.merchant.pk,
        store_id=world.store.pk,
        terminal_id=None,
        pos_sale_id=pos_id or f"R{next(_ids):06d}",
        occurred_at=at or timezone.now() - dt.timedelta(seconds=1),
        lines=lines,
        payments=payments,
        member_id=member_id,
        points_to_use=points,
        join_phone=join_phone,
    )
