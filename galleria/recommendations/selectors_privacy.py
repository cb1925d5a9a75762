"""Recommendations' part of a member's data export (PIPL right of access, docs/privacy.md "Data export").

Registered in settings.GALLERIA_EXPORT_SECTIONS (privacy sits below recommendations in the layering). No row of
this app is keyed by a member: the member's "recommendation profile" is computed from their own purchases, so the
export computes it now — whether personalisation is on, the merchants the recommendations start from (the member's
own, with their purchase counts), and what is recommended and why. The model's aggregate lists hold no member."""

from __future__ import annotations

from typing import Any

from galleria.members.selectors import members_active
from galleria.merchants.selectors import merchant_options

from .selectors import for_member


def member_export_sections(*, member_id: int, mall_group_id: int) -> dict[str, list[dict[str, Any]]]:
    member = members_active(mall_group_id=mall_group_id).filter(pk=member_id).first()
    if member is None:
        return {"recommendation_profile": []}
    result = for_member(member=member)
    if result.model_version is None and not result.seeds and not result.merchants:
        return {"recommendation_profile": []}  # nothing was trained or computed for them (the switch is a consent)
    merchants = merchant_options(mall_group_id=mall_group_id).in_bulk([m for m, _n in result.seeds])
    names = {m: merchant.name for m, merchant in merchants.items()}
    profile: dict[str, Any] = {
        "personalised_recommendations": not result.switched_off,
        "model_version": result.model_version,
        "based_on_your_merchants": [
            {"merchant_id": m, "merchant": names.get(m, ""), "purchases_last_365_days": n} for m, n in result.seeds
        ],
        "recommended": [
            {"merchant_id": p.merchant_id, "merchant": p.name, "reason": p.reason, "because_of": p.because}
            for p in result.merchants
        ],
    }
    return {"recommendation_profile": [profile]}
