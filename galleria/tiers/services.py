"""Writes of the tier engine.

* `tier_record_spend_in_tx` runs inside the caller's (the sale's or refund's) transaction: it appends a
  `TierSpend` row and performs the instant upgrade check under the member's `MemberTier` row lock.
* `tier_reevaluate` is the daily review (grace start, downgrade after grace, end of overrides), in chunks of
  members in id order, each chunk one transaction that also advances the group's `TierRun` checkpoint.
* `tier_override` is a staff action (audited).

Every recorded change other than `join` publishes the domain event `member.tier_changed` (payload: member_id,
tier_change_id, reason) in the same transaction, for marketing automation ("tier change" trigger) and messages.

Lock order: callers that lock a member's ledger accounts do so before calling in here; this module locks only
`MemberTier` rows (never `TierLevel` rows, which every sale reads) and, in the review, the `TierRun` checkpoint
before the rows of its chunk.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from galleria.audit.services import audit_record, audited_save, diff
from galleria.audit.types import Actor
from galleria.core import sql, timeutil
from galleria.core.events import publish
from galleria.core.locking import lock_one, lock_rows
from galleria.members.models import Member
from galleria.members.selectors import members_active

from . import exceptions, rules, selectors
from . import sql as tiers_sql
from .models import MemberTier, QualifyBy, TierChange, TierLevel, TierRun, TierSettings, TierSpend
from .types import Decision, Policy, ReevaluateReport

SYSTEM_LABEL = "system"
REVIEW_LABEL = "system:tiers_reevaluate"
MAX_OVERRIDE_YEARS = 10
DEFAULT_CHUNK = 500


# ---------------------------------------------------------------------------------------------- ladder set-up


def tier_ladder_ensure_default(*, mall_group_id: int) -> list[TierLevel]:
    """Create the default ladder 普卡/银卡/金卡/黑金 (and default settings) unless the group already has tiers.

    Idempotent and safe to run concurrently; composes into a caller's transaction.
    """
    with transaction.atomic():
        settings_row, _created = TierSettings.objects.get_or_create(mall_group_id=mall_group_id)
        if TierLevel.objects.filter(mall_group_id=mall_group_id).exists():
            return selectors.tier_ladder(mall_group_id=mall_group_id)
        levels = []
        for spec in rules.DEFAULT_LADDER:
            fields = {k: v for k, v in spec.items() if k != "yuan"}
            yuan = spec["yuan"]
            assert isinstance(yuan, int)
            levels.append(
                TierLevel(
                    mall_group_id=mall_group_id,
                    threshold=rules.default_threshold(yuan, settings_row.qualify_by),
                    **fields,
                )
            )
        TierLevel.objects.bulk_create(levels, ignore_conflicts=True)
        return selectors.tier_ladder(mall_group_id=mall_group_id)


# ------------------------------------------------------------------------------------------- member tier rows


def _member_tier_for_update(
    *, member_id: int, entry: TierLevel, at: dt.datetime, fresh: bool = False
) -> tuple[MemberTier, bool]:
    """The member's locked `MemberTier` row, created at the entry tier (with a `join` change) on first use; whether
    this call created it.

    Two transactions creating the same row race on the unique member column: the loser's insert waits for the
    winner's commit, inserts nothing, and then locks the winner's row. `fresh`: the member was registered in this
    very transaction (pay = join), so the row is created without looking first.
    """
    row = None if fresh else tiers_sql.lock_member_tier(member_id)
    if row is not None:
        return row, False
    row = tiers_sql.open_member_tier(
        member_id=member_id, level_id=entry.pk, reason=rules.JOIN, actor_label=SYSTEM_LABEL, at=at
    )
    if row is None:
        return lock_one(MemberTier.objects.filter(member_id=member_id)), False
    row.level = entry
    return row, True


def tier_lock_in_tx(
    *, member_id: int, mall_group_id: int, config_token: str | None = None, fresh: bool = False
) -> MemberTier | None:
    """Lock the member's tier row for the rest of the caller's transaction (creating it at the entry tier, with a
    `join` change, on first use). None when the group has no ladder. A sale locks it once, reads the tier's
    benefits from it and hands it to `tier_record_spend_in_tx(locked=…)`. `fresh`: the member was registered in
    this transaction (no row to look for)."""
    ladder = selectors.tier_ladder(mall_group_id=mall_group_id, token=config_token)
    if not ladder:
        return None
    row, _created = _member_tier_for_update(member_id=member_id, entry=ladder[0], at=timeutil.now(), fresh=fresh)
    return row


def tier_assign_initial_in_tx(*, member_id: int, mall_group_id: int) -> MemberTier | None:
    """Give a new member the group's entry tier (reason `join`), inside the caller's transaction.

    Idempotent: a member who already has a tier keeps it. None when the group has no ladder.
    """
    ladder = selectors.tier_ladder(mall_group_id=mall_group_id)
    if not ladder:
        return None
    row, _change = _member_tier_for_update(member_id=member_id, entry=ladder[0], at=timeutil.now())
    return row


def tier_member_joined(*, member_id: int) -> MemberTier | None:
    """Handler of the `member.joined` event: the entry tier for the new member (composes into a transaction)."""
    group_id = Member.objects.filter(pk=member_id).values_list("mall_group_id", flat=True).first()
    if group_id is None:
        return None
    with transaction.atomic():
        return tier_assign_initial_in_tx(member_id=member_id, mall_group_id=group_id)


def _apply(
    *,
    row: MemberTier,
    decision: Decision,
    levels: dict[str, TierLevel],
    at: dt.datetime,
    note: str = "",
    actor_label: str = SYSTEM_LABEL,
    save: bool = True,
) -> TierChange | None:
    """Apply a decision to a locked row. Returns the unsaved-or-saved TierChange (None: nothing to record)."""
    from_level_id = row.level_id
    new_level = levels[decision.new_level.code]
    if new_level.pk != from_level_id:
        row.level = new_level
        row.since = at
    row.grace_until = decision.grace_until
    row.override_until = decision.override_until
    if save:
        row.save(update_fields=["level", "since", "grace_until", "override_until"])
    if decision.reason is None:
        return None
    change = TierChange(
        member_id=row.member_id,
        from_level_id=from_level_id,
        to_level=new_level,
        reason=decision.reason,
        note=note[:200],
        actor_label=actor_label[:100],
        at=at,
    )
    if save:
        change.save()
        _announce(change)
    return change


def _announce(change: TierChange) -> None:
    if change.reason != rules.JOIN:
        publish("member.tier_changed", member_id=change.member_id, tier_change_id=change.pk, reason=change.reason)


def _state_differs(row: MemberTier, decision: Decision, levels: dict[str, TierLevel]) -> bool:
    return (
        decision.reason is not None
        or levels[decision.new_level.code].pk != row.level_id
        or decision.grace_until != row.grace_until
        or decision.override_until != row.override_until
    )


# ---------------------------------------------------------------------------------------------- spend feed


def tier_record_spend_in_tx(
    *,
    member_id: int,
    mall_group_id: int,
    amount_fen: int,
    occurred_at: dt.datetime,
    source: str,
    points: int = 0,
    config_token: str | None = None,
    new_source: bool = False,
    locked: MemberTier | None = None,
) -> TierChange | None:
    """Record a qualifying movement and upgrade the member at once if it lifts them to a higher tier.

    `config_token` (the group's, read by the caller) lets the ladder, settings and time zone come from the
    per-process cache; `new_source=True` says the source was just created (a new sale), so the duplicate check
    is skipped — the unique constraint still backs it.

    Call inside the sale's (or refund's) transaction: positive `amount_fen` (the money paid) on a sale, negative
    on a refund; `points` likewise (qualifying points, used when the group qualifies by points). `source` is
    unique per group ("sale:<id>", "refund:<id>"): repeating the same source with the same amounts is a no-op,
    with other amounts a `SpendConflictError`. The member's tier row is locked (and created at the entry tier on
    first use). Returns the `upgrade` TierChange when the tier went up, else None. Downgrades are never decided
    here: they wait for the daily review.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("tier_record_spend_in_tx() must run inside transaction.atomic()")
    if timezone.is_naive(occurred_at):
        raise exceptions.SpendInvalidError(fields={"occurred_at": "aware datetime"})
    if not source or len(source) > 64:
        raise exceptions.SpendInvalidError(fields={"source": "1–64"})
    now = timeutil.now()
    ladder = selectors.tier_ladder(mall_group_id=mall_group_id, token=config_token)
    row: MemberTier | None = locked if locked is not None and locked.member_id == member_id else None
    if ladder and row is None:
        row, _join = _member_tier_for_update(member_id=member_id, entry=ladder[0], at=now)
    previous = None if new_source else TierSpend.objects.filter(mall_group_id=mall_group_id, source=source).first()
    if previous is not None:
        same = (previous.member_id, previous.amount_fen, previous.points, previous.occurred_at) == (
            member_id,
            amount_fen,
            points,
            occurred_at,
        )
        if same:
            return None
        raise exceptions.SpendConflictError(extra={"source": source})
    spend = [mall_group_id, member_id, amount_fen, points, sql.when(occurred_at), source, sql.when(now)]
    # what the upgrade check needs is known before the row is written: decide first whether it runs at all
    policy = selectors.tier_policy(mall_group_id=mall_group_id, token=config_token) if row is not None else None
    by_id = {level.pk: level for level in ladder}
    current = by_id.get(row.level_id) if row is not None else None
    delta = (points if policy.qualify_by == QualifyBy.POINTS else amount_fen) if policy is not None else 0
    check = (
        row is not None
        and current is not None
        and delta > 0  # a refund never upgrades (the daily review handles falling short); foreign levels: staff
        and not (current.rank == ladder[-1].rank and row.grace_until is None)  # at the top, not in grace
    )
    if not check:
        # fixed SQL (on every sale); the unique (group, source) constraint still backs `new_source`
        tiers_sql.insert_spend(spend)
        return None
    assert row is not None and current is not None and policy is not None
    tz_name = selectors.group_tz(mall_group_id=mall_group_id, token=config_token)
    today = timeutil.local_date(max(now, occurred_at), tz_name)
    if sql.one_statement_writes():
        # one round trip: the insert and the window's sum (which cannot see the row inserted by the same
        # statement, so its own part is added here when it falls in the window)
        start, end = selectors.window_bounds(today=today, tz_name=tz_name)
        column = selectors.amount_field(policy.qualify_by)
        amount = tiers_sql.insert_spend_and_sum(spend, member_id=member_id, column=column, start=start, end=end)
        if start <= occurred_at < end:
            amount += delta
    else:
        tiers_sql.insert_spend(spend)
        amount = selectors.qualifying_amount(
            member_id=member_id, today=today, tz_name=tz_name, qualify_by=policy.qualify_by
        )
    levels = {level.code: level for level in ladder}
    decision = rules.evaluate(
        current_level=selectors.rung(current),
        qualifying_level=rules.qualifying_level(amount, selectors.rungs(ladder)),
        grace_until=row.grace_until,
        override_until=row.override_until,
        today=today,
        settings=policy,
        ladder=selectors.rungs(ladder),
    )
    if rules.is_upgrade(decision, selectors.rung(current)):
        return _apply(row=row, decision=decision, levels=levels, at=now, note=source)
    if decision.reason == rules.REQUALIFIED:
        _apply(row=row, decision=decision, levels=levels, at=now, note=source)
    return None


