"""Formatting helpers and member-scoped lookups shared by the presenters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Page

from galleria.core import timeutil
from galleria.core.money import format_cny
from galleria.members.models import Member
from galleria.merchants.models import Merchant
from galleria.sales.models import Refund
from galleria.sales.selectors import sale_list

BP = 10000
PAGE_SIZE = 20


def multiplier(bp: int) -> str:
    """12000 → "1.2", 20000 → "2", 12500 → "1.25"."""
    return format((Decimal(bp) / BP).normalize(), "f")


def percent(bp: int) -> str:
    """200 → "2%", 250 → "2.5%"."""
    return format((Decimal(bp) / 100).normalize(), "f") + "%"


def yuan_short(amount_fen: int) -> str:
    """100 → "¥1", 100000 → "¥1,000", 250 → "¥2.50"."""
    if amount_fen % 100 == 0:
        return f"¥{amount_fen // 100:,}"
    return format_cny(amount_fen)


def signed_cny(amount_fen: int) -> str:
    """+¥1,050.00 / −¥99.00 (a real minus sign)."""
    return ("+" if amount_fen > 0 else "−" if amount_fen < 0 else "") + format_cny(abs(amount_fen))


def signed_points(points: int) -> str:
    return ("+" if points > 0 else "−" if points < 0 else "") + f"{abs(points):,}"


def local_naive(moment: dt.datetime, tz_name: str) -> dt.datetime:
    """The mall-local wall time without a zone, so templates print it as is (they would convert aware values)."""
    return timeutil.local(moment, tz_name).replace(tzinfo=None)


def source_id(source: str, prefix: str) -> int | None:
    head, _sep, tail = source.partition(":")
    if head != prefix or not tail.isdigit():
        return None
    return int(tail)


def as_int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def as_dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Paging:
    page: int
    pages: int
    count: int
    page_size: int

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def previous_page(self) -> int:
        return max(1, self.page - 1)

    @property
    def next_page(self) -> int:
        return min(self.pages, self.page + 1)


def paging_of(page: Page[Any]) -> Paging:
    return Paging(
        page=page.number,
        pages=page.paginator.num_pages,
        count=page.paginator.count,
        page_size=int(page.paginator.per_page),
    )


def sale_merchants(*, member: Member, sale_ids: Iterable[int]) -> dict[int, str]:
    ids = list(sale_ids)
    if not ids:
        return {}
    return dict(sale_list(member_id=member.pk).filter(pk__in=ids).values_list("pk", "merchant__name"))


def refund_merchants(*, member: Member, refund_ids: Iterable[int]) -> dict[int, str]:
    ids = list(refund_ids)
    if not ids:
        return {}
    return dict(Refund.objects.filter(pk__in=ids, sale__member_id=member.pk).values_list("pk", "sale__merchant__name"))


def merchant_names(*, member: Member, merchant_ids: Iterable[int]) -> dict[int, str]:
    ids = list(merchant_ids)
    if not ids:
        return {}
    return dict(Merchant.objects.filter(pk__in=ids, mall__group_id=member.mall_group_id).values_list("pk", "name"))
