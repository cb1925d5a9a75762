"""Events tables (docs/events.md): a group's no-show policy, events, and members' registrations (seats, the waiting
list, seat offers, tickets and check-in).

`Event.seats_taken` counts the seats of registrations that hold one (confirmed, offered, checked in) and never
passes `capacity` (a CHECK); it changes only under the event row's lock, which serialises an event's registrations,
cancellations and promotions. `queue_no` (taken from `Event.queue_seq` under that lock) is the arrival order the
waiting list is served in. A points-priced registration is a sale of `Event.store` (channel `event`): `sale_id`."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from galleria.core.models import TimeStampedModel
from galleria.malls.models import Mall, MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Store
from galleria.tiers.models import TierLevel

from .types import EventStatus, QuestionKind, RegistrationState, TierMode

__all__ = ["Event", "EventPolicy", "EventStatus", "Question", "Registration", "RegistrationState", "TierMode"]


class EventPolicy(TimeStampedModel):
    """A group's rules for every event: the no-show block and how long a promoted member has to confirm."""

    mall_group = models.OneToOneField(MallGroup, on_delete=models.CASCADE, related_name="+")
    no_show_limit = models.PositiveSmallIntegerField(_("no-shows that block"), default=2)
    no_show_window_days = models.PositiveSmallIntegerField(_("within days"), default=90)
    no_show_block_days = models.PositiveSmallIntegerField(_("block for days"), default=30)
    offer_hours = models.PositiveSmallIntegerField(_("hours to confirm an offered seat"), default=24)

    class Meta:
        verbose_name = _("event policy")
        verbose_name_plural = _("event policies")


class Event(TimeStampedModel):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=60)
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=120)
    poster_name = models.CharField(max_length=200, blank=True)
    poster_sha = models.CharField(max_length=64, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    registration_opens_at = models.DateTimeField(_("registration opens"), null=True, blank=True)
    registration_closes_at = models.DateTimeField(_("registration closes"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"))
    seats_taken = models.PositiveIntegerField(default=0)
    queue_seq = models.PositiveIntegerField(default=0)
    per_member_limit = models.PositiveSmallIntegerField(_("seats per member"), default=1)
    tier_mode = models.CharField(_("who may register"), max_length=16, choices=TierMode.choices, default=TierMode.OPEN)
    min_tier = models.ForeignKey(TierLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    priority_until = models.DateTimeField(_("tier priority until"), null=True, blank=True)
    price_points = models.BigIntegerField(_("points per seat"), default=0)
    price_fen = models.BigIntegerField(_("price per seat (fen)"), default=0)  # paid at WeChat Pay / Alipay
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    cancel_hours_before = models.PositiveIntegerField(_("members may cancel until (hours before)"), default=24)
    status = models.CharField(_("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.DRAFT)

    class Meta:
        verbose_name = pgettext_lazy("event", "event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["mall_group", "status", "starts_at"], name="events_event_list")]
        constraints = [
            models.CheckConstraint(condition=Q(seats_taken__lte=F("capacity")), name="events_event_not_overbooked"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="events_event_ends_after_start"),
            models.CheckConstraint(condition=Q(price_points__gte=0), name="events_event_price_non_negative"),
            models.CheckConstraint(condition=Q(price_fen__gte=0), name="events_event_price_fen_non_negative"),
            models.CheckConstraint(
                condition=(Q(price_points=0) & Q(price_fen=0)) | Q(store__isnull=False),
                name="events_event_priced_has_store",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Question(TimeStampedModel):
    """A question members answer when registering (text, one choice, several choices)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices, default=QuestionKind.TEXT)
    label = models.CharField(_("question"), max_length=120)
    choices = models.JSONField(default=list, blank=True)  # list[str]: single and multiple choice
    required = models.BooleanField(_("required"), default=False)

    class Meta:
        verbose_name = _("registration question")
        verbose_name_plural = _("registration questions")
        indexes = [models.Index(fields=["event", "position"], name="events_question_order")]


class Registration(TimeStampedModel):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="registrations")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    seats = models.PositiveSmallIntegerField(_("seats"), default=1)
    state = models.CharField(_("state"), max_length=12, choices=RegistrationState.choices)
    queue_no = models.PositiveIntegerField(default=0)  # arrival order (under the event's lock)
    idempotency_key = models.CharField(max_length=80)
    code = models.CharField(_("ticket code"), max_length=8)
    offer_expires_at = models.DateTimeField(_("confirm by"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.CharField(max_length=100, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.CharField(max_length=100, blank=True)
    points = models.BigIntegerField(_("points"), default=0)
    pos_sale_id = models.CharField(max_length=64, blank=True)
    sale_id = models.BigIntegerField(null=True, blank=True)
    refund_id = models.BigIntegerField(null=True, blank=True)
    points_returned = models.BigIntegerField(default=0)
    pay_expires_at = models.DateTimeField(_("pay by"), null=True, blank=True)  # a money-priced seat held unpaid
    paid_fen = models.BigIntegerField(default=0)  # what the gateway took (services_gateway.py)
    out_trade_no = models.CharField(max_length=32, blank=True)  # the payments attempt that paid it
    gateway_refund_id = models.BigIntegerField(null=True, blank=True)  # payments' PaymentRefund on cancellation
    # the answers to the event's questions when registering: [{"question_id", "label", "kind", "value"}]; the
    # label is kept as asked (a question edited later does not change what was answered)
    answers = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        indexes = [
            models.Index(fields=["event", "state", "queue_no"], name="events_reg_queue"),
            models.Index(fields=["member", "state"], name="events_reg_member"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member", "idempotency_key"], name="events_reg_key_unique"),
            models.UniqueConstraint(fields=["mall_group", "code"], name="events_reg_code_unique"),
            models.UniqueConstraint(
                fields=["event", "member"],
                condition=Q(state__in=["confirmed", "waiting", "offered", "checked_in", "paying"]),
                name="events_reg_one_live_per_member",
            ),
            models.CheckConstraint(condition=Q(seats__gte=1), name="events_reg_seats_positive"),
        ]
