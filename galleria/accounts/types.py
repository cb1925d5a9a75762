from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Scope:
    """Who is acting and over what. Every selector that returns scoped data takes one."""

    user_id: int
    role: str
    permissions: frozenset[str]
    mall_group_id: int | None  # None only for platform admins (all groups)
    merchant_id: int | None  # set for merchant roles

    @property
    def is_platform(self) -> bool:
        return self.mall_group_id is None

    @property
    def is_merchant(self) -> bool:
        return self.merchant_id is not None

    @property
    def is_console(self) -> bool:
        return self.merchant_id is None

    def can(self, permission: str) -> bool:
        return permission in self.permissions


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


class ThrottleKind(models.TextChoices):
    ACCOUNT = "account", _("Account")  # key: the username as typed, case-folded (exists or not)
    IP = "ip", _("IP address")
    SECOND_STEP = "second_step", _("2-step code")  # key: the user id
