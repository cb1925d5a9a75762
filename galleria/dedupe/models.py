"""Duplicate members: pair decisions (dismissed / reported) and the record of every merge (what moved, for un-merge).

A `MergeRecord` holds the exact ids and amounts that moved from the absorbed member to the survivor, so un-merge
puts back exactly those rows, lots and balances (and nothing the survivor gained on its own).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from galleria.ledger.models import Transaction
from galleria.malls.models import MallGroup
from galleria.members.models import Member


class PairMarkKind(models.TextChoices):
    DISMISSED = "dismissed", _("Not the same person")
    REPORTED = "reported", _("Reported as a suspected duplicate")


class PairMark(models.Model):
    """A decision about a pair of members: dismissed (hidden from the report) or reported by an integrator/staff.

    The pair is stored ordered (`member_low` < `member_high`) so (a, b) and (b, a) are the same row."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member_low = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    member_high = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=PairMarkKind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("duplicate pair decision")
        verbose_name_plural = _("duplicate pair decisions")
        constraints = [
            models.UniqueConstraint(fields=["member_low", "member_high", "kind"], name="pair_mark_once"),
            models.CheckConstraint(condition=Q(member_low__lt=F("member_high")), name="pair_mark_ordered"),
        ]
        indexes = [models.Index(fields=["mall_group", "kind", "-created_at"])]


class MergeStatus(models.TextChoices):
    MERGED = "merged", _("Merged")
    UNDONE = "undone", _("Undone")


class MergeRecord(models.Model):
    """One merge of `absorbed` into `survivor` and exactly what moved (ids, lots, amounts, tier, display copies).

    `moved` = {"rows": {"app.Model": [ids]}, "lots": [[old_lot, new_lot, points]], "holdings_dropped": [template ids],
    "coupon_states": {coupon id: status}, "tier": {...}, "display": {...}}; `amounts` = the balances moved;
    `transaction_ids` = the MERGE ledger transactions (one per merge, plus one per later sweep of a late posting).
    """

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    survivor = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    absorbed = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=MergeStatus.choices, default=MergeStatus.MERGED)
    moved = models.JSONField(default=dict, blank=True)
    amounts = models.JSONField(default=dict, blank=True)
    transaction_ids = models.JSONField(default=list, blank=True)
    reversal_ids = models.JSONField(default=list, blank=True)
    transaction = models.ForeignKey(Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=100, blank=True)
    merged_at = models.DateTimeField(_("merged at"))
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by_label = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("member merge")
        verbose_name_plural = _("member merges")
        constraints = [
            models.UniqueConstraint(
                fields=["absorbed"], condition=Q(status="merged"), name="merge_one_live_per_absorbed"
            ),
            models.CheckConstraint(condition=~Q(survivor=F("absorbed")), name="merge_not_into_itself"),
        ]
        indexes = [models.Index(fields=["mall_group", "-merged_at"]), models.Index(fields=["survivor", "status"])]
