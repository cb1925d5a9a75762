"""Writes of the dedupe area: merge, un-merge, dismiss and report pairs. Each is one durable transaction that locks
the two members (primary-key order), then their ledger accounts and tier rows, and writes the audit record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from galleria.audit.services import audit_record, redact
from galleria.audit.types import Actor
from galleria.core.events import publish
from galleria.core.locking import lock_one, lock_rows
from galleria.coupons.models import Coupon, CouponHolding
from galleria.ledger import services as ledger
from galleria.ledger.models import MEMBER_KINDS, Account, Entry, Transaction, TransactionKind
from galleria.ledger.types import Leg
from galleria.members.models import Member
from galleria.members.services import member_mark_merged_in_tx, member_unmerge_in_tx
from galleria.members.types import MemberStatus
from galleria.points.models import LotMovement, PointsLot
from galleria.tiers.models import MemberTier, TierChange, TierChangeReason

from . import conf, exceptions, rules, selectors
from .models import MergeRecord, MergeStatus, PairMark, PairMarkKind

PROBLEM_ERRORS: dict[str, type[Exception]] = {
    "dedupe.same_member": exceptions.SameMemberError,
    "dedupe.different_groups": exceptions.DifferentGroupsError,
    "dedupe.member_not_active": exceptions.MemberNotActiveError,
    "dedupe.pending_topup": exceptions.PendingTopUpError,
    "dedupe.pending_adjustment": exceptions.PendingAdjustmentError,
    "dedupe.key_conflict": exceptions.KeyConflictError,
}


def _lock_members(*, mall_group_id: int | None, ids: list[int]) -> dict[int, Member]:
    qs = Member.objects.filter(pk__in=ids)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    # SELECT … FOR NO KEY UPDATE ORDER BY id: two merges serialise without deadlock, while a racing sale that already
    # holds the member's accounts can still insert rows referencing the member (their foreign-key check takes a KEY
    # SHARE lock, which FOR UPDATE would block: a deadlock with our wait on those accounts)
    rows = {m.pk: m for m in lock_rows(qs, no_key=True)}
    if len(rows) != len(set(ids)):
        raise exceptions.MemberNotFoundError()
    return rows


def _lock_accounts(*, mall_group_id: int, ids: list[int]) -> dict[int, dict[str, Account]]:
    """Both members' point and wallet accounts, the lower member id first (the order every use case follows); the
    absorbed member's may already be closed (a sweep, an un-merge)."""
    return {
        member_id: ledger.lock_member_accounts(
            mall_group_id=mall_group_id, member_id=member_id, kinds=MEMBER_KINDS, allow_closed=True
        )
        for member_id in sorted(ids)
    }


def _label(model: type[Model]) -> str:
    return str(model._meta.label)


def _move_balances(
    *, record: MergeRecord, survivor: Member, absorbed: Member, accounts: dict[int, dict[str, Account]], at: dt.datetime
) -> dict[str, int]:
    """One MERGE transaction moving every member balance of the absorbed member (points, wallet principal, wallet
    bonus, each to the same kind: the split is kept); open lots re-created on the survivor with their expiry."""
    a_acc, s_acc = accounts[absorbed.pk], accounts[survivor.pk]
    moved: dict[str, int] = {str(kind): a_acc[kind].balance or 0 for kind in MEMBER_KINDS}
    legs: list[Leg] = []
    for kind, amount in moved.items():
        if amount:
            asset = ledger.KIND_ASSET[kind]
            legs += [Leg(a_acc[kind].pk, asset, -amount), Leg(s_acc[kind].pk, asset, amount)]
    if not legs:
        return {}
    locked = {acc.pk: acc for acc in (*a_acc.values(), *s_acc.values())}
    tx = ledger.post(
        mall_group_id=survivor.mall_group_id,
        kind=TransactionKind.MERGE,
        legs=legs,
        member_accounts=locked,
        occurred_at=at,
        memo=f"merge of member #{absorbed.pk} into #{survivor.pk}",
        source=f"merge:{record.pk}",
        explanation={"merge": record.pk, "absorbed": absorbed.pk, "survivor": survivor.pk, "moved": moved},
    )
    points_left = moved["member_points"]
    lots = record.moved.setdefault("lots", [])
    for lot in PointsLot.objects.filter(member_id=absorbed.pk, remaining__gt=0).order_by("expires_on", "pk"):
        take = min(lot.remaining, points_left)
        if take <= 0:
            break
        points_left -= take
        new = PointsLot.objects.create(
            mall_group_id=lot.mall_group_id,
            member_id=survivor.pk,
            transaction=tx,
            points=take,
            remaining=take,
            earned_at=lot.earned_at,
            expires_on=lot.expires_on,
        )
        PointsLot.objects.filter(pk=lot.pk).update(remaining=lot.remaining - take)
        LotMovement.objects.bulk_create(
            [LotMovement(lot=lot, transaction=tx, points=-take), LotMovement(lot=new, transaction=tx, points=take)]
        )
        lots.append([lot.pk, new.pk, take])
    record.transaction_ids = [*record.transaction_ids, tx.pk]
    if record.transaction_id is None:
        record.transaction_id = tx.pk
    amounts = dict(record.amounts)
    for kind, amount in moved.items():
        amounts[kind] = amounts.get(kind, 0) + amount
    record.amounts = amounts
    return {k: v for k, v in moved.items() if v}