# ------------------------------------------------------------------------------------------- manual override


def tier_override(*, member_id: int, level_code: str, until: dt.date, reason: str, actor: Actor) -> TierChange:
    """Put a member on `level_code` through `until` (inclusive, mall-local), whatever they spend. Audited."""
    with transaction.atomic(durable=True):
        member = members_active().filter(pk=member_id).first()
        if member is None:
            raise exceptions.MemberUnknownError()
        ladder = selectors.tier_ladder(mall_group_id=member.mall_group_id)
        level = next((lv for lv in ladder if lv.code == level_code), None)
        if level is None:
            raise exceptions.TierLevelUnknownError(fields={"level_code": level_code[:20]})
        today = selectors.group_today(mall_group_id=member.mall_group_id)
        note = (reason or "").strip()
        if not note or len(note) > 200:
            raise exceptions.OverrideInvalidError(fields={"reason": "1–200"})
        if not isinstance(until, dt.date) or until < today or until > rules.add_months(today, 12 * MAX_OVERRIDE_YEARS):
            raise exceptions.OverrideInvalidError(fields={"until": str(until)})
        now = timeutil.now()
        row, _join = _member_tier_for_update(member_id=member_id, entry=ladder[0], at=now)
        levels = {lv.code: lv for lv in ladder}
        by_id = {lv.pk: lv for lv in ladder}
        before_level = by_id.get(row.level_id)
        before = {
            "tier": before_level.code if before_level else row.level_id,
            "override_until": row.override_until,
            "grace_until": row.grace_until,
        }
        decision = Decision(selectors.rung(level), rules.OVERRIDE, None, until)
        change = _apply(row=row, decision=decision, levels=levels, at=now, note=note, actor_label=actor.label)
        assert change is not None
        audit_record(
            actor=actor,
            action="tier.override",
            target_type="member",
            target_id=member_id,
            target_label=member.card_no,
            mall_group_id=member.mall_group_id,
            changes={
                **diff(before, {"tier": level.code, "override_until": until, "grace_until": None}),
                "reason": [None, note],
            },
        )
        return change


