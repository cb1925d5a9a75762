"""Reads of 智慧商圈 (payment-linked points): the console's list of 商圈 transactions with its filters, a member's
own, the authorisation WeChat reported for an openid, the group's web-authorisation app, and what is due to be
reported back to WeChat. Enums are re-exported here for the web layer (payments.models is private)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from galleria.members.selectors import member_identifiers

from .models import (
    MallNoPoints,
    MallPointsAuth,
    MallRefund,
    MallRefundState,
    MallSyncState,
    MallTransaction,
    MallTxnState,
    WechatOAuthApp,
)

__all__ = [
    "MallFilters",
    "MallNoPoints",
    "MallRefundState",
    "MallSyncState",
    "MallTxnState",
    "mall_auth_get",
    "mall_sync_due_ids",
    "mall_txn_get",
    "mall_txn_list",
    "mall_txn_refunds",
    "mall_txn_summary",
    "member_mall_txns",
    "member_wechat_openid",
    "oauth_app_get",
]

OPENID_KIND = "wechat_openid"


@dataclass(frozen=True)
class MallFilters:
    state: str = ""  # MallTxnState
    reason: str = ""  # MallNoPoints
    sync_state: str = ""  # MallSyncState
    merchant_id: int | None = None
    query: str = ""  # WeChat transaction id, shop number or name
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def mall_txn_list(*, mall_group_id: int, filters: MallFilters = MallFilters()) -> QuerySet[MallTransaction]:
    qs = (
        MallTransaction.objects.select_related("merchant", "member")
        .filter(mall_group_id=mall_group_id)
        .order_by("-created_at", "-pk")
    )
    f = filters
    if f.state:
        qs = qs.filter(state=f.state)
    if f.reason:
        qs = qs.filter(reason=f.reason)
    if f.sync_state:
        qs = qs.filter(sync_state=f.sync_state)
    if f.merchant_id is not None:
        qs = qs.filter(merchant_id=f.merchant_id)
    if f.query:
        qs = qs.filter(
            Q(transaction_id__icontains=f.query) | Q(shop_number__icontains=f.query) | Q(shop_name__icontains=f.query)
        )
    if f.since is not None:
        qs = qs.filter(created_at__gte=f.since)
    if f.until is not None:
        qs = qs.filter(created_at__lt=f.until)
    return qs


def mall_txn_summary(*, mall_group_id: int, filters: MallFilters = MallFilters()) -> dict[str, int]:
    """Counts and sums of what the filters select (the console's figures above the list)."""
    row = mall_txn_list(mall_group_id=mall_group_id, filters=filters).aggregate(
        count=Count("pk"),
        amount=Sum("amount_fen"),
        points=Sum("points"),
        credited=Count("pk", filter=Q(state=MallTxnState.CREDITED)),
        unsynced=Count("pk", filter=Q(sync_state__in=(MallSyncState.PENDING, MallSyncState.REFUSED))),
    )
    return {key: int(value or 0) for key, value in row.items()}


def mall_txn_get(*, mall_group_id: int, txn_id: int) -> MallTransaction | None:
    return (
        MallTransaction.objects.select_related("merchant", "member")
        .filter(mall_group_id=mall_group_id, pk=txn_id)
        .first()
    )


def mall_txn_refunds(*, txn_id: int) -> list[MallRefund]:
    return list(MallRefund.objects.filter(mall_txn_id=txn_id).order_by("pk"))


def member_mall_txns(*, member_id: int, limit: int = 20) -> list[MallTransaction]:
    """The member's own 商圈 payments, newest first (the member app's page)."""
    return list(
        MallTransaction.objects.select_related("merchant")
        .filter(member_id=member_id)
        .exclude(state=MallTxnState.AWAITING)
        .order_by("-created_at", "-pk")[:limit]
    )


def member_wechat_openid(*, member_id: int) -> str:
    """The openid the member linked (web authorisation), or ""."""
    return next((i.value for i in member_identifiers(member_id=member_id) if i.kind == OPENID_KIND), "")


def mall_auth_get(*, mall_group_id: int, openid: str) -> MallPointsAuth | None:
    if not openid:
        return None
    return MallPointsAuth.objects.filter(mall_group_id=mall_group_id, openid=openid).first()


def oauth_app_get(*, mall_group_id: int) -> WechatOAuthApp | None:
    return WechatOAuthApp.objects.filter(mall_group_id=mall_group_id).first()


def mall_sync_due_ids(*, now: dt.datetime, limit: int = 200) -> list[int]:
    """商圈 transactions whose points report is due (pending, next attempt time reached), oldest first."""
    return list(
        MallTransaction.objects.filter(sync_state=MallSyncState.PENDING)
        .filter(Q(sync_next_at__isnull=True) | Q(sync_next_at__lte=now))
        .order_by("sync_next_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
