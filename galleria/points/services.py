"""Points movements. `*_in_tx` functions run inside a use case's transaction with the member's points account
already locked (ledger.services.lock_member_accounts); they post balanced ledger transactions and keep lots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import F

from galleria.core import timeutil
from galleria.core.money import allocate
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind, Asset, Transaction, TransactionKind
from galleria.ledger.types import Leg

from . import rules
from .models import LotMovement, PointsLot, PointsPolicy
from .selectors import expiry_config
from .types import LotView


def _open_lots(member_id: int) -> list[PointsLot]:
    return list(PointsLot.objects.filter(member_id=member_id, remaining__gt=0).order_by("expires_on", "id"))


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
    for lot_id, take in plan:
        PointsLot.objects.filter(pk=lot_id).update(remaining=F("remaining") - take)
    LotMovement.objects.bulk_create([LotMovement(lot_id=lot_id, transaction=tx, points=-take) for lot_id, take in plan])


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
) -> Transaction | None:
    """Credit points to a member (earn or behaviour): ledger legs against the funders, plus a new lot."""
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
                ledger.system_account_id(mall_group_id=group_id, kind=AccountKind.POINTS_ISSUED),
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
    tx = ledger.post(
        mall_group_id=group_id,
        kind=kind,
        legs=legs,
        member_accounts={points_account.pk: points_account},
        occurred_at=occurred_at,
        source=source,
        memo=memo,
        explanation={**explanation, "funding": {"mall": mall_part, "merchant": merchant_part}},
    )
    PointsLot.objects.create(
        mall_group_id=group_id,
        member_id=member_id,
        transaction=tx,
        points=points,
        remaining=points,
        earned_at=occurred_at,
        expires_on=rules.expiry_date(
            earned_on=timeutil.local_date(occurred_at, tz_name), config=expiry_config(policy=policy)
        ),
    )
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
    legs = [
        Leg(points_account.pk, Asset.POINTS, -points),
        Leg(
            ledger.system_account_id(
                mall_group_id=mall_group_id, kind=AccountKind.POINTS_REDEEMED, merchant_id=merchant_id
            ),
            Asset.POINTS,
            points,
        ),
    ]
    tx = ledger.post(
        mall_group_id=mall_group_id,
        kind=TransactionKind.SPEND,
        legs=legs,
        member_accounts={points_account.pk: points_account},
        occurred_at=occurred_at,
        source=source,
        explanation=explanation,
    )
    _consume(member_id, tx, points)
    return tx


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
    issued = [(e.account_id, -e.amount) for e in earn_tx.entries.all() if e.account_id != points_account.pk]
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
    redeemed_account = next(e.account_id for e in spend_tx.entries.all() if e.account_id != points_account.pk)
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