# ------------------------------------------------------------------------------------------- daily review


def _review_chunk(
    *,
    member_ids: list[int],
    ladder: list[TierLevel],
    policy: Policy,
    tz_name: str | None,
    today: dt.date,
    at: dt.datetime,
) -> tuple[int, Counter[str]]:
    """Review one chunk of members inside the caller's transaction. Returns (rows created, changes by reason)."""
    levels = {lv.code: lv for lv in ladder}
    by_id = {lv.pk: lv for lv in ladder}
    ladder_rungs = selectors.rungs(ladder)
    counts: Counter[str] = Counter()
    created = 0
    rows = {row.member_id: row for row in lock_rows(MemberTier.objects.filter(member_id__in=member_ids))}
    for member_id in member_ids:
        if member_id not in rows:
            row, joined = _member_tier_for_update(member_id=member_id, entry=ladder[0], at=at)
            rows[member_id] = row
            if joined:
                created += 1
                counts[rules.JOIN] += 1
    amounts = selectors.qualifying_amounts(
        member_ids=member_ids, today=today, tz_name=tz_name, qualify_by=policy.qualify_by
    )
    dirty: list[MemberTier] = []
    changes: list[TierChange] = []
    for member_id in member_ids:
        row = rows[member_id]
        current = by_id.get(row.level_id)
        if current is None:
            continue  # a level of another group's ladder: left for staff to fix
        decision = rules.evaluate(
            current_level=selectors.rung(current),
            qualifying_level=rules.qualifying_level(amounts.get(member_id, 0), ladder_rungs),
            grace_until=row.grace_until,
            override_until=row.override_until,
            today=today,
            settings=policy,
            ladder=ladder_rungs,
        )
        if not _state_differs(row, decision, levels):
            continue
        change = _apply(
            row=row,
            decision=decision,
            levels=levels,
            at=at,
            note=f"review {today}",
            actor_label=REVIEW_LABEL,
            save=False,
        )
        dirty.append(row)
        if change is not None:
            changes.append(change)
            counts[change.reason] += 1
    if dirty:
        MemberTier.objects.bulk_update(dirty, ["level", "since", "grace_until", "override_until"])
    if changes:
        for change in TierChange.objects.bulk_create(changes):
            _announce(change)
    return created, counts


