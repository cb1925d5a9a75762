"""The ledger's SQL: every statement the ledger writes by hand, as typed functions (the rest is the ORM).

Fixed SQL for the checkout path (docs/performance.md): a posting — the transaction, its legs, the member balances
and a linked row another app hands over typed (`core.sql.Linked`, a points lot) — is one statement on PostgreSQL
and separate portable statements elsewhere; galleria/sales/tests/test_sql_parity.py proves both write the same rows.
Only the ledger imports this module (an import-linter contract)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from galleria.core import sql

from .models import Account, AccountHold, Entry, Transaction
from .types import Leg


@cache
def _transaction_insert_sql() -> str:
    return (
        f"INSERT INTO {sql.table(Transaction)}"  # noqa: S608 - table names are ours
        " (mall_group_id, kind, occurred_at, created_at, memo, source, explanation, reverses_id)"
        f" VALUES (%s, %s, %s, %s, %s, %s, {sql.json_placeholder()}, %s) RETURNING id"
    )


@cache
def _entries_insert_sql(n: int) -> str:
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * n)
    return (
        f"INSERT INTO {sql.table(Entry)} (transaction_id, account_id, asset, amount, occurred_at)"  # noqa: S608
        f" VALUES {values}"
    )


@cache
def _post_pg_sql(n_legs: int, n_moves: int, linked: str = "") -> str:
    """One PostgreSQL statement: insert the transaction, insert its legs, move the member balances (and the linked
    row, which takes the transaction id from `t`)."""
    legs = ", ".join(["(%s::bigint, %s::text, %s::bigint)"] * n_legs)
    moves = ", ".join(["(%s::bigint, %s::bigint)"] * n_moves)
    balances = (
        f", b AS (UPDATE {sql.table(Account)} a SET balance = a.balance + d.delta"  # noqa: S608
        f" FROM (VALUES {moves}) AS d (id, delta) WHERE a.id = d.id)"
        if n_moves
        else ""
    )
    follow = f", f AS ({linked} FROM t)" if linked else ""
    return (
        f"WITH t AS ({_transaction_insert_sql()}),"  # noqa: S608
        f" e AS (INSERT INTO {sql.table(Entry)} (transaction_id, account_id, asset, amount, occurred_at)"
        f" SELECT t.id, v.account_id, v.asset, v.amount, %s::timestamptz FROM t, (VALUES {legs})"
        f" AS v (account_id, asset, amount)){balances}{follow}"
        " SELECT id FROM t"
    )


@cache
def _balance_update_sql() -> str:
    return f"UPDATE {sql.table(Account)} SET balance = balance + %s WHERE id = %s"  # noqa: S608


def insert_posting(
    *,
    head: Sequence[object],
    at: object,
    legs: Sequence[Leg],
    moves: Sequence[tuple[int, int]],
    then: sql.Linked | None,
) -> int:
    """Write a transaction (`head`: group, kind, occurred_at, created_at, memo, source, explanation JSON,
    reverses id), its legs dated `at`, the balance moves (account id, delta) and the linked row; the new id."""
    if sql.one_statement_writes():
        linked_text, linked_params = sql.linked_insert(then, "t.id") if then is not None else ("", [])
        params: list[object] = [*head, at]
        for leg in legs:
            params += [leg.account_id, leg.asset, leg.amount]
        for account_id, delta in moves:
            params += [account_id, delta]
        inserted = sql.one(_post_pg_sql(len(legs), len(moves), linked_text), [*params, *linked_params])
        assert inserted is not None
        return int(inserted[0])
    inserted = sql.one(_transaction_insert_sql(), list(head))
    assert inserted is not None
    tx_id = int(inserted[0])
    rows: list[object] = []
    for leg in legs:
        rows += [tx_id, leg.account_id, leg.asset, leg.amount, at]
    sql.execute(_entries_insert_sql(len(legs)), rows)
    for account_id, delta in moves:
        sql.execute(_balance_update_sql(), [delta, account_id])
    if then is not None:
        text, params = sql.linked_insert(then)
        sql.execute(text, [tx_id, *params])
    return tx_id


@cache
def _lock_accounts_sql(n: int) -> str:
    return (
        f"SELECT {sql.select_list(Account)} FROM {sql.table(Account)}"  # noqa: S608
        f" WHERE member_id = %s AND kind IN ({', '.join(['%s'] * n)}) ORDER BY id{sql.for_update()}"
    )


def lock_accounts(member_id: int, kinds: Sequence[str]) -> list[Account]:
    """`lock_rows(Account.objects.filter(member_id=…, kind__in=…))` as fixed SQL (on every sale)."""
    return sql.instances(Account, _lock_accounts_sql(len(kinds)), [member_id, *kinds])


@cache
def _open_accounts_sql(n: int) -> str:
    values = ", ".join(["(%s, %s, %s, %s, 0, %s)"] * n)
    return (
        f"INSERT INTO {sql.table(Account)} (mall_group_id, member_id, kind, asset, balance, created_at)"  # noqa: S608
        f" VALUES {values} ON CONFLICT DO NOTHING RETURNING {sql.select_list(Account)}"
    )


def open_accounts(mall_group_id: int, member_id: int, kinds: Sequence[tuple[str, str]], *, at: object) -> list[Account]:
    """Create the member's accounts of these (kind, asset) at a zero balance in one statement; the rows created
    (a kind another transaction created meanwhile is skipped — the caller locks it). Rows this transaction inserts
    are invisible to every other until it commits: they need no lock."""
    params: list[object] = []
    for kind, asset in kinds:
        params += [mall_group_id, member_id, kind, asset, sql.when(at)]
    return sql.instances(Account, _open_accounts_sql(len(kinds)), params)


@cache
def _member_balance_sql() -> str:
    return f"SELECT balance FROM {sql.table(Account)} WHERE member_id = %s AND kind = %s"  # noqa: S608


def member_balance(member_id: int, kind: str) -> int:
    """The cached balance of the member's account of `kind` (0 when it has none yet); no lock."""
    row = sql.one(_member_balance_sql(), [member_id, kind])
    return int(row[0] or 0) if row else 0


