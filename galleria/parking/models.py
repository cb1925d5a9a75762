"""Parking tables (docs/parking.md): car parks with zones and gates, tariff versions, the car-park system's API keys,
members' frictionless-exit choice (plates themselves are the members app's identifiers), stays (sessions) built
from the car-park system's events, payments of stays and merchant grants.

Money is integer fen. A stay's fee is never stored as the truth: it is computed by galleria/parking/rules from the
tariff in force at entry and the benefits of the moment; what is stored is what was paid and what a payment covered
(`ParkingPayment.covers_until`), so a replayed or late event recomputes the same answer."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from galleria.core.models import TimeStampedModel
from galleria.malls.models import Mall, MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Merchant, Store

from .types import ClaimStatus, EventKind, EventOutcome, GateDirection, PaymentSource, SessionException, SessionState


class CarPark(TimeStampedModel):
    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="+", verbose_name=_("mall"))
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    capacity = models.PositiveIntegerField(_("spaces"), default=0)
    # the mall's car-park operator: parking payments are sales of this merchant's store (channel "parking")
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)  # both empty: open day and night
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    leave_grace_minutes = models.PositiveSmallIntegerField(_("minutes to leave after paying"), default=15)
    auto_pay_cap_fen = models.BigIntegerField(_("frictionless exit cap per exit"), default=10000)
    # what an exit with no recorded entry pays (lost ticket, unreadable plate): typically a day's cap
    lost_ticket_fen = models.BigIntegerField(_("lost-ticket fee"), default=5000)
    # same-day spend → hours: [[threshold_fen, hours], …]; the highest threshold reached counts
    spend_steps = models.JSONField(_("spend steps"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("car park")
        verbose_name_plural = _("car parks")
        constraints = [
            models.UniqueConstraint(fields=["mall", "code"], name="carpark_code_unique"),
            models.CheckConstraint(condition=Q(auto_pay_cap_fen__gte=0), name="carpark_autopay_cap_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class Zone(models.Model):
    car_park = models.ForeignKey(CarPark, on_delete=models.CASCADE, related_name="zones")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=60)
    floor = models.CharField(_("floor"), max_length=20, blank=True)
    capacity = models.PositiveIntegerField(_("spaces"), default=0)
    # free spaces as the car-park system last reported them (space sensors), and when
    free_reported = models.IntegerField(null=True, blank=True)
    free_reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        constraints = [models.UniqueConstraint(fields=["car_park", "code"], name="zone_code_unique")]

    def __str__(self) -> str:
        return self.name


class Gate(models.Model):
    car_park = models.ForeignKey(CarPark, on_delete=models.CASCADE, related_name="gates")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=60)
    direction = models.CharField(_("direction"), max_length=8, choices=GateDirection.choices)
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("gate")
        verbose_name_plural = _("gates")
        constraints = [models.UniqueConstraint(fields=["car_park", "code"], name="gate_code_unique")]

    def __str__(self) -> str:
        return self.name


class TariffVersion(models.Model):
    """One version of a car park's tariff (galleria/parking/rules/tariff.py's Tariff, in columns): a stay is priced
    by the version in force at its entry. Versions are never edited once in force; a change is a new version."""

    car_park = models.ForeignKey(CarPark, on_delete=models.CASCADE, related_name="tariffs")
    code = models.CharField(_("code"), max_length=40)
    effective_from = models.DateTimeField(_("in force from"))
    effective_until = models.DateTimeField(_("in force until"), null=True, blank=True)
    unit_minutes = models.PositiveSmallIntegerField(_("billing unit (minutes)"), default=60)
    free_minutes = models.PositiveSmallIntegerField(_("free minutes"), default=0)
    free_minutes_mode = models.CharField(_("free minutes rule"), max_length=20, default="charge_from_entry")
    cap_mode = models.CharField(_("daily cap"), max_length=20, default="calendar_day")
    day_price_fen = models.BigIntegerField(_("price per unit"))
    day_cap_fen = models.BigIntegerField(_("day band cap"), null=True, blank=True)
    night_starts = models.TimeField(_("night from"), null=True, blank=True)
    night_ends = models.TimeField(_("night until"), null=True, blank=True)
    night_price_fen = models.BigIntegerField(_("night price per unit"), null=True, blank=True)
    night_cap_fen = models.BigIntegerField(_("night cap"), null=True, blank=True)
    daily_cap_fen = models.BigIntegerField(_("daily cap"), null=True, blank=True)
    # [{"dates": ["2026-10-01", …], "weekdays": [5, 6], "day_price_fen": …, "day_cap_fen": …,
    #   "night_price_fen": …, "night_cap_fen": …, "daily_cap_fen": …}, …]
    holidays = models.JSONField(_("holiday rules"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["car_park", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["car_park", "code"], name="tariff_code_unique"),
            models.UniqueConstraint(fields=["car_park", "effective_from"], name="tariff_start_unique"),
        ]


class CarParkKey(models.Model):
    """The car-park system's API credential (like a POS key: the secret is derived from GALLERIA_POS_KEY_SECRET and
    this row's salt, shown once, re-derived to verify)."""

    car_park = models.ForeignKey(CarPark, on_delete=models.CASCADE, related_name="keys")
    key_id = models.CharField(_("key id"), max_length=40, unique=True)
    salt = models.CharField(max_length=64)
    label = models.CharField(_("label"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=100, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("car-park API key")
        verbose_name_plural = _("car-park API keys")


class CarParkNonce(models.Model):
    key = models.ForeignKey(CarParkKey, on_delete=models.CASCADE, related_name="+", db_index=False)
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "nonce"], name="carpark_nonce_unique")]