def tier_reevaluate(
    *,
    mall_group_id: int,
    today: dt.date | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    force: bool = False,
) -> ReevaluateReport:
    """The daily review of a group's members (grace start, downgrade after grace, override end, late upgrades).

    Members are processed in id order in chunks; each chunk is one transaction that also advances the group's
    checkpoint (`TierRun` for `today`), so a crashed run resumes where it stopped and two runs of the same group
    serialise on the checkpoint. A finished day is not run again unless `force`; even then nothing changes,
    because the rules are idempotent within a day.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    ladder = selectors.tier_ladder(mall_group_id=mall_group_id)
    tz_name = selectors.group_tz(mall_group_id=mall_group_id)
    day = today or timeutil.local_date(timeutil.now(), tz_name)
    if not ladder:
        return ReevaluateReport(mall_group_id=mall_group_id, run_on=day)
    policy = selectors.tier_policy(mall_group_id=mall_group_id)
    with transaction.atomic(durable=True):
        run, _created = TierRun.objects.get_or_create(
            mall_group_id=mall_group_id, run_on=day, defaults={"started_at": timeutil.now()}
        )
        run = lock_one(TierRun.objects.filter(pk=run.pk))
        if run.finished_at is not None:
            if not force:
                return ReevaluateReport(
                    mall_group_id=mall_group_id,
                    run_on=day,
                    members_seen=run.members_seen,
                    created=run.created,
                    changes=dict(run.changes),
                    already_done=True,
                )
            run.last_member_id = 0
            run.finished_at = None
            run.started_at = timeutil.now()
            run.save(update_fields=["last_member_id", "finished_at", "started_at"])
    resumed_after = run.last_member_id
    seen = created = 0
    counts: Counter[str] = Counter()
    while True:
        with transaction.atomic(durable=True):
            run = lock_one(TierRun.objects.filter(pk=run.pk))
            if run.finished_at is not None:
                break  # another runner finished the day meanwhile
            member_ids = list(
                members_active(mall_group_id=mall_group_id)
                .filter(pk__gt=run.last_member_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:chunk_size]
            )
            now = timeutil.now()
            if not member_ids:
                run.finished_at = now
                run.save(update_fields=["finished_at"])
                break
            chunk_created, chunk_counts = _review_chunk(
                member_ids=member_ids, ladder=ladder, policy=policy, tz_name=tz_name, today=day, at=now
            )
            seen += len(member_ids)
            created += chunk_created
            counts.update(chunk_counts)
            total = Counter(run.changes)
            total.update(chunk_counts)
            run.last_member_id = member_ids[-1]
            run.members_seen += len(member_ids)
            run.created += chunk_created
            run.changes = dict(total)
            run.save(update_fields=["last_member_id", "members_seen", "created", "changes"])
    return ReevaluateReport(
        mall_group_id=mall_group_id,
        run_on=day,
        members_seen=seen,
        created=created,
        changes=dict(counts),
        resumed_after=resumed_after,
    )


# ------------------------------------------------------------------------------------------- configuration

LEVEL_FIELDS = (
    "name",
    "threshold",
    "points_multiplier_bp",
    "discount_bp",
    "free_parking_hours",
    "birthday_gift",
    "lounge_access",
    "priority_registration",
)
SETTINGS_FIELDS = ("qualify_by", "grace_months", "downgrade_one_step")


def tier_level_save(*, mall_group_id: int, level_id: int, values: Mapping[str, Any], actor: Actor) -> TierLevel:
    """Edit one level of the ladder (code and rank are fixed: they are what members' tier rows point at)."""
    with transaction.atomic(durable=True):
        level = lock_one(TierLevel.objects.filter(pk=level_id, mall_group_id=mall_group_id))
        return audited_save(
            obj=level,
            values=values,
            fields=LEVEL_FIELDS,
            actor=actor,
            action="tier.level_save",
            label=str(values.get("name") or level.name),
            mall_group_id=mall_group_id,
            is_new=False,
            exclude=["mall_group"],
        )


def tier_settings_save(*, mall_group_id: int, values: Mapping[str, Any], actor: Actor) -> TierSettings:
    with transaction.atomic(durable=True):
        rows = lock_rows(TierSettings.objects.filter(mall_group_id=mall_group_id))
        row = rows[0] if rows else TierSettings(mall_group_id=mall_group_id)
        return audited_save(
            obj=row,
            values=values,
            fields=SETTINGS_FIELDS,
            actor=actor,
            action="tier.settings_save",
            label="tier settings",
            mall_group_id=mall_group_id,
            is_new=not rows,
            exclude=["mall_group"],
        )
