"""Points movements. `*_in_tx` functions run inside a use case's transaction with the member's points account
already locked (ledger.services.lock_member_accounts); they post balanced ledger transactions and keep lots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import sql, timeutil
from galleria.core.errors import ConflictError, PermissionDeniedError, ValidationError
from galleria.core.locking import lock_one
from galleria.core.money import allocate
from galleria.ledger import exceptions as ledger_exceptions
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind, Asset, Transaction, TransactionKind
from galleria.ledger.types import Leg
from galleria.members.models import Member

from .. import rules
from .. import sql as points_sql
from ..models import (
    AdjustmentStatus,
    BehaviourAward,
    BehaviourEvent,
    ExpiryNotice,
    LotMovement,
    PointsAdjustment,
    PointsLot,
    PointsPolicy,
)
from ..selectors import behaviour_rule_active, expiry_config, policy_get
from ..types import LotView


def _open_lots(member_id: int) -> list[PointsLot]:
    return points_sql.open_lots(member_id)  # fixed SQL: read on every sale paid with points


def _consume(member_id: int, tx: Transaction, points: int, *, prefer_lot_ids: Sequence[int] = ()) -> None:
    """Draw `points` from the member's lots: preferred lots first, then soonest expiry first."""
    lots = _open_lots(member_id)
    by_id = {lot.pk: lot for lot in lots}
    plan: list[tuple[int, int]] = []
    left = points
    for lot_id in prefer_lot_ids:
        lot = by_id.get(lot_id)
        if lot and left:
            take = min(lot.remaining, left)
            if take:
                plan.append((lot_id, take))
                left -= take
    if left:
        taken = dict(plan)
        views = [
            LotView(id=lot.pk, remaining=lot.remaining - taken.get(lot.pk, 0), expires_on=lot.expires_on)
            for lot in lots
        ]
        plan.extend(rules.fifo(views, left))
    points_sql.lots_consume(tx.pk, plan)  # fixed SQL: one statement on PostgreSQL


def points_credit_in_tx(
    *,
    policy: PointsPolicy,
    member_id: int,
    points_account: Account,
    points: int,
    kind: str,
    funder: str,
    merchant_share_bp: int,
    merchant_id: int | None,
    occurred_at: dt.datetime,
    tz_name: str,
    source: str,
    explanation: Mapping[str, Any],
    memo: str = "",
    issued_kind: str = AccountKind.POINTS_ISSUED,
) -> Transaction | None:
    """Credit points to a member (earn, behaviour, adjustment): legs against the funders' `issued_kind`
    accounts, plus a new lot."""
    if points <= 0:
        return None
    group_id = policy.mall_group_id
    mall_part, merchant_part = rules.funding_split(points=points, funder=funder, merchant_share_bp=merchant_share_bp)
    if merchant_id is None:
        mall_part, merchant_part = points, 0
    legs = [Leg(points_account.pk, Asset.POINTS, points)]
    if mall_part:
        legs.append(
            Leg(
                ledger.system_account_id(mall_group_id=group_id, kind=issued_kind),
                Asset.POINTS,
                -mall_part,
            )
        )
    if merchant_part:
        legs.append(
            Leg(
                ledger.system_account_id(
                    mall_group_id=group_id, kind=AccountKind.POINTS_ISSUED, merchant_id=merchant_id
                ),
                Asset.POINTS,
                -merchant_part,
            )
        )
    expires_on = rules.expiry_date(
        earned_on=timeutil.local_date(occurred_at, tz_name), config=expiry_config(policy=policy)
    )
    # fixed SQL: a lot is written on every earning sale, with the posting (one statement on PostgreSQL)
    lot = sql.linked(
        PointsLot,
        "transaction_id",
        mall_group_id=group_id,
        member_id=member_id,
        points=points,
        remaining=points,
        earned_at=sql.when(occurred_at),
        expires_on=sql.day(expires_on),
    )
    return ledger.post(
        mall_group_id=group_id,
        kind=kind,
        legs=legs,
        member_accounts={points_account.pk: points_account},
        occurred_at=occurred_at,
        source=source,
        memo=memo,
        explanation={**explanation, "funding": {"mall": mall_part, "merchant": merchant_part}},
        then=lot,
    )