class ParkingProfile(models.Model):
    """A member's parking preferences. Plates are bound in the members app (MemberIdentifier, kind "plate");
    `auto_pay` is the frictionless exit (无感支付): at an exit, a stay of any of the member's plates is paid from
    the wallet when the fee is within the car park's cap."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="+", primary_key=True)
    auto_pay = models.BooleanField(_("frictionless exit"), default=False)
    auto_pay_since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("parking profile")
        verbose_name_plural = _("parking profiles")


class ParkingSession(models.Model):
    """One stay of one plate in one car park, built from the car-park system's events (in any order)."""

    car_park = models.ForeignKey(CarPark, on_delete=models.PROTECT, related_name="sessions", db_index=False)
    plate = models.CharField(_("plate"), max_length=12)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(_("state"), max_length=8, choices=SessionState.choices, default=SessionState.PARKED)
    exception = models.CharField(
        _("exception"), max_length=16, choices=SessionException.choices, default="", blank=True
    )
    entry_at = models.DateTimeField(_("entered"), null=True, blank=True)
    entry_gate = models.CharField(max_length=20, blank=True)
    entry_event = models.CharField(max_length=64, blank=True)
    exit_at = models.DateTimeField(_("left"), null=True, blank=True)
    exit_gate = models.CharField(max_length=20, blank=True)
    exit_event = models.CharField(max_length=64, blank=True)
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    paid_fen = models.BigIntegerField(_("paid"), default=0)
    paid_until = models.DateTimeField(null=True, blank=True)  # the last payment priced the stay up to here
    leave_by = models.DateTimeField(null=True, blank=True)
    fee_fen = models.BigIntegerField(_("fee"), null=True, blank=True)  # the fee at exit (after benefits)
    gross_fen = models.BigIntegerField(null=True, blank=True)
    plate_was = models.CharField(max_length=12, blank=True)  # before a plate correction
    # the mall-local day whose once-a-day benefits (tier hours, same-day spend hours) this stay used
    daily_benefits_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    explanation = models.JSONField(default=dict, blank=True)  # the fee at exit, explained
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("parking stay")
        verbose_name_plural = _("parking stays")
        indexes = [
            models.Index(fields=["car_park", "plate", "state"], name="parking_session_plate"),
            models.Index(fields=["car_park", "state", "entry_at"], name="parking_session_state"),
            models.Index(fields=["member", "entry_at"], name="parking_session_member"),
            # the console: stays that left in a range (reports), the exceptions queue, the stays list newest first
            models.Index(fields=["car_park", "exit_at"], name="parking_session_exit"),
            models.Index(
                fields=["car_park", "exception", "entry_at"], condition=~Q(exception=""), name="parking_session_exc"
            ),
            models.Index(Coalesce("entry_at", "exit_at").desc(), F("id").desc(), name="parking_session_recent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["car_park", "plate"], condition=Q(state="parked"), name="parking_one_open_stay"
            ),
            models.CheckConstraint(condition=Q(paid_fen__gte=0), name="parking_paid_non_negative"),
        ]


