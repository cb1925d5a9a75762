from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from galleria.core import sql
from galleria.core.listing import PkIn
from galleria.members.models import Member

from . import sql as ledger_sql
from .models import Account, AccountHold, AccountKind, Entry, Transaction
from .types import CheckReport, Drift


def member_balance(*, member_id: int, kind: str) -> int:
    """The member's current balance of an account kind (0 before its first use): fixed SQL, on every POS quote and
    lookup (galleria/ledger/sql.py)."""
    return ledger_sql.member_balance(member_id, kind)


def member_available(*, member_id: int, kind: str) -> int:
    """What the member may spend of an account kind: the balance less what open holds reserve (never below 0)."""
    return ledger_sql.member_available(member_id, kind)


def hold_get(*, key: str) -> AccountHold | None:
    """The hold of this key, open or released (None when there is none)."""
    return ledger_sql.hold_by_key(key)


def balance_as_of(*, account_id: int, at: dt.datetime | None = None) -> int:
    """Balance of any account (member or system) derived from its legs, at any past instant (inclusive)."""
    qs = Entry.objects.filter(account_id=account_id)
    if at is not None:
        qs = qs.filter(occurred_at__lte=at)
    return int(qs.aggregate(total=Sum("amount"))["total"] or 0)


def system_balance(*, mall_group_id: int, kind: str, merchant_id: int | None = None) -> int:
    """Derived balance of a system account kind (all merchants' accounts of the kind when merchant_id is None)."""
    qs = Entry.objects.filter(account__mall_group_id=mall_group_id, account__kind=kind, account__member__isnull=True)
    if merchant_id is not None:
        qs = qs.filter(account__merchant_id=merchant_id)
    return int(qs.aggregate(total=Sum("amount"))["total"] or 0)


def ledger_check(*, mall_group_id: int | None = None) -> CheckReport:
    """Re-derive every balance from the legs; report drift, unbalanced transactions and negative member balances;
    and every account's `held` from its open holds."""
    entries = Entry.objects.all()
    accounts = Account.objects.all()
    txs = Transaction.objects.all()
    if mall_group_id is not None:
        entries = entries.filter(account__mall_group_id=mall_group_id)
        accounts = accounts.filter(mall_group_id=mall_group_id)
        txs = txs.filter(mall_group_id=mall_group_id)
    derived = {
        row["account_id"]: int(row["total"]) for row in entries.values("account_id").annotate(total=Sum("amount"))
    }
    holds = AccountHold.objects.filter(released_at__isnull=True)
    if mall_group_id is not None:
        holds = holds.filter(account__mall_group_id=mall_group_id)
    held = {row["account_id"]: int(row["total"]) for row in holds.values("account_id").annotate(total=Sum("amount"))}
    drifts = []
    negative = []
    held_drifts = []
    n_accounts = 0
    for acc_id, balance, member_id, cached_held in accounts.values_list(
        "id", "balance", "member_id", "held"
    ).iterator():
        n_accounts += 1
        if cached_held != held.get(acc_id, 0):
            held_drifts.append(Drift(account_id=acc_id, cached=cached_held, derived=held.get(acc_id, 0)))
        value = derived.get(acc_id, 0)
        if member_id is not None:
            if balance != value:
                drifts.append(Drift(account_id=acc_id, cached=balance, derived=value))
            if value < 0:
                negative.append(acc_id)
    sums: dict[tuple[int, str], int] = defaultdict(int)
    for row in entries.values("transaction_id", "asset").annotate(total=Sum("amount")):
        sums[(row["transaction_id"], row["asset"])] += int(row["total"])
    unbalanced = sorted({tx for (tx, _asset), total in sums.items() if total != 0})
    legless = txs.filter(entries__isnull=True).values_list("id", flat=True)
    return CheckReport(
        accounts_checked=n_accounts,
        transactions_checked=txs.count(),
        drifts=tuple(drifts),
        unbalanced=tuple(sorted(set(unbalanced) | set(legless))),
        negative=tuple(negative),
        held_drifts=tuple(held_drifts),
    )


# ---------------------------------------------------------------- finance reads (console: liabilities)


