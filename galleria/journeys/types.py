from __future__ import annotations

from django.db import models
from django.utils.translation import pgettext_lazy


class Trigger(models.TextChoices):
    """What puts a member into a journey. Event triggers enter members as it happens (a domain event's task);
    scanned triggers are found by the journeys sweep (`journeys_run`, every minute; date-based ones once per
    mall-local day and occurrence)."""

    JOINED = "joined", pgettext_lazy("journey trigger", "Joined")
    FIRST_PURCHASE = "first_purchase", pgettext_lazy("journey trigger", "First purchase")
    BIRTHDAY = "birthday", pgettext_lazy("journey trigger", "Birthday (mall-local)")
    TIER_UP = "tier_up", pgettext_lazy("journey trigger", "Tier up")
    TIER_DOWN = "tier_down", pgettext_lazy("journey trigger", "Tier down")
    POINTS_EXPIRING = "points_expiring", pgettext_lazy("journey trigger", "Points expiring within N days")
    COUPON_EXPIRING = "coupon_expiring", pgettext_lazy("journey trigger", "Coupon expiring unused within N days")
    DORMANT = "dormant", pgettext_lazy("journey trigger", "No purchase for N days")
    PARKED_NO_PURCHASE = "parked_no_purchase", pgettext_lazy("journey trigger", "Left the car park without buying")
    EVENT_REGISTERED = "event_registered", pgettext_lazy("journey trigger", "Registered for an event")
    EVENT_ATTENDED = "event_attended", pgettext_lazy("journey trigger", "Attended an event")
    RECEIPT_REJECTED = "receipt_rejected", pgettext_lazy("journey trigger", "Receipt rejected")
    CART_ABANDONED = "cart_abandoned", pgettext_lazy("journey trigger", "Left items in the online cart for N hours")


# the triggers with a number of days
TRIGGERS_WITH_DAYS = {Trigger.POINTS_EXPIRING, Trigger.COUPON_EXPIRING, Trigger.DORMANT}
# the triggers with a number of hours
TRIGGERS_WITH_HOURS = {Trigger.CART_ABANDONED}


class JourneyStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("journey", "Draft")
    ACTIVE = "active", pgettext_lazy("journey", "Running")
    PAUSED = "paused", pgettext_lazy("journey", "Paused")
    STOPPED = "stopped", pgettext_lazy("journey", "Stopped")


class Reentry(models.TextChoices):
    ONCE = "once", pgettext_lazy("journey re-entry", "Once per member")
    EVERY = "every", pgettext_lazy("journey re-entry", "Every time it happens")


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("journey enrollment", "In the journey")
    DONE = "done", pgettext_lazy("journey enrollment", "Finished")
    EXITED = "exited", pgettext_lazy("journey enrollment", "Left (journey stopped)")
    FAILED = "failed", pgettext_lazy("journey enrollment", "Stopped by an error")


class StepKind(models.TextChoices):
    WAIT = "wait", pgettext_lazy("journey step", "Wait")
    MESSAGE = "message", pgettext_lazy("journey step", "Send a message")
    COUPON = "coupon", pgettext_lazy("journey step", "Grant a coupon")
    POINTS = "points", pgettext_lazy("journey step", "Grant points")
    TAG = "tag", pgettext_lazy("journey step", "Add a tag")
    BRANCH = "branch", pgettext_lazy("journey step", "Branch")


class Test(models.TextChoices):
    """What a branch asks about the member."""

    SEGMENT = "segment", pgettext_lazy("journey branch", "Is in a saved segment")
    PURCHASED = "purchased", pgettext_lazy("journey branch", "Bought since entering the journey")
    RANDOM = "random", pgettext_lazy("journey branch", "Random split (A/B)")


class Outcome(models.TextChoices):
    DONE = "done", pgettext_lazy("journey outcome", "Done")
    YES = "yes", pgettext_lazy("journey outcome", "Yes branch")
    NO = "no", pgettext_lazy("journey outcome", "No branch")
    SKIPPED = "skipped", pgettext_lazy("journey outcome", "Skipped")
    FAILED = "failed", pgettext_lazy("journey outcome", "Failed")
