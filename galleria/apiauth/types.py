"""API credential values crossing app boundaries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class TokenPair:
    """What a member's device receives at sign-in and at each refresh (the only time the tokens are seen)."""

    device_id: int
    member_id: int
    access_token: str
    access_expires_at: dt.datetime
    refresh_token: str
    refresh_expires_at: dt.datetime


@dataclass(frozen=True)
class CreatedStaffToken:
    token_id: int
    token: str


@dataclass(frozen=True)
class StaffTokenAuth:
    """A valid staff API token: whose, which permissions it carries (scopes), and its id for the audit trail."""

    token_id: int
    user_id: int
    scopes: frozenset[str]
