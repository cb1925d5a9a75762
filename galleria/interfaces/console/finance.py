"""Liabilities for the finance screen: what a mall group owes in points and in prepaid wallet money, the points also
valued in money at the points policy's payment rate (100 points = ¥1 by default).

Every figure comes from ledger aggregation — one grouped query over the system accounts' legs, one aggregate over
the member points accounts and the wallet's own liability read — never a loop over members. Signs are turned into
what a reader expects: points issued, redeemed and expired are positive numbers, and the "bridge" adds up to the
points members hold. System legs are signed from the member's side (issuing points credits the member and debits
POINTS_ISSUED), so a system balance is negated where the reader expects a positive figure.
"""

from __future__ import annotations

from dataclasses import dataclass

from galleria.core.money import allocate, ratio_round
from galleria.ledger.models import AccountKind
from galleria.ledger.selectors import member_balance_total, system_balances
from galleria.merchants.models import Merchant
from galleria.merchants.selectors import merchant_options
from galleria.points.selectors import policy_get
from galleria.wallet.selectors import prepaid_liability
from galleria.wallet.types import PrepaidLiability

KINDS = (
    AccountKind.POINTS_ISSUED,
    AccountKind.POINTS_REDEEMED,
    AccountKind.POINTS_EXPIRED,
    AccountKind.POINTS_ADJUSTED,
    AccountKind.POINTS_SHORTFALL,
    AccountKind.WALLET_SPENT,
)
CHART_TOP = 10


@dataclass(frozen=True)
class FunderRow:
    """Points issued by one funder (the mall group, or a merchant that funds its own points), net of claw-backs."""

    merchant: Merchant | None  # None: the mall group
    issued: int
    outstanding: int  # the points members hold, shared out pro rata to points issued (largest remainder)
    share_bp: int  # share of all points issued, in basis points


@dataclass(frozen=True)
class MerchantRow:
    """One merchant's settlement figures; `merchant` None collects movements booked without a merchant."""

    merchant: Merchant | None
    points_funded: int  # points the merchant funded (issued on its account, net of claw-backs)
    points_redeemed: int  # points members paid with at this merchant (net of refunds): the mall owes it for them
    wallet_spent_fen: int  # wallet money members paid at this merchant (net of refunds)


@dataclass(frozen=True)
class PointsLiability:
    issued: int  # net points issued by every funder (earn, behaviour), after claw-backs on refunds
    adjusted: int  # net points credited by customer-service adjustments (negative: more debited)
    redeemed: int  # points used as payment at merchants (net of refunds)
    expired: int  # breakage
    shortfall: int  # points clawed back on refunds that members no longer had (owed back by members)
    outstanding: int  # the sum of member points balances
    holders: int  # member accounts holding points

    @property
    def derived(self) -> int:
        """The same liability seen from the system accounts: issued + adjusted − redeemed − expired + shortfall."""
        return self.issued + self.adjusted - self.redeemed - self.expired + self.shortfall

    @property
    def is_consistent(self) -> bool:
        return self.outstanding == self.derived


def points_value_fen(points: int, *, points_per_yuan: int) -> int:
    """What `points` are worth in fen at the group's rate for points used as payment (points policy: N points =
    ¥1), rounded half up to the fen: the money the group would pay out if members spent them all."""
    return ratio_round(points, 100, points_per_yuan)


