"""Parking administration for the console (docs/parking.md, "Console (operators)"): car parks, zones, gates, tariff
versions, and the two fixes an operator makes to a stay — closing a stale stay and resolving an unpaid exit.

Every write is one durable transaction that locks the car park (or the stay) first and leaves an audit event with
who, what and why. Nothing here moves money or points: a stay is paid only through the checkout pipeline
(services.parking_pay / the car-park system's payment events); writing off an unpaid exit records the decision and
changes no ledger and no paid amount.

Tariff versions (validated by building the rules' Tariff, so the console accepts exactly what the engine can price):

* a version is never edited once saved; a change is a new version from a later moment;
* a new version starts now ("immediately") or in the future, and after the start of every existing version — the
  timeline only grows at its end, so a version already in force or a stay priced by it never changes;
* versions are open-ended: each one is in force from its start until the next one starts (`rules.tariff_for` takes
  the latest start), so there are no overlaps to resolve and, once a car park has a version, no gaps; a version
  stored with an end (imported) must not leave a gap before the new one;
* a version that is not in force yet (scheduled) may be withdrawn; to change it, withdraw it and create it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record, audited_save, diff, pii_access_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError, NotFoundError, ValidationError
from galleria.core.locking import lock_one
from galleria.core.money import format_cny
from galleria.merchants.selectors import mall_list, store_for_payments

from . import rules, selectors
from .models import CarPark, Gate, ParkingSession, TariffVersion, Zone
from .types import GateDirection, SessionException, SessionState

MAX_FEN = 10**9  # the rules' bound on every price and cap (¥10 million)
MAX_GRACE_MINUTES = 24 * 60
MAX_SPEND_STEPS = 5
MAX_BENEFIT_HOURS = 24 * 31
MAX_HOLIDAY_RULES = 5
MAX_HOLIDAY_DATES = 100
REASON_MAX = 160

TARIFF_MESSAGES: dict[str, Any] = {
    "tariff.amount": _("Enter an amount between ¥0 and ¥10,000,000."),
    "tariff.count": _("Enter a whole number between %(low)s and %(high)s."),
    "tariff.night": _("A night band needs a start and an end at whole minutes, and they cannot be the same time."),
    "tariff.holiday": _("Holiday dates are dates; weekdays are Monday to Sunday."),
    "tariff.rate": _("This rate cannot be priced."),
    "tariff.effective": _("Enter a moment in time."),
    "tariff.code": _("Give the version a code of 1 to 40 characters."),
}
# where a rules.TariffError's params["field"] lands on the console's form
TARIFF_FIELDS = {
    "code": "code",
    "effective_from": "effective_from",
    "effective_until": "effective_from",
    "unit_minutes": "unit_minutes",
    "free_minutes": "free_minutes",
    "night.starts": "night_starts",
    "night.ends": "night_ends",
    "night": "night_starts",
    "rates": "day_price_fen",
    "holidays": "holidays",
    "holidays.dates": "holidays",
    "holidays.weekdays": "holidays",
    "holidays.rates": "holidays",
}


# ---------------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class CarParkIn:
    code: str
    name: str
    capacity: int
    store_id: int | None
    opens_at: dt.time | None = None
    closes_at: dt.time | None = None
    leave_grace_minutes: int = 15
    auto_pay_cap_fen: int = 10000
    lost_ticket_fen: int = 5000
    spend_steps: tuple[tuple[int, int], ...] = ()  # (threshold_fen, hours)
    is_active: bool = True


@dataclass(frozen=True)
class ZoneIn:
    code: str
    name: str
    floor: str = ""
    capacity: int = 0


@dataclass(frozen=True)
class GateIn:
    code: str
    name: str
    direction: str
    zone_id: int | None = None


@dataclass(frozen=True)
class HolidayIn:
    """Other prices on listed dates and/or weekdays (0 = Monday … 6 = Sunday). A price or cap left as None is the
    same as on ordinary days."""

    dates: tuple[dt.date, ...] = ()
    weekdays: tuple[int, ...] = ()
    day_price_fen: int | None = None
    day_cap_fen: int | None = None
    night_price_fen: int | None = None
    night_cap_fen: int | None = None
    daily_cap_fen: int | None = None

    def stored(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "dates": sorted(d.isoformat() for d in set(self.dates)),
            "weekdays": sorted(set(self.weekdays)),
        }
        for name in ("day_price_fen", "day_cap_fen", "night_price_fen", "night_cap_fen", "daily_cap_fen"):
            value = getattr(self, name)
            if value is not None:
                row[name] = value
        return row


@dataclass(frozen=True)
class TariffIn:
    code: str
    day_price_fen: int
    effective_from: dt.datetime | None = None  # None: from now
    unit_minutes: int = 60
    free_minutes: int = 0
    free_minutes_mode: str = rules.FreeMinutesMode.CHARGE_FROM_ENTRY.value
    day_cap_fen: int | None = None
    night_starts: dt.time | None = None
    night_ends: dt.time | None = None
    night_price_fen: int | None = None
    night_cap_fen: int | None = None
    daily_cap_fen: int | None = None
    cap_mode: str = rules.CapMode.CALENDAR_DAY.value
    holidays: tuple[HolidayIn, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------------------------------------------- helpers


def _invalid(fields: Mapping[str, Any], *, code: str = "parking.invalid") -> ValidationError:
    first = next(iter(fields.values()))
    return ValidationError(first, code=code, fields=dict(fields))


def _django_invalid(exc: DjangoValidationError) -> ValidationError:
    fields = {name: " ".join(str(m) for m in messages) for name, messages in exc.message_dict.items()}
    return _invalid(fields)


def _car_park_locked(*, car_park_id: int, mall_group_id: int | None) -> CarPark:
    qs = CarPark.objects.select_related("mall").filter(pk=car_park_id)
    if mall_group_id is not None:
        qs = qs.filter(mall__group_id=mall_group_id)
    try:
        return lock_one(qs, of=("self",))
    except CarPark.DoesNotExist as exc:
        raise NotFoundError(_("No such car park."), code="parking.car_park_not_found") from exc


def _check_fen(value: int | None, name: str, errors: dict[str, Any]) -> None:
    if value is not None and not 0 <= value <= MAX_FEN:
        errors[name] = TARIFF_MESSAGES["tariff.amount"]


# ---------------------------------------------------------------------------------------------------- car parks


def _car_park_errors(data: CarParkIn, *, mall_id: int, mall_group_id: int, exclude_id: int | None) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    taken = CarPark.objects.filter(mall_id=mall_id, code=data.code)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        errors["code"] = _("Another car park of this mall has this code.")
    if data.store_id is not None:
        store = store_for_payments(store_id=data.store_id, mall_group_id=mall_group_id)
        if store is None or store.merchant.mall_id != mall_id:
            errors["store"] = _("Choose an open store of this mall.")
    if (data.opens_at is None) != (data.closes_at is None):
        errors["closes_at" if data.closes_at is None else "opens_at"] = _(
            "Give both opening times, or neither for a car park open day and night."
        )
    elif data.opens_at is not None and data.opens_at == data.closes_at:
        errors["closes_at"] = _("Opening and closing cannot be the same time.")
    if not 0 <= data.leave_grace_minutes <= MAX_GRACE_MINUTES:
        errors["leave_grace_minutes"] = _("Enter 0 to 1440 minutes.")
    _check_fen(data.auto_pay_cap_fen, "auto_pay_cap_fen", errors)
    _check_fen(data.lost_ticket_fen, "lost_ticket_fen", errors)
    if len(data.spend_steps) > MAX_SPEND_STEPS:
        errors["spend_steps"] = _("At most %(n)s spend steps.") % {"n": MAX_SPEND_STEPS}
    thresholds = [t for t, _h in data.spend_steps]
    if len(set(thresholds)) != len(thresholds):
        errors["spend_steps"] = _("Each spend step needs its own threshold.")
    for threshold, hours in data.spend_steps:
        if not 1 <= threshold <= MAX_FEN or not 1 <= hours <= MAX_BENEFIT_HOURS:
            errors["spend_steps"] = _("A step is a spend above ¥0 and 1 to 744 hours.")
    if data.capacity < 0:
        errors["capacity"] = _("Enter 0 or more spaces.")
    if exclude_id is not None:
        zoned = sum(Zone.objects.filter(car_park_id=exclude_id).values_list("capacity", flat=True))
        if data.capacity < zoned:
            errors["capacity"] = _("The zones have %(n)s spaces: the car park needs at least as many.") % {"n": zoned}
    return errors


def car_park_save(
    *, mall_group_id: int, data: CarParkIn, actor: Actor, car_park_id: int | None = None, mall_id: int | None = None
) -> CarPark:
    """Create a car park in a mall of the group (`mall_id`) or change one (`car_park_id`; the mall stays). Audited."""
    with transaction.atomic(durable=True):
        if car_park_id is None:
            if mall_id is None or not mall_list(mall_group_id=mall_group_id).filter(pk=mall_id).exists():
                raise _invalid({"mall": _("Choose a mall of this group.")})
            park = CarPark(mall_id=mall_id)
        else:
            park = _car_park_locked(car_park_id=car_park_id, mall_group_id=mall_group_id)
        errors = _car_park_errors(data, mall_id=park.mall_id, mall_group_id=mall_group_id, exclude_id=car_park_id)
        if errors:
            raise _invalid(errors)
        values = {
            "code": data.code,
            "name": data.name,
            "capacity": data.capacity,
            "store_id": data.store_id,
            "opens_at": data.opens_at,
            "closes_at": data.closes_at,
            "leave_grace_minutes": data.leave_grace_minutes,
            "auto_pay_cap_fen": data.auto_pay_cap_fen,
            "lost_ticket_fen": data.lost_ticket_fen,
            "spend_steps": [[t, h] for t, h in sorted(data.spend_steps)],
            "is_active": data.is_active,
        }
        try:
            return audited_save(
                obj=park,
                values=values,
                fields=values.keys(),
                actor=actor,
                action="parking.car_park_save",
                label=data.name,
                mall_group_id=mall_group_id,
                is_new=car_park_id is None,
            )
        except DjangoValidationError as exc:
            raise _django_invalid(exc) from exc


# ---------------------------------------------------------------------------------------------------- zones


def _zone_errors(data: ZoneIn, park: CarPark, zone_id: int | None) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    others = Zone.objects.filter(car_park=park)
    if zone_id is not None:
        others = others.exclude(pk=zone_id)
    if others.filter(code=data.code).exists():
        errors["code"] = _("Another zone of this car park has this code.")
    if data.capacity < 0:
        errors["capacity"] = _("Enter 0 or more spaces.")
    elif sum(others.values_list("capacity", flat=True)) + data.capacity > park.capacity:
        errors["capacity"] = _("The zones would have more spaces than the car park (%(n)s).") % {"n": park.capacity}
    return errors


def zone_save(
    *, mall_group_id: int | None, car_park_id: int, data: ZoneIn, actor: Actor, zone_id: int | None = None
) -> Zone:
    with transaction.atomic(durable=True):
        park = _car_park_locked(car_park_id=car_park_id, mall_group_id=mall_group_id)
        zone = Zone(car_park=park) if zone_id is None else Zone.objects.filter(car_park=park, pk=zone_id).first()
        if zone is None:
            raise NotFoundError(_("No such zone."), code="parking.zone_not_found")
        errors = _zone_errors(data, park, zone_id)
        if errors:
            raise _invalid(errors)
        values = {"code": data.code, "name": data.name, "floor": data.floor, "capacity": data.capacity}
        try:
            return audited_save(
                obj=zone,
                values=values,
                fields=values.keys(),
                actor=actor,
                action="parking.zone_save",
                label=f"{park.name} · {data.name}",
                mall_group_id=park.mall.group_id,
                is_new=zone_id is None,
                exclude=["free_reported", "free_reported_at"],
            )
        except DjangoValidationError as exc:
            raise _django_invalid(exc) from exc


def zone_remove(*, mall_group_id: int | None, car_park_id: int, zone_id: int, actor: Actor) -> None:
    """Remove a zone no stay ever used (a used zone keeps the history of where cars parked: rename it, or set its
    spaces to 0). Gates in the zone lose their zone."""
    with transaction.atomic(durable=True):
        park = _car_park_locked(car_park_id=car_park_id, mall_group_id=mall_group_id)
        zone = Zone.objects.filter(car_park=park, pk=zone_id).first()
        if zone is None:
            raise NotFoundError(_("No such zone."), code="parking.zone_not_found")
        if ParkingSession.objects.filter(zone=zone).exists():
            raise ConflictError(
                _("Cars have parked in this zone: it stays in their history. Rename it or set its spaces to 0."),
                code="parking.zone_used",
            )
        audit_record(
            actor=actor,
            action="parking.zone_remove",
            target_type="zone",
            target_id=zone.pk,
            target_label=f"{park.name} · {zone.name}",
            mall_group_id=park.mall.group_id,
            changes={"code": zone.code, "name": zone.name, "capacity": zone.capacity},
        )
        zone.delete()


# ---------------------------------------------------------------------------------------------------- gates


def gate_save(
    *, mall_group_id: int | None, car_park_id: int, data: GateIn, actor: Actor, gate_id: int | None = None
) -> Gate:
    with transaction.atomic(durable=True):
        park = _car_park_locked(car_park_id=car_park_id, mall_group_id=mall_group_id)
        gate = Gate(car_park=park) if gate_id is None else Gate.objects.filter(car_park=park, pk=gate_id).first()
        if gate is None:
            raise NotFoundError(_("No such gate."), code="parking.gate_not_found")
        errors: dict[str, Any] = {}
        others = Gate.objects.filter(car_park=park, code=data.code)
        if gate_id is not None:
            others = others.exclude(pk=gate_id)
        if others.exists():
            errors["code"] = _("Another gate of this car park has this code.")
        if data.direction not in GateDirection.values:
            errors["direction"] = _("Choose entry, exit or both.")
        if data.zone_id is not None and not Zone.objects.filter(car_park=park, pk=data.zone_id).exists():
            errors["zone"] = _("Choose a zone of this car park.")
        if errors:
            raise _invalid(errors)
        values = {"code": data.code, "name": data.name, "direction": data.direction, "zone_id": data.zone_id}
        try:
            return audited_save(
                obj=gate,
                values=values,
                fields=values.keys(),
                actor=actor,
                action="parking.gate_save",
                label=f"{park.name} · {data.name}",
                mall_group_id=park.mall.group_id,
                is_new=gate_id is None,
            )
        except DjangoValidationError as exc:
            raise _django_invalid(exc) from exc


def gate_remove(*, mall_group_id: int | None, car_park_id: int, gate_id: int, actor: Actor) -> None:
    """Remove a gate (stays keep the gate codes they were recorded with)."""
    with transaction.atomic(durable=True):
        park = _car_park_locked(car_park_id=car_park_id, mall_group_id=mall_group_id)
        gate = Gate.objects.filter(car_park=park, pk=gate_id).first()
        if gate is None:
            raise NotFoundError(_("No such gate."), code="parking.gate_not_found")
        audit_record(
            actor=actor,
            action="parking.gate_remove",
            target_type="gate",
            target_id=gate.pk,
            target_label=f"{park.name} · {gate.name}",
            mall_group_id=park.mall.group_id,
            changes={"code": gate.code, "name": gate.name, "direction": gate.direction},
        )
        gate.delete()


# ---------------------------------------------------------------------------------------------------- tariffs


def _unsaved_version(data: TariffIn, *, effective_from: dt.datetime) -> TariffVersion:
    return TariffVersion(
        code=data.code,
        effective_from=effective_from,
        unit_minutes=data.unit_minutes,
        free_minutes=data.free_minutes,
        free_minutes_mode=data.free_minutes_mode,
        cap_mode=data.cap_mode,
        day_price_fen=data.day_price_fen,
        day_cap_fen=data.day_cap_fen,
        night_starts=data.night_starts,
        night_ends=data.night_ends,
        night_price_fen=data.night_price_fen,
        night_cap_fen=data.night_cap_fen,
        daily_cap_fen=data.daily_cap_fen,
        holidays=[h.stored() for h in data.holidays],
    )


def _tariff_field_errors(data: TariffIn) -> dict[str, Any]:
    """What the rules would refuse, said per field of the console's form (the rules name generic fields)."""
    errors: dict[str, Any] = {}
    if not data.code or len(data.code) > 40:
        errors["code"] = TARIFF_MESSAGES["tariff.code"]
    for name in ("day_price_fen", "day_cap_fen", "night_price_fen", "night_cap_fen", "daily_cap_fen"):
        _check_fen(getattr(data, name), name, errors)
    if not 1 <= data.unit_minutes <= 1440:
        errors["unit_minutes"] = TARIFF_MESSAGES["tariff.count"] % {"low": 1, "high": 1440}
    if not 0 <= data.free_minutes <= 1440:
        errors["free_minutes"] = TARIFF_MESSAGES["tariff.count"] % {"low": 0, "high": 1440}
    if data.free_minutes_mode not in {m.value for m in rules.FreeMinutesMode}:
        errors["free_minutes_mode"] = _("Choose how the free minutes count.")
    if data.cap_mode not in {m.value for m in rules.CapMode}:
        errors["cap_mode"] = _("Choose what the daily cap covers.")
    has_start, has_end = data.night_starts is not None, data.night_ends is not None
    if has_start != has_end:
        errors["night_ends" if has_start else "night_starts"] = TARIFF_MESSAGES["tariff.night"]
    if has_start and has_end and data.night_price_fen is None:
        errors["night_price_fen"] = _("Enter the night price (the night band has one).")
    if not has_start and not has_end and (data.night_price_fen is not None or data.night_cap_fen is not None):
        errors["night_starts"] = _("Give the night band its times, or leave the night price empty.")
    if len(data.holidays) > MAX_HOLIDAY_RULES:
        errors["holidays"] = _("At most %(n)s holiday rules.") % {"n": MAX_HOLIDAY_RULES}
    for i, rule in enumerate(data.holidays):
        name = f"holidays.{i}"
        prices = (rule.day_price_fen, rule.day_cap_fen, rule.night_price_fen, rule.night_cap_fen, rule.daily_cap_fen)
        if not rule.dates and not rule.weekdays:
            errors[name] = _("Give the holiday rule dates or weekdays.")
        elif all(p is None for p in prices):
            errors[name] = _("Give the holiday rule at least one price or cap.")
        elif len(rule.dates) > MAX_HOLIDAY_DATES:
            errors[name] = _("At most %(n)s dates in one rule.") % {"n": MAX_HOLIDAY_DATES}
        elif any(not 0 <= w <= 6 for w in rule.weekdays):
            errors[name] = TARIFF_MESSAGES["tariff.holiday"]
        elif any(p is not None and not 0 <= p <= MAX_FEN for p in prices):
            errors[name] = TARIFF_MESSAGES["tariff.amount"]
        elif not has_start and (rule.night_price_fen is not None or rule.night_cap_fen is not None):
            errors[name] = _("Night prices need a night band.")
    return errors


