from __future__ import annotations

import uuid

from django.db import models
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

    class Meta:
        verbose_name = _("mall group")
        verbose_name_plural = _("mall groups")

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
