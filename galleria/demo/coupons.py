"""The demo's coupons and promotions: a claim centre stocked with every kind of coupon, members who claimed some
and used some at the tills (through the real sale), and one mall-wide promotion running.

Everything goes through the coupons services (templates, claims, grants) and `sale_commit` (redemptions), so
stock, funnels and funding in the console are what production would show.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.coupons import services as coupon_services
from galleria.coupons.models import Coupon, CouponTemplate
from galleria.malls.models import MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Category, Merchant, Store
from galleria.sales import selectors as sale_selectors
from galleria.sales import services as sale_services
from galleria.sales.types import LineIn, PaymentIn, SaleIn

ACTOR = Actor(user_id=None, label="demo")


@dataclass
class CouponResult:
    templates: int = 0
    claimed: int = 0
    used: int = 0
    promotion: str = ""


def mall_midnight(group: MallGroup, moment: dt.datetime, *, days: int = 0) -> dt.datetime:
    """Midnight mall time, `days` after the mall-local day of `moment`, as an aware datetime: the demo's coupons and
    promotions start and end on the mall's day boundaries (not at 08:00, which UTC midnight is in Shanghai)."""
    tz_name = group.malls.order_by("pk").values_list("timezone", flat=True).first()
    day = timeutil.local_date(moment, tz_name) + dt.timedelta(days=days)
    return timeutil.local_day_bounds(day, tz_name)[0]


def _templates(group: MallGroup, today_start: dt.datetime) -> list[dict[str, Any]]:
    """One of every kind, with the limits, funding and claim methods a mall would really use."""
    dining = Merchant.objects.filter(mall__group=group, category=Category.DINING).order_by("pk").first()
    fixed = {
        "validity_kind": "fixed",
        "valid_from": mall_midnight(group, today_start, days=-45),
        "valid_until": mall_midnight(group, today_start, days=60),
    }
    items: list[dict[str, Any]] = [
        {
            "name": "新人礼 ¥20 无门槛券",
            "kind": "cash_off",
            "value_fen": 2000,
            "trigger": "join",
            "is_claimable": False,
            "validity_kind": "relative",
            "valid_days": 30,
        },
        {
            "name": "满200减30",
            "kind": "threshold",
            "value_fen": 3000,
            "threshold_fen": 20000,
            "total_quantity": 5000,
            "per_member_limit": 2,
            **fixed,
        },
        {
            "name": "每满100减10（最高减50）",
            "kind": "per_threshold",
            "value_fen": 1000,
            "threshold_fen": 10000,
            "max_discount_fen": 5000,
            "total_quantity": 3000,
            "per_member_limit": 1,
            "stacking_group": "mall",
            **fixed,
        },
        {
            "name": "全场85折（最高减100）",
            "kind": "percent",
            "percent_off_bp": 1500,
            "max_discount_fen": 10000,
            "claim_method": "points",
            "claim_points": 500,
            "total_quantity": 1000,
            "per_member_limit": 1,
            "stacking_group": "mall",
            **fixed,
        },
        {
            "name": "满3件8折",
            "kind": "n_items",
            "min_items": 3,
            "percent_off_bp": 2000,
            "scope_kind": "categories",
            "scope_categories": [Category.FASHION, Category.SPORTS],
            "total_quantity": 2000,
            "per_member_limit": 1,
            **fixed,
        },
        {
            "name": "运动服饰每件立减¥15（每单限3件）",
            "kind": "per_item",
            "value_fen": 1500,
            "max_units": 3,
            "scope_kind": "categories",
            "scope_categories": [Category.SPORTS],
            "total_quantity": 2000,
            "per_member_limit": 1,
            **fixed,
        },
        {
            "name": "美妆特价¥99/件（每单限2件）",
            "kind": "unit_price",
            "unit_price_fen": 9900,
            "max_units": 2,
            "scope_kind": "categories",
            "scope_categories": [Category.BEAUTY],
            "total_quantity": 1000,
            "per_member_limit": 1,
            **fixed,
        },
        {
            "name": "¥50代金券 ¥39抢购",
            "kind": "cash_off",
            "value_fen": 5000,
            "threshold_fen": 10000,
            "claim_method": "price",
            "claim_price_fen": 3900,
            "total_quantity": 500,
            "per_member_limit": 1,
            **fixed,
        },
        {
            "name": "免费停车2小时",
            "kind": "parking",
            "parking_hours": 2,
            "total_quantity": 2000,
            "per_member_daily_limit": 1,
            **fixed,
        },
        {
            "name": "线上商城包邮券",
            "kind": "shipping",
            "value_fen": 1000,
            "channel": "online",
            "total_quantity": 1000,
            "per_member_limit": 1,
            **fixed,
        },
        {
            "name": "金卡专享 满500减100",
            "kind": "threshold",
            "value_fen": 10000,
            "threshold_fen": 50000,
            "min_tier_rank": 2,
            "total_quantity": 500,
            "per_member_limit": 1,
            "is_exclusive": True,
            **fixed,
        },
        {
            "name": "消费满¥300返¥50券",
            "kind": "cash_off",
            "value_fen": 5000,
            "threshold_fen": 20000,
            "trigger": "spend",
            "trigger_spend_fen": 30000,
            "is_claimable": False,
            "validity_kind": "relative",
            "valid_days": 14,
        },
    ]
    if dining is not None:
        items.append(
            {
                "name": f"{dining.name} 饮品兑换券",
                "kind": "exchange",
                "exchange_item": "招牌饮品一杯",
                "value_fen": 1500,
                "merchant": dining.pk,
                "funder": "merchant",
                "scope_kind": "merchants",
                "scope_merchant_ids": [dining.pk],
                "total_quantity": 800,
                "per_member_limit": 1,
                **fixed,
            }
        )
    return items  # fmt: skip