def tariff_build(data: TariffIn, *, effective_from: dt.datetime | None = None) -> rules.Tariff:
    """The version as the rules' Tariff, or ValidationError with the fields of the console's form (codes of
    rules.TariffError mapped to translated messages). Used to validate and to preview a version before saving."""
    errors = _tariff_field_errors(data)
    if errors:
        raise _invalid(errors, code="parking.tariff_invalid")
    start = effective_from or data.effective_from or timeutil.now()
    try:
        return selectors.tariff_rules(_unsaved_version(data, effective_from=start))
    except rules.TariffError as exc:
        name = TARIFF_FIELDS.get(str(exc.params.get("field", "")), "code")
        message = TARIFF_MESSAGES.get(exc.code, TARIFF_MESSAGES["tariff.rate"])
        if exc.code == "tariff.count":
            message = message % {"low": exc.params.get("low", 0), "high": exc.params.get("high", 0)}
        raise _invalid({name: message}, code=exc.code) from exc


def tariff_status(version: TariffVersion, *, in_force_id: int | None, at: dt.datetime) -> str:
    """ "in_force" | "scheduled" | "past" (the version `rules.tariff_for` picks at `at` is the one in force)."""
    if version.pk == in_force_id:
        return "in_force"
    return "scheduled" if version.effective_from > at else "past"


