"""Wallet: top-up bonus offers, the history in words, unpaid top-ups, the member's own top-up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from galleria.core import timeutil
from galleria.core.money import format_cny
from galleria.ledger.models import TransactionKind
from galleria.malls.models import Mall
from galleria.members.models import Member
from galleria.wallet import rules as wallet_rules
from galleria.wallet import selectors as wallet_selectors
from galleria.wallet.models import TopUp, TopUpStatus

from .common import PAGE_SIZE, local_naive, refund_merchants, sale_merchants, signed_cny, source_id, yuan_short


@dataclass(frozen=True)
class BonusOffer:
    min_amount_fen: int
    bonus_fen: int
    label: str

    @property
    def amount_short(self) -> str:
        return yuan_short(self.min_amount_fen)

    @property
    def bonus_short(self) -> str:
        return yuan_short(self.bonus_fen)

    @property
    def min_amount_yuan(self) -> str:
        """For the amount field: "1000", "99.5"."""
        return format((Decimal(self.min_amount_fen) / 100).normalize(), "f")


@dataclass(frozen=True)
class WalletRow:
    transaction_id: int
    occurred_at: dt.datetime
    local_at: dt.datetime
    kind: str
    title: str
    detail: str
    principal_fen: int
    bonus_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.bonus_fen

    @property
    def signed_text(self) -> str:
        return signed_cny(self.total_fen)


@dataclass(frozen=True)
class PendingTopUp:
    id: int
    amount_fen: int
    bonus_fen: int
    created_at: dt.datetime
    local_at: dt.datetime

    @property
    def amount_text(self) -> str:
        return format_cny(self.amount_fen)


def bonus_offers(*, mall: Mall) -> list[BonusOffer]:
    """The group's top-up bonuses open today (mall-local), smallest first: "充 ¥1,000 送 ¥50"."""
    today = timeutil.local_date(timeutil.now(), mall.timezone)
    tiers = [
        t for t in wallet_selectors.bonus_tiers(mall_group_id=mall.group_id) if wallet_rules.is_tier_open(t, today)
    ]
    tiers.sort(key=lambda t: (t.min_amount_fen, t.bonus_fen))
    return [
        BonusOffer(
            min_amount_fen=t.min_amount_fen,
            bonus_fen=t.bonus_fen,
            label=_("Top up %(amount)s, get %(bonus)s free")
            % {"amount": yuan_short(t.min_amount_fen), "bonus": yuan_short(t.bonus_fen)},
        )
        for t in tiers
    ]


def wallet_rows(
    *, member: Member, tz_name: str, page: int = 1, page_size: int = PAGE_SIZE
) -> tuple[list[WalletRow], bool]:
    """One page of the member's wallet history (newest first) and whether there is a next page."""
    page = max(1, page)
    items = wallet_selectors.wallet_history(member_id=member.pk, limit=page_size + 1, offset=(page - 1) * page_size)
    has_next = len(items) > page_size
    items = items[:page_size]
    sale_ids = {i for item in items if (i := source_id(item.source, "sale")) is not None}
    refund_ids = {i for item in items if (i := source_id(item.source, "refund")) is not None}
    by_sale = sale_merchants(member=member, sale_ids=sale_ids)
    by_refund = refund_merchants(member=member, refund_ids=refund_ids)
    rows = []
    for item in items:
        detail = ""
        sale_id = source_id(item.source, "sale")
        refund_id = source_id(item.source, "refund")
        merchant = (
            by_sale.get(sale_id, "")
            if sale_id is not None
            else by_refund.get(refund_id, "")
            if refund_id is not None
            else ""
        )
        if item.kind == TransactionKind.TOPUP:
            title = _("Top-up")
            if item.bonus_fen:
                detail = _("Including %(bonus)s bonus") % {"bonus": format_cny(item.bonus_fen)}
        elif item.kind == TransactionKind.WALLET_PAY:
            title = _("Paid at %(merchant)s") % {"merchant": merchant} if merchant else _("Wallet payment")
        elif item.kind == TransactionKind.REFUND and source_id(item.source, "topup") is not None:
            title = _("Top-up refunded")
            if item.bonus_fen:
                detail = _("Bonus taken back: %(bonus)s") % {"bonus": format_cny(-item.bonus_fen)}
        elif item.kind == TransactionKind.REFUND:
            title = _("Refund from %(merchant)s") % {"merchant": merchant} if merchant else _("Refund")
        else:
            title = _("Correction")
        if not detail and item.principal_fen and item.bonus_fen:
            detail = _("Your money %(principal)s · bonus %(bonus)s") % {
                "principal": format_cny(item.principal_fen),
                "bonus": format_cny(item.bonus_fen),
            }
        rows.append(
            WalletRow(
                transaction_id=item.transaction_id,
                occurred_at=item.occurred_at,
                local_at=local_naive(item.occurred_at, tz_name),
                kind=item.kind,
                title=title,
                detail=detail,
                principal_fen=item.principal_fen,
                bonus_fen=item.bonus_fen,
            )
        )
    return rows, has_next


def pending_topups(*, member: Member, tz_name: str, limit: int = 3) -> list[PendingTopUp]:
    """Top-ups the member started at a gateway and has not paid yet (newest first), to continue to the payment step
    (a cash top-up waiting for the service desk's approval is the desk's, not the member's, to finish)."""
    rows = (
        wallet_selectors.topup_list(member_id=member.pk)
        .filter(status=TopUpStatus.PENDING)
        .exclude(gateway="cash")[:limit]
    )
    return [
        PendingTopUp(
            id=t.pk,
            amount_fen=t.amount_fen,
            bonus_fen=t.bonus_fen,
            created_at=t.created_at,
            local_at=local_naive(t.created_at, tz_name),
        )
        for t in rows
    ]


def member_topup(*, member: Member, topup_id: int) -> TopUp | None:
    """The member's own top-up (None for anyone else's: the app never says whose it is)."""
    topup = wallet_selectors.topup_get(topup_id=topup_id)
    return topup if topup is not None and topup.member_id == member.pk else None
