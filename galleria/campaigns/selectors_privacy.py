"""Campaigns' part of a member's data export (PIPL right of access, docs/privacy.md "Data export").

Registered in settings.GALLERIA_EXPORT_SECTIONS (privacy sits below campaigns and calls it by dotted path; the
contract is `audience/selectors_privacy.py`'s). PIPL gives the member a right to know they were targeted: every
campaign that counted them — its name, when it started, whether they were in the group that received it or in the
hold-out, what reached them and why an SMS did not. The messages themselves are under `sms_messages` and
`inbox_messages`."""

from __future__ import annotations

from typing import Any

from .models import CampaignMember


def member_export_sections(*, member_id: int, mall_group_id: int) -> dict[str, list[dict[str, Any]]]:
    """The campaigns that counted the member, oldest first: one query."""
    rows = (
        CampaignMember.objects.filter(member_id=member_id, campaign__mall_group_id=mall_group_id)
        .select_related("campaign")
        .order_by("campaign__started_at", "pk")
    )
    return {
        "marketing_campaigns": [
            {
                "campaign": r.campaign.name,
                "started_at": r.campaign.started_at.isoformat() if r.campaign.started_at else None,
                "group": "received" if r.arm == "treated" else "hold_out",
                "delivery": r.delivery,
                "inbox_message": bool(r.inbox_message_id),
                "sms": bool(r.sms_message_id),
                "sms_not_sent_because": r.sms_skip or None,
                "done_at": r.done_at.isoformat() if r.done_at else None,
            }
            for r in rows
        ]
    }
