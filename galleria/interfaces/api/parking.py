"""The car-park integration API, /api/v1/parking/… (docs/parking.md, "Integration API (car-park vendors)")."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Car park"])
