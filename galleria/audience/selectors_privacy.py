"""Audience's part of a member's data export (PIPL right of access, docs/privacy.md "Data export").

Registered in settings.GALLERIA_EXPORT_SECTIONS: privacy sits below audience in the layering and cannot import it,
so it calls `member_export_sections` by its dotted path. The contract of every such function: keyword-only
`member_id` and `mall_group_id`, returns {section name: [JSON-ready rows]} (times ISO 8601, money in fen as ints),
reads only this member's rows (a bounded number of queries, whatever the member's history).

The profile is derived from the member's behaviour (docs/marketing.md), and PIPL gives the member a right to know
what is inferred about them: every derived fact, the RFM scores and segment, the lifecycle stage and every tag,
automatic or added by staff, with its name (archived tags included: the row is still held). Left out: which staff
user added a tag."""

from __future__ import annotations

import datetime as dt
from typing import Any

from galleria.merchants.selectors import merchant_options

from .models import MemberProfile, MemberTag


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def member_export_sections(*, member_id: int, mall_group_id: int) -> dict[str, list[dict[str, Any]]]:
    """The member's derived profile (at most one row) and tags: two or three queries."""
    profiles = []
    for p in MemberProfile.objects.filter(member_id=member_id, mall_group_id=mall_group_id):
        top_merchant = (
            merchant_options(mall_group_id=mall_group_id)
            .filter(pk=p.top_merchant_id)
            .values_list("name", flat=True)
            .first()
            if p.top_merchant_id
            else None
        )
        profiles.append(
            {
                "computed_at": _iso(p.computed_at),
                "joined_at": _iso(p.joined_at),
                "first_purchase_at": _iso(p.first_sale_at),
                "last_purchase_at": _iso(p.last_sale_at),
                "previous_purchase_at": _iso(p.prev_sale_at),
                "purchases": p.sales_count,
                "spend_fen": p.spend_fen,
                "purchases_365d": p.sales_365,
                "spend_365d_fen": p.spend_365_fen,
                "discounted_purchases_365d": p.discounted_365,
                "evening_purchases_365d": p.evening_365,
                "weekend_purchases_365d": p.weekend_365,
                "visit_days_90d": p.visit_days_90,
                "top_category": p.top_category,
                "top_merchant": top_merchant,
                "main_channel": p.channel,
                "drives": p.drives,
                "r_score": p.r_score,
                "f_score": p.f_score,
                "m_score": p.m_score,
                "rfm_segment": p.rfm,
                "lifecycle": p.lifecycle,
            }
        )
    tags = [
        {
            "tag": mt.tag.name,
            "group": mt.tag.group.name if mt.tag.group else None,
            "kind": mt.tag.kind,
            "description": mt.tag.description,
            "source": mt.source,
            "added_at": _iso(mt.added_at),
        }
        for mt in MemberTag.objects.filter(member_id=member_id, tag__mall_group_id=mall_group_id)
        .select_related("tag", "tag__group")
        .order_by("added_at", "pk")
    ]
    return {"audience_profile": profiles, "audience_tags": tags}
