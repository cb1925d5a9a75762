"""Posting to the ledger. These helpers run inside the caller's use-case transaction (they refuse otherwise)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from galleria.core import sql

from . import exceptions
from . import sql as ledger_sql
from .models import MEMBER_KINDS, Account, AccountKind, Asset, Transaction
from .types import HoldResult, Leg

KIND_ASSET: dict[str, str] = {
    AccountKind.MEMBER_POINTS: Asset.POINTS,
    AccountKind.MEMBER_WALLET: Asset.CNY,
    AccountKind.MEMBER_WALLET_BONUS: Asset.CNY,
    AccountKind.POINTS_ISSUED: Asset.POINTS,
    AccountKind.POINTS_REDEEMED: Asset.POINTS,
    AccountKind.POINTS_EXPIRED: Asset.POINTS,
    AccountKind.POINTS_ADJUSTED: Asset.POINTS,
    AccountKind.POINTS_SHORTFALL: Asset.POINTS,
    AccountKind.WALLET_FLOAT: Asset.CNY,
    AccountKind.WALLET_BONUS_FUND: Asset.CNY,
    AccountKind.WALLET_SPENT: Asset.CNY,
    AccountKind.WALLET_CASH_PAYOUT: Asset.CNY,
    # settlement with merchants (docs/settlement.md)
    AccountKind.MERCHANT_COLLECTED: Asset.CNY,
    AccountKind.GATEWAY_CLEARING: Asset.CNY,
    AccountKind.POINTS_VALUE_REDEEMED: Asset.CNY,
    AccountKind.POINTS_VALUE_FUND: Asset.CNY,
    AccountKind.COUPON_MALL_FUNDED: Asset.CNY,
    AccountKind.COUPON_FUND: Asset.CNY,
    AccountKind.MERCHANT_POINTS_COST: Asset.CNY,
    AccountKind.POINTS_COST_RECEIVABLE: Asset.CNY,
    AccountKind.COUPON_MERCHANT_FUNDED: Asset.CNY,
    AccountKind.COUPON_MERCHANT_MEMO: Asset.CNY,
    AccountKind.COMMISSION: Asset.CNY,
    AccountKind.COMMISSION_INCOME: Asset.CNY,
    AccountKind.MERCHANT_PAYOUT: Asset.CNY,
    AccountKind.SETTLEMENT_BANK: Asset.CNY,
    AccountKind.PARKING_GRANT_COST: Asset.CNY,
    AccountKind.PARKING_GRANT_INCOME: Asset.CNY,
}


def _require_tx() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("ledger postings must run inside the use case's transaction")


# System accounts are created once and never deleted (entries PROTECT them), so their ids can be remembered per
# process: this keeps the lookups (and the "is this a member account?" check in `post`) off the sale path.
_system_ids: dict[tuple[int, str, int | None], int] = {}
_known_system: set[int] = set()


def clear_caches() -> None:
    """Forget remembered system account ids (tests that roll the database back; `seed_demo --reset`)."""
    _system_ids.clear()
    _known_system.clear()


def member_account(*, mall_group_id: int, member_id: int, kind: str) -> Account:
    """The member's account of a kind, created on first use (race-safe through the unique constraint)."""
    if kind not in MEMBER_KINDS:
        raise ValueError(f"{kind} is not a member account kind")
    account = Account.objects.filter(member_id=member_id, kind=kind).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                mall_group_id=mall_group_id, member_id=member_id, kind=kind, asset=KIND_ASSET[kind], balance=0
            )
    except IntegrityError:
        return Account.objects.get(member_id=member_id, kind=kind)


def system_account_id(*, mall_group_id: int, kind: str, merchant_id: int | None = None) -> int:
    """Id of a system account (never locked, never updated: its balance is derived from legs)."""
    if kind in MEMBER_KINDS:
        raise ValueError(f"{kind} is a member account kind")
    cached = _system_ids.get((mall_group_id, kind, merchant_id))
    if cached is not None:
        return cached
    owner: dict[str, object] = {"merchant_id": merchant_id} if merchant_id else {"merchant__isnull": True}
    account = Account.objects.filter(mall_group_id=mall_group_id, kind=kind, member__isnull=True, **owner).first()
    created = False
    if account is None:
        try:
            with transaction.atomic():
                account = Account.objects.create(
                    mall_group_id=mall_group_id, kind=kind, merchant_id=merchant_id, asset=KIND_ASSET[kind]
                )
                created = True
        except IntegrityError:
            account = Account.objects.get(mall_group_id=mall_group_id, kind=kind, member__isnull=True, **owner)
    pk = account.pk

    def remember() -> None:
        _system_ids[(mall_group_id, kind, merchant_id)] = pk
        _known_system.add(pk)

    if created:
        # created in this transaction: if it rolls back the row is gone, so remember the id only once committed
        transaction.on_commit(remember)
    else:
        remember()
    return pk