def _debit_in_tx(
    *,
    mall_group_id: int,
    member_id: int,
    points_account: Account,
    points: int,
    kind: str,
    to_kind: str,
    merchant_id: int | None = None,
    occurred_at: dt.datetime | None = None,
    source: str,
    explanation: Mapping[str, Any],
) -> Transaction:
    """Move points out of a member's account to a system account (`to_kind`, per merchant when given) and take
    them from the member's lots, soonest-expiring first: spending, expiry and debit adjustments."""
    legs = [
        Leg(points_account.pk, Asset.POINTS, -points),
        Leg(
            ledger.system_account_id(mall_group_id=mall_group_id, kind=to_kind, merchant_id=merchant_id),
            Asset.POINTS,
            points,
        ),
    ]
    tx = ledger.post(
        mall_group_id=mall_group_id,
        kind=kind,
        legs=legs,
        member_accounts={points_account.pk: points_account},
        occurred_at=occurred_at,
        source=source,
        explanation=explanation,
    )
    _consume(member_id, tx, points)
    return tx


def points_spend_in_tx(
    *,
    mall_group_id: int,
    member_id: int,
    points_account: Account,
    points: int,
    merchant_id: int | None,
    occurred_at: dt.datetime,
    source: str,
    explanation: Mapping[str, Any],
) -> Transaction:
    """Points used as payment: member → points redeemed (per merchant, for settlement). Lots consumed FIFO."""
    return _debit_in_tx(
        mall_group_id=mall_group_id,
        member_id=member_id,
        points_account=points_account,
        points=points,
        kind=TransactionKind.SPEND,
        to_kind=AccountKind.POINTS_REDEEMED,
        merchant_id=merchant_id,
        occurred_at=occurred_at,
        source=source,
        explanation=explanation,
    )


def points_claw_back_in_tx(
    *,
    mall_group_id: int,
    member_id: int,
    points_account: Account,
    points: int,
    earn_tx: Transaction,
    occurred_at: dt.datetime,
    source: str,
    explanation: Mapping[str, Any],
) -> tuple[Transaction | None, int]:
    """Reverse `points` of an earn transaction (a refund). Takes what the member still has (the sale's own lot
    first); any shortfall is booked to POINTS_SHORTFALL and returned, never a negative balance."""
    if points <= 0:
        return None, 0
    available = min(points, points_account.balance or 0)
    shortfall = points - available
    # give the points back to their funders in the same proportion they were issued
    issued = [(e.account_id, -e.amount) for e in earn_tx.entries.all() if e.amount < 0]  # the funders' legs
    issued_total = sum(p for _a, p in issued)
    parts = allocate(points, [p for _a, p in issued]) if issued_total else []
    legs = [Leg(acc, Asset.POINTS, part) for (acc, _p), part in zip(issued, parts, strict=True)]
    if available:
        legs.append(Leg(points_account.pk, Asset.POINTS, -available))
    if shortfall:
        legs.append(
            Leg(
                ledger.system_account_id(mall_group_id=mall_group_id, kind=AccountKind.POINTS_SHORTFALL),
                Asset.POINTS,
                -shortfall,
            )
        )
    tx = ledger.post(
        mall_group_id=mall_group_id,
        kind=TransactionKind.REFUND,
        legs=legs,
        member_accounts={points_account.pk: points_account},
        occurred_at=occurred_at,
        source=source,
        explanation={**explanation, "clawed_back": available, "shortfall": shortfall},
    )
    if available:
        own = PointsLot.objects.filter(transaction=earn_tx).values_list("pk", flat=True)
        _consume(member_id, tx, available, prefer_lot_ids=list(own))
    return tx, shortfall