def system_balances(*, mall_group_id: int, kinds: Sequence[str]) -> dict[tuple[str, int | None], int]:
    """Derived balances of the group's system accounts of `kinds`, keyed by (kind, merchant id) — merchant id None
    for the group's own account — in ONE grouped query over the legs. Accounts without legs are absent."""
    rows = (
        Entry.objects.filter(
            account__mall_group_id=mall_group_id, account__kind__in=list(kinds), account__member__isnull=True
        )
        .values("account__kind", "account__merchant_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(row["account__kind"], row["account__merchant_id"]): int(row["total"] or 0) for row in rows}


def member_balance_total(*, mall_group_id: int, kind: str) -> tuple[int, int]:
    """(sum of the cached balances, accounts holding a positive balance) of the group's member accounts of `kind`,
    in one aggregate over the accounts (no legs read; `ledger_check` proves the cache against the legs)."""
    row = Account.objects.filter(mall_group_id=mall_group_id, kind=kind, member__isnull=False).aggregate(
        total=Sum("balance"), holders=Count("pk", filter=Q(balance__gt=0))
    )
    return int(row["total"] or 0), int(row["holders"] or 0)


# ---------------------------------------------------------------- console member list: points column, filter, sort
#
# A member's points are the cached balance of their points account; a member who never earned has no account yet,
# and so 0 points. These compose with `members.selectors.member_search` (a QuerySet of members) and stay index
# walks at a million members (the account index `account_member_balance_idx`; docs/performance.md).


def member_points_balances(*, member_ids: Iterable[int]) -> dict[int, int]:
    """{member id: points balance} of the members that have a points account (one query; absent = 0 points)."""
    ids = list(member_ids)
    if not ids:
        return {}
    rows = Account.objects.filter(member_id__in=ids, kind=AccountKind.MEMBER_POINTS).values_list("member_id", "balance")
    return {int(member_id): int(balance or 0) for member_id, balance in rows}


SELECTIVE_POINTS_RANGE = 1_000


def members_with_points(
    members: QuerySet[Member], *, min_points: int | None = None, max_points: int | None = None
) -> QuerySet[Member]:
    """The members whose points balance lies in [min_points, max_points] (either bound optional; no account = 0).

    A range that starts above 0 needs an account. When few accounts (≤ SELECTIVE_POINTS_RANGE, counted on the
    balance index) are in it, their member ids go into the query as a list, so the list is those rows sorted;
    otherwise a semi-join. Left to itself the planner may walk the whole name or join-date index looking for the
    rare high balances (seconds at a million members, docs/performance.md)."""
    accounts = Account.objects.filter(kind=AccountKind.MEMBER_POINTS, member__isnull=False)
    if min_points is not None and min_points > 0:
        in_range = accounts.filter(balance__gte=min_points)
        if max_points is not None:
            in_range = in_range.filter(balance__lte=max_points)
        ids = list(in_range.values_list("member_id", flat=True)[: SELECTIVE_POINTS_RANGE + 1])
        if len(ids) <= SELECTIVE_POINTS_RANGE:
            return members.filter(PkIn(ids))
        return members.filter(Exists(in_range.filter(member_id=OuterRef("pk"))))
    if max_points is not None:  # everyone but those above the bound (members without an account have 0)
        return members.filter(~Exists(accounts.filter(member_id=OuterRef("pk"), balance__gt=max_points)))
    return members


def members_by_points(members: QuerySet[Member], *, descending: bool) -> list[QuerySet[Member]]:
    """`members` by points balance (ties by member id, in the same direction), as two runs for `core.listing.Runs`:
    the account holders by balance — an inner join that walks `account_member_balance_idx` and stops at the page —
    and the members without a points account (0 points) by id: last when descending, first when ascending. One
    ORDER BY over a LEFT JOIN would have to sort every member."""
    holders = members.filter(accounts__kind=AccountKind.MEMBER_POINTS)
    without = members.filter(~Exists(Account.objects.filter(member_id=OuterRef("pk"), kind=AccountKind.MEMBER_POINTS)))
    if descending:
        return [holders.order_by("-accounts__balance", "-pk"), without.order_by("-pk")]
    return [without.order_by("pk"), holders.order_by("accounts__balance", "pk")]


# ---------------------------------------------------------------- settlement with merchants (docs/settlement.md)
#
# A statement's figures are sums of the legs on the merchants' system accounts of some kinds, over a period of the
# merchant's mall-local calendar (`windows`: one [since, until) per group of malls sharing a time zone), and each
# figure's drill-down is those legs. Reads only; the settlement app computes and stores the statement.

Window = tuple[Sequence[int], dt.datetime, dt.datetime]  # (mall ids, since, until)


def _merchant_legs_q(*, mall_group_id: int, kinds: Sequence[str], windows: Sequence[Window]) -> Q:
    when = Q(pk__in=[])
    for mall_ids, since, until in windows:
        when |= Q(account__merchant__mall_id__in=list(mall_ids), occurred_at__gte=since, occurred_at__lt=until)
    return (
        Q(
            account__mall_group_id=mall_group_id,
            account__kind__in=list(kinds),
            account__member__isnull=True,
            account__merchant__isnull=False,
        )
        & when
    )


def merchant_sums(
    *, mall_group_id: int, kinds: Sequence[str], windows: Sequence[Window], merchant_ids: Sequence[int] | None = None
) -> dict[tuple[int, str], int]:
    """{(merchant id, kind): sum of the legs} on the group's merchant accounts of `kinds` whose occurred_at lies in
    the window of the merchant's mall — ONE grouped query for every merchant of the group (or of `merchant_ids`)."""
    qs = Entry.objects.filter(_merchant_legs_q(mall_group_id=mall_group_id, kinds=kinds, windows=windows))
    if merchant_ids is not None:
        qs = qs.filter(account__merchant_id__in=list(merchant_ids))
    rows = qs.values("account__merchant_id", "account__kind").annotate(total=Sum("amount")).order_by()
    return {(int(r["account__merchant_id"]), str(r["account__kind"])): int(r["total"] or 0) for r in rows}


LEG_FIELDS = (
    "id",
    "occurred_at",
    "amount",
    "account__kind",
    "account__merchant_id",
    "transaction_id",
    "transaction__kind",
    "transaction__source",
    "transaction__memo",
    "transaction__created_at",
)


def merchant_legs(
    *,
    mall_group_id: int,
    kinds: Sequence[str],
    windows: Sequence[Window],
    merchant_ids: Sequence[int] | None = None,
    written_after: dt.datetime | None = None,
    written_until: dt.datetime | None = None,
    with_explanation: bool = False,
) -> QuerySet[Entry, dict[str, Any]]:
    """The legs `merchant_sums` adds up (as dicts of LEG_FIELDS), by merchant, time and id: a figure's drill-down.
    `written_after` / `written_until` narrow them by when their transaction was written (a statement generated at
    some moment shows the legs written up to then; a supplementary one, those written since the one before).
    `with_explanation` adds each leg's `transaction__explanation` (a figure whose page shows what the transaction
    recorded, e.g. the plate and hours of a parking grant; the exports do without)."""
    qs = Entry.objects.filter(_merchant_legs_q(mall_group_id=mall_group_id, kinds=kinds, windows=windows))
    if merchant_ids is not None:
        qs = qs.filter(account__merchant_id__in=list(merchant_ids))
    if written_after is not None:
        qs = qs.filter(transaction__created_at__gt=written_after)
    if written_until is not None:
        qs = qs.filter(transaction__created_at__lte=written_until)
    names = (*LEG_FIELDS, "transaction__explanation") if with_explanation else LEG_FIELDS
    return qs.values(*names).order_by("account__merchant_id", "occurred_at", "id")


def source_sums(*, mall_group_id: int, sources: Sequence[str], kind: str) -> dict[str, int]:
    """{source: sum of the legs on the group's accounts of `kind`} of the transactions written with these exact
    sources (one query over the source index; a source with no such legs is absent). What has been posted so far
    for something billed by differences — e.g. a parking grant whose covered fee can be re-priced."""
    if not sources:
        return {}
    rows = (
        Entry.objects.filter(
            transaction__source__in=list(sources),
            transaction__mall_group_id=mall_group_id,
            account__mall_group_id=mall_group_id,
            account__kind=kind,
        )
        .values("transaction__source")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {str(row["transaction__source"]): int(row["total"] or 0) for row in rows}


def transaction_legs(*, transaction_ids: Iterable[int]) -> QuerySet[Entry, dict[str, Any]]:
    """Every leg of these transactions (as dicts of LEG_FIELDS), by transaction and leg."""
    return (
        Entry.objects.filter(transaction_id__in=list(transaction_ids))
        .values(*LEG_FIELDS)
        .order_by("transaction_id", "id")
    )


_SEGMENT_KINDS = {
    "points": [AccountKind.MEMBER_POINTS.value],
    "wallet": [AccountKind.MEMBER_WALLET.value, AccountKind.MEMBER_WALLET_BONUS.value],  # principal + bonus
}


def segment_members_by_balance(*, balance: str, low: int | None, high: int | None) -> sql.Fragment:
    """Members whose points (`balance="points"`) or wallet balance (fen, principal and bonus) is within
    [low, high]: a segment condition."""
    return ledger_sql.members_by_balance(_SEGMENT_KINDS[balance], low=low, high=high)