def seed_coupon_templates(group: MallGroup, now: dt.datetime) -> tuple[list[CouponTemplate], dt.datetime]:
    """The templates (active) and the running mall-wide promotion; returns the templates and when the promotion
    started (sales from then on get its discount)."""
    today_start = mall_midnight(group, now)
    templates = []
    for values in _templates(group, today_start):
        merchant_id = values.pop("merchant", None)
        if merchant_id is not None:
            values["merchant_id"] = merchant_id
        t = coupon_services.coupon_template_create(mall_group_id=group.pk, values=values, actor=ACTOR)
        templates.append(
            coupon_services.coupon_template_activate(template_id=t.pk, mall_group_id=group.pk, actor=ACTOR)
        )
    starts = mall_midnight(group, now, days=-7)
    promo = coupon_services.promotion_create(
        mall_group_id=group.pk,
        values={
            "name": "冬季购物节 全场满500减50",
            "kind": "spend_threshold",
            "value_fen": 5000,
            "threshold_fen": 50000,
            "members_only": False,
            "starts_at": starts,
            "ends_at": mall_midnight(group, now, days=21),
            "stacking_group": "mall",
        },
        actor=ACTOR,
    )
    coupon_services.promotion_set_status(promotion_id=promo.pk, mall_group_id=group.pk, status="active", actor=ACTOR)
    return templates, starts


def amount_due(
    *, merchant_id: int, member_id: int | None, lines: Sequence[LineIn], at: dt.datetime, coupon_ids: Sequence[int]
) -> int:
    """What the till charges once the promotions in force (and the chosen coupons) apply: the quote."""
    quote = sale_selectors.sale_quote(
        merchant_id=merchant_id, member_id=member_id, lines=lines, payments=[], at=at, coupon_ids=coupon_ids
    )
    return quote.paid_fen


def seed_coupon_life(group: MallGroup, templates: list[CouponTemplate], *, seed: int, now: dt.datetime) -> CouponResult:
    """Claims by a sample of members over the last three weeks, and some of those coupons used at the tills."""
    rng = random.Random(seed * 104729 + 3)
    result = CouponResult(templates=len(templates), promotion="冬季购物节 全场满500减50")
    claimable = [t for t in templates if t.is_claimable and t.claim_method == "free"]
    members = list(Member.objects.filter(mall_group=group).order_by("pk").values_list("pk", flat=True))
    if not members or not claimable:
        return result
    held: list[tuple[int, int, dt.datetime]] = []  # (member, coupon, claimed at)
    for member_id in rng.sample(members, k=min(len(members), 400)):
        for t in rng.sample(claimable, k=rng.randint(1, min(3, len(claimable)))):
            at = now - dt.timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
            try:
                issued = coupon_services.coupon_claim(
                    member_id=member_id, template_id=t.pk, idempotency_key=f"demo-{member_id}-{t.pk}", at=at
                )
            except ApplicationError:
                continue  # a limit or the stock said no, as it would in the app
            result.claimed += 1
            held.append((member_id, issued.coupon_id, at))
    stores = list(Store.objects.filter(merchant__mall__group=group, is_active=True).select_related("merchant"))
    basket_coupons = {c.pk: c for c in Coupon.objects.filter(pk__in=[h[1] for h in held]).select_related("template")}
    for member_id, coupon_id, claimed_at in rng.sample(held, k=len(held) // 3):
        coupon = basket_coupons[coupon_id]
        if coupon.template.kind in ("parking", "shipping", "exchange"):
            continue
        store = rng.choice([s for s in stores if _in_scope(coupon.template, s.merchant)] or stores)
        price = max(coupon.template.threshold_fen, 10000) + rng.randint(0, 200) * 100
        qty = 3 if coupon.template.kind in ("n_items", "per_item") else 1
        lines = (LineIn(sku=f"SKU-{store.merchant_id}-C", name="商品", quantity=qty, unit_price_fen=price,
                        amount_fen=price * qty),)  # fmt: skip
        at = claimed_at + (now - claimed_at) * rng.random() * 0.9
        try:
            due = amount_due(
                merchant_id=store.merchant_id, member_id=member_id, lines=lines, at=at, coupon_ids=(coupon_id,)
            )
            with transaction.atomic():
                sale_services.sale_commit_in_tx(
                    data=SaleIn(
                        merchant_id=store.merchant_id,
                        store_id=store.pk,
                        terminal_id=None,
                        pos_sale_id=f"DC{seed}-{coupon_id}",
                        occurred_at=at,
                        lines=lines,
                        payments=(PaymentIn("wechat", due),) if due else (),
                        member_id=member_id,
                        coupon_ids=(coupon_id,),
                    ),
                    actor=ACTOR,
                )
        except ApplicationError:
            continue  # out of its hours or scope at that moment: the shopper kept it
        result.used += 1
    coupon_services.coupon_expire(now=now)
    return result


def _in_scope(template: CouponTemplate, merchant: Merchant) -> bool:
    if template.scope_kind == "categories":
        return merchant.category in (template.scope_categories or [])
    if template.scope_kind == "merchants":
        return merchant.pk in (template.scope_merchant_ids or [])
    return True