def tariff_version_create(
    *, mall_group_id: int | None, car_park_id: int, data: TariffIn, actor: Actor, at: dt.datetime | None = None
) -> TariffVersion:
    """A new version of the car park's tariff from `data.effective_from` (None: now). See the module's rules."""
    at = at or timeutil.now()
    start = data.effective_from or at
    tariff_build(data, effective_from=start)
    with transaction.atomic(durable=True):
        park = _car_park_locked(car_park_id=car_park_id, mall_group_id=mall_group_id)
        versions = list(TariffVersion.objects.filter(car_park=park).order_by("-effective_from"))
        errors: dict[str, Any] = {}
        if data.effective_from is not None and data.effective_from < at:
            errors["effective_from"] = _("A new version starts now or later: what is in force is never changed.")
        elif versions and start <= versions[0].effective_from:
            errors["effective_from"] = _(
                "Start after the latest version (%(when)s). To change a scheduled version, withdraw it first."
            ) % {"when": timeutil.local(versions[0].effective_from, park.mall.timezone).strftime("%Y-%m-%d %H:%M")}
        elif versions and versions[0].effective_until is not None and start > versions[0].effective_until:
            errors["effective_from"] = _(
                "The previous version ends before this one starts: no time may be left without a tariff."
            )
        if any(v.code == data.code for v in versions):
            errors["code"] = _("This car park already has a version with this code.")
        if errors:
            raise _invalid(errors, code="parking.tariff_invalid")
        version = _unsaved_version(data, effective_from=start)
        version.car_park = park
        version.created_by = actor.label[:100]
        try:
            with transaction.atomic():
                version.save()
        except IntegrityError as exc:
            raise _invalid({"effective_from": _("Another version starts at this moment.")}) from exc
        audit_record(
            actor=actor,
            action="parking.tariff_create",
            target_type="tariffversion",
            target_id=version.pk,
            target_label=f"{park.name} · {version.code}",
            mall_group_id=park.mall.group_id,
            changes=diff({}, tariff_summary(version)),
        )
        return version


