from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import MallGroup
from galleria.merchants.models import Merchant

from .types import GROUP_ROLES as GROUP_ROLES
from .types import MERCHANT_ROLES as MERCHANT_ROLES
from .types import Role as Role
from .types import ThrottleKind as ThrottleKind


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


class LoginThrottle(models.Model):
    """Failed sign-in counter of one account, one IP address or one user's second step.

    One row per (kind, key), updated under its row lock: concurrent failures are all counted. `failures` counts
    within the window that started at `window_started_at`; reaching the limit sets `locked_until`.
    """

    kind = models.CharField(max_length=20, choices=ThrottleKind.choices)
    key = models.CharField(max_length=150)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("sign-in throttle")
        verbose_name_plural = _("sign-in throttles")
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="login_throttle_kind_key_uniq")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


class TwoStepDevice(models.Model):
    """A staff member's authenticator app (TOTP, RFC 6238). `confirmed_at` is set once a code proved the set-up;
    until then 2-step is not on. The secret is stored encrypted (`rules.seal`) and never shown after enrolment."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="two_step", verbose_name=_("staff user"))
    secret_sealed = models.CharField(max_length=200)
    confirmed_at = models.DateTimeField(_("turned on at"), null=True, blank=True)
    last_step = models.BigIntegerField(default=0)  # time step of the last accepted code: no replay
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("2-step device")
        verbose_name_plural = _("2-step devices")

    def __str__(self) -> str:
        return f"2-step of user {self.user_id}"


class RecoveryCode(models.Model):
    """One single-use recovery code, stored as a keyed hash (`rules.recovery_hash`)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_user_hash_uniq")]

    def __str__(self) -> str:
        return f"recovery code {self.pk} of user {self.user_id}"
