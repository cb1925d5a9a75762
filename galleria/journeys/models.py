"""Journeys (docs/marketing.md, "Journeys"): automated paths a member walks after a trigger — waits, messages,
coupons, points, tags and branches — run by the task worker exactly once per member and step.

`Journey` is what staff edit (its `draft` definition) and run; publishing freezes the draft as a numbered
`JourneyVersion` that new entrants follow (members already inside finish on the version they entered). An
`Enrollment` is one member's pass through one version — unique per journey, member and occurrence `key`, so a
trigger that fires twice enters once. A `StepRun` records a step done for an enrollment, unique per enrollment and
step and written in the transaction that does the step's work: a worker killed mid-step redoes the step, never
repeats it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from galleria.audience.models import Segment
from galleria.malls.models import MallGroup
from galleria.members.models import Member

from .types import EnrollmentStatus, JourneyStatus, Outcome, Reentry, Trigger


class Journey(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    trigger_days = models.PositiveSmallIntegerField(_("days"), default=7)  # for the triggers that take days
    trigger_hours = models.PositiveSmallIntegerField(_("hours"), default=2)  # for the triggers that take hours
    entry_segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("only members of segment"),
    )
    reentry = models.CharField(_("enter"), max_length=5, choices=Reentry.choices, default=Reentry.ONCE)
    draft = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=JourneyStatus.choices, default=JourneyStatus.DRAFT)
    version = models.ForeignKey(
        "JourneyVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # the published version new entrants follow
    active_since = models.DateTimeField(null=True, blank=True)  # scanned triggers look no further back
    scanned_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("journey")
        verbose_name_plural = _("journeys")
        indexes = [models.Index(fields=["status", "trigger"], name="journey_running")]


class JourneyVersion(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    published_at = models.DateTimeField()
    published_by = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["journey", "number"], name="journey_version_number")]


class Enrollment(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey(JourneyVersion, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=40)  # the occurrence: "once", "tier:<change>", "birthday:2026", …
    status = models.CharField(max_length=8, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE)
    step = models.CharField(max_length=12, blank=True)  # the next step to run ("" when finished)
    wake_at = models.DateTimeField()  # the next step runs at or after this moment
    waiting_since = models.DateTimeField(null=True, blank=True)  # at a wait step: when the wait began
    entered_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)  # unexpected errors running its next step
    error = models.CharField(max_length=60, blank=True)  # the last one

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["journey", "member", "key"], name="journey_enter_once"),
            models.CheckConstraint(
                condition=Q(status="active") | Q(finished_at__isnull=False), name="journey_enrollment_finished"
            ),
        ]
        indexes = [
            models.Index(fields=["wake_at"], condition=Q(status="active"), name="journey_due"),
            models.Index(fields=["member"], name="journey_enrollment_member"),
        ]


class StepRun(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey(JourneyVersion, on_delete=models.CASCADE, related_name="+")
    step = models.CharField(max_length=12)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    detail = models.CharField(max_length=60, blank=True)  # why skipped/failed, or what was written ("coupon 12")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrollment", "step"], name="journey_step_once")]
        indexes = [models.Index(fields=["version", "step", "outcome"], name="journey_step_stats")]
