from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import MallGroup
from galleria.members.models import Member

from .types import RequestKind as RequestKind
from .types import RequestStatus as RequestStatus
from .types import RequestVia as RequestVia


class PrivacyRequest(models.Model):
    """A member's request to exercise a PIPL right: a data export (ready at once, downloadable by the member
    until `expires_at`) or an erasure (pending until `due_at`, then done by the erasure job, or cancelled)."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="privacy_requests")
    kind = models.CharField(_("kind"), max_length=10, choices=RequestKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices)
    via = models.CharField(_("requested via"), max_length=10, choices=RequestVia.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    requested_at = models.DateTimeField(_("requested at"))
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)  # erasure: end of the cooling-off window
    expires_at = models.DateTimeField(_("download until"), null=True, blank=True)  # export
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)  # why blocked, what was forfeited
    data = models.JSONField(_("export data"), null=True, blank=True)  # export: the machine-readable document

    class Meta:
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        indexes = [
            models.Index(fields=["mall_group", "kind", "status", "-requested_at"]),
            models.Index(fields=["member", "kind", "-requested_at"]),
            models.Index(fields=["kind", "status", "due_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(kind="erasure", status="pending"),
                name="privacy_one_pending_erasure",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}#{self.pk} member {self.member_id} {self.status}"
