"""The merchant directory (by floor and category, search) and a merchant's page with its current offers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Prefetch, Q
from django.utils import timezone

from galleria.core import timeutil
from galleria.coupons import rules as coupon_rules
from galleria.coupons.models import CouponTemplate, Promotion, TemplateStatus
from galleria.coupons.selectors import promotion_spec
from galleria.malls.models import Mall
from galleria.merchants.models import Category, Merchant, MerchantStatus, Store

from .home import claimable_templates

SEARCH_MAX = 40


@dataclass(frozen=True)
class DirectoryEntry:
    id: int
    name: str
    category: str
    category_label: str
    description: str
    units: str
    has_offers: bool


@dataclass(frozen=True)
class FloorGroup:
    floor: str
    entries: list[DirectoryEntry]


def floor_key(floor: str) -> tuple[int, str]:
    """B2 < B1 < L1 (or 1F) < L2 …; anything else after, alphabetically."""
    text = floor.strip().upper()
    match = re.fullmatch(r"B(\d{1,2})", text)
    if match:
        return (-int(match.group(1)), text)
    match = re.fullmatch(r"L?(\d{1,2})F?", text)
    if match:
        return (int(match.group(1)), text)
    return (1000, text)


def _active_stores() -> Prefetch:
    return Prefetch(
        "stores", queryset=Store.objects.filter(is_active=True).order_by("floor", "unit_no"), to_attr="open_stores"
    )


def offer_merchant_ids(*, mall: Mall, at: dt.datetime) -> set[int]:
    return {t.merchant_id for t in claimable_templates(mall_group_id=mall.group_id, at=at) if t.merchant_id}


def directory(
    *, mall: Mall, query: str = "", category: str = "", floor: str = ""
) -> tuple[list[FloorGroup], list[str]]:
    """Active merchants of the mall grouped by the floors of their active stores (one merchant on two floors is
    listed under both), filtered by a name search, a category and a floor; also every floor for the filter."""
    qs = Merchant.objects.filter(mall=mall, status=MerchantStatus.ACTIVE).prefetch_related(_active_stores())
    query = " ".join(query.replace("\x00", "").split())[:SEARCH_MAX]
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(short_description__icontains=query))
    if category in Category.values:
        qs = qs.filter(category=category)
    merchants = list(qs.order_by("name", "pk"))
    all_floors = sorted(
        set(Store.objects.filter(merchant__mall=mall, is_active=True).values_list("floor", flat=True)), key=floor_key
    )
    if floor not in all_floors:
        floor = ""  # an unknown floor (stale link, typo) filters nothing rather than hiding everything
    with_offers = offer_merchant_ids(mall=mall, at=timezone.now())
    labels = dict(Category.choices)
    groups: dict[str, list[DirectoryEntry]] = {}
    for m in merchants:
        stores = getattr(m, "open_stores", [])
        floors = sorted({s.floor for s in stores}, key=floor_key) or [""]
        for f in floors:
            if floor and f != floor:
                continue
            units = ", ".join(s.unit_no for s in stores if s.floor == f)
            groups.setdefault(f, []).append(
                DirectoryEntry(
                    id=m.pk,
                    name=m.name,
                    category=m.category,
                    category_label=str(labels.get(m.category, m.category)),
                    description=m.short_description,
                    units=units,
                    has_offers=m.pk in with_offers,
                )
            )
    ordered = [FloorGroup(f, groups[f]) for f in sorted(groups, key=floor_key)]
    return ordered, all_floors


@dataclass(frozen=True)
class MerchantPage:
    merchant: Merchant
    category_label: str
    stores: list[Store]
    opens_at: dt.time
    closes_at: dt.time
    hours_are_mall: bool
    is_open_now: bool
    coupon_templates: list[CouponTemplate]
    promotions: list[Promotion]


def is_open(local_time: dt.time, opens_at: dt.time, closes_at: dt.time) -> bool:
    """Open at this wall time? Hours past midnight (22:00–02:00) wrap; equal times mean open all day."""
    if opens_at == closes_at:
        return True
    if opens_at < closes_at:
        return opens_at <= local_time < closes_at
    return local_time >= opens_at or local_time < closes_at


def merchant_page(*, mall: Mall, merchant_id: int) -> MerchantPage | None:
    merchant = (
        Merchant.objects.filter(pk=merchant_id, mall__group_id=mall.group_id, status=MerchantStatus.ACTIVE)
        .select_related("mall")
        .prefetch_related(_active_stores())
        .first()
    )
    if merchant is None:
        return None
    now = timezone.now()
    home_mall = merchant.mall
    opens_at = merchant.opens_at or home_mall.opens_at
    closes_at = merchant.closes_at or home_mall.closes_at
    local = timeutil.local(now, home_mall.timezone).time()
    templates = [t for t in claimable_templates(mall_group_id=mall.group_id, at=now) if t.merchant_id == merchant.pk]
    promotions = []
    for promo in Promotion.objects.filter(
        mall_group_id=mall.group_id, status=TemplateStatus.ACTIVE, starts_at__lte=now, ends_at__gt=now
    ).order_by("pk"):
        spec = promotion_spec(promo, tier_discount_bp=1)  # a tier discount applies to someone: list it
        if spec is not None and coupon_rules.merchant_in_scope(
            spec, merchant_id=merchant.pk, merchant_category=merchant.category
        ):
            promotions.append(promo)
    return MerchantPage(
        merchant=merchant,
        category_label=str(dict(Category.choices).get(merchant.category, merchant.category)),
        stores=list(getattr(merchant, "open_stores", [])),
        opens_at=opens_at,
        closes_at=closes_at,
        hours_are_mall=merchant.opens_at is None,
        is_open_now=is_open(local, opens_at, closes_at),
        coupon_templates=templates,
        promotions=promotions,
    )