class ParkingEvent(models.Model):
    """Every event the car-park system sent, once per (car park, event id): a replay is recognised and answered with
    the first outcome."""

    car_park = models.ForeignKey(CarPark, on_delete=models.PROTECT, related_name="+", db_index=False)
    event_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    plate = models.CharField(max_length=12, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    gate = models.CharField(max_length=20, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    session = models.ForeignKey(ParkingSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    outcome = models.CharField(max_length=10, choices=EventOutcome.choices, default=EventOutcome.APPLIED)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["car_park", "event_id"], name="parking_event_once")]
        indexes = [models.Index(fields=["car_park", "received_at"], name="parking_event_recent")]


class ParkingPayment(models.Model):
    """A payment of a stay: through the checkout pipeline (`sale_id`: points, wallet, coupons at the car park's
    store, channel "parking") or taken by the car-park system itself (third party: recorded, no sale)."""

    session = models.ForeignKey(ParkingSession, on_delete=models.PROTECT, related_name="payments")
    key = models.CharField(max_length=80, unique=True)  # idempotency
    source = models.CharField(max_length=12, choices=PaymentSource.choices)
    amount_fen = models.BigIntegerField(_("amount"))  # the fee this payment settled (points value + money)
    points_used = models.BigIntegerField(default=0)
    wallet_fen = models.BigIntegerField(default=0)
    other_fen = models.BigIntegerField(default=0)  # money taken elsewhere (third party, gateway)
    reference = models.CharField(max_length=64, blank=True)
    sale_id = models.BigIntegerField(null=True, blank=True)
    covers_until = models.DateTimeField()
    paid_at = models.DateTimeField()
    benefits = models.JSONField(default=list, blank=True)  # the benefit lines used by this payment

    class Meta:
        indexes = [models.Index(fields=["paid_at"], name="parking_payment_paid")]  # the console's revenue reports
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gte=0), name="parking_payment_non_negative")]


class ParkingGrant(models.Model):
    """Hours a merchant grants to a customer's plate (a cinema, a restaurant), funded by the merchant: used by that
    plate's next stay in the mall's car parks within the validity, billed for the fee they actually covered."""

    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    plate = models.CharField(_("plate"), max_length=12)
    hours = models.PositiveSmallIntegerField(_("hours"))
    granted_at = models.DateTimeField(_("granted at"))
    valid_until = models.DateTimeField(_("valid until"))
    granted_by = models.CharField(max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=80, blank=True)
    key = models.CharField(max_length=80, unique=True)  # idempotency
    session = models.ForeignKey(ParkingSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="grants")
    minutes_used = models.PositiveIntegerField(default=0)
    fen_used = models.BigIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("parking grant")
        verbose_name_plural = _("parking grants")
        indexes = [
            models.Index(fields=["mall", "plate", "valid_until"], name="parking_grant_plate"),
            models.Index(fields=["merchant", "granted_at"], name="parking_grant_merchant"),
        ]
        constraints = [models.CheckConstraint(condition=Q(hours__gte=1), name="parking_grant_positive")]


class GrantAllowance(models.Model):
    """What a merchant may grant: set by the mall per merchant (no row: the merchant cannot grant parking)."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="+", primary_key=True)
    monthly_hours = models.PositiveIntegerField(_("hours a month"), default=0)
    max_hours_per_grant = models.PositiveSmallIntegerField(_("most hours in one grant"), default=3)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("parking grant allowance")
        verbose_name_plural = _("parking grant allowances")


class PlateClaim(models.Model):
    """A member's proof that a plate is theirs: a photo of the vehicle licence (行驶证), reviewed once at the service
    desk. Approval verifies the binding (members app) and moves a plate bound to someone else; the photo is deleted
    as soon as it is decided (it shows the owner's name and address), the decision stays."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    plate = models.CharField(_("plate"), max_length=12)
    status = models.CharField(_("status"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.PENDING)
    created_at = models.DateTimeField(_("sent at"))
    # the photo (Django storage), re-encoded without EXIF/GPS; emptied when the claim is decided or expires
    image_name = models.CharField(max_length=200, blank=True)
    image_sha256 = models.CharField(max_length=64)
    image_deleted_at = models.DateTimeField(null=True, blank=True)
    # the background read: does the plate appear in the photo's text (a hint for the reviewer, never a decision)
    ocr_done = models.BooleanField(default=False)
    ocr_plate_seen = models.BooleanField(null=True)
    # the decision
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.CharField(_("decided by"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("plate claim")
        verbose_name_plural = _("plate claims")
        indexes = [models.Index(fields=["mall_group", "status", "created_at"], name="parking_claim_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "plate"], condition=Q(status="pending"), name="parking_claim_one_pending"
            ),
        ]
