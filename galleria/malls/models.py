from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.core.models import TimeStampedModel


def new_config_token() -> str:
    return uuid.uuid4().hex


class MallGroup(TimeStampedModel):
    """The tenant. Members belong to the group and share one identity across all its malls."""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    # Changed by database triggers whenever the group's loyalty configuration (points policy, earn rules,
    # campaigns, behaviour rules, tiers, malls) changes: processes cache that configuration per token.
    config_token = models.CharField(max_length=32, default=new_config_token, editable=False)
    # The accepted window of a sale time sent by a POS (docs/api.md, "Sale times"): a live call must be dated within
    # `sale_live_window_minutes` of the server clock (either way); an offline upload up to `sale_offline_window_days`
    # back (and no further ahead than a live call). A change gives the group a new config token (migration 0004).
    sale_live_window_minutes = models.PositiveIntegerField(
        _("live sale time window (minutes)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text=_("A POS sale or refund may be dated at most this many minutes before or after the server clock."),
    )
    sale_offline_window_days = models.PositiveIntegerField(
        _("offline upload window (days)"),
        default=7,
        validators=[MinValueValidator(0), MaxValueValidator(90)],
        help_text=_("Sales uploaded after the POS was offline may be dated at most this many days back."),
    )

    class Meta:
        verbose_name = _("mall group")
        verbose_name_plural = _("mall groups")
        constraints = [
            models.CheckConstraint(
                condition=Q(sale_live_window_minutes__gte=1, sale_live_window_minutes__lte=24 * 60),
                name="mallgroup_sale_live_window_range",
            ),
            models.CheckConstraint(
                condition=Q(sale_offline_window_days__lte=90), name="mallgroup_sale_offline_window_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Mall(TimeStampedModel):
    group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="malls", verbose_name=_("mall group"))
    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=40)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("service phone"), max_length=30, blank=True)
    opens_at = models.TimeField(_("opens at"), default="10:00")
    closes_at = models.TimeField(_("closes at"), default="22:00")
    parking_spaces = models.PositiveIntegerField(_("parking spaces"), default=0)

    class Meta:
        verbose_name = _("mall")
        verbose_name_plural = _("malls")
        constraints = [models.UniqueConstraint(fields=["group", "code"], name="mall_code_unique_in_group")]

    def __str__(self) -> str:
        return self.name