def members_by_balance(kinds: Sequence[str], *, low: int | None, high: int | None) -> sql.Fragment:
    """Members whose balance over accounts of these kinds (summed: the wallet's principal and bonus) is within
    [low, high], either bound open; a member without such an account has 0 and is not in it (a segment condition,
    core.sql.Fragment)."""
    having: list[str] = []
    params: list[object] = list(kinds)
    if low is not None:
        having.append("SUM(balance) >= %s")
        params.append(low)
    if high is not None:
        having.append("SUM(balance) <= %s")
        params.append(high)
    text = (
        f"SELECT member_id FROM {sql.table(Account)} WHERE kind IN ({sql.placeholders(len(kinds))})"  # noqa: S608
        " AND member_id IS NOT NULL GROUP BY member_id" + (f" HAVING {' AND '.join(having)}" if having else "")
    )
    return sql.Fragment(text, tuple(params))


@cache
def _member_available_sql() -> str:
    return f"SELECT balance - held FROM {sql.table(Account)} WHERE member_id = %s AND kind = %s"  # noqa: S608


def member_available(member_id: int, kind: str) -> int:
    """The member's spendable balance of `kind`: the cached balance less what open holds reserve (never below 0;
    0 when the member has no such account yet); no lock."""
    row = sql.one(_member_available_sql(), [member_id, kind])
    return max(int(row[0] or 0), 0) if row else 0


# Holds (docs/design/online-mall.md §3.4). Every change of a hold row also changes its account's `held` in the same
# statement on PostgreSQL, and always takes the account's row lock first: two holds on one account serialise on it,
# and the conditional `balance - held >= amount` is re-checked on the latest row (READ COMMITTED re-evaluates an
# UPDATE's condition on the row it waited for), so two concurrent holds can never reserve more than is there.

_HOLD_COLUMNS = "account_id, key, amount, reason, created_at, expires_at, released_at"


@cache
def _hold_place_pg_sql() -> str:
    return (
        f"WITH a AS (UPDATE {sql.table(Account)} SET held = held + %s"  # noqa: S608
        " WHERE id = %s AND (%s OR balance - held >= %s)"
        f" AND NOT EXISTS (SELECT 1 FROM {sql.table(AccountHold)} WHERE key = %s) RETURNING id, held),"
        f" h AS (INSERT INTO {sql.table(AccountHold)} ({_HOLD_COLUMNS})"
        " SELECT a.id, %s, %s, %s, %s, %s, NULL FROM a RETURNING id)"
        " SELECT h.id, a.held FROM h, a"
    )


@cache
def _held_add_sql() -> str:
    return (
        f"UPDATE {sql.table(Account)} SET held = held + %s"  # noqa: S608
        " WHERE id = %s AND (%s OR balance - held >= %s)"
    )


@cache
def _hold_insert_sql() -> str:
    return (
        f"INSERT INTO {sql.table(AccountHold)} ({_HOLD_COLUMNS})"  # noqa: S608
        " VALUES (%s, %s, %s, %s, %s, %s, NULL) RETURNING id"
    )


@cache
def _held_of_sql() -> str:
    return f"SELECT held FROM {sql.table(Account)} WHERE id = %s"  # noqa: S608


