from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import Mall, MallGroup
from galleria.merchants.models import Merchant

from .types import MARKETING_PURPOSES as MARKETING_PURPOSES
from .types import ConsentPurpose as ConsentPurpose
from .types import Gender as Gender
from .types import IdentifierKind as IdentifierKind
from .types import JoinChannel as JoinChannel
from .types import MemberStatus as MemberStatus
from .types import OtpPurpose as OtpPurpose
from .types import PlateVerifiedVia as PlateVerifiedVia


class Member(models.Model):
    """A shopper of a mall group. Identity is the set of its `MemberIdentifier` rows, not any column here.

    `phone` and `card_no` are display copies of the primary phone and card identifiers (kept in sync by services);
    uniqueness and lookups go through identifiers only, so merge and erasure move or drop rows, never rewrite keys.
    """

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="members")
    status = models.CharField(_("status"), max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    card_no = models.CharField(_("card number"), max_length=20, blank=True)
    name = models.CharField(_("name"), max_length=50, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    email = models.EmailField(_("email"), blank=True)
    join_channel = models.CharField(_("join channel"), max_length=10, choices=JoinChannel.choices)
    join_mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="+", verbose_name=_("join mall"))
    join_merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("join merchant")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    code_secret = models.CharField(max_length=40)
    created_at = models.DateTimeField(_("joined at"), db_index=True)
    last_active_at = models.DateTimeField(_("last active"), null=True, blank=True)
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        indexes = [
            models.Index(fields=["mall_group", "-created_at"]),
            models.Index(fields=["mall_group", "join_channel"]),
            models.Index(fields=["mall_group", "name"]),
            # the console list sorted by name across every group (platform admins); see migration 0003 for the
            # PostgreSQL-only search indexes (name n-grams, reversed phone) that the model cannot express
            models.Index(fields=["name"], name="member_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False) | ~Q(status="merged"),
                name="member_merged_has_survivor",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name or '—'} ({self.card_no})"

    @property
    def is_active(self) -> bool:
        """The "active member" rule for a row already loaded (not merged into another, not erased); queries use
        `members.selectors.members_active()` / `active_member_q()`, the same rule."""
        return self.status == MemberStatus.ACTIVE


class MemberIdentifier(models.Model):
    """One identifier resolves to exactly one member of the group (unique per group, kind and value)."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(_("kind"), max_length=20, choices=IdentifierKind.choices)
    value = models.CharField(_("value"), max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    # plates only: when and how the member proved the car is theirs (verified once; the binding then cannot be
    # taken by another member except through a reviewed claim)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_via = models.CharField(
        _("verified by"), max_length=10, choices=PlateVerifiedVia.choices, blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = _("member identifier")
        verbose_name_plural = _("member identifiers")
        constraints = [
            models.UniqueConstraint(fields=["mall_group", "kind", "value"], name="identifier_unique_in_group"),
        ]
        indexes = [models.Index(fields=["member", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Consent(models.Model):
    """Append-only consent records (PIPL): the latest row per purpose is the member's current choice."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    is_granted = models.BooleanField(_("granted"))
    policy_version = models.CharField(_("policy version"), max_length=20, default="2026-01")
    channel = models.CharField(_("channel"), max_length=10, choices=JoinChannel.choices)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    # who recorded it: None = the member themself (app, sign-up); a staff user when recorded on their behalf
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [models.Index(fields=["member", "purpose", "-recorded_at"])]


class OtpChallenge(models.Model):
    """A one-time SMS code. Only its HMAC is stored. Locked after too many wrong tries."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(max_length=20)
    purpose = models.CharField(max_length=10, choices=OtpPurpose.choices, default=OtpPurpose.LOGIN)
    code_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["mall_group", "phone", "-created_at"]),
            models.Index(fields=["ip", "-created_at"]),
        ]
