"""The campaigns app's SQL: the members of a campaign's arm as a fragment (core.sql.Fragment) for the sales app's
figures. Only the campaigns app imports this module."""

from __future__ import annotations

from galleria.core import sql

from .models import CampaignMember


def arm_members(*, campaign_id: int, arm: str) -> sql.Fragment:
    text = f"SELECT member_id FROM {sql.table(CampaignMember)} WHERE campaign_id = %s AND arm = %s"  # noqa: S608
    return sql.Fragment(text, (campaign_id, arm))
