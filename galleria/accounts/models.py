from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import MallGroup
from galleria.merchants.models import Merchant


class Role(models.TextChoices):
    PLATFORM_ADMIN = "platform_admin", _("Platform admin")
    GROUP_ADMIN = "group_admin", _("Mall group admin")
    MARKETING = "marketing", _("Marketing")
    SERVICE = "service", _("Customer service")
    FINANCE = "finance", _("Finance")
    READONLY = "readonly", _("Read-only")
    MERCHANT_OWNER = "merchant_owner", _("Merchant owner")
    MERCHANT_MANAGER = "merchant_manager", _("Merchant manager")
    MERCHANT_CLERK = "merchant_clerk", _("Merchant clerk")


GROUP_ROLES = (Role.GROUP_ADMIN, Role.MARKETING, Role.SERVICE, Role.FINANCE, Role.READONLY)
MERCHANT_ROLES = (Role.MERCHANT_OWNER, Role.MERCHANT_MANAGER, Role.MERCHANT_CLERK)


class User(AbstractUser):
    """A staff account (mall, merchant or platform). Members are not users: they sign in with phone + SMS code.

    The role decides the permissions; `mall_group` / `merchant` decide the scope. Constraints keep the pair
    consistent: platform admins have no scope, group roles a group, merchant roles a merchant (and its group).
    """

    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.READONLY)
    mall_group = models.ForeignKey(
        MallGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="staff", verbose_name=_("mall group")
    )
    merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="staff", verbose_name=_("merchant")
    )

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")
        constraints = [
            models.CheckConstraint(
                name="user_scope_matches_role",
                condition=(
                    Q(role="platform_admin", mall_group__isnull=True, merchant__isnull=True)
                    | Q(role__in=[r.value for r in GROUP_ROLES], mall_group__isnull=False, merchant__isnull=True)
                    | Q(role__in=[r.value for r in MERCHANT_ROLES], mall_group__isnull=False, merchant__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.username
