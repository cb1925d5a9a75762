"""Wallet reads. Balances come from the member's ledger accounts; the liability is aggregated from ledger legs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import QuerySet, Sum

from galleria.ledger.models import Account, AccountKind, Entry, Transaction

from .models import TopUp, TopUpBonusRule, WalletPayment
from .types import BonusTier, HistoryItem, PrepaidLiability, WalletBalance

WALLET_KINDS: tuple[str, str] = (AccountKind.MEMBER_WALLET, AccountKind.MEMBER_WALLET_BONUS)
"""The member account kinds a wallet movement locks (pass them to ledger.services.lock_member_accounts together
with any other kinds the use case needs, in ONE call, so every use case locks in primary-key order)."""

HISTORY_MAX = 200


def wallet_balance(*, member_id: int) -> WalletBalance:
    """(principal_fen, bonus_fen) from the member's cached account balances (0 when the account does not exist)."""
    rows = dict(Account.objects.filter(member_id=member_id, kind__in=WALLET_KINDS).values_list("kind", "balance"))
    return WalletBalance(
        principal_fen=int(rows.get(AccountKind.MEMBER_WALLET) or 0),
        bonus_fen=int(rows.get(AccountKind.MEMBER_WALLET_BONUS) or 0),
    )


def wallet_history(*, member_id: int, limit: int = 50, offset: int = 0) -> list[HistoryItem]:
    """The member's wallet movements, newest first, one item per ledger transaction (principal and bonus deltas)."""
    limit = max(1, min(limit, HISTORY_MAX))
    offset = max(0, offset)
    account_kinds = dict(Account.objects.filter(member_id=member_id, kind__in=WALLET_KINDS).values_list("pk", "kind"))
    if not account_kinds:
        return []
    tx_ids = list(
        Transaction.objects.filter(entries__account_id__in=list(account_kinds))
        .order_by("-occurred_at", "-id")
        .values_list("id", flat=True)
        .distinct()[offset : offset + limit]
    )
    if not tx_ids:
        return []
    deltas: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for tx_id, account_id, amount in Entry.objects.filter(
        transaction_id__in=tx_ids, account_id__in=list(account_kinds)
    ).values_list("transaction_id", "account_id", "amount"):
        deltas[tx_id][account_kinds[account_id]] += amount
    txs = Transaction.objects.filter(pk__in=tx_ids).only("id", "occurred_at", "kind", "source", "memo")
    items = [
        HistoryItem(
            transaction_id=tx.pk,
            occurred_at=tx.occurred_at,
            kind=tx.kind,
            source=tx.source,
            memo=tx.memo,
            principal_fen=deltas[tx.pk][AccountKind.MEMBER_WALLET],
            bonus_fen=deltas[tx.pk][AccountKind.MEMBER_WALLET_BONUS],
        )
        for tx in txs
    ]
    items.sort(key=lambda i: (i.occurred_at, i.transaction_id), reverse=True)
    return items


def prepaid_liability(*, mall_group_id: int) -> PrepaidLiability:
    """What the group owes wallet holders, aggregated from ledger legs in one query (see PrepaidLiability)."""
    kinds = [
        AccountKind.MEMBER_WALLET,
        AccountKind.MEMBER_WALLET_BONUS,
        AccountKind.WALLET_FLOAT,
        AccountKind.WALLET_BONUS_FUND,
        AccountKind.WALLET_SPENT,
    ]
    sums = {
        row["account__kind"]: int(row["total"] or 0)
        for row in Entry.objects.filter(account__mall_group_id=mall_group_id, account__kind__in=kinds)
        .values("account__kind")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    return PrepaidLiability(
        principal_fen=sums.get(AccountKind.MEMBER_WALLET, 0),
        bonus_fen=sums.get(AccountKind.MEMBER_WALLET_BONUS, 0),
        float_fen=sums.get(AccountKind.WALLET_FLOAT, 0),
        bonus_fund_fen=sums.get(AccountKind.WALLET_BONUS_FUND, 0),
        spent_fen=sums.get(AccountKind.WALLET_SPENT, 0),
    )


def wallet_spent_at_merchant(*, mall_group_id: int, merchant_id: int | None) -> int:
    """Net wallet money spent at a merchant (payments minus refunds), from its WALLET_SPENT legs (settlement)."""
    qs = Entry.objects.filter(account__mall_group_id=mall_group_id, account__kind=AccountKind.WALLET_SPENT)
    qs = qs.filter(account__merchant_id=merchant_id) if merchant_id else qs.filter(account__merchant__isnull=True)
    return int(qs.aggregate(total=Sum("amount"))["total"] or 0)


def bonus_rule_list(*, mall_group_id: int) -> QuerySet[TopUpBonusRule]:
    return TopUpBonusRule.objects.filter(mall_group_id=mall_group_id).order_by("min_amount_fen", "id")


def bonus_tiers(*, mall_group_id: int) -> list[BonusTier]:
    """The group's active rules as pure tiers (the rule checks their date window)."""
    return [
        BonusTier(
            id=r.pk,
            min_amount_fen=r.min_amount_fen,
            bonus_fen=r.bonus_fen,
            starts_on=r.starts_on,
            ends_on=r.ends_on,
            is_active=r.is_active,
        )
        for r in TopUpBonusRule.objects.filter(mall_group_id=mall_group_id, is_active=True)
    ]


def topup_get(*, topup_id: int) -> TopUp | None:
    return TopUp.objects.filter(pk=topup_id).first()


def topup_list(*, member_id: int) -> QuerySet[TopUp]:
    return TopUp.objects.filter(member_id=member_id).order_by("-created_at", "-id")


def payment_get_by_source(*, mall_group_id: int, source: str) -> WalletPayment | None:
    """The wallet payment recorded for `source` (e.g. "sale:123"), to refund it."""
    if not source:
        return None
    return WalletPayment.objects.filter(mall_group_id=mall_group_id, source=source).first()


def payment_list(*, member_id: int, since: dt.datetime | None = None) -> QuerySet[WalletPayment]:
    qs = WalletPayment.objects.filter(member_id=member_id)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    return qs.order_by("-occurred_at", "-id")
