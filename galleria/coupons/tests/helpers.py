from __future__ import annotations

import datetime as dt
import itertools

from django.db import transaction
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.coupons import services
from galleria.coupons.types import BasketLine
from galleria.members.services import member_register

ACTOR = Actor(user_id=None, label="coupons-test")
_phones = itertools.count(10000000)


def new_member(world, phone=None, **kwargs):
    phone = phone or f"137{next(_phones):08d}"
    return member_register(mall=world.mall, phone=phone, channel="desk", actor=ACTOR, **kwargs)


def template(world, *, activate=True, **values):
    now = timezone.now()
    base = {
        "name": "¥30 off ¥200",
        "kind": "threshold",
        "value_fen": 3000,
        "threshold_fen": 20000,
        "validity_kind": "fixed",
        "valid_from": now - dt.timedelta(days=1),
        "valid_until": now + dt.timedelta(days=30),
    }
    base.update(values)
    t = services.coupon_template_create(mall_group_id=world.group.pk, values=base, actor=ACTOR)
    if activate:
        t = services.coupon_template_activate(template_id=t.pk, mall_group_id=world.group.pk, actor=ACTOR)
    return t


_keys = itertools.count(1)


def claim(member, tmpl, key=None, at=None):
    return services.coupon_claim(
        member_id=member.pk, template_id=tmpl.pk, idempotency_key=key or f"k{next(_keys)}", at=at
    )


def basket(*amounts, qty=1, skus=None, categories=None):
    return [
        BasketLine(
            line_no=i + 1,
            sku=skus[i] if skus else f"SKU{i + 1}",
            quantity=qty,
            unit_price_fen=a // qty,
            amount_fen=a,
            category=categories[i] if categories else "",
        )
        for i, a in enumerate(amounts)
    ]


_sales = itertools.count(1000)


def redeem(world, member, coupon_ids, lines, *, at=None, sale_id=None, merchant=None, **kwargs):
    merchant = merchant or world.merchant
    with transaction.atomic():
        return services.coupons_redeem_for_sale_in_tx(
            sale_id=sale_id or next(_sales),
            merchant=merchant,
            member_id=member.pk if member else None,
            lines=lines,
            coupon_ids=coupon_ids,
            occurred_at=at or timezone.now(),
            **kwargs,
        )


def refund(sale_id, lines, key="r1", at=None):
    with transaction.atomic():
        return services.coupons_refund_for_sale_in_tx(
            sale_id=sale_id, refund_key=key, lines=lines, occurred_at=at or timezone.now()
        )
