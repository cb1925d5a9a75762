"""API credentials' part of a member's data export (docs/privacy.md "Data export"; registered in
settings.GALLERIA_EXPORT_SECTIONS): the devices signed in to the member API, never the tokens."""

from __future__ import annotations

from typing import Any

from .models import MemberDevice


def member_export_sections(*, member_id: int, mall_group_id: int) -> dict[str, list[dict[str, Any]]]:
    rows = MemberDevice.objects.filter(member_id=member_id, mall_group_id=mall_group_id).order_by("created_at", "pk")
    return {
        "api_devices": [
            {
                "device": d.name,
                "signed_in_with": d.via,
                "signed_in_at": d.created_at.isoformat(),
                "last_used_at": d.last_used_at.isoformat(),
                "signed_out_at": d.revoked_at.isoformat() if d.revoked_at else None,
            }
            for d in rows
        ]
    }
