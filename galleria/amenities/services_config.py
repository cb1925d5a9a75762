"""Member services' console configuration (docs/amenities.md): service desks, rental item types, bookable
services with their weekly hours, and the time slots the hours make. Every change is audited."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.locking import lock_one
from galleria.malls.selectors import mall_list
from galleria.merchants.selectors import store_for_payments
from galleria.points import selectors as points_selectors
from galleria.tiers.selectors import tier_level_options

from . import exceptions, rules, selectors
from .models import OfferingHours, RentalItemType, ServiceDesk, ServiceOffering, TimeSlot
from .types import ItemTypeIn, OfferingIn, WeeklyHours

__all__ = ["desk_save", "hours_save", "item_type_save", "offering_save", "slots_generate"]

SLOT_DAYS = 14


def _mall_ok(mall_group_id: int, mall_id: int) -> bool:
    return mall_list(mall_group_id=mall_group_id).filter(pk=mall_id).exists()


def desk_save(
    *,
    mall_group_id: int,
    desk_id: int | None,
    mall_id: int,
    name: str,
    place: str,
    opening_hours: str,
    store_id: int | None,
    is_active: bool,
    actor: Actor,
) -> ServiceDesk:
    errors: dict[str, str] = {}
    if not _mall_ok(mall_group_id, mall_id):
        errors["mall"] = _("Choose a mall of this group.")
    if not name.strip() or len(name) > 60:
        errors["name"] = _("Enter a name of at most 60 characters.")
    if store_id is not None and store_for_payments(store_id=store_id, mall_group_id=mall_group_id) is None:
        errors["store"] = _("Choose an open store of this mall group.")
    if errors:
        raise exceptions.InvalidError(_("Check the fields marked."), fields=errors)
    with transaction.atomic(durable=True):
        if desk_id is None:
            desk = ServiceDesk(mall_group_id=mall_group_id)
        else:
            found = selectors.desk_get(mall_group_id=mall_group_id, desk_id=desk_id)
            if found is None:
                raise exceptions.DeskNotFoundError()
            desk = lock_one(ServiceDesk.objects.filter(pk=found.pk))
        desk.mall_id, desk.name, desk.place = mall_id, name.strip(), place.strip()[:120]
        desk.opening_hours, desk.store_id, desk.is_active = opening_hours.strip()[:120], store_id, is_active
        desk.save()
        audit_record(
            actor=actor,
            action="amenity.desk_save",
            target_type="amenity_desk",
            target_id=desk.pk,
            target_label=desk.name,
            mall_group_id=mall_group_id,
            changes={"mall": mall_id, "store": store_id, "open": is_active, "new": desk_id is None},
        )
        return desk


def item_type_save(*, mall_group_id: int, item_type_id: int | None, data: ItemTypeIn, actor: Actor) -> RentalItemType:
    errors = rules.item_type_problems(data)
    tier_codes = set(tier_level_options(mall_group_id=mall_group_id).values_list("code", flat=True))
    unknown = sorted(set(data.free_minutes_by_tier) - tier_codes)
    if unknown:
        errors["free_minutes_by_tier"] = _("Unknown tier codes: %(codes)s.") % {"codes": ", ".join(unknown)}
    clash = RentalItemType.objects.filter(mall_group_id=mall_group_id, code=data.code)
    if item_type_id is not None:
        clash = clash.exclude(pk=item_type_id)
    if clash.exists():
        errors["code"] = _("Another item already has this code.")
    if errors:
        raise exceptions.InvalidError(_("Check the fields marked."), fields=errors)
    with transaction.atomic(durable=True):
        if item_type_id is None:
            item = RentalItemType(mall_group_id=mall_group_id)
        else:
            found = selectors.item_type_get(mall_group_id=mall_group_id, item_type_id=item_type_id)
            if found is None:
                raise exceptions.ItemTypeNotFoundError()
            item = lock_one(RentalItemType.objects.filter(pk=found.pk))
        for name in ItemTypeIn.__dataclass_fields__:
            value = getattr(data, name)
            setattr(item, name, value.strip() if isinstance(value, str) else value)
        item.save()
        audit_record(
            actor=actor,
            action="amenity.item_save",
            target_type="amenity_item",
            target_id=item.pk,
            target_label=item.name,
            mall_group_id=mall_group_id,
            changes={
                "deposit_points": data.deposit_points,
                "deposit_fen": data.deposit_fen,
                "free_minutes": data.free_minutes,
                "by_tier": data.free_minutes_by_tier,
                "fee": f"{data.fee_per_unit_fen}/{data.fee_unit}, cap {data.daily_cap_fen}",
                "lost_fee_fen": data.lost_fee_fen,
            },
        )
        return item


def offering_save(*, mall_group_id: int, offering_id: int | None, data: OfferingIn, actor: Actor) -> ServiceOffering:
    errors = rules.offering_problems(data)
    if not _mall_ok(mall_group_id, data.mall_id):
        errors["mall"] = _("Choose a mall of this group.")
    if data.min_tier_id is not None and not tier_level_options(mall_group_id=mall_group_id).filter(pk=data.min_tier_id):
        errors["min_tier"] = _("Choose a tier of this mall group.")
    if data.price_points:
        config = points_selectors.redeem_config(policy=points_selectors.policy_get(mall_group_id=mall_group_id))
        problem = rules.price_problem(
            data.price_points,
            min_points=config.min_points,
            multiple=config.multiple,
            points_per_yuan=config.points_per_yuan,
        )
        if problem:
            errors["price_points"] = problem
        if data.store_id is None:
            errors["store"] = _("A priced service needs the store whose sales book the points.")
    if data.store_id is not None and store_for_payments(store_id=data.store_id, mall_group_id=mall_group_id) is None:
        errors["store"] = _("Choose an open store of this mall group.")
    if errors:
        raise exceptions.InvalidError(_("Check the fields marked."), fields=errors)
    with transaction.atomic(durable=True):
        if offering_id is None:
            offering = ServiceOffering(mall_group_id=mall_group_id)
        else:
            found = selectors.offering_get(mall_group_id=mall_group_id, offering_id=offering_id)
            if found is None:
                raise exceptions.OfferingNotFoundError()
            offering = lock_one(ServiceOffering.objects.filter(pk=found.pk))
        for name in OfferingIn.__dataclass_fields__:
            value = getattr(data, name)
            setattr(offering, name, value.strip() if isinstance(value, str) else value)
        if data.access != "min_tier":
            offering.min_tier_id = None
        offering.save()
        audit_record(
            actor=actor,
            action="amenity.offering_save",
            target_type="amenity_offering",
            target_id=offering.pk,
            target_label=offering.name,
            mall_group_id=mall_group_id,
            changes={
                "kind": data.kind,
                "access": data.access,
                "slot_minutes": data.slot_minutes,
                "new": offering_id is None,
            },
        )
        return offering


def hours_save(*, mall_group_id: int, offering_id: int, rows: list[WeeklyHours], actor: Actor) -> int:
    """Replace the offering's weekly hours; then make the slots of the next two weeks. Returns the slots made."""
    errors = rules.hours_problems(rows)
    if errors:
        raise exceptions.InvalidError(_("Check the fields marked."), fields=errors)
    found = selectors.offering_get(mall_group_id=mall_group_id, offering_id=offering_id)
    if found is None:
        raise exceptions.OfferingNotFoundError()
    with transaction.atomic(durable=True):
        lock_one(ServiceOffering.objects.filter(pk=found.pk))
        OfferingHours.objects.filter(offering_id=found.pk).delete()
        OfferingHours.objects.bulk_create(
            OfferingHours(offering_id=found.pk, weekday=r.weekday, start=r.start, end=r.end, capacity=r.capacity)
            for r in rows
        )
        audit_record(
            actor=actor,
            action="amenity.hours_save",
            target_type="amenity_offering",
            target_id=found.pk,
            target_label=found.name,
            mall_group_id=mall_group_id,
            changes={"hours": [f"{r.weekday} {r.start:%H:%M}-{r.end:%H:%M} ×{r.capacity}" for r in rows]},
        )
    return slots_generate(mall_group_id=mall_group_id, offering_id=found.pk)