def _move_rows(*, record: MergeRecord, survivor: Member, absorbed: Member) -> int:
    """Every row of the absorbed member that follows it (selectors.HANDLED), ids recorded per model."""
    rows: dict[str, list[int]] = record.moved.setdefault("rows", {})
    count = 0
    for h in selectors.HANDLED:
        if h.how not in (selectors.MOVE, selectors.MOVE_UNLESS_TAKEN):
            continue
        ids = list(
            selectors.movable_rows(h, absorbed_id=absorbed.pk, survivor_id=survivor.pk).values_list("pk", flat=True)
        )
        if not ids:
            continue
        if h.model is Coupon:
            states = record.moved.setdefault("coupon_states", {})
            for pk, status in Coupon.objects.filter(pk__in=ids).values_list("pk", "status"):
                states[str(pk)] = status
        h.model._default_manager.filter(pk__in=ids).update(**{h.column: survivor.pk})
        rows[_label(h.model)] = [*rows.get(_label(h.model), []), *ids]
        count += len(ids)
    # coupon holdings (one per template and member): the survivor's row stands for both; the absorbed's is dropped
    held = set(CouponHolding.objects.filter(member_id=survivor.pk).values_list("template_id", flat=True))
    dropped: list[int] = record.moved.setdefault("holdings_dropped", [])
    moving: list[int] = []
    for pk, template_id in CouponHolding.objects.filter(member_id=absorbed.pk).values_list("pk", "template_id"):
        if template_id in held:
            dropped.append(template_id)
        else:
            moving.append(pk)
    CouponHolding.objects.filter(member_id=absorbed.pk, template_id__in=dropped).delete()
    if moving:
        CouponHolding.objects.filter(pk__in=moving).update(member_id=survivor.pk)
        rows[_label(CouponHolding)] = [*rows.get(_label(CouponHolding), []), *moving]
    return count + len(moving)