def tariff_version_withdraw(*, mall_group_id: int | None, car_park_id: int, version_id: int, actor: Actor) -> None:
    """Withdraw a version that is not in force yet (its start is still in the future). Audited with its content."""
    at = timeutil.now()
    with transaction.atomic(durable=True):
        park = _car_park_locked(car_park_id=car_park_id, mall_group_id=mall_group_id)
        version = TariffVersion.objects.filter(car_park=park, pk=version_id).first()
        if version is None:
            raise NotFoundError(_("No such tariff version."), code="parking.tariff_not_found")
        if version.effective_from <= at:
            raise ConflictError(
                _("This version has been in force: it stays, and a change is a new version."),
                code="parking.tariff_in_force",
            )
        audit_record(
            actor=actor,
            action="parking.tariff_withdraw",
            target_type="tariffversion",
            target_id=version.pk,
            target_label=f"{park.name} · {version.code}",
            mall_group_id=park.mall.group_id,
            changes=diff(tariff_summary(version), {}),
        )
        version.delete()


def tariff_summary(version: TariffVersion) -> dict[str, Any]:
    """The version's settings as plain values (for the audit log)."""
    return {
        "code": version.code,
        "effective_from": version.effective_from.isoformat(),
        "unit_minutes": version.unit_minutes,
        "free_minutes": version.free_minutes,
        "free_minutes_mode": version.free_minutes_mode,
        "day_price_fen": version.day_price_fen,
        "day_cap_fen": version.day_cap_fen,
        "night_starts": version.night_starts.strftime("%H:%M") if version.night_starts else None,
        "night_ends": version.night_ends.strftime("%H:%M") if version.night_ends else None,
        "night_price_fen": version.night_price_fen,
        "night_cap_fen": version.night_cap_fen,
        "daily_cap_fen": version.daily_cap_fen,
        "cap_mode": version.cap_mode,
        "holidays": version.holidays or None,
    }


