"""Wallet reads. Balances come from the member's ledger accounts; the liability is aggregated from ledger legs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db.models import Q, QuerySet, Sum

from galleria.core import timeutil
from galleria.ledger.models import Account, AccountKind, Entry, Transaction

from . import rules
from .gateway import refund_gateway_get
from .models import BalanceRefund, BalanceRefundStatus, TopUp, TopUpBonusRule, TopUpRefund, TopUpStatus, WalletPayment
from .types import (
    CASH_GATEWAY,
    BalanceRefundPlan,
    BonusChoice,
    BonusTier,
    HistoryItem,
    PrepaidLiability,
    TopUpSnapshot,
    WalletBalance,
)

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
        AccountKind.WALLET_CASH_PAYOUT,
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
        float_fen=sums.get(AccountKind.WALLET_FLOAT, 0) + sums.get(AccountKind.WALLET_CASH_PAYOUT, 0),
        bonus_fund_fen=sums.get(AccountKind.WALLET_BONUS_FUND, 0),
        spent_fen=sums.get(AccountKind.WALLET_SPENT, 0),
        cash_paid_out_fen=sums.get(AccountKind.WALLET_CASH_PAYOUT, 0),
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


def topup_by_reference(*, reference: str) -> TopUp | None:
    return TopUp.objects.filter(reference=reference).first()


def topup_list(*, member_id: int) -> QuerySet[TopUp]:
    return TopUp.objects.filter(member_id=member_id).order_by("-created_at", "-id")


def topups_pending_exist(*, member_ids: list[int]) -> bool:
    """Whether any of these members has a top-up still waiting for its payment (a merge must wait for it)."""
    return TopUp.objects.filter(member_id__in=member_ids, status=TopUpStatus.PENDING).exists()


def topup_keys_clash(*, member_id: int, other_member_id: int) -> bool:
    """Whether `other_member_id` used an idempotency key for a top-up that `member_id` also used (moving the
    other's top-ups to this member would break the per-member uniqueness)."""
    keys = TopUp.objects.filter(member_id=other_member_id).exclude(idempotency_key="").values_list("idempotency_key")
    return TopUp.objects.filter(member_id=member_id, idempotency_key__in=keys).exists()


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


# ---------------------------------------------------------------- wallet balance refunds at the service desk

REFUNDABLE_STATUSES = (TopUpStatus.PAID, TopUpStatus.PARTIALLY_REFUNDED)


def refundable_topups(*, member_id: int) -> QuerySet[TopUp]:
    """The member's paid top-ups with money left to refund, newest first (the order a balance refund takes them)."""
    return TopUp.objects.filter(member_id=member_id, status__in=REFUNDABLE_STATUSES).order_by("-paid_at", "-id")


def topup_snapshots(topups: list[TopUp]) -> list[TopUpSnapshot]:
    """Top-ups as rules.plan_balance_refund sees them, newest first (paid_at, then id)."""
    ordered = sorted(topups, key=lambda t: (t.paid_at or t.created_at, t.pk), reverse=True)
    return [
        TopUpSnapshot(
            id=t.pk,
            reference=t.reference,
            gateway=t.gateway,
            paid_at=t.paid_at,
            amount_fen=t.amount_fen,
            bonus_fen=t.bonus_fen,
            refunded_fen=t.refunded_fen,
            bonus_settled_fen=t.bonus_clawed_back_fen + t.bonus_shortfall_fen,
            gateway_refunds=refund_gateway_get(t.gateway) is not None and bool(t.gateway_ref),
        )
        for t in ordered
        if t.refunded_fen < t.amount_fen
    ]


def balance_refund_plan(*, member_id: int, amount_fen: int | None, cash_only: bool = False) -> BalanceRefundPlan:
    """What refunding `amount_fen` (None: all the member's own money) would do now: a preview, read without locks.
    The service builds the same plan from the locked rows. Raises the rule's errors for an amount it refuses."""
    balance = wallet_balance(member_id=member_id)
    return rules.plan_balance_refund(
        amount_fen=balance.principal_fen if amount_fen is None else amount_fen,
        principal_fen=balance.principal_fen,
        bonus_fen=balance.bonus_fen,
        topups=topup_snapshots(list(refundable_topups(member_id=member_id))),
        cash_only=cash_only,
    )


def refund_approval_threshold_fen() -> int:
    """Service-desk wallet refunds above this many fen wait for a second person (settings)."""
    return int(settings.GALLERIA_WALLET_REFUND_APPROVAL_FEN)


def balance_refund_list(*, mall_group_id: int | None, pending: bool) -> QuerySet[BalanceRefund]:
    """Pending refunds oldest first (the approval queue), or the decided ones newest first."""
    qs = BalanceRefund.objects.select_related("member", "requested_by", "decided_by")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if pending:
        return qs.filter(status=BalanceRefundStatus.PENDING).order_by("created_at", "id")
    return qs.exclude(status=BalanceRefundStatus.PENDING).order_by("-decided_at", "-id")


def balance_refund_get(*, refund_id: int, mall_group_id: int | None) -> BalanceRefund | None:
    qs = BalanceRefund.objects.select_related("member", "requested_by", "decided_by").filter(pk=refund_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.first()


def member_balance_refunds(*, member_id: int, limit: int = 20) -> list[BalanceRefund]:
    return list(
        BalanceRefund.objects.select_related("requested_by", "decided_by")
        .filter(member_id=member_id)
        .order_by("-created_at", "-id")[:limit]
    )


def balance_refund_parts(*, refund_id: int) -> list[TopUpRefund]:
    """The top-up refunds a balance refund was carried out as (with their gateway status)."""
    return list(TopUpRefund.objects.select_related("topup").filter(balance_refund_id=refund_id).order_by("id"))


def topup_refunds_unsent(*, limit: int = 500) -> list[int]:
    """Ids of gateway refunds the gateway has not accepted yet (oldest first), for `galleria wallet_refunds_send`."""
    return list(
        TopUpRefund.objects.filter(channel="gateway", sent_at__isnull=True)
        .exclude(refund_reference="")
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


# ---------------------------------------------------------------- cash top-ups at the service desk

DESK_TOPUP = Q(gateway=CASH_GATEWAY) & (Q(approval_required=True) | Q(decided_at__isnull=False))
"""Top-ups taken in cash at the service desk through services.cash (credited at once, or decided by a second
person). A cash top-up started by wallet_topup_start without a gateway (the demo, scripts) is not one of them."""

AWAITING_APPROVAL = Q(status=TopUpStatus.PENDING, approval_required=True, decided_at__isnull=True)


def cash_topup_approval_threshold_fen() -> int:
    """Cash top-ups at the service desk above this many fen wait for a second person (settings)."""
    return int(settings.GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN)


def topup_bonus_for(*, mall_group_id: int, tz_name: str, amount_fen: int, at: dt.datetime | None = None) -> BonusChoice:
    """The bonus a top-up of `amount_fen` earns now (the mall-local day of `at`): what the top-up services fix when
    the top-up starts, and what a preview shows."""
    day = timeutil.local_date(at or timeutil.now(), tz_name)
    return rules.bonus_for(amount_fen, bonus_tiers(mall_group_id=mall_group_id), on=day)


def cash_topup_list(*, mall_group_id: int | None, pending: bool) -> QuerySet[TopUp]:
    """Desk top-ups awaiting approval oldest first (the approval queue), or the decided ones (credited at once,
    approved, rejected) newest first."""
    qs = TopUp.objects.select_related("member", "mall", "requested_by", "decided_by").filter(DESK_TOPUP)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if pending:
        return qs.filter(AWAITING_APPROVAL).order_by("created_at", "id")
    return qs.filter(decided_at__isnull=False).order_by("-decided_at", "-id")


def cash_topup_get(*, topup_id: int, mall_group_id: int | None) -> TopUp | None:
    qs = TopUp.objects.select_related("member", "mall", "requested_by", "decided_by").filter(DESK_TOPUP, pk=topup_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    return qs.first()


def member_cash_topups(*, member_id: int, limit: int = 20) -> list[TopUp]:
    """The member's desk top-ups, newest first (the cash top-up page's history)."""
    return list(
        TopUp.objects.select_related("mall", "requested_by", "decided_by")
        .filter(DESK_TOPUP, member_id=member_id)
        .order_by("-created_at", "-id")[:limit]
    )