def _merge_tier(*, record: MergeRecord, survivor: Member, absorbed: Member, actor: Actor, at: dt.datetime) -> None:
    """The survivor keeps the higher tier of the two (a MERGE tier change records it)."""
    tiers = {t.member_id: t for t in lock_rows(MemberTier.objects.filter(member_id__in=[survivor.pk, absorbed.pk]))}
    s_row, a_row = tiers.get(survivor.pk), tiers.get(absorbed.pk)
    info: dict[str, Any] = {"changed": False}
    if a_row is not None and (s_row is None or a_row.level.rank > s_row.level.rank):
        info = {
            "changed": True,
            "before": None
            if s_row is None
            else {
                "level_id": s_row.level_id,
                "since": s_row.since.isoformat(),
                "grace_until": s_row.grace_until.isoformat() if s_row.grace_until else None,
                "override_until": s_row.override_until.isoformat() if s_row.override_until else None,
            },
        }
        from_level_id = s_row.level_id if s_row else None
        if s_row is None:
            s_row = MemberTier(member_id=survivor.pk)
        s_row.level_id = a_row.level_id
        s_row.since = at
        s_row.grace_until = a_row.grace_until
        s_row.override_until = a_row.override_until
        s_row.save()
        change = TierChange.objects.create(
            member_id=survivor.pk,
            from_level_id=from_level_id,
            to_level_id=a_row.level_id,
            reason=TierChangeReason.MERGE,
            note=f"merged member #{absorbed.pk}",
            actor_label=actor.label[:100],
            at=at,
        )
        info["change_id"] = change.pk
    record.moved["tier"] = info
    # tier changes of the survivor after this one block un-merge (ids, not clocks)
    record.moved["tier_mark"] = TierChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def member_merge(
    *, mall_group_id: int | None, survivor_id: int, absorbed_id: int, actor: Actor
) -> tuple[MergeRecord, bool]:
    """Merge `absorbed` into `survivor`, all or nothing. Returns (record, created).

    Naturally idempotent: merging an already merged pair into the same survivor returns the existing record (after
    sweeping into the survivor anything posted to the absorbed member after the merge)."""
    if survivor_id == absorbed_id:
        raise exceptions.SameMemberError()
    with transaction.atomic(durable=True):
        members = _lock_members(mall_group_id=mall_group_id, ids=[survivor_id, absorbed_id])
        survivor, absorbed = members[survivor_id], members[absorbed_id]
        if survivor.mall_group_id != absorbed.mall_group_id:
            raise exceptions.DifferentGroupsError()
        group_id = survivor.mall_group_id
        now = timezone.now()
        if absorbed.status == MemberStatus.MERGED and absorbed.merged_into_id == survivor.pk:
            record = selectors.live_merge_of(absorbed_id=absorbed.pk)
            if record is not None and survivor.is_active:
                accounts = _lock_accounts(mall_group_id=group_id, ids=[survivor.pk, absorbed.pk])
                swept = _move_balances(record=record, survivor=survivor, absorbed=absorbed, accounts=accounts, at=now)
                rows = _move_rows(record=record, survivor=survivor, absorbed=absorbed)
                if swept or rows:
                    record.save(update_fields=["moved", "amounts", "transaction_ids", "transaction"])
                    audit_record(
                        actor=actor,
                        action="member.merge_sweep",
                        target_type="member",
                        target_id=survivor.pk,
                        target_label=survivor.card_no,
                        mall_group_id=group_id,
                        changes={"merge": record.pk, "moved": swept, "rows": rows},
                    )
                return record, False
        problems = selectors.merge_problems(survivor=survivor, absorbed=absorbed)
        if problems:
            raise PROBLEM_ERRORS[problems[0]]()
        accounts = _lock_accounts(mall_group_id=group_id, ids=[survivor.pk, absorbed.pk])
        record = MergeRecord.objects.create(
            mall_group_id=group_id,
            survivor=survivor,
            absorbed=absorbed,
            actor_id=actor.user_id,
            actor_label=actor.label[:100],
            merged_at=now,
            moved={},
        )
        moved = _move_balances(record=record, survivor=survivor, absorbed=absorbed, accounts=accounts, at=now)
        row_count = _move_rows(record=record, survivor=survivor, absorbed=absorbed)
        _merge_tier(record=record, survivor=survivor, absorbed=absorbed, actor=actor, at=now)
        display = {"phone": survivor.phone, "card_no": survivor.card_no}
        record.moved["display"] = display
        if not survivor.phone and absorbed.phone:
            survivor.phone = absorbed.phone
        if not survivor.card_no and absorbed.card_no:
            survivor.card_no = absorbed.card_no
        survivor.save(update_fields=["phone", "card_no"])
        member_mark_merged_in_tx(member=absorbed, survivor=survivor)
        # a sale (or any posting) that resolved the absorbed member before this commit and waits on its accounts
        # finds them closed once it gets the lock, and goes to the survivor instead
        ledger.member_accounts_close(member_id=absorbed.pk, at=now)
        record.save()
        audit_record(
            actor=actor,
            action="member.merge",
            target_type="member",
            target_id=survivor.pk,
            target_label=survivor.card_no,
            mall_group_id=group_id,
            changes={
                "merge": record.pk,
                "absorbed": absorbed.pk,
                "absorbed_card": absorbed.card_no,
                "moved": moved,
                "rows": row_count,
                "lots": len(record.moved.get("lots", [])),
                "tier_changed": record.moved["tier"]["changed"],
            },
        )
        publish("member.merged", member_id=survivor.pk, absorbed_member_id=absorbed.pk, mall_group_id=group_id)
        return record, True


