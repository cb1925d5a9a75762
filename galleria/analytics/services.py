"""Keeping the daily rollups (docs/analytics.md).

`rollup_refresh` (minute job `analytics_refresh`) reads the sales and refunds written since its mark (ids, once a
row is SETTLE_SECONDS old, so a transaction still open has committed), finds the (mall, local day) slices they
touch and recomputes those slices from the sales in full — never by adding deltas, so running it twice, or a
slice recomputed by both the job and a rebuild, can only give the same rows. `rollup_rebuild` recomputes every day
of a period (the nightly job heals the last days; `galleria analytics_rebuild` everything)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from galleria.core import timeutil
from galleria.core.locking import lock_one
from galleria.ledger import selectors_analytics as ledger_analytics
from galleria.malls.selectors import mall_list
from galleria.members import selectors_analytics as members_analytics
from galleria.sales import selectors_analytics as sales_analytics

from .models import MembersDay, PointsDay, RollupMark, SalesDay
from .types import RefreshResult

SETTLE_SECONDS = 120  # a sale or refund is read once it is this old: every transaction that wrote it has ended
BATCH = 50_000  # sales (and refunds) read per run at most
REBUILD_CHUNK_DAYS = 31
MEMBERS_REREAD = 1000
MARK = "sales"

Slice = tuple[int, dt.date]  # (mall id, mall-local day)


def _malls(ids: Iterable[int] | None = None) -> dict[int, tuple[int, str]]:
    """{mall id: (group id, time zone)}."""
    qs = mall_list(mall_group_id=None)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return {pk: (group_id, tz) for pk, group_id, tz in qs.values_list("pk", "group_id", "timezone")}


def group_timezones(ids: Iterable[int] | None = None) -> dict[int, str]:
    """{group id: the time zone of its first mall}: a group's days (points, members) are its first mall's days."""
    zones: dict[int, str] = {}
    for _pk, (group_id, tz) in sorted(_malls().items()):
        if ids is None or group_id in ids:
            zones.setdefault(group_id, tz)
    return zones


def _mark() -> RollupMark:
    RollupMark.objects.get_or_create(name=MARK)
    return lock_one(RollupMark.objects.filter(name=MARK))


def recompute_slices(slices: Iterable[Slice]) -> int:
    """Recompute these (mall, day) slices from the sales and refunds; returns the rows written. Runs in the
    caller's transaction."""
    by_mall: dict[int, set[dt.date]] = defaultdict(set)
    for mall_id, day in slices:
        by_mall[mall_id].add(day)
    malls = _malls(by_mall)
    written = 0
    for mall_id in sorted(by_mall):
        if mall_id not in malls:
            continue
        group_id, tz = malls[mall_id]
        days = sorted(by_mall[mall_id])
        bounds = {day: timeutil.local_day_bounds(day, tz) for day in days}
        refunds: dict[tuple[dt.date, int, str, bool], list[int]] = defaultdict(lambda: [0, 0])
        wanted = set(days)
        for _m, at, merchant_id, channel, is_member, amount in sales_analytics.refunds_rollup(
            mall_ids=[mall_id], since=bounds[days[0]][0], until=bounds[days[-1]][1]
        ):
            day = timeutil.local_date(at, tz)  # type: ignore[arg-type]
            if day in wanted:
                cell = refunds[(day, int(merchant_id), str(channel), bool(is_member))]  # type: ignore[call-overload]
                cell[0] += 1
                cell[1] += int(amount)  # type: ignore[call-overload]
        rows: list[SalesDay] = []
        for day in days:
            since, until = bounds[day]
            seen: set[tuple[int, str, bool]] = set()
            for (
                merchant_id,
                channel,
                is_member,
                n,
                gross,
                disc,
                pval,
                paid,
                earned,
                used,
                buyers,
            ) in sales_analytics.sales_rollup(mall_id=mall_id, since=since, until=until):
                key = (int(merchant_id), str(channel), bool(is_member))
                seen.add(key)
                r_n, r_fen = refunds.get((day, *key), (0, 0))
                rows.append(
                    SalesDay(
                        mall_group_id=group_id,
                        mall_id=mall_id,
                        merchant_id=key[0],
                        day=day,
                        channel=key[1],
                        member=key[2],
                        sales=int(n),
                        gross_fen=int(gross or 0),
                        discount_fen=int(disc or 0),
                        points_value_fen=int(pval or 0),
                        paid_fen=int(paid or 0),
                        points_earned=int(earned or 0),
                        points_used=int(used or 0),
                        buyers=int(buyers or 0) if key[2] else 0,
                        refunds=r_n,
                        refunded_fen=r_fen,
                    )
                )
            for (r_day, merchant_id, channel, is_member), (r_n, r_fen) in refunds.items():
                if r_day == day and (merchant_id, channel, is_member) not in seen:  # refunds only, no sales that day
                    rows.append(
                        SalesDay(
                            mall_group_id=group_id,
                            mall_id=mall_id,
                            merchant_id=merchant_id,
                            day=day,
                            channel=channel,
                            member=is_member,
                            refunds=r_n,
                            refunded_fen=r_fen,
                        )
                    )
        SalesDay.objects.filter(mall_id=mall_id, day__in=days).delete()
        SalesDay.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)
    return written


