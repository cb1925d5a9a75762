"""API credential tables (docs/api.md, "Tokens"): a member's signed-in devices (bearer access + rotating refresh
token each) and staff API tokens with scopes. Only SHA-256 hashes of tokens are stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import MallGroup
from galleria.members.models import Member

__all__ = ["MemberDevice", "StaffApiToken"]


class MemberDevice(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("device"), max_length=60)
    via = models.CharField(max_length=20)  # otp | wechat
    access_hash = models.CharField(max_length=64, unique=True)
    access_expires_at = models.DateTimeField()
    refresh_hash = models.CharField(max_length=64, unique=True)
    refresh_expires_at = models.DateTimeField()
    previous_refresh_hash = models.CharField(max_length=64, blank=True, db_index=True)  # reuse = theft
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["member", "-last_used_at"], name="apiauth_device_member")]


class StaffApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mall_group = models.ForeignKey(MallGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    scopes = models.JSONField(default=list)  # permission names, a subset of the user's role's
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=100)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["mall_group", "-created_at"], name="apiauth_token_group")]