def _undo_checks(*, record: MergeRecord, survivor: Member, now: dt.datetime) -> None:
    if now - record.merged_at > dt.timedelta(days=conf.undo_days()):
        raise exceptions.UndoWindowPassedError()
    # simplest correct rule: any ledger posting on the survivor's accounts since the merge (other than the merge's
    # own transactions) may have used moved value
    since = (
        {"transaction_id__gt": min(record.transaction_ids)}
        if record.transaction_ids
        else {"transaction__created_at__gte": record.merged_at}
    )
    if (
        Entry.objects.filter(account__member_id=survivor.pk, **since)
        .exclude(transaction_id__in=record.transaction_ids)
        .exists()
    ):
        raise exceptions.UndoSurvivorActivityError()
    states: dict[str, str] = record.moved.get("coupon_states", {})
    if states:
        now_states = dict(Coupon.objects.filter(pk__in=[int(k) for k in states]).values_list("pk", "status"))
        holders = set(Coupon.objects.filter(pk__in=[int(k) for k in states]).values_list("member_id", flat=True))
        if holders - {survivor.pk} or any(now_states.get(int(k)) != v for k, v in states.items()):
            raise exceptions.UndoCouponChangedError()
    if TierChange.objects.filter(member_id=survivor.pk, pk__gt=record.moved.get("tier_mark", 0)).exists():
        raise exceptions.UndoTierChangedError()


def _undo_tier(*, record: MergeRecord, survivor: Member, actor: Actor, at: dt.datetime) -> None:
    info = record.moved.get("tier", {})
    if not info.get("changed"):
        return
    row = lock_one(MemberTier.objects.filter(member_id=survivor.pk))
    before = info.get("before")
    from_level_id = row.level_id
    if before is None:
        row.delete()
        return
    row.level_id = before["level_id"]
    row.since = dt.datetime.fromisoformat(before["since"])
    row.grace_until = dt.date.fromisoformat(before["grace_until"]) if before["grace_until"] else None
    row.override_until = dt.date.fromisoformat(before["override_until"]) if before["override_until"] else None
    row.save()
    TierChange.objects.create(
        member_id=survivor.pk,
        from_level_id=from_level_id,
        to_level_id=before["level_id"],
        reason=TierChangeReason.MERGE,
        note=f"merge #{record.pk} undone",
        actor_label=actor.label[:100],
        at=at,
    )


def member_unmerge(*, mall_group_id: int | None, merge_id: int, actor: Actor) -> MergeRecord:
    """Undo a merge exactly (reversal transactions, lots back with their expiry, rows back, tier back), within
    GALLERIA_MERGE_UNDO_DAYS and only while nothing on the survivor depends on it."""
    with transaction.atomic(durable=True):
        qs = MergeRecord.objects.filter(pk=merge_id)
        if mall_group_id is not None:
            qs = qs.filter(mall_group_id=mall_group_id)
        try:
            record = lock_one(qs)
        except MergeRecord.DoesNotExist as exc:
            raise exceptions.MergeNotFoundError() from exc
        if record.status != MergeStatus.MERGED:
            raise exceptions.UndoNotLiveError()
        members = _lock_members(mall_group_id=None, ids=[record.survivor_id, record.absorbed_id])
        survivor, absorbed = members[record.survivor_id], members[record.absorbed_id]
        if not survivor.is_active or absorbed.status != MemberStatus.MERGED or absorbed.merged_into_id != survivor.pk:
            raise exceptions.UndoNotLiveError()
        now = timezone.now()
        accounts = _lock_accounts(mall_group_id=record.mall_group_id, ids=[survivor.pk, absorbed.pk])
        _undo_checks(record=record, survivor=survivor, now=now)
        locked = {acc.pk: acc for kinds in accounts.values() for acc in kinds.values()}
        reversal_of: dict[int, int] = {}
        for tx in Transaction.objects.filter(pk__in=record.transaction_ids).order_by("-pk"):
            rev = ledger.reverse(transaction_obj=tx, member_accounts=locked, memo=f"merge #{record.pk} undone")
            reversal_of[tx.pk] = rev.pk
        for old_id, new_id, points in record.moved.get("lots", []):
            new = PointsLot.objects.get(pk=new_id)
            if new.remaining != points:  # consumed since (caught by the ledger rule above; never restore less)
                raise exceptions.UndoSurvivorActivityError()
            rev_id = reversal_of[new.transaction_id]
            PointsLot.objects.filter(pk=new_id).update(remaining=0)
            old = PointsLot.objects.get(pk=old_id)
            PointsLot.objects.filter(pk=old_id).update(remaining=old.remaining + points)
            LotMovement.objects.bulk_create(
                [
                    LotMovement(lot_id=new_id, transaction_id=rev_id, points=-points),
                    LotMovement(lot_id=old_id, transaction_id=rev_id, points=points),
                ]
            )
        by_label = {h.label: h for h in selectors.HANDLED}
        for label, ids in record.moved.get("rows", {}).items():
            if label == _label(CouponHolding):
                CouponHolding.objects.filter(pk__in=ids, member_id=survivor.pk).update(member_id=absorbed.pk)
                continue
            h = by_label[label]
            h.model._default_manager.filter(pk__in=ids, **{h.column: survivor.pk}).update(**{h.column: absorbed.pk})
        for template_id in record.moved.get("holdings_dropped", []):
            CouponHolding.objects.get_or_create(template_id=template_id, member_id=absorbed.pk)
        _undo_tier(record=record, survivor=survivor, actor=actor, at=now)
        display = record.moved.get("display", {})
        if display:
            survivor.phone, survivor.card_no = display["phone"], display["card_no"]
            survivor.save(update_fields=["phone", "card_no"])
        ledger.member_accounts_reopen(member_id=absorbed.pk)
        member_unmerge_in_tx(member=absorbed)
        record.status = MergeStatus.UNDONE
        record.undone_at = now
        record.undone_by_label = actor.label[:100]
        record.reversal_ids = list(reversal_of.values())
        record.save(update_fields=["status", "undone_at", "undone_by_label", "reversal_ids"])
        audit_record(
            actor=actor,
            action="member.unmerge",
            target_type="member",
            target_id=survivor.pk,
            target_label=survivor.card_no,
            mall_group_id=record.mall_group_id,
            changes={"merge": record.pk, "absorbed": absorbed.pk, "reversals": record.reversal_ids},
        )
        return record