def points_return_in_tx(
    *,
    mall_group_id: int,
    member_id: int,
    points_account: Account,
    points: int,
    spend_tx: Transaction,
    occurred_at: dt.datetime,
    source: str,
    explanation: Mapping[str, Any],
) -> Transaction | None:
    """Give back points that paid for refunded goods (to the member, from the merchant's redeemed account)."""
    if points <= 0:
        return None
    redeemed_account = next(e.account_id for e in spend_tx.entries.all() if e.amount > 0)  # after a merge the
    # member's own leg may be another member's account, so the system leg is told by its sign
    legs = [Leg(points_account.pk, Asset.POINTS, points), Leg(redeemed_account, Asset.POINTS, -points)]
    tx = ledger.post(
        mall_group_id=mall_group_id,
        kind=TransactionKind.REFUND,
        legs=legs,
        member_accounts={points_account.pk: points_account},
        occurred_at=occurred_at,
        source=source,
        explanation=explanation,
    )
    # The points come back as a new lot that expires with the latest-expiring lot the spend drew from.
    expiries = list(LotMovement.objects.filter(transaction=spend_tx).values_list("lot__expires_on", flat=True))
    expires_on = None if not expiries or None in expiries else max(e for e in expiries if e is not None)
    lot = PointsLot.objects.create(
        mall_group_id=mall_group_id,
        member_id=member_id,
        transaction=tx,
        points=points,
        remaining=points,
        earned_at=occurred_at,
        expires_on=expires_on,
    )
    LotMovement.objects.create(lot=lot, transaction=tx, points=points)
    return tx


# ---------------------------------------------------------------- behaviour points


def behaviour_award_in_tx(
    *,
    mall_group_id: int,
    member_id: int,
    event: str,
    occasion: str,
    at: dt.datetime,
    tz_name: str,
    merchant_id: int | None = None,
    config_token: str | None = None,
    points_account: Account | None = None,
) -> BehaviourAward | None:
    """Award the group's points for a behaviour once per (member, event, occasion); None if no active rule, the
    monthly limit is reached or it was already awarded. Runs inside the caller's transaction. `points_account`:
    the member's points account row when the caller already holds its lock (a sale), else it is locked here.

    Fixed SQL (points/sql.py; a sale's first purchase at a merchant awards on the checkout path): the award row is
    claimed in one statement (its unique constraint; nothing is written when it exists), then credited and linked."""
    rule = behaviour_rule_active(mall_group_id=mall_group_id, event=event, token=config_token)
    if rule is None or rule.points == 0:
        return None
    local_day = timeutil.local_date(at, tz_name)
    if rule.max_per_month:
        month_start = local_day.replace(day=1)
        done = BehaviourAward.objects.filter(member_id=member_id, event=event, local_date__gte=month_start).count()
        if done >= rule.max_per_month:
            return None
    created_at = timezone.now()
    key = occasion[:40]
    award_id = points_sql.award_claim(
        member_id=member_id, event=event, occasion=key, points=rule.points, local_date=local_day, at=created_at
    )
    if award_id is None:
        return None
    if points_account is None:
        points_account = ledger.lock_member_accounts(
            mall_group_id=mall_group_id, member_id=member_id, kinds=[AccountKind.MEMBER_POINTS]
        )[AccountKind.MEMBER_POINTS]
    credited = points_credit_in_tx(
        policy=policy_get(mall_group_id=mall_group_id, token=config_token),
        member_id=member_id,
        points_account=points_account,
        points=rule.points,
        kind=TransactionKind.BEHAVIOUR,
        funder="mall",
        merchant_share_bp=0,
        merchant_id=merchant_id,
        occurred_at=at,
        tz_name=tz_name,
        source=f"behaviour:{event}",
        explanation={"event": event, "occasion": occasion, "rule": rule.pk, "points": rule.points},
    )
    points_sql.award_link(award_id, credited.pk if credited is not None else None)
    award = BehaviourAward(
        id=award_id,
        member_id=member_id,
        event=event,
        occasion=key,
        points=rule.points,
        transaction=credited,
        local_date=local_day,
        created_at=created_at,
    )
    award._state.adding = False
    return award


