"""An event's conversion report (docs/events.md, "Conversion"): what its attendees (checked in) spent in the
event's mall that day, against similar members — the same tier and age band on that day, not registered for the
event in any state — over the same day. Spend is read from sales (`sales.selectors.spend_by_member`: every channel
but the event seats themselves, less refunds). The peers' average is weighted to the attendees' tier and age mix,
so a gold-heavy audience is compared with gold members. Each stratum compares at most PEER_CAP members (the oldest
accounts first), and says so."""

from __future__ import annotations

from typing import Any

from galleria.core import timeutil
from galleria.members.selectors import members_active
from galleria.sales.selectors import spend_by_member
from galleria.sales.types import Channel
from galleria.tiers.selectors import members_at_tier, tier_ladder

from . import rules, selectors
from .models import Event, Registration
from .types import Conversion, ConversionStratum, RegistrationState

PEER_CAP = 20_000

__all__ = ["PEER_CAP", "conversion"]


def _band_label(band: tuple[int, int | None] | None) -> str:
    if band is None:
        return ""
    lo, hi = band
    return f"{lo}+" if hi is None else f"{lo}–{hi - 1}"


def conversion(*, event: Event, peer_cap: int = PEER_CAP) -> Conversion:
    tz = selectors.event_tz(event)
    day = timeutil.local_date(event.starts_at, tz)
    since, until = timeutil.local_day_bounds(day, tz)
    attendee_ids = list(
        Registration.objects.filter(event_id=event.pk, state=RegistrationState.CHECKED_IN).values_list(
            "member_id", flat=True
        )
    )
    registered = Registration.objects.filter(event_id=event.pk).values("member_id")
    group = members_active(mall_group_id=event.mall_group_id)
    birthdays = dict(group.filter(pk__in=attendee_ids).values_list("pk", "birthday"))
    bands = {member_id: rules.age_band(birthdays.get(member_id), on=day) for member_id in attendee_ids}
    spend = spend_by_member(
        member_ids=attendee_ids, mall_id=event.mall_id, since=since, until=until, exclude_channels=(Channel.EVENT,)
    )
    strata: list[ConversionStratum] = []
    peers_total = peer_buyers = peer_spend_total = 0
    capped = False
    levels: list[Any] = [*tier_ladder(mall_group_id=event.mall_group_id)]
    for level in levels or [None]:  # a group without tiers: one stratum per age band
        attending = group.filter(pk__in=attendee_ids)
        at_level = set(
            (members_at_tier(attending, level=level) if level is not None else attending).values_list("pk", flat=True)
        )
        for band in sorted({bands[m] for m in at_level}, key=lambda b: (b is None, b)):
            mine = [m for m in at_level if bands[m] == band]
            others = group.exclude(pk__in=registered)
            pool = members_at_tier(others, level=level) if level is not None else others
            if band is None:
                pool = pool.filter(birthday__isnull=True)
            else:
                earliest, latest = rules.band_birthdays(band, on=day)
                pool = pool.filter(birthday__lte=latest)
                if earliest is not None:
                    pool = pool.filter(birthday__gt=earliest)
            peer_ids = list(pool.order_by("pk").values_list("pk", flat=True)[: peer_cap + 1])
            capped = capped or len(peer_ids) > peer_cap
            peer_ids = peer_ids[:peer_cap]
            peer_spend = spend_by_member(
                member_ids=peer_ids, mall_id=event.mall_id, since=since, until=until, exclude_channels=(Channel.EVENT,)
            )
            strata.append(
                ConversionStratum(
                    tier=level.name if level is not None else "",
                    band=_band_label(band),
                    attendees=len(mine),
                    attendee_spend_fen=sum(max(spend.get(m, 0), 0) for m in mine),
                    peers=len(peer_ids),
                    peer_spend_fen=sum(max(v, 0) for v in peer_spend.values()),
                )
            )
            peers_total += len(peer_ids)
            peer_buyers += sum(1 for v in peer_spend.values() if v > 0)
            peer_spend_total += sum(max(v, 0) for v in peer_spend.values())
    return Conversion(
        day=day,
        attendees=len(attendee_ids),
        attendee_buyers=sum(1 for m in attendee_ids if spend.get(m, 0) > 0),
        attendee_spend_fen=sum(max(spend.get(m, 0), 0) for m in attendee_ids),
        peers=peers_total,
        peer_buyers=peer_buyers,
        peer_spend_fen=peer_spend_total,
        peer_average_fen=rules.weighted_peer_average([(s.attendees, s.peers, s.peer_spend_fen) for s in strata]),
        strata=tuple(strata),
        peers_capped=capped,
    )