def recompute_points_days(days: Iterable[tuple[int, dt.date]]) -> int:
    """Recompute these (group, day) points rollups from the ledger's legs; in the caller's transaction."""
    by_group: dict[int, set[dt.date]] = defaultdict(set)
    for group_id, day in days:
        by_group[group_id].add(day)
    zones = group_timezones(by_group)
    rows = []
    for group_id in sorted(by_group):
        if group_id not in zones:
            continue
        for day in sorted(by_group[group_id]):
            since, until = timeutil.local_day_bounds(day, zones[group_id])
            flows = ledger_analytics.points_flows_between(mall_group_id=group_id, since=since, until=until)
            if any(flows.values()):
                rows.append(PointsDay(mall_group_id=group_id, day=day, **flows))
        PointsDay.objects.filter(mall_group_id=group_id, day__in=by_group[group_id]).delete()
    PointsDay.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def recompute_join_days(slices: Iterable[Slice]) -> int:
    """Recompute these (mall, day) join rollups from the members; in the caller's transaction."""
    by_mall: dict[int, set[dt.date]] = defaultdict(set)
    for mall_id, day in slices:
        by_mall[mall_id].add(day)
    malls = _malls(by_mall)
    rows = []
    for mall_id in sorted(by_mall):
        if mall_id not in malls:
            continue
        group_id, tz = malls[mall_id]
        for day in sorted(by_mall[mall_id]):
            since, until = timeutil.local_day_bounds(day, tz)
            for channel, n in sorted(
                members_analytics.joins_between(mall_id=mall_id, since=since, until=until).items()
            ):
                rows.append(MembersDay(mall_group_id=group_id, mall_id=mall_id, day=day, channel=channel, joined=n))
        MembersDay.objects.filter(mall_id=mall_id, day__in=by_mall[mall_id]).delete()
    MembersDay.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def rollup_refresh(*, now: dt.datetime | None = None) -> RefreshResult:
    """The minute pass: recompute the slices touched by the sales and refunds settled since the last run."""
    now = now or timeutil.now()
    settled = now - dt.timedelta(seconds=SETTLE_SECONDS)
    with transaction.atomic(durable=True):
        mark = _mark()
        sale_to = min(
            sales_analytics.last_sale_id(after_id=mark.last_sale_id, created_before=settled),
            mark.last_sale_id + BATCH,
        )
        refund_to = min(
            sales_analytics.last_refund_id(after_id=mark.last_refund_id, created_before=settled),
            mark.last_refund_id + BATCH,
        )
        tx_to = min(
            ledger_analytics.last_transaction_id(after_id=mark.last_transaction_id, created_before=settled),
            mark.last_transaction_id + BATCH,
        )
        moved = ledger_analytics.transactions_touched(after_id=mark.last_transaction_id, up_to_id=tx_to)
        zones = group_timezones({g for g, _at in moved})
        points_days = {(g, timeutil.local_date(at, zones[g])) for g, at in moved if g in zones}
        recompute_points_days(points_days)
        member_to = min(members_analytics.last_member_id(after_id=mark.last_member_id), mark.last_member_id + BATCH)
        # members carry no write time (created_at is the join time, which imports back-date), so instead of waiting
        # for rows to settle the job reads the last MEMBERS_REREAD ids again each run: a join committed late by a
        # slow transaction under a lower id is still seen (recomputing a slice twice is harmless)
        joined = members_analytics.members_touched(
            after_id=max(0, mark.last_member_id - MEMBERS_REREAD), up_to_id=member_to
        )
        join_malls = _malls({m for m, _at in joined})
        recompute_join_days({(m, timeutil.local_date(at, join_malls[m][1])) for m, at in joined if m in join_malls})
        touched = [
            *sales_analytics.sales_touched(after_id=mark.last_sale_id, up_to_id=sale_to),
            *sales_analytics.refunds_touched(after_id=mark.last_refund_id, up_to_id=refund_to),
        ]
        malls = _malls({m for m, _at in touched})
        slices = {
            (m, timeutil.local_date(at, malls[m][1]))  # type: ignore[arg-type]
            for m, at in touched
            if m in malls
        }
        recompute_slices(slices)
        mark.last_sale_id, mark.last_refund_id, mark.last_transaction_id = sale_to, refund_to, tx_to
        mark.last_member_id = member_to
        mark.save(
            update_fields=["last_sale_id", "last_refund_id", "last_transaction_id", "last_member_id", "updated_at"]
        )
    return RefreshResult(
        slices=len(slices), last_sale_id=sale_to, last_refund_id=refund_to, points_days=len(points_days)
    )


