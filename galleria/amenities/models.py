"""Member services tables (docs/amenities.md): service desks, rental item types with their stock per desk and
its moves, members' rentals; bookable services with their weekly hours, time slots and bookings.

`RentalStock.on_hand` never goes below 0 (a CHECK) and changes only by a conditional UPDATE (lend: `on_hand >= 1`)
or under the stock row's lock (adjustments), each change written as a `StockMove` with its reason. A rental's
deposit is a ledger *hold* (`hold_key`) on the member's points or wallet account: reserved, not moved.
`TimeSlot.booked` counts the live bookings (requested, confirmed) and never passes `capacity` (a CHECK; taken by
a conditional UPDATE); a member has at most one live booking per slot (a partial unique index)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from galleria.core.models import TimeStampedModel
from galleria.malls.models import Mall, MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Store
from galleria.tiers.models import TierLevel

from .types import Access, BookingState, DepositKind, FeeUnit, ItemIcon, OfferingKind, RentalState, StockReason

__all__ = [
    "Booking",
    "OfferingHours",
    "Rental",
    "RentalItemType",
    "RentalStock",
    "ServiceDesk",
    "ServiceOffering",
    "StockMove",
    "TimeSlot",
]


class ServiceDesk(TimeStampedModel):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    place = models.CharField(_("place"), max_length=120, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=120, blank=True)
    # the mall's own store whose sales book the fees (channel amenity): the mall's income, as a car park's
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(_("open"), default=True)

    class Meta:
        verbose_name = _("service desk")
        verbose_name_plural = _("service desks")
        ordering = ["mall_id", "name"]

    def __str__(self) -> str:
        return self.name


class RentalItemType(TimeStampedModel):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=40)
    icon = models.CharField(_("icon"), max_length=12, choices=ItemIcon.choices, default=ItemIcon.OTHER)
    deposit_points = models.BigIntegerField(_("deposit in points"), default=0)
    deposit_fen = models.BigIntegerField(_("deposit from the wallet (fen)"), default=0)
    free_minutes = models.PositiveIntegerField(_("free minutes"), default=0)
    free_minutes_by_tier = models.JSONField(_("free minutes by tier"), default=dict, blank=True)
    fee_unit = models.CharField(_("overdue fee per"), max_length=4, choices=FeeUnit.choices, default=FeeUnit.HOUR)
    fee_per_unit_fen = models.BigIntegerField(_("overdue fee per unit (fen)"), default=0)
    daily_cap_fen = models.BigIntegerField(_("daily cap (fen)"), default=0)
    lost_fee_fen = models.BigIntegerField(_("lost-item fee (fen)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("rental item")
        verbose_name_plural = _("rental items")
        ordering = ["mall_group_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["mall_group", "code"], name="amenities_type_code_unique"),
            models.CheckConstraint(
                condition=Q(deposit_points__gte=0)
                & Q(deposit_fen__gte=0)
                & Q(fee_per_unit_fen__gte=0)
                & Q(daily_cap_fen__gte=0)
                & Q(lost_fee_fen__gte=0),
                name="amenities_type_amounts_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RentalStock(models.Model):
    desk = models.ForeignKey(ServiceDesk, on_delete=models.PROTECT, related_name="stock")
    item_type = models.ForeignKey(RentalItemType, on_delete=models.PROTECT, related_name="stock")
    on_hand = models.IntegerField(_("on hand"), default=0)

    class Meta:
        verbose_name = _("stock")
        verbose_name_plural = _("stock")
        constraints = [
            models.UniqueConstraint(fields=["desk", "item_type"], name="amenities_stock_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="amenities_stock_non_negative"),
        ]


class StockMove(models.Model):
    stock = models.ForeignKey(RentalStock, on_delete=models.PROTECT, related_name="moves")
    delta = models.IntegerField()
    on_hand_after = models.IntegerField()
    reason = models.CharField(max_length=8, choices=StockReason.choices)
    note = models.CharField(max_length=200, blank=True)
    rental = models.ForeignKey("Rental", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["stock", "-created_at"], name="amenities_move_stock")]


class Rental(TimeStampedModel):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    item_type = models.ForeignKey(RentalItemType, on_delete=models.PROTECT, related_name="rentals")
    desk = models.ForeignKey(ServiceDesk, on_delete=models.PROTECT, related_name="rentals")
    return_desk = models.ForeignKey(ServiceDesk, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=RentalState.choices, default=RentalState.LENT)
    lent_at = models.DateTimeField(_("lent at"))
    due_at = models.DateTimeField(_("free until"))
    closed_at = models.DateTimeField(_("returned or lost at"), null=True, blank=True)
    tier_code = models.CharField(max_length=20, blank=True)  # the tier whose free period applied
    deposit_kind = models.CharField(_("deposit"), max_length=8, choices=DepositKind.choices)
    deposit_amount = models.BigIntegerField(_("deposit (points or fen)"), default=0)
    hold_key = models.CharField(max_length=80, blank=True)
    fee_due_fen = models.BigIntegerField(_("fee due (fen)"), default=0)
    fee_charged_fen = models.BigIntegerField(_("fee charged (fen)"), default=0)
    fee_points = models.BigIntegerField(_("fee paid in points"), default=0)
    fee_waived_fen = models.BigIntegerField(_("fee not collected (fen)"), default=0)
    fee_lines = models.JSONField(default=list, blank=True)
    sale_id = models.BigIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=80)
    lent_by = models.CharField(max_length=100, blank=True)
    closed_by = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("rental")
        verbose_name_plural = _("rentals")
        indexes = [
            models.Index(fields=["mall_group", "state", "due_at"], name="amenities_rental_open"),
            models.Index(fields=["member", "state"], name="amenities_rental_member"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member", "idempotency_key"], name="amenities_rental_key_unique"),
            models.UniqueConstraint(
                fields=["member", "item_type"],
                condition=Q(state="lent"),
                name="amenities_rental_one_open_per_type",
            ),
            models.CheckConstraint(
                condition=Q(deposit_amount__gte=0)
                & Q(fee_charged_fen__gte=0)
                & Q(fee_charged_fen__lte=F("fee_due_fen")),
                name="amenities_rental_amounts",
            ),
        ]


class ServiceOffering(TimeStampedModel):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=OfferingKind.choices)
    name = models.CharField(_("name"), max_length=60)
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=120, blank=True)
    access = models.CharField(_("who may book"), max_length=16, choices=Access.choices, default=Access.OPEN)
    min_tier = models.ForeignKey(TierLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=60)
    # a points price (0: free), paid when booking as a sale of `store` (channel amenity), refunded on decline/cancel
    price_points = models.BigIntegerField(_("price in points"), default=0)
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(_("bookable"), default=True)

    class Meta:
        verbose_name = _("member service")
        verbose_name_plural = _("member services")
        ordering = ["mall_id", "kind", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(price_points__gte=0), name="amenities_offering_price_non_negative"),
            models.CheckConstraint(
                condition=Q(price_points=0) | Q(store__isnull=False), name="amenities_offering_priced_has_store"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OfferingHours(models.Model):
    offering = models.ForeignKey(ServiceOffering, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    start = models.TimeField(_("from"))
    end = models.TimeField(_("to"))
    capacity = models.PositiveSmallIntegerField(_("bookings per slot"), default=1)

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="amenities_hours_order")]


class TimeSlot(models.Model):
    offering = models.ForeignKey(ServiceOffering, on_delete=models.PROTECT, related_name="slots")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField()
    booked = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["offering", "starts_at"], name="amenities_slot_unique"),
            models.CheckConstraint(condition=Q(booked__lte=F("capacity")), name="amenities_slot_not_overbooked"),
        ]


class Booking(TimeStampedModel):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    offering = models.ForeignKey(ServiceOffering, on_delete=models.PROTECT, related_name="bookings")
    slot = models.ForeignKey(TimeSlot, on_delete=models.PROTECT, related_name="bookings")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=BookingState.choices, default=BookingState.REQUESTED)
    note = models.CharField(_("note"), max_length=200, blank=True)
    address = models.CharField(_("delivery address"), max_length=200, blank=True)
    receipt_ref = models.CharField(_("sale or receipt number"), max_length=64, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    points = models.BigIntegerField(_("points paid"), default=0)
    pos_sale_id = models.CharField(max_length=64, blank=True)
    sale_id = models.BigIntegerField(null=True, blank=True)
    refund_id = models.BigIntegerField(null=True, blank=True)
    points_returned = models.BigIntegerField(default=0)
    idempotency_key = models.CharField(max_length=80)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        indexes = [
            models.Index(fields=["mall_group", "state"], name="amenities_booking_state"),
            models.Index(fields=["member", "state"], name="amenities_booking_member"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member", "idempotency_key"], name="amenities_booking_key_unique"),
            models.UniqueConstraint(
                fields=["member", "slot"],
                condition=Q(state__in=["requested", "confirmed"]),
                name="amenities_booking_one_live",
            ),
        ]