def slots_generate(
    *, mall_group_id: int, offering_id: int, days: int = SLOT_DAYS, at: dt.datetime | None = None
) -> int:
    """Make the slots of the next `days` mall-local days from the weekly hours (idempotent: a slot that exists is
    kept with its bookings and capacity). Returns how many were made."""
    at = at or timeutil.now()
    offering = selectors.offering_get(mall_group_id=mall_group_id, offering_id=offering_id)
    if offering is None:
        raise exceptions.OfferingNotFoundError()
    tz = offering.mall.timezone
    wanted = rules.slots_for(
        selectors.offering_hours(offering_id=offering.pk),
        slot_minutes=offering.slot_minutes,
        first_day=timeutil.local_date(at, tz),
        days=days,
        tz_name=tz,
    )
    before = TimeSlot.objects.filter(offering=offering).count()
    TimeSlot.objects.bulk_create(
        [
            TimeSlot(offering=offering, starts_at=s.starts_at, ends_at=s.ends_at, capacity=s.capacity)
            for s in wanted
            if s.starts_at > at
        ],
        ignore_conflicts=True,
    )
    return TimeSlot.objects.filter(offering=offering).count() - before


def slots_generate_all(*, at: dt.datetime | None = None) -> int:
    """The daily job: every bookable offering gets its next two weeks of slots."""
    total = 0
    for offering in ServiceOffering.objects.filter(is_active=True).only("pk", "mall_group_id"):
        total += slots_generate(mall_group_id=offering.mall_group_id, offering_id=offering.pk, at=at)
    return total
