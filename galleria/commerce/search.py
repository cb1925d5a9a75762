"""The online mall's product search (docs/design/online-mall.md §8): Chinese substring search over the listed
products of a mall group.

The query is normalised exactly as `Product.search_text` (rules_catalog.search_query: NFKC, lower case, single
spaces, at most 30 characters), so ＩＰＨＯＮＥ finds iPhone and 奶茶 finds 芝士奶茶. On PostgreSQL an expression GIN
over every 1- and 2-character substring of the text answers it (a 1- or 2-character query is one gram; a longer one
is its bigrams, ANDed by the index) and `strpos` rechecks the exact substring; on SQLite (the demo) `instr` scans the
group's listed products. Results: products whose title contains the query first, then best sellers, then newest;
no total count (costly for a 1-character query) — one more row than asked tells "more". An empty query is the
category listing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from galleria.core import timeutil

from . import rules_catalog, selectors_catalog
from . import sql as commerce_sql
from .types import ProductCard

PAGE_SIZE = 20
MAX_OFFSET = 1000  # deeper pages are refused: nobody reads them and they cost a long scan

__all__ = ["PAGE_SIZE", "SearchPage", "product_search"]


@dataclass(frozen=True)
class SearchPage:
    query: str  # as searched (normalised)
    cards: tuple[ProductCard, ...]
    has_more: bool


def product_search(
    *,
    mall_group_id: int,
    query: str,
    category_id: int | None = None,
    price_fen: tuple[int, int] | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    at: dt.datetime | None = None,
) -> SearchPage:
    """One page of results. `category_id` includes its children; `price_fen` (low, high) keeps products with a
    SKU price in the range."""
    at = at or timeutil.now()
    offset = min(max(offset, 0), MAX_OFFSET)
    limit = min(max(limit, 1), 50)
    q = rules_catalog.search_query(query)
    categories: Sequence[int] = ()
    if category_id is not None:
        categories = selectors_catalog.category_with_children(mall_group_id=mall_group_id, category_id=category_id)
    if not q:
        qs = selectors_catalog.category_listing(mall_group_id=mall_group_id, category_id=category_id, at=at)
        if price_fen is not None:
            qs = qs.filter(min_price_fen__lte=price_fen[1], max_price_fen__gte=price_fen[0])
        rows = selectors_catalog.cards(qs[offset : offset + limit + 1])
    else:
        merchant_ids = selectors_catalog.open_shop_merchant_ids(mall_group_id=mall_group_id)
        found = (
            []
            if not merchant_ids
            else commerce_sql.product_search(
                mall_group_id=mall_group_id,
                query=q,
                at=at,
                merchant_ids=merchant_ids,
                category_ids=categories,
                price_fen=price_fen,
                limit=limit + 1,
                offset=offset,
            )
        )
        rows = [
            ProductCard(
                product_id=r[0],
                title=r[1],
                subtitle=r[2],
                merchant_id=r[3],
                image_sha=r[4],
                min_price_fen=r[5],
                max_price_fen=r[6],
                sales_30d=r[7],
            )
            for r in found
        ]
    return SearchPage(query=q, cards=tuple(rows[:limit]), has_more=len(rows) > limit)