def post(
    *,
    mall_group_id: int,
    kind: str,
    legs: Iterable[Leg],
    member_accounts: Mapping[int, Account] | None = None,
    occurred_at: dt.datetime | None = None,
    memo: str = "",
    source: str = "",
    explanation: Mapping[str, Any] | None = None,
    reverses: Transaction | None = None,
    then: sql.Linked | None = None,
) -> Transaction:
    """Write one balanced transaction. Member account balances move in the same statement batch; a leg that would
    take a member balance below zero raises InsufficientBalanceError (and the caller's transaction rolls back).
    `then` is a row that needs the new transaction's id (a points lot, handed over typed), written with it.

    `member_accounts` are the member Account rows the caller has locked (id → row); their cached balance is
    updated in place so the caller sees the new balance without re-reading.
    """
    _require_tx()
    legs = [leg for leg in legs if leg.amount != 0]
    if not legs:
        raise exceptions.UnbalancedTransactionError("A transaction needs at least one non-zero leg.")
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[leg.asset] += leg.amount
    if any(totals.values()):
        raise exceptions.UnbalancedTransactionError(f"Legs do not balance: {dict(totals)}")
    when = occurred_at or timezone.now()
    deltas: dict[int, int] = defaultdict(int)
    locked = member_accounts or {}
    for leg in legs:
        if leg.account_id in locked:
            deltas[leg.account_id] += leg.amount
    others = {leg.account_id for leg in legs} - set(locked) - _known_system
    if others and Account.objects.filter(pk__in=others, member__isnull=False).exists():
        raise RuntimeError("a member account leg was posted without its locked account row")
    moves = [(account_id, delta) for account_id, delta in deltas.items() if delta]
    for account_id, delta in moves:
        account = locked[account_id]
        if account.balance is None or account.balance + delta < 0:
            raise exceptions.InsufficientBalanceError(extra={"account": account.kind, "balance": account.balance})
    memo, source, explanation = memo[:200], source[:60], dict(explanation or {})
    at = sql.when(when)
    head = [
        mall_group_id,
        kind,
        at,
        sql.when(timezone.now()),
        memo,
        source,
        sql.json_value(explanation),
        reverses.pk if reverses else None,
    ]
    # Fixed SQL: postings are on every sale (galleria/ledger/sql.py; one statement on PostgreSQL). The database
    # checks that the legs balance.
    tx_id = ledger_sql.insert_posting(head=head, at=at, legs=legs, moves=moves, then=then)
    for account_id, delta in moves:
        locked[account_id].balance = (locked[account_id].balance or 0) + delta
    tx = Transaction(
        id=tx_id,
        mall_group_id=mall_group_id,
        kind=kind,
        occurred_at=when,
        memo=memo,
        source=source,
        explanation=explanation,
        reverses=reverses,
    )
    tx._state.adding = False
    return tx


def reverse(*, transaction_obj: Transaction, member_accounts: Mapping[int, Account], memo: str = "") -> Transaction:
    """Post the exact opposite of a transaction, linked to it. A transaction can be reversed once."""
    if Transaction.objects.filter(reverses=transaction_obj).exists():
        raise exceptions.AlreadyReversedError()
    legs = [Leg(account_id=e.account_id, asset=e.asset, amount=-e.amount) for e in transaction_obj.entries.all()]
    try:
        with transaction.atomic():
            return post(
                mall_group_id=transaction_obj.mall_group_id,
                kind="reversal",
                legs=legs,
                member_accounts=member_accounts,
                memo=memo or f"reversal of #{transaction_obj.pk}",
                source=transaction_obj.source,
                reverses=transaction_obj,
                explanation={"reverses": transaction_obj.pk},
            )
    except IntegrityError as exc:  # the OneToOne on `reverses` caught a concurrent reversal
        raise exceptions.AlreadyReversedError() from exc


def lock_member_accounts(
    *, mall_group_id: int, member_id: int, kinds: Iterable[str], allow_closed: bool = False, fresh: bool = False
) -> dict[str, Account]:
    """Lock the member's accounts of `kinds` (creating any that are missing), in primary-key order, in one
    statement when they all exist. Returns kind → row.

    Raises AccountClosedError when the member was merged away or erased (its accounts closed), unless
    `allow_closed` (the merge itself, sweeping and un-merging; the refund of a sale made before). The lock returns
    the rows as the merge or erasure left them, so a caller that resolved the member before that committed learns
    it here, while it holds the lock. `fresh`: the member was registered in this very transaction (pay = join), so
    it has no accounts yet and they are created without looking first."""
    _require_tx()
    wanted = list(dict.fromkeys(kinds))
    rows = [] if fresh else ledger_sql.lock_accounts(member_id, wanted)
    if len(rows) < len(wanted):
        # first use: create the missing ones in one statement; the rows this transaction inserts need no lock, and
        # only a kind another transaction created meanwhile is locked again
        have = {row.kind for row in rows}
        missing = [(kind, KIND_ASSET[kind]) for kind in wanted if kind not in have]
        if any(kind not in MEMBER_KINDS for kind, _asset in missing):
            raise ValueError(f"{missing} are not all member account kinds")
        rows += ledger_sql.open_accounts(mall_group_id, member_id, missing, at=timezone.now())
        if len(rows) < len(wanted):
            rows = ledger_sql.lock_accounts(member_id, wanted)
        rows.sort(key=lambda row: row.pk)
    if not allow_closed and any(row.closed_at is not None for row in rows):
        raise exceptions.AccountClosedError()
    return {row.kind: row for row in rows}


