"""Reconcile use cases (docs/reconcile.md). Callers import from here."""

from __future__ import annotations

from .fixups import finding_fix, finding_resolve
from .runs import gateway_today, reconcile_dates, reconcile_day
from .shares import limit_bp, profit_share_for_attempt, profit_share_sweep, share_action, share_recover_check

__all__ = [
    "finding_fix",
    "finding_resolve",
    "gateway_today",
    "limit_bp",
    "profit_share_for_attempt",
    "profit_share_sweep",
    "reconcile_dates",
    "reconcile_day",
    "share_action",
    "share_recover_check",
]
