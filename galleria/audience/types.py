from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TagKind(models.TextChoices):
    AUTO = "auto", pgettext_lazy("tag kind", "Automatic")
    MANUAL = "manual", pgettext_lazy("tag kind", "Manual")


class TagSource(models.TextChoices):
    AUTO = "auto", pgettext_lazy("tag source", "Computed")
    STAFF = "staff", pgettext_lazy("tag source", "Added by staff")
    IMPORT = "import", pgettext_lazy("tag source", "Imported")
    JOURNEY = "journey", pgettext_lazy("tag source", "Added by a journey")


RFM_NAMES = {
    "important_value": _("Important value (重要价值客户)"),
    "important_develop": _("Important to develop (重要发展客户)"),
    "important_keep": _("Important to keep (重要保持客户)"),
    "important_retain": _("Important to win back (重要挽留客户)"),
    "general_value": _("General value (一般价值客户)"),
    "general_develop": _("General to develop (一般发展客户)"),
    "general_keep": _("General to keep (一般保持客户)"),
    "general_retain": _("General to win back (一般挽留客户)"),
}

LIFECYCLE_NAMES = {
    "new": pgettext_lazy("lifecycle", "New"),
    "active": pgettext_lazy("lifecycle", "Active"),
    "won_back": pgettext_lazy("lifecycle", "Won back"),
    "at_risk": pgettext_lazy("lifecycle", "At risk"),
    "dormant": pgettext_lazy("lifecycle", "Dormant"),
    "lost": pgettext_lazy("lifecycle", "Lost"),
}

AUTO_TAG_GROUP_NAMES = {
    "lifecycle": pgettext_lazy("tag group", "Lifecycle"),
    "value": pgettext_lazy("tag group", "Value"),
    "habit": pgettext_lazy("tag group", "Habits"),
    "favourite": pgettext_lazy("tag group", "Favourite category"),
}

AUTO_TAG_NAMES = {
    "value:high_spender": _("High spender"),
    "value:low_spender": _("Low spender"),
    "habit:frequent": _("Frequent visitor"),
    "habit:coupon_sensitive": _("Coupon sensitive"),
    "habit:evening": _("Evening shopper"),
    "habit:weekend": _("Weekend shopper"),
    "habit:drives": _("Drives to the mall"),
    "habit:online": _("Buys online"),
}


@dataclass(frozen=True)
class RefreshResult:
    members: int
    last_sale_id: int


@dataclass(frozen=True)
class RebuildResult:
    mall_group_id: int
    profiles: int
    removed: int
    scored: int
    tagged: int
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberAudience:
    """The member 360 view's audience panel."""

    profile: object | None  # MemberProfile
    rfm_name: str
    lifecycle_name: str
    tags: list[tuple[int, str, str]]  # (tag id, name, kind)
