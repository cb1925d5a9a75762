from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """Append-only: who did what to which object; before/after of sensitive fields; views of personal data."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("actor")
    )
    actor_label = models.CharField(_("actor"), max_length=100)
    mall_group_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    target_type = models.CharField(_("object type"), max_length=40)
    target_id = models.CharField(_("object id"), max_length=40)
    target_label = models.CharField(_("object"), max_length=150, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_type}#{self.target_id}"


class PiiAccess(models.Model):
    """Append-only access log: one row per member whose unmasked personal data a staff user was shown.

    Written by the interfaces with one INSERT per view (a bulk INSERT for exports). No foreign key to members:
    audit is the lowest layer, and the log must outlive an erased member."""

    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("staff user")
    )
    actor_label = models.CharField(_("staff user"), max_length=100)
    mall_group_id = models.BigIntegerField(null=True, blank=True)
    member_id = models.BigIntegerField(_("member"))
    fields = models.CharField(_("fields"), max_length=100)  # comma-separated: phone,birthday,email,name
    source = models.CharField(_("page or API"), max_length=60)  # e.g. "console:member_detail", "api:console.members"
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        indexes = [
            models.Index(fields=["mall_group_id", "-at"], name="pii_access_group_at"),
            models.Index(fields=["member_id", "-at"], name="pii_access_member_at"),
            models.Index(fields=["actor", "-at"], name="pii_access_actor_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} member#{self.member_id} {self.fields}"