def points_checkin(*, member_id: int, mall_group_id: int, tz_name: str) -> BehaviourAward | None:
    """Daily check-in: once per mall-local day. Returns the award, or None if already checked in today."""
    now = timeutil.now()
    with transaction.atomic(durable=True):
        return behaviour_award_in_tx(
            mall_group_id=mall_group_id,
            member_id=member_id,
            event=BehaviourEvent.CHECKIN,
            occasion=timeutil.local_date(now, tz_name).isoformat(),
            at=now,
            tz_name=tz_name,
        )


# ---------------------------------------------------------------- adjustments


def _apply_adjustment(adj: PointsAdjustment, tz_name: str) -> None:
    account = ledger.lock_member_accounts(
        mall_group_id=adj.mall_group_id, member_id=adj.member_id, kinds=[AccountKind.MEMBER_POINTS]
    )[AccountKind.MEMBER_POINTS]
    now = timeutil.now()
    source = f"adjustment:{adj.pk}"
    if adj.points > 0:
        adj.transaction = points_credit_in_tx(
            policy=policy_get(mall_group_id=adj.mall_group_id),
            member_id=adj.member_id,
            points_account=account,
            points=adj.points,
            kind=TransactionKind.ADJUST,
            funder="mall",
            merchant_share_bp=0,
            merchant_id=None,
            occurred_at=now,
            tz_name=tz_name,
            source=source,
            explanation={"reason": adj.reason},
            issued_kind=AccountKind.POINTS_ADJUSTED,
        )
    else:
        debit = -adj.points
        if debit > (account.balance or 0):
            raise ledger_exceptions.InsufficientBalanceError(
                _("The member has only %(n)s points.") % {"n": account.balance}, code="points.insufficient"
            )
        adj.transaction = _debit_in_tx(
            mall_group_id=adj.mall_group_id,
            member_id=adj.member_id,
            points_account=account,
            points=debit,
            kind=TransactionKind.ADJUST,
            to_kind=AccountKind.POINTS_ADJUSTED,
            occurred_at=now,
            source=source,
            explanation={"reason": adj.reason},
        )
    adj.status = AdjustmentStatus.APPLIED


