"""API operations of the dedupe area; mounted by api.py."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["dedupe"])