def fee_preview(
    tariff: rules.Tariff,
    *,
    entry_at: dt.datetime,
    exit_at: dt.datetime,
    tz: dt.tzinfo,
    tier_hours: int = 0,
    spend_today_fen: int = 0,
    spend_steps: Sequence[tuple[int, int]] = (),
    grant_hours: int = 0,
) -> rules.FeeResult:
    """What a stay would cost under `tariff` with the benefits given (a person's what-if: nothing is stored).
    ValidationError with the form's fields for a stay the calculator refuses."""
    grants = (rules.MerchantGrant(grant_id="preview", merchant_id="preview", hours=grant_hours),) if grant_hours else ()
    try:
        benefits = rules.Benefits(
            tier_hours=tier_hours,
            spend_today_fen=spend_today_fen,
            spend_steps=tuple(spend_steps),
            merchant_grants=grants,
        )
        return rules.calculate_fee(tariff, entry_at=entry_at, exit_at=exit_at, tz=tz, benefits=benefits)
    except rules.FeeError as exc:
        messages = {
            "parking.exit_before_entry": ("exit_at", _("The exit is before the entry.")),
            "parking.stay_too_long": ("exit_at", _("A stay of more than 1000 days is a case for a person.")),
        }
        name, message = messages.get(exc.code, ("tier_hours", _("Enter hours between 0 and 744.")))
        raise _invalid({name: message}, code=exc.code) from exc
    except rules.TariffError as exc:
        raise _invalid({"spend_today_fen": TARIFF_MESSAGES["tariff.amount"]}, code=exc.code) from exc


