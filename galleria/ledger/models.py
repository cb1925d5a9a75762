"""Double-entry ledger: accounts, transactions and their legs (entries). Append-only.

Every movement of points or money is a `Transaction` whose `Entry` legs sum to zero per asset. Member accounts
carry a cached `balance` (CHECK >= 0) updated in the same transaction as the legs; system accounts (liabilities,
income, float) carry no cached balance — theirs is derived by aggregation, so no mall-side row is locked or
updated per sale. A correction is a new transaction (a reversal links to what it reverses), never an edit.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Merchant


class Asset(models.TextChoices):
    POINTS = "points", _("Points")
    CNY = "cny", _("CNY (fen)")


class AccountKind(models.TextChoices):
    # member-owned: cached balance, never negative
    MEMBER_POINTS = "member_points", _("Member points")
    MEMBER_WALLET = "member_wallet", _("Member wallet")
    MEMBER_WALLET_BONUS = "member_wallet_bonus", _("Member wallet bonus")
    # system (mall group / merchant): balance by aggregation only
    POINTS_ISSUED = "points_issued", _("Points issued (funded liability)")
    POINTS_REDEEMED = "points_redeemed", _("Points redeemed as payment")
    POINTS_EXPIRED = "points_expired", _("Expired points (breakage)")
    POINTS_ADJUSTED = "points_adjusted", _("Customer-service adjustments")
    POINTS_SHORTFALL = "points_shortfall", _("Points owed back by members (refund shortfall)")
    WALLET_FLOAT = "wallet_float", _("Wallet float (cash received)")
    WALLET_BONUS_FUND = "wallet_bonus_fund", _("Wallet bonus funding")
    WALLET_SPENT = "wallet_spent", _("Wallet spent at merchants")
    WALLET_CASH_PAYOUT = "wallet_cash_payout", _("Wallet money paid out in cash (service desk)")
    # settlement with merchants (docs/settlement.md), CNY. A merchant's account: positive = the mall owes the
    # merchant (as WALLET_SPENT); its group-level counterpart takes the other side of every leg.
    MERCHANT_COLLECTED = "merchant_collected", _("Money collected for the merchant (pay at store)")
    GATEWAY_CLEARING = "gateway_clearing", _("Gateway clearing (money the mall collected)")
    POINTS_VALUE_REDEEMED = "points_value_redeemed", _("Value of points redeemed at the merchant")
    POINTS_VALUE_FUND = "points_value_fund", _("Points liability paid in money")
    COUPON_MALL_FUNDED = "coupon_mall_funded", _("Mall-funded discounts at the merchant")
    COUPON_FUND = "coupon_fund", _("Coupon and promotion budget (mall)")
    MERCHANT_POINTS_COST = "merchant_points_cost", _("Merchant-funded points (value)")
    POINTS_COST_RECEIVABLE = "points_cost_receivable", _("Points funding receivable from merchants")
    COUPON_MERCHANT_FUNDED = "coupon_merchant_funded", _("Merchant-funded discounts (memorandum)")
    COUPON_MERCHANT_MEMO = "coupon_merchant_memo", _("Merchant-funded discounts given (memorandum)")
    COMMISSION = "commission", _("Commission charged to the merchant")
    COMMISSION_INCOME = "commission_income", _("Commission income")
    MERCHANT_PAYOUT = "merchant_payout", _("Settlement payments")
    SETTLEMENT_BANK = "settlement_bank", _("Settlement bank account")
    # parking hours a merchant granted to its customers (docs/parking.md, "Merchant grants"): the merchant owes the
    # mall the fee its grant covered (its leg negative, like MERCHANT_POINTS_COST), the mall's car park earns it
    PARKING_GRANT_COST = "parking_grant_cost", _("Parking granted to customers (merchant's cost)")
    PARKING_GRANT_INCOME = "parking_grant_income", _("Parking fees billed to merchants (car park income)")


MEMBER_KINDS = (AccountKind.MEMBER_POINTS, AccountKind.MEMBER_WALLET, AccountKind.MEMBER_WALLET_BONUS)


class Account(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=24, choices=AccountKind.choices)
    asset = models.CharField(_("asset"), max_length=8, choices=Asset.choices)
    # no index of its own: the partial unique (member, kind) serves every lookup by member
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts", db_index=False
    )
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    balance = models.BigIntegerField(_("balance"), null=True, blank=True)
    # what open holds reserve (docs/design/online-mall.md §3.4): a hold moves nothing, available = balance − held.
    # Not bounded by the balance: an expiry or a staff deduction may take the balance below it (the held spend is
    # then refused); `ledger check` re-derives it as the sum of the account's open holds
    held = models.BigIntegerField(_("held"), default=0, db_default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # set when the member was merged into another: the balance moved to the survivor and postings here are refused
    # (a sale that raced the merge is redirected to the survivor instead); cleared by an un-merge
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "kind"], condition=Q(member__isnull=False), name="account_one_per_member_kind"
            ),
            models.UniqueConstraint(
                fields=["mall_group", "kind", "merchant"],
                condition=Q(member__isnull=True, merchant__isnull=False),
                name="account_one_per_merchant_kind",
            ),
            models.UniqueConstraint(
                fields=["mall_group", "kind"],
                condition=Q(member__isnull=True, merchant__isnull=True),
                name="account_one_per_group_kind",
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=False, balance__isnull=False, balance__gte=0)
                | Q(member__isnull=True, balance__isnull=True),
                name="account_member_balance_non_negative",
            ),
            models.CheckConstraint(condition=Q(held__gte=0), name="account_held_non_negative"),
        ]
        indexes = [
            # the console member list sorted or filtered by points (members by balance, a page at a time):
            # `ledger.selectors.members_by_points` walks it; member id breaks ties in the same direction
            models.Index(
                fields=["kind", "balance", "member"],
                condition=Q(member__isnull=False),
                name="account_member_balance_idx",
            ),
        ]

    def __str__(self) -> str:
        owner = (
            f"member#{self.member_id}"
            if self.member_id
            else f"merchant#{self.merchant_id}"
            if self.merchant_id
            else "group"
        )
        return f"{self.kind}:{owner}"


class AccountHold(models.Model):
    """An amount of an account reserved under a key (`chk:<checkout number>`: points a pending online checkout will
    spend; `earn:<order id>`: points earned by an order still inside its return window). Moves nothing: the account's
    `held` is the sum of its open holds (released_at empty), kept in the same statement as the hold row changes.
    `amount` is what is held now (a hold may be reduced, e.g. by a return's claw-back)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds", db_index=False)
    key = models.CharField(max_length=80, unique=True)
    amount = models.BigIntegerField()
    reason = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("ledger hold")
        verbose_name_plural = _("ledger holds")
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="account_hold_amount_non_negative")]
        indexes = [
            models.Index(fields=["account"], condition=Q(released_at__isnull=True), name="account_hold_open_idx"),
        ]

    def __str__(self) -> str:
        return self.key