def points_adjust_request(
    *, mall_group_id: int, member_id: int, points: int, reason: str, actor: Actor, tz_name: str
) -> PointsAdjustment:
    """A service adjustment: applied at once up to the policy's threshold, else left pending for approval."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("A reason is required."), code="points.reason_required", fields={"reason": "required"})
    if points == 0 or abs(points) > 10**8:
        raise ValidationError(
            _("Enter a non-zero number of points."), code="points.invalid_amount", fields={"points": "invalid"}
        )
    threshold = policy_get(mall_group_id=mall_group_id).adjustment_approval_threshold
    with transaction.atomic(durable=True):
        adj = PointsAdjustment.objects.create(
            mall_group_id=mall_group_id,
            member_id=member_id,
            points=points,
            reason=reason[:200],
            status=AdjustmentStatus.PENDING,
            requested_by_id=actor.user_id,
        )
        if abs(points) <= threshold:
            _apply_adjustment(adj, tz_name)
            adj.decided_at = timeutil.now()
            adj.save()
        audit_record(
            actor=actor,
            action="points.adjust_request",
            target_type="member",
            target_id=member_id,
            mall_group_id=mall_group_id,
            changes={"points": [None, points], "status": [None, adj.status], "reason": [None, reason]},
        )
        return adj


def points_adjust_decide(
    *, adjustment_id: int, approve: bool, actor: Actor, note: str = "", tz_name: str
) -> PointsAdjustment:
    """Approve or reject a pending adjustment. The requester cannot approve their own request."""
    with transaction.atomic(durable=True):
        adj = lock_one(PointsAdjustment.objects.filter(pk=adjustment_id))
        if adj.status != AdjustmentStatus.PENDING:
            raise ConflictError(_("This adjustment was already decided."), code="points.adjustment_decided")
        if actor.user_id is not None and actor.user_id == adj.requested_by_id:
            raise PermissionDeniedError(
                _("A second person must approve this adjustment."), code="points.approval_same_person"
            )
        if approve:
            _apply_adjustment(adj, tz_name)
        else:
            adj.status = AdjustmentStatus.REJECTED
        adj.decided_by_id = actor.user_id
        adj.decision_note = note[:200]
        adj.decided_at = timeutil.now()
        adj.save()
        audit_record(
            actor=actor,
            action="points.adjust_" + ("approve" if approve else "reject"),
            target_type="member",
            target_id=adj.member_id,
            mall_group_id=adj.mall_group_id,
            changes={"adjustment": [adj.pk, adj.status], "points": [None, adj.points]},
        )
        return adj


# ---------------------------------------------------------------- expiry


def points_expire(*, mall_group_id: int, today: dt.date, batch: int = 500) -> int:
    """Expire every lot whose last valid mall-local day is before `today`. Idempotent and resumable: each member
    is its own transaction and an expired lot has nothing left, so a re-run (or a run after a crash) only does
    what is still to do. Returns the number of points expired."""
    total = 0
    while True:
        member_ids = list(
            PointsLot.objects.filter(mall_group_id=mall_group_id, remaining__gt=0, expires_on__lt=today)
            .order_by("member_id")
            .values_list("member_id", flat=True)
            .distinct()[:batch]
        )
        if not member_ids:
            return total
        for member_id in member_ids:
            total += _expire_member(mall_group_id=mall_group_id, member_id=member_id, today=today)


def _expire_member(*, mall_group_id: int, member_id: int, today: dt.date) -> int:
    with transaction.atomic(durable=True):
        account = ledger.lock_member_accounts(
            mall_group_id=mall_group_id, member_id=member_id, kinds=[AccountKind.MEMBER_POINTS]
        )[AccountKind.MEMBER_POINTS]
        lots = list(PointsLot.objects.filter(member_id=member_id, remaining__gt=0, expires_on__lt=today))
        points = sum(lot.remaining for lot in lots)
        if not points:
            return 0
        # every expired lot expires before any live one, so soonest-expiring-first takes exactly the expired lots
        _debit_in_tx(
            mall_group_id=mall_group_id,
            member_id=member_id,
            points_account=account,
            points=points,
            kind=TransactionKind.EXPIRE,
            to_kind=AccountKind.POINTS_EXPIRED,
            source=f"expiry:{today.isoformat()}",
            explanation={"lots": [lot.pk for lot in lots], "points": points},
        )
        return points


def points_expiry_notices(*, mall_group_id: int, today: dt.date, within_days: int = 30) -> int:
    """Create one "points expiring soon" event per member and expiry date in the next `within_days` days."""
    until = today + dt.timedelta(days=within_days)
    rows = (
        PointsLot.objects.filter(
            mall_group_id=mall_group_id, remaining__gt=0, expires_on__gte=today, expires_on__lte=until
        )
        .values("member_id", "expires_on")
        .annotate(points=Sum("remaining"))
    )
    notices = [ExpiryNotice(member_id=r["member_id"], expires_on=r["expires_on"], points=r["points"]) for r in rows]
    created = ExpiryNotice.objects.bulk_create(notices, ignore_conflicts=True, batch_size=1000)
    return len(created)


def behaviour_award_once(*, member_id: int, event: str) -> BehaviourAward | None:
    """Once-per-member behaviours (sign-up, completed profile), run from event handlers."""
    member = Member.objects.select_related("join_mall").get(pk=member_id)
    if event == BehaviourEvent.PROFILE_COMPLETE and not (
        member.name and member.gender != "unknown" and member.birthday and member.email
    ):
        return None
    with transaction.atomic():
        return behaviour_award_in_tx(
            mall_group_id=member.mall_group_id,
            member_id=member.pk,
            event=event,
            occasion="once",
            at=timeutil.now(),
            tz_name=member.join_mall.timezone,
        )
