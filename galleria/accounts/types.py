from __future__ import annotations

from dataclasses import dataclass


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