def _pair_mark(
    *, mall_group_id: int | None, a_id: int, b_id: int, kind: str, note: str, actor: Actor
) -> tuple[PairMark, bool]:
    if a_id == b_id:
        raise exceptions.PairInvalidError()
    low, high = rules.ordered(a_id, b_id)
    with transaction.atomic(durable=True):
        members = _lock_members(mall_group_id=mall_group_id, ids=[low, high])
        if members[low].mall_group_id != members[high].mall_group_id:
            raise exceptions.DifferentGroupsError()
        mark, created = PairMark.objects.get_or_create(
            member_low_id=low,
            member_high_id=high,
            kind=kind,
            defaults={
                "mall_group_id": members[low].mall_group_id,
                "note": note.strip()[:200],
                "actor_id": actor.user_id,
                "actor_label": actor.label[:100],
            },
        )
        if created:
            audit_record(
                actor=actor,
                action=f"member.pair_{kind}",
                target_type="member",
                target_id=low,
                target_label=members[low].card_no,
                mall_group_id=mark.mall_group_id,
                changes={"pair": [low, high], "note": mark.note},
            )
        return mark, created


def pair_dismiss(*, mall_group_id: int | None, a_id: int, b_id: int, note: str, actor: Actor) -> PairMark:
    """ "Not the same person": the pair leaves the report for good (recorded and audited)."""
    return _pair_mark(
        mall_group_id=mall_group_id, a_id=a_id, b_id=b_id, kind=PairMarkKind.DISMISSED, note=note, actor=actor
    )[0]


def pair_report(*, mall_group_id: int | None, a_id: int, b_id: int, note: str, actor: Actor) -> tuple[PairMark, bool]:
    """A suspected duplicate reported by staff or an integrator: it joins the report as evidence."""
    return _pair_mark(
        mall_group_id=mall_group_id, a_id=a_id, b_id=b_id, kind=PairMarkKind.REPORTED, note=note, actor=actor
    )


def member_erase_in_tx(*, member_id: int, mall_group_id: int, phone: str, values: Sequence[str]) -> int:
    """Erasure (PIPL), called by the privacy erasure inside its transaction (settings.GALLERIA_ERASURE_HANDLERS):
    the display copies a merge kept of the member's phone and card are erased, and so is any of the member's values
    in the notes staff wrote on reported or dismissed pairs. The records themselves stay. Returns rows rewritten."""
    changed = 0
    for record in MergeRecord.objects.filter(Q(survivor_id=member_id) | Q(absorbed_id=member_id)):
        display = record.moved.get("display")
        if display:
            record.moved["display"] = redact(display, values)
            MergeRecord.objects.filter(pk=record.pk).update(moved=record.moved)
            changed += 1
    for mark in PairMark.objects.filter(Q(member_low_id=member_id) | Q(member_high_id=member_id)).exclude(note=""):
        note = redact(mark.note, values)
        if note != mark.note:
            PairMark.objects.filter(pk=mark.pk).update(note=note)
            changed += 1
    return changed