def hold_place(
    *, account_id: int, key: str, amount: int, reason: str, at: object, expires_at: object, check: bool
) -> tuple[int, int] | None:
    """Reserve `amount` of the account under `key` when `balance - held >= amount` (`check=False`: whatever the
    balance) and no hold has that key yet: (hold id, the account's new `held`), or None (nothing written)."""
    when, until = sql.when(at), sql.when(expires_at) if expires_at is not None else None
    if sql.one_statement_writes():
        params = [amount, account_id, not check, amount, key, key, amount, reason, when, until]
        row = sql.one(_hold_place_pg_sql(), params)
        return (int(row[0]), int(row[1])) if row else None
    if hold_by_key(key) is not None:
        return None
    if not sql.execute(_held_add_sql(), [amount, account_id, not check, amount]):
        return None
    inserted = sql.one(_hold_insert_sql(), [account_id, key, amount, reason, when, until])
    held = sql.one(_held_of_sql(), [account_id])
    assert inserted is not None and held is not None
    return int(inserted[0]), int(held[0])


@cache
def _hold_by_key_sql() -> str:
    return f"SELECT {sql.select_list(AccountHold)} FROM {sql.table(AccountHold)} WHERE key = %s"  # noqa: S608


def hold_by_key(key: str) -> AccountHold | None:
    found = sql.instances(AccountHold, _hold_by_key_sql(), [key])
    return found[0] if found else None


@cache
def _hold_release_pg_sql() -> str:
    account, hold = sql.table(Account), sql.table(AccountHold)
    return (
        f"WITH a AS (SELECT a.id FROM {account} a JOIN {hold} k ON k.account_id = a.id"  # noqa: S608
        " WHERE k.key = %s FOR UPDATE OF a),"
        f" h AS (UPDATE {hold} k SET released_at = %s FROM a"
        " WHERE k.key = %s AND k.account_id = a.id AND k.released_at IS NULL RETURNING k.account_id, k.amount),"
        f" u AS (UPDATE {account} a SET held = a.held - h.amount FROM h WHERE a.id = h.account_id"
        " RETURNING a.id, a.held)"
        " SELECT u.id, h.amount, u.held FROM h, u"
    )


@cache
def _hold_lock_account_sql() -> str:
    account, hold = sql.table(Account), sql.table(AccountHold)
    return (
        f"SELECT a.id FROM {account} a JOIN {hold} k ON k.account_id = a.id"  # noqa: S608
        f" WHERE k.key = %s{sql.for_update()}"
    )


@cache
def _hold_close_sql() -> str:
    return (
        f"UPDATE {sql.table(AccountHold)} SET released_at = %s"  # noqa: S608
        " WHERE key = %s AND released_at IS NULL"
    )


@cache
def _held_sub_sql() -> str:
    return f"UPDATE {sql.table(Account)} SET held = held - %s WHERE id = %s"  # noqa: S608


def hold_release(*, key: str, at: object) -> tuple[int, int, int] | None:
    """Close the open hold `key` (exactly once: a second release finds it closed): (account id, amount released,
    the account's new `held`), or None when there is no open hold of that key."""
    when = sql.when(at)
    if sql.one_statement_writes():
        row = sql.one(_hold_release_pg_sql(), [key, when, key])
        return (int(row[0]), int(row[1]), int(row[2])) if row else None
    if not sql.rows(_hold_lock_account_sql(), [key]):
        return None
    hold = hold_by_key(key)
    if hold is None or hold.released_at is not None or not sql.execute(_hold_close_sql(), [when, key]):
        return None
    sql.execute(_held_sub_sql(), [hold.amount, hold.account_id])
    held = sql.one(_held_of_sql(), [hold.account_id])
    assert held is not None
    return hold.account_id, hold.amount, int(held[0])


def lock_hold_account(key: str) -> int | None:
    """Lock the account of the hold `key` (every change of a hold takes its account's lock first); its id."""
    found = sql.rows(_hold_lock_account_sql(), [key])
    return int(found[0][0]) if found else None


@cache
def _hold_reduce_sql() -> str:
    return (
        f"UPDATE {sql.table(AccountHold)} SET amount = amount - %s"  # noqa: S608
        " WHERE key = %s AND released_at IS NULL AND amount >= %s"
    )


def hold_reduce(*, key: str, by: int) -> tuple[int, int] | None:
    """Under the account's lock (`lock_hold_account`): take up to `by` off the open hold `key` and off its
    account's `held`: (account id, amount taken), or None when there is no open hold of that key."""
    hold = hold_by_key(key)  # read after the account lock: current
    if hold is None or hold.released_at is not None:
        return None
    take = min(by, hold.amount)
    if take:
        sql.execute(_hold_reduce_sql(), [take, key, take])
        sql.execute(_held_sub_sql(), [take, hold.account_id])
    return hold.account_id, take
