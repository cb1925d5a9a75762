"""The conversion report: attendees' spend in the mall on the event's day (not the seats, less refunds) against
similar members — same tier and age band, not registered — weighted to the attendees' mix, with the counts."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from galleria.core import timeutil
from galleria.events import rules, services
from galleria.events.selectors_conversion import conversion
from galleria.sales.models import Sale
from galleria.tiers.models import MemberTier
from galleria.tiers.services import tier_ladder_ensure_default

from .helpers import ACTOR, event, member, register

pytestmark = pytest.mark.django_db


_receipts = itertools.count(1)


def sale(world, m, *, at: dt.datetime, fen: int, refunded: int = 0, channel: str = "pos") -> Sale:
    """A sale written directly (the facts the report reads)."""
    return Sale.objects.create(
        mall_group=world.group,
        mall=world.mall,
        merchant=world.merchant,
        store=world.store,
        member=m,
        pos_sale_id=f"CV{next(_receipts)}",
        occurred_at=at,
        channel=channel,
        status="refunded" if refunded == fen else "completed",
        total_fen=fen,
        paid_fen=fen,
        refunded_fen=refunded,
    )


def born(m, years: int, day: dt.date):
    m.birthday = day.replace(year=day.year - years) - dt.timedelta(days=10)
    m.save(update_fields=["birthday"])
    return m


def test_age_bands_and_the_weighted_average():
    day = dt.date(2026, 12, 8)
    assert rules.age_band(dt.date(2001, 12, 9), on=day) == (0, 25)  # 24, one day short of 25
    assert rules.age_band(dt.date(2001, 12, 8), on=day) == (25, 35)
    assert rules.age_band(dt.date(1950, 1, 1), on=day) == (55, None)
    assert rules.age_band(None, on=day) is None
    earliest, latest = rules.band_birthdays((25, 35), on=day)
    assert (earliest, latest) == (dt.date(1991, 12, 8), dt.date(2001, 12, 8))
    # 3 attendees in a stratum whose 2 peers spent ¥100, 1 in one whose 4 peers spent ¥800 → (3×50 + 1×200) / 4
    assert rules.weighted_peer_average([(3, 2, 10_000), (1, 4, 80_000)]) == 8_750
    assert rules.weighted_peer_average([(3, 0, 0)]) is None


def test_attendees_against_similar_members_that_day(world):
    ladder = sorted(tier_ladder_ensure_default(mall_group_id=world.group.pk), key=lambda lv: lv.rank)
    start = timeutil.now() - dt.timedelta(days=2)
    ev = event(world, starts_at=start, ends_at=start + dt.timedelta(hours=2), capacity=10)
    day = timeutil.local_date(start, world.mall.timezone)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=timeutil.zone(world.mall.timezone))
    came = [born(member(world), 30, day) for _ in range(2)]
    missed = born(member(world), 30, day)
    peers = [born(member(world), 31, day) for _ in range(3)]
    older = born(member(world), 60, day)  # another age band
    gold = born(member(world), 30, day)  # another tier
    MemberTier.objects.update_or_create(member=gold, defaults={"level": ladder[-1], "since": timeutil.now()})
    for m in [*came, missed]:
        reg = register(world, m, ev, at=start - dt.timedelta(days=3))
        if m in came:
            services.check_in(
                mall_group_id=world.group.pk, code=reg.code, actor=ACTOR, at=start + dt.timedelta(minutes=5)
            )

    sale(world, came[0], at=noon, fen=30_000)
    sale(world, came[0], at=noon, fen=5_000, channel="event")  # the seat itself does not count
    sale(world, came[1], at=noon + dt.timedelta(days=1), fen=50_000)  # another day
    sale(world, came[1], at=noon, fen=10_000, refunded=10_000)  # refunded in full
    sale(world, missed, at=noon, fen=99_000)  # registered: neither attendee nor peer
    sale(world, peers[0], at=noon, fen=6_000)
    sale(world, older, at=noon, fen=88_000)
    sale(world, gold, at=noon, fen=77_000)

    report = conversion(event=ev)
    assert report.day == day
    assert (report.attendees, report.attendee_buyers, report.attendee_spend_fen) == (2, 1, 30_000)
    assert report.attendee_average_fen == 15_000 and report.attendee_buyer_pct == 50
    assert (report.peers, report.peer_buyers, report.peer_spend_fen) == (3, 1, 6_000)
    assert report.peer_average_fen == 2_000 and report.peer_buyer_pct == 33
    assert [(s.band, s.attendees, s.peers) for s in report.strata] == [("25–34", 2, 3)]
    assert not report.peers_capped
    assert conversion(event=ev, peer_cap=2).peers_capped