def member_accounts_close(*, member_id: int, at: dt.datetime) -> int:
    """Close every account of a member merged away or erased (the caller holds their locks). Returns how many."""
    _require_tx()
    return Account.objects.filter(member_id=member_id, closed_at__isnull=True).update(closed_at=at)


def member_accounts_reopen(*, member_id: int) -> int:
    """Reopen a member's accounts (un-merge; the caller holds their locks). Returns how many."""
    _require_tx()
    return Account.objects.filter(member_id=member_id, closed_at__isnull=False).update(closed_at=None)


# ------------------------------------------------------------------------------------------------------ holds
# A hold reserves part of a member account's balance under a key (docs/design/online-mall.md §3.4): it moves
# nothing — no transaction, no leg — and `Account.held` is the sum of the account's open holds, changed in the same
# statement as the hold row, under the account's row lock (ledger/sql.py). Available = balance − held: the checkout
# pipeline prices points with it, so a held point cannot be spent at a till either.


def hold_place_in_tx(
    *,
    account_id: int,
    key: str,
    amount: int,
    reason: str = "",
    expires_at: dt.datetime | None = None,
    check_available: bool = True,
    locked: Mapping[int, Account] | None = None,
) -> HoldResult:
    """Reserve `amount` of the account under `key` — only when `balance - held >= amount` (`check_available=False`
    for a hold that must always be recorded: points just earned, held through a return window). Raises
    InsufficientBalanceError when not enough is available (nothing written). The same key again with the same
    account and amount returns the first hold (idempotent, also once released); with others HoldConflictError.
    `locked`: the caller's locked account rows (id → row), whose cached `held` is updated in place."""
    _require_tx()
    if amount < 0 or not key or len(key) > 80:
        raise ValueError("a hold needs a key of 1-80 characters and an amount >= 0")
    placed = ledger_sql.hold_place(
        account_id=account_id,
        key=key,
        amount=amount,
        reason=reason[:80],
        at=timezone.now(),
        expires_at=expires_at,
        check=check_available,
    )
    if placed is not None:
        if locked and account_id in locked:
            locked[account_id].held = placed[1]
        return HoldResult(hold_id=placed[0], account_id=account_id, amount=amount, held=placed[1], placed=True)
    existing = ledger_sql.hold_by_key(key)
    if existing is None:
        available = Account.objects.filter(pk=account_id).values_list("balance", "held").first()
        raise exceptions.InsufficientBalanceError(
            extra={"available": (available[0] or 0) - available[1] if available else 0, "wanted": amount}
        )
    if existing.account_id != account_id or existing.amount != amount:
        raise exceptions.HoldConflictError(extra={"key": key})
    return HoldResult(hold_id=existing.pk, account_id=account_id, amount=amount, held=None, placed=False)


def hold_release_in_tx(*, key: str, locked: Mapping[int, Account] | None = None) -> int:
    """Release the open hold `key`: what it reserved becomes available again. Exactly once — a second release (or
    a concurrent one, which waits for the first) finds it closed and releases nothing. Returns the amount
    released (0: no open hold of that key). `locked` as for `hold_place_in_tx`."""
    _require_tx()
    released = ledger_sql.hold_release(key=key, at=timezone.now())
    if released is None:
        return 0
    account_id, amount, held = released
    if locked and account_id in locked:
        locked[account_id].held = held
    return amount


def hold_reduce_in_tx(*, key: str, by: int, locked: Mapping[int, Account] | None = None) -> int:
    """Take up to `by` off the open hold `key` (a return claws back points an earn hold still reserves); the hold
    stays open. Returns what was taken (0: no open hold of that key)."""
    _require_tx()
    if by < 0:
        raise ValueError("a hold is reduced by an amount >= 0")
    if not by or ledger_sql.lock_hold_account(key) is None:
        return 0
    reduced = ledger_sql.hold_reduce(key=key, by=by)
    if reduced is None:
        return 0
    account_id, taken = reduced
    if locked and account_id in locked:
        locked[account_id].held -= taken
    return taken