def rollup_rebuild(
    *,
    mall_group_id: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    days: int | None = None,
) -> int:
    """Recompute every day of [since, until] (default: from each mall's first sale to its today; `days`: the mall's
    last N local days) for the malls of a group (or all); one transaction per mall and REBUILD_CHUNK_DAYS days.
    Returns the rows written.

    A rebuild of everything (all groups, no period) also moves the minute job's mark past every row settled when it
    started: those rows are covered by the rebuild, so the job does not read the whole history again afterwards."""
    full = mall_group_id is None and since is None and until is None and not days
    started = timeutil.now() - dt.timedelta(seconds=SETTLE_SECONDS)
    covered = (
        sales_analytics.last_sale_id(after_id=0, created_before=started),
        sales_analytics.last_refund_id(after_id=0, created_before=started),
        ledger_analytics.last_transaction_id(after_id=0, created_before=started),
        members_analytics.last_member_id(after_id=0),
    )
    malls = mall_list(mall_group_id=mall_group_id).values_list("pk", "timezone")
    written = 0
    for group_id, tz in group_timezones(None if mall_group_id is None else {mall_group_id}).items():
        last = until or timeutil.local_date(timeutil.now(), tz)
        first = since or (last - dt.timedelta(days=days - 1) if days else None)
        if first is None:
            first_at = ledger_analytics.first_transaction_at(mall_group_id=group_id)
            if first_at is None:
                continue
            first = timeutil.local_date(first_at, tz)
        while first <= last:
            chunk_end = min(last, first + dt.timedelta(days=REBUILD_CHUNK_DAYS - 1))
            with transaction.atomic(durable=True):
                _mark()
                written += recompute_points_days(
                    (group_id, first + dt.timedelta(days=i)) for i in range((chunk_end - first).days + 1)
                )
            first = chunk_end + dt.timedelta(days=1)
    for mall_id, tz in malls:
        last = until or timeutil.local_date(timeutil.now(), tz)
        first = since or (last - dt.timedelta(days=days - 1) if days else None)
        if first is None:
            first_join = members_analytics.first_join_at(mall_id=mall_id)
            first = timeutil.local_date(first_join, tz) if first_join else last
        while first <= last:
            chunk_end = min(last, first + dt.timedelta(days=REBUILD_CHUNK_DAYS - 1))
            with transaction.atomic(durable=True):
                _mark()
                written += recompute_join_days(
                    (mall_id, first + dt.timedelta(days=i)) for i in range((chunk_end - first).days + 1)
                )
            first = chunk_end + dt.timedelta(days=1)
    for mall_id, tz in malls:
        last = until or timeutil.local_date(timeutil.now(), tz)
        first = since
        if days:
            first = last - dt.timedelta(days=days - 1)
        if first is None:
            first_sale = sales_analytics.first_sale_at(mall_id=mall_id)
            if first_sale is None:
                continue
            first = timeutil.local_date(first_sale, tz)  # type: ignore[arg-type]
        day = first
        while day <= last:
            chunk_end = min(last, day + dt.timedelta(days=REBUILD_CHUNK_DAYS - 1))
            chunk = [day + dt.timedelta(days=i) for i in range((chunk_end - day).days + 1)]
            with transaction.atomic(durable=True):
                _mark()  # the refresh job waits meanwhile: one writer of the slices at a time
                written += recompute_slices((mall_id, d) for d in chunk)
            day = chunk_end + dt.timedelta(days=1)
    if full:
        with transaction.atomic(durable=True):
            mark = _mark()
            mark.last_sale_id = max(mark.last_sale_id, covered[0])
            mark.last_refund_id = max(mark.last_refund_id, covered[1])
            mark.last_transaction_id = max(mark.last_transaction_id, covered[2])
            mark.last_member_id = max(mark.last_member_id, covered[3])
            mark.save(
                update_fields=["last_sale_id", "last_refund_id", "last_transaction_id", "last_member_id", "updated_at"]
            )
    return written
