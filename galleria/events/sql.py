"""The events app's SQL: fragments the segment builder embeds (core.sql.Fragment). Only the events app imports it."""

from __future__ import annotations

import datetime as dt

from galleria.core import sql

from .models import Event, Registration


def members_by_registration(event_ids: list[int], *, state: str, now: dt.datetime) -> sql.Fragment:
    """Members registered for one of these events (`state="registered"`: a live registration), who checked in
    (`"attended"`), or who held a confirmed seat of an event that has ended without checking in (`"no_show"`)."""
    where, params = {
        "registered": ("r.state IN ('confirmed', 'offered', 'checked_in', 'waiting')", []),
        "attended": ("r.state = 'checked_in'", []),
        "no_show": ("r.state = 'confirmed' AND e.ends_at <= %s", [sql.when(now)]),
    }[state]
    text = (
        f"SELECT r.member_id AS member_id FROM {sql.table(Registration)} r"  # noqa: S608
        f" JOIN {sql.table(Event)} e ON e.id = r.event_id"
        f" WHERE r.event_id IN ({sql.placeholders(len(event_ids))}) AND {where}"
    )
    return sql.Fragment(text, (*event_ids, *params))