@dataclass(frozen=True)
class Liabilities:
    points: PointsLiability
    funders: list[FunderRow]
    merchants: list[MerchantRow]
    wallet: PrepaidLiability
    points_per_yuan: int  # the points policy's payment rate: how points are valued in money

    def value_fen(self, points: int) -> int:
        return points_value_fen(points, points_per_yuan=self.points_per_yuan)

    @property
    def total_fen(self) -> int:
        """Everything owed in money: the outstanding points at their value plus the prepaid wallet."""
        return self.value_fen(self.points.outstanding) + self.wallet.total_fen

    @property
    def merchant_totals(self) -> MerchantRow:
        return MerchantRow(
            merchant=None,
            points_funded=sum(r.points_funded for r in self.merchants),
            points_redeemed=sum(r.points_redeemed for r in self.merchants),
            wallet_spent_fen=sum(r.wallet_spent_fen for r in self.merchants),
        )

    def chart(self) -> dict[str, list[object]]:
        """The top merchants by points redeemed, for a horizontal bar chart."""
        top = sorted((r for r in self.merchants if r.points_redeemed > 0), key=lambda r: -r.points_redeemed)
        top = top[:CHART_TOP]
        return {
            "labels": [r.merchant.name if r.merchant else "—" for r in top],
            "values": [r.points_redeemed for r in top],
        }


def liabilities(*, mall_group_id: int) -> Liabilities:
    """The group's points and wallet liabilities (four queries whatever the number of members or merchants)."""
    sums = system_balances(mall_group_id=mall_group_id, kinds=KINDS)
    outstanding, holders = member_balance_total(mall_group_id=mall_group_id, kind=AccountKind.MEMBER_POINTS)

    def total(kind: str) -> int:
        return sum(v for (k, _m), v in sums.items() if k == kind)

    points = PointsLiability(
        issued=-total(AccountKind.POINTS_ISSUED),
        adjusted=-total(AccountKind.POINTS_ADJUSTED),
        redeemed=total(AccountKind.POINTS_REDEEMED),
        expired=total(AccountKind.POINTS_EXPIRED),
        shortfall=-total(AccountKind.POINTS_SHORTFALL),
        outstanding=outstanding,
        holders=holders,
    )
    merchant_ids = {m for (_k, m) in sums if m is not None}
    names = {m.pk: m for m in merchant_options(mall_group_id=mall_group_id).filter(pk__in=merchant_ids)}

    def owner(merchant_id: int | None) -> Merchant | None:
        return names.get(merchant_id) if merchant_id is not None else None

    issued_by = {m: -v for (k, m), v in sums.items() if k == AccountKind.POINTS_ISSUED and v}
    funder_ids = sorted(issued_by, key=lambda m: (m is not None, -issued_by[m], m or 0))
    weights = [max(issued_by[m], 0) for m in funder_ids]
    shares = allocate(max(outstanding, 0), weights) if funder_ids else []
    issued_sum = sum(weights)
    funders = [
        FunderRow(
            merchant=owner(m),
            issued=issued_by[m],
            outstanding=part,
            share_bp=(w * 10000 // issued_sum) if issued_sum else 0,
        )
        for m, w, part in zip(funder_ids, weights, shares, strict=True)
    ]

    per_merchant: dict[int | None, dict[str, int]] = {}
    for (kind, merchant_id), value in sums.items():
        if kind == AccountKind.POINTS_ISSUED and merchant_id is None:
            continue  # the mall's own funding is not a merchant's
        if kind in (AccountKind.POINTS_ISSUED, AccountKind.POINTS_REDEEMED, AccountKind.WALLET_SPENT):
            per_merchant.setdefault(merchant_id, {})[kind] = value
    rows = [
        MerchantRow(
            merchant=owner(m),
            points_funded=-v.get(AccountKind.POINTS_ISSUED, 0),
            points_redeemed=v.get(AccountKind.POINTS_REDEEMED, 0),
            wallet_spent_fen=v.get(AccountKind.WALLET_SPENT, 0),
        )
        for m, v in per_merchant.items()
        if any(v.values())
    ]
    rows.sort(
        key=lambda r: (
            r.merchant is None,
            -r.points_redeemed,
            -r.wallet_spent_fen,
            -r.points_funded,
            r.merchant.name if r.merchant else "",
        )
    )
    return Liabilities(
        points=points,
        funders=funders,
        merchants=rows,
        wallet=prepaid_liability(mall_group_id=mall_group_id),
        points_per_yuan=policy_get(mall_group_id=mall_group_id).redeem_points_per_yuan,
    )
