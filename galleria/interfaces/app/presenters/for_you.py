"""The member app's "为你推荐" (docs/recommendations.md): the home block's items and the /app/for-you/ page.

The home block costs the recommender's request path (at most four indexed queries) plus the switches row; the page
adds the claimable coupons of the recommended merchants and the upcoming events the member's tier may join."""

from __future__ import annotations

from typing import Any

from galleria.recommendations import selectors
from galleria.recommendations.types import MemberLike as Member

from ...recommendation_text import rows

HOME_ITEMS = 4


def home_items(*, mall_group_id: int, member: Member | None) -> list[dict[str, Any]] | None:
    """The home block's merchants with their reason; None when the console switched the merchants block off.
    Without a member (the console's layout preview): the group's popular merchants."""
    if not selectors.switches(mall_group_id=mall_group_id).merchants:
        return None
    if member is None:
        picks = selectors.popular(mall_group_id=mall_group_id, limit=HOME_ITEMS)
    else:
        picks = list(selectors.for_member(member=member, limit=HOME_ITEMS).merchants)
    return [
        {"id": r.pick.merchant_id, "name": r.pick.name, "category": r.category, "reason": r.reason} for r in rows(picks)
    ]


def page(*, member: Member, mall_group_id: int) -> dict[str, Any]:
    """Everything the /app/for-you/ page shows, each part only when its block is switched on."""
    switches = selectors.switches(mall_group_id=mall_group_id)
    result = selectors.for_member(member=member, limit=10)
    merchant_ids = [p.merchant_id for p in result.merchants] + [m for m, _n in result.seeds]
    return {
        "switches": switches,
        "result": result,
        "picks": rows(result.merchants) if switches.merchants else [],
        "coupons": selectors.coupons_for(member=member, merchant_ids=merchant_ids) if switches.coupons else [],
        "events": selectors.events_for(member=member) if switches.events else [],
    }
