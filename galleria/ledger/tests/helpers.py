"""Ledger test helpers: books written through the services, and a DBA's raw SQL session that bypasses them."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core import sql
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind, Asset, Entry, Transaction
from galleria.ledger.types import Leg
from galleria.members.services import member_register

_phones = itertools.count(10000000)


@dataclass(frozen=True)
class Books:
    """A member with 500 points and ¥20.00 in the wallet, posted through `ledger.post`."""

    group_id: int
    member_id: int
    points_account: int  # member
    wallet_account: int  # member
    issued_account: int  # system (points)
    float_account: int  # system (CNY)
    earn_tx: int
    topup_tx: int


def books(group, mall) -> Books:
    member = member_register(mall=mall, phone=f"136{next(_phones):08d}", channel="desk", actor=Actor.system())
    with transaction.atomic():
        accounts = ledger.lock_member_accounts(
            mall_group_id=group.pk,
            member_id=member.pk,
            kinds=[AccountKind.MEMBER_POINTS, AccountKind.MEMBER_WALLET],
        )
        points, wallet = accounts[AccountKind.MEMBER_POINTS], accounts[AccountKind.MEMBER_WALLET]
        issued = ledger.system_account_id(mall_group_id=group.pk, kind=AccountKind.POINTS_ISSUED)
        float_ = ledger.system_account_id(mall_group_id=group.pk, kind=AccountKind.WALLET_FLOAT)
        locked = {points.pk: points, wallet.pk: wallet}
        earn = ledger.post(
            mall_group_id=group.pk,
            kind="earn",
            legs=[Leg(points.pk, Asset.POINTS, 500), Leg(issued, Asset.POINTS, -500)],
            member_accounts=locked,
            source="test:earn",
        )
        topup = ledger.post(
            mall_group_id=group.pk,
            kind="topup",
            legs=[Leg(wallet.pk, Asset.CNY, 2000), Leg(float_, Asset.CNY, -2000)],
            member_accounts=locked,
            source="test:topup",
        )
    return Books(group.pk, member.pk, points.pk, wallet.pk, issued, float_, earn.pk, topup.pk)


BALANCED_TRIGGER = ("ledger_entry", "ledger_entry_balanced")


@contextlib.contextmanager
def dba(*disabled: tuple[str, str]) -> Iterator[DbaSession]:
    """What a DBA can do in psql: raw SQL in one transaction of its own, past every service check, with the named
    PostgreSQL triggers switched off for its duration (ALTER TABLE … DISABLE TRIGGER needs only the table's
    owner, and it is undone before the transaction commits). On SQLite there are no triggers to switch off."""
    pg = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if pg and disabled:
            # an ALTER needs the table free of pending (deferred) trigger events: run the checks of what this
            # transaction wrote before (a test's own transaction) now, and the corruption's foreign keys after it
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, trigger in disabled:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        yield DbaSession(cursor)
        if pg and disabled:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, trigger in disabled:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


class DbaSession:
    def __init__(self, cursor) -> None:
        self.cursor = cursor

    def insert_transaction(self, *, group_id: int, memo: str = "dba", kind: str = "adjust") -> int:
        now = sql.when(timezone.now())
        self.cursor.execute(
            f"INSERT INTO {sql.table(Transaction)} (mall_group_id, kind, occurred_at, created_at, memo, source,"
            f" explanation, reverses_id) VALUES (%s, %s, %s, %s, %s, '', {sql.json_placeholder()}, NULL)"
            " RETURNING id",
            [group_id, kind, now, now, memo, "{}"],
        )
        return int(self.cursor.fetchone()[0])

    def insert_leg(self, *, tx_id: int, account_id: int, asset: str, amount: int) -> None:
        self.insert_legs(tx_id=tx_id, legs=[(account_id, asset, amount)])

    def insert_legs(self, *, tx_id: int, legs: list[tuple[int, str, int]]) -> None:
        """Legs (account id, asset, amount) in one statement."""
        at = sql.when(timezone.now() - dt.timedelta(seconds=1))
        self.cursor.execute(
            f"INSERT INTO {sql.table(Entry)} (transaction_id, account_id, asset, amount, occurred_at)"
            f" VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(legs))}",
            [v for account_id, asset, amount in legs for v in (tx_id, account_id, asset, amount, at)],
        )

    def set_balance(self, *, account_id: int, balance: int) -> None:
        self.cursor.execute(f"UPDATE {sql.table(Account)} SET balance = %s WHERE id = %s", [balance, account_id])


def trigger_enabled(table: str, trigger: str) -> bool:
    """PostgreSQL: the trigger exists and fires in ordinary sessions."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass", [trigger, table]
        )
        row = cursor.fetchone()
    return row is not None and row[0] == "O"
