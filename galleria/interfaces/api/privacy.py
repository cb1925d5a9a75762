"""API operations of the privacy area: a member's own rights (/app/me/...) and staff requests (/console/...)."""

from __future__ import annotations

from ninja import Router

app_router = Router(tags=["privacy"])
console_router = Router(tags=["privacy"])