class TransactionKind(models.TextChoices):
    EARN = "earn", _("Points earned")
    SPEND = "spend", _("Points spent")
    REFUND = "refund", _("Refund")
    EXPIRE = "expire", _("Points expired")
    ADJUST = "adjust", _("Adjustment")
    BEHAVIOUR = "behaviour", _("Behaviour points")
    TOPUP = "topup", _("Wallet top-up")
    WALLET_PAY = "wallet_pay", _("Wallet payment")
    REVERSAL = "reversal", _("Reversal")
    IMPORT = "import", _("Opening balance import")
    MERGE = "merge", _("Member merge")
    SETTLEMENT = "settlement", _("Settlement legs of a sale or refund")
    COMMISSION = "commission", _("Commission")
    PAYOUT = "payout", _("Settlement payment")
    PARKING_GRANT = "parking_grant", _("Parking granted by a merchant")


class Transaction(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=TransactionKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=60, blank=True)  # e.g. "sale:123"; equality lookups only
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        # a refund finds the sale's transactions by their exact source: a plain b-tree (no LIKE pattern index)
        indexes = [models.Index(fields=["source"], name="ledger_tx_source_idx")]


class Entry(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", db_index=False
    )  # (account, occurred_at)
    asset = models.CharField(max_length=8, choices=Asset.choices)
    amount = models.BigIntegerField()
    occurred_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_non_zero")]
        indexes = [models.Index(fields=["account", "occurred_at"])]