# ---------------------------------------------------------------------------------------------------- stays


def _session_locked(*, session_id: int, mall_group_id: int | None) -> ParkingSession:
    qs = ParkingSession.objects.select_related("car_park", "car_park__mall").filter(pk=session_id)
    if mall_group_id is not None:
        qs = qs.filter(car_park__mall__group_id=mall_group_id)
    try:
        return lock_one(qs, of=("self",))
    except ParkingSession.DoesNotExist as exc:
        raise NotFoundError(_("No such stay."), code="parking.not_found") from exc


def _reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if len(text) < 4:
        raise _invalid({"reason": _("Say why (at least 4 characters).")}, code="parking.reason_required")
    return text[:REASON_MAX]


def session_close(
    *, mall_group_id: int | None, session_id: int, reason: str, actor: Actor, at: dt.datetime | None = None
) -> ParkingSession:
    """Close a stay still open although the car is gone (its exit was never seen): state "closed", exception
    "entry without an exit", left at `at`. Nothing is charged and nothing paid changes; who and why are audited.
    If the car is in fact still there, its exit will be recorded as an exit without an entry."""
    at = at or timeutil.now()
    why = _reason(reason)
    with transaction.atomic(durable=True):
        session = _session_locked(session_id=session_id, mall_group_id=mall_group_id)
        if session.state != SessionState.PARKED:
            raise ConflictError(_("This stay is not open any more."), code="parking.not_parked")
        before = {"state": session.state, "exception": session.exception, "exit_at": None}
        session.state, session.exception = SessionState.CLOSED, SessionException.NO_EXIT
        session.exit_at = max(at, session.entry_at) if session.entry_at else at
        session.note = (gettext("Closed by %(who)s: %(why)s") % {"who": actor.label, "why": why})[:200]
        session.save(update_fields=["state", "exception", "exit_at", "note", "updated_at"])
        audit_record(
            actor=actor,
            action="parking.stay_close",
            target_type="parking_session",
            target_id=session.pk,
            target_label=rules.mask_plate(session.plate),
            mall_group_id=session.car_park.mall.group_id,
            changes={
                **diff(before, {"state": session.state, "exception": session.exception, "exit_at": session.exit_at}),
                "reason": why,
            },
        )
        return session


