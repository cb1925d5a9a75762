"""What the analytics app reads from the ledger to keep its daily points rollups (docs/analytics.md): the new
transactions since a mark and the group's points flows of a period, from the legs of its system accounts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Max, Min, Sum

from .models import AccountKind, Entry, Transaction
from .selectors import member_balance_total

# Points flows of a group, each the legs of one kind of system account (the counterparts of the members' points
# accounts): issued and adjusted are credits to members (negative legs there), redeemed and expired debits.
POINTS_FLOWS = {
    "issued": AccountKind.POINTS_ISSUED,
    "adjusted": AccountKind.POINTS_ADJUSTED,
    "redeemed": AccountKind.POINTS_REDEEMED,
    "expired": AccountKind.POINTS_EXPIRED,
}
_SIGN = {AccountKind.POINTS_ISSUED: -1, AccountKind.POINTS_ADJUSTED: -1, AccountKind.POINTS_REDEEMED: 1,
         AccountKind.POINTS_EXPIRED: 1}  # fmt: skip


def last_transaction_id(*, after_id: int, created_before: dt.datetime) -> int:
    """The largest ledger transaction id above `after_id` written before `created_before` (`after_id` if none)."""
    found = Transaction.objects.filter(pk__gt=after_id, created_at__lt=created_before).aggregate(m=Max("pk"))["m"]
    return int(found or after_id)


def transactions_touched(*, after_id: int, up_to_id: int) -> list[tuple[int, dt.datetime]]:
    """(mall group id, occurred at) of the transactions with after_id < id ≤ up_to_id."""
    qs = Transaction.objects.filter(pk__gt=after_id, pk__lte=up_to_id).order_by()
    return [(int(g), at) for g, at in qs.values_list("mall_group_id", "occurred_at")]


def points_flows_between(*, mall_group_id: int, since: dt.datetime, until: dt.datetime) -> dict[str, int]:
    """{flow: points} of the group's legs in [since, until): issued, adjusted (net, may be negative), redeemed and
    expired (reversals included, so a refunded sale's points come back out of "issued")."""
    kinds: Sequence[str] = list(POINTS_FLOWS.values())
    rows = (
        Entry.objects.filter(
            account__mall_group_id=mall_group_id,
            account__kind__in=kinds,
            account__member__isnull=True,
            occurred_at__gte=since,
            occurred_at__lt=until,
        )
        .values("account__kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    by_kind = {row["account__kind"]: int(row["total"] or 0) for row in rows}
    return {flow: _SIGN[kind] * by_kind.get(kind, 0) for flow, kind in POINTS_FLOWS.items()}


def first_transaction_at(*, mall_group_id: int) -> dt.datetime | None:
    """When the group's first ledger transaction happened (None without any)."""
    found = Transaction.objects.filter(mall_group_id=mall_group_id).aggregate(m=Min("occurred_at"))["m"]
    return found if isinstance(found, dt.datetime) else None


def points_outstanding(*, mall_group_id: int) -> tuple[int, int]:
    """(points the group's members hold now, members holding some): the points liability (cached balances)."""
    return member_balance_total(mall_group_id=mall_group_id, kind=AccountKind.MEMBER_POINTS)
