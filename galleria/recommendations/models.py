"""The trained recommender (docs/recommendations.md): a versioned model per mall group, its item-item neighbour
lists and per-segment popularity lists in one table of ranked entries, and the console's block switches.

No row is keyed by a member: a member's recommendations are computed on request from their own recent purchases
and these aggregate lists (nothing to merge on dedupe, nothing to erase; the export computes the profile)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import MallGroup
from galleria.merchants.models import Merchant

from .types import EntryKind


class RecModel(models.Model):
    """One training run. The newest finished run of a group is active (one active per group)."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField(_("version"))
    trained_at = models.DateTimeField(_("trained at"))
    data_until = models.DateTimeField(_("purchases up to"))
    is_active = models.BooleanField(_("active"), default=False)
    params = models.JSONField(_("parameters"), default=dict)
    stats = models.JSONField(_("training data"), default=dict)  # members, merchants, purchases, excluded, seconds
    metrics = models.JSONField(_("offline scores"), default=dict, blank=True)  # recommendations_evaluate

    class Meta:
        verbose_name = _("recommendation model")
        verbose_name_plural = _("recommendation models")
        constraints = [
            models.UniqueConstraint(fields=["mall_group", "version"], name="rec_model_version_unique"),
            models.UniqueConstraint(
                fields=["mall_group"], condition=Q(is_active=True), name="rec_model_one_active_per_group"
            ),
        ]


class RecEntry(models.Model):
    """A ranked entry of a model: a merchant's neighbour (`source_merchant` set) or a segment's popular merchant
    (`segment` set, e.g. "seg:2|25-34|7" = tier rank | age band | mall)."""

    model = models.ForeignKey(RecModel, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    source_merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    segment = models.CharField(max_length=40, blank=True)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    rank = models.PositiveSmallIntegerField()
    score_ppm = models.PositiveIntegerField()  # similarity or segment share × 1,000,000

    class Meta:
        indexes = [
            models.Index(fields=["model", "source_merchant", "rank"], name="rec_entry_neighbours"),
            models.Index(fields=["model", "segment", "rank"], name="rec_entry_segments"),
        ]


class RecSettings(models.Model):
    """The console's switches per block, per mall group (no row = everything on)."""

    mall_group = models.OneToOneField(MallGroup, on_delete=models.CASCADE, related_name="+")
    show_merchants = models.BooleanField(_("merchants to visit"), default=True)
    show_coupons = models.BooleanField(_("coupons to claim"), default=True)
    show_events = models.BooleanField(_("events"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("recommendation settings")
        verbose_name_plural = _("recommendation settings")