UNPAID_RESOLUTIONS = ("settled", "written_off")


def session_unpaid_resolve(
    *, mall_group_id: int | None, session_id: int, resolution: str, reason: str, actor: Actor
) -> ParkingSession:
    """Take an unpaid exit off the exceptions queue: "settled" (paid outside anything Galleria records — a payment
    the car-park system reports later is still recorded) or "written_off" (not collected). Neither changes what was
    paid, the fee or any ledger; the decision, the amount left unpaid, who and why are audited and noted on the
    stay."""
    if resolution not in UNPAID_RESOLUTIONS:
        raise _invalid({"resolution": _("Choose settled or written off.")})
    why = _reason(reason)
    with transaction.atomic(durable=True):
        session = _session_locked(session_id=session_id, mall_group_id=mall_group_id)
        if session.exception != SessionException.UNPAID_EXIT:
            raise ConflictError(_("This stay is not an unpaid exit (any more)."), code="parking.not_unpaid")
        unpaid = max((session.fee_fen or 0) - session.paid_fen, 0)
        label = gettext("Settled outside Galleria") if resolution == "settled" else gettext("Written off")
        session.exception = SessionException.NONE
        session.note = (
            gettext("%(what)s by %(who)s (%(amount)s unpaid): %(why)s")
            % {"what": label, "who": actor.label, "amount": format_cny(unpaid), "why": why}
        )[:200]
        session.save(update_fields=["exception", "note", "updated_at"])
        audit_record(
            actor=actor,
            action=f"parking.unpaid_{resolution}",
            target_type="parking_session",
            target_id=session.pk,
            target_label=rules.mask_plate(session.plate),
            mall_group_id=session.car_park.mall.group_id,
            changes={"unpaid_fen": unpaid, "paid_fen": session.paid_fen, "reason": why},
        )
        return session


def session_view_record(*, session: ParkingSession, actor: Actor, source: str) -> None:
    """A person opened a stay's page with its full plate: the audit log (and the member's PII access log when the
    stay belongs to a member), like the member 360 page."""
    audit_record(
        actor=actor,
        action="parking.stay_view",
        target_type="parking_session",
        target_id=session.pk,
        target_label=rules.mask_plate(session.plate),
        mall_group_id=session.car_park.mall.group_id,
    )
    if session.member_id is not None:
        pii_access_record(
            actor=actor,
            mall_group_id=session.car_park.mall.group_id,
            member_ids=[session.member_id],
            fields=("plate",),
            source=source,
        )


__all__ = [
    "CarParkIn",
    "GateIn",
    "HolidayIn",
    "TariffIn",
    "ZoneIn",
    "car_park_save",
    "fee_preview",
    "gate_remove",
    "gate_save",
    "session_close",
    "session_unpaid_resolve",
    "session_view_record",
    "tariff_build",
    "tariff_status",
    "tariff_version_create",
    "tariff_version_withdraw",
    "zone_remove",
    "zone_save",
]
