"""Promotional points a marketing journey grants (docs/marketing.md, "Journeys"): funded by the mall, booked as an
adjustment whose explanation names the journey and step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from galleria.ledger import services as ledger

from ..selectors import policy_get
from .movements import points_credit_in_tx

MEMBER_POINTS = "member_points"  # ledger AccountKind.MEMBER_POINTS (ledger's models are its own)
ADJUST = "adjust"  # ledger TransactionKind.ADJUST


def points_grant_in_tx(
    *,
    mall_group_id: int,
    member_id: int,
    points: int,
    source: str,
    memo: str,
    explanation: Mapping[str, Any],
    at: dt.datetime,
    tz_name: str,
) -> int:
    """Inside the caller's transaction (which makes it happen once: a journey step's record): credit `points` to
    the member as a new lot, funded by the mall. Returns the ledger transaction id. A merged-away or erased member's
    closed account raises AccountClosedError."""
    account = ledger.lock_member_accounts(mall_group_id=mall_group_id, member_id=member_id, kinds=[MEMBER_POINTS])[
        MEMBER_POINTS
    ]
    tx = points_credit_in_tx(
        policy=policy_get(mall_group_id=mall_group_id),
        member_id=member_id,
        points_account=account,
        points=points,
        kind=ADJUST,
        funder="mall",
        merchant_share_bp=0,
        merchant_id=None,
        occurred_at=at,
        tz_name=tz_name,
        source=source[:60],
        memo=memo[:200],
        explanation=explanation,
    )
    assert tx is not None  # points > 0
    return tx.pk
