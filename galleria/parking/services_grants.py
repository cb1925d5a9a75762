"""Writes of merchant parking grants (docs/parking.md, "Merchant grants"): a cinema or a restaurant grants N hours of
parking to a visitor's plate from the merchant portal, funded by the merchant; the mall sets each merchant's
allowance in the console; a stay that uses a grant records it, and the merchant is billed for the fee it covered.

- `grant_create`: the allowance row is locked first, so two clerks granting at once are serialised on it and the
  month's budget (mall-local calendar month, revoked grants left out) is never exceeded. Idempotent per form token:
  the same token and the same grant returns the first grant; the same token for another grant is refused. A grant
  is valid until the end of the mall-local day it was made: it is for a car that enters by then (a car parked since
  the morning, or still parked overnight, may use it when it pays or leaves later).
- `grant_revoke`: only a grant no stay has used; the grant's row is locked, so a revoke and a stay taking the grant
  at once end one way or the other, never both.
- `allowance_save`: the console's setting per merchant (hours a month, most hours in one grant).
- `grants_settle_in_tx`: records, in the caller's transaction (the stay's row locked), the grants a stay's fee used —
  the stay, the minutes they took off and the fen they covered (`fen_used` is the merchant's cost). Only lines that
  saved something are recorded (`BenefitLine.is_used`): a grant that was not needed stays free for a later stay.

This module does not import `services` (which calls `grants_settle_in_tx`); plates are normalised by the same
normaliser (`rules.normalize_plate`) with the same error as `services.plate_or_error`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError, NotFoundError, ValidationError
from galleria.core.locking import lock_one, lock_rows
from galleria.merchants.selectors import merchant_get

from . import rules
from .models import GrantAllowance, ParkingGrant, ParkingSession
from .selectors_grants import granted_hours, month_bounds, month_of

MAX_HOURS_PER_GRANT = 24  # a grant is valid for one day
MAX_MONTHLY_HOURS = 100_000
MAX_NOTE = 80
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
ACTIVE = "active"  # merchants.models.MerchantStatus.ACTIVE


def _plate(text: str) -> str:
    """services.plate_or_error (not imported: services imports this module)."""
    try:
        return rules.normalize_plate(text)
    except rules.PlateError as exc:
        raise ValidationError(
            _("Not a valid plate: %(plate)s") % {"plate": text[:20]},
            code=exc.code,
            fields={"plate": exc.code},
        ) from exc


def grant_valid_until(granted_at: dt.datetime, tz_name: str | None) -> dt.datetime:
    """The last instant of the mall-local day of `granted_at`: a car that entered by then may use the grant."""
    day = timeutil.local_date(granted_at, tz_name)
    return timeutil.local_day_bounds(day, tz_name)[1] - dt.timedelta(microseconds=1)


def _merchant(merchant_id: int) -> Any:
    """The merchant with its mall (merchants.selectors.merchant_get)."""
    try:
        return merchant_get(mall_group_id=None, merchant_id=merchant_id)
    except ObjectDoesNotExist as exc:
        raise NotFoundError(_("No such merchant."), code="merchants.not_found") from exc


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def grant_create(
    *,
    merchant_id: int,
    plate: str,
    hours: int,
    actor: Actor,
    key: str,
    note: str = "",
    at: dt.datetime | None = None,
) -> ParkingGrant:
    """Grant `hours` of parking to `plate`, funded by the merchant. `key` is the form's token (8–64 letters, digits,
    - or _): the same key for the same grant returns the first grant. `at`: when it was granted (now, unless a
    grant made earlier is being recorded, as the demo's history does)."""
    plate = _plate(plate)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(
            _("A note has at most %(n)s characters.") % {"n": MAX_NOTE},
            code="parking.grant_note",
            fields={"note": "parking.grant_note"},
        )
    if not KEY_RE.match(key or ""):
        raise ValidationError(_("This form has expired: reload the page and try again."), code="parking.grant_key")
    n = _whole(hours)
    if n is None or n < 1:
        raise ValidationError(
            _("Choose how many hours to grant."), code="parking.grant_hours", fields={"hours": "parking.grant_hours"}
        )
    merchant = _merchant(merchant_id)
    if merchant.status != ACTIVE:
        raise ConflictError(
            _("Your shop is not active in the mall, so it cannot grant parking."), code="parking.merchant_inactive"
        )
    tz_name = merchant.mall.timezone
    stored_key = f"grant:{merchant.pk}:{key}"
    with transaction.atomic(durable=True):
        try:
            allowance = lock_one(GrantAllowance.objects.filter(merchant_id=merchant.pk))
        except GrantAllowance.DoesNotExist as exc:
            raise ValidationError(
                _("The mall has not set up parking grants for your shop."), code="parking.grant_not_allowed"
            ) from exc
        done = ParkingGrant.objects.filter(key=stored_key).first()
        if done is not None:
            if (done.plate, done.hours, done.note) != (plate, n, note):
                raise ConflictError(
                    _("This form was already used for another grant: reload the page."),
                    code="parking.grant_key_reused",
                )
            return done
        if n > allowance.max_hours_per_grant:
            raise ValidationError(
                ngettext(
                    "One grant is at most %(n)s hour.",
                    "One grant is at most %(n)s hours.",
                    allowance.max_hours_per_grant,
                )
                % {"n": allowance.max_hours_per_grant},
                code="parking.grant_hours_max",
                fields={"hours": "parking.grant_hours_max"},
                extra={"max_hours_per_grant": allowance.max_hours_per_grant},
            )
        now = at or timeutil.now()
        since, until = month_bounds(month_of(now, tz_name), tz_name)
        left = max(allowance.monthly_hours - granted_hours(merchant_id=merchant.pk, since=since, until=until), 0)
        if n > left:
            message = (
                ngettext(
                    "Only %(n)s hour is left in this month's parking budget.",
                    "Only %(n)s hours are left in this month's parking budget.",
                    left,
                )
                % {"n": left}
                if left
                else str(_("This month's parking budget is used up."))
            )
            raise ValidationError(
                message,
                code="parking.grant_budget",
                fields={"hours": "parking.grant_budget"},
                extra={"hours_left": left},
            )
        grant = ParkingGrant.objects.create(
            mall_id=merchant.mall_id,
            merchant=merchant,
            plate=plate,
            hours=n,
            granted_at=now,
            valid_until=grant_valid_until(now, tz_name),
            granted_by=actor.label[:100],
            note=note,
            key=stored_key,
        )
        audit_record(
            actor=actor,
            action="parking.grant",
            target_type="parking_grant",
            target_id=grant.pk,
            target_label=plate,
            mall_group_id=merchant.mall.group_id,
            changes={"merchant": merchant.name, "plate": plate, "hours": n, "note": note},
        )
        return grant


def grant_revoke(*, grant_id: int, merchant_id: int, actor: Actor) -> ParkingGrant:
    """Take back a grant no stay has used (its hours return to the month's budget). Another merchant's grant is
    not found."""
    with transaction.atomic(durable=True):
        try:
            grant = lock_one(
                ParkingGrant.objects.select_related("merchant", "merchant__mall").filter(
                    pk=grant_id, merchant_id=merchant_id
                ),
                of=("self",),
            )
        except ParkingGrant.DoesNotExist as exc:
            raise NotFoundError(_("No such grant."), code="parking.grant_not_found") from exc
        if grant.revoked_at is not None:
            raise ConflictError(_("This grant was already revoked."), code="parking.grant_revoked")
        if grant.session_id is not None:
            raise ConflictError(_("A stay already used this grant: it cannot be revoked."), code="parking.grant_used")
        grant.revoked_at = timeutil.now()
        grant.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="parking.grant_revoke",
            target_type="parking_grant",
            target_id=grant.pk,
            target_label=grant.plate,
            mall_group_id=grant.merchant.mall.group_id,
            changes={"merchant": grant.merchant.name, "plate": grant.plate, "hours": grant.hours},
        )
        return grant


def allowance_save(*, merchant_id: int, monthly_hours: int, max_hours_per_grant: int, actor: Actor) -> GrantAllowance:
    """Set what a merchant may grant: hours a month (0 stops new grants) and the most hours in one grant (1–24).
    Audited with the values before and after."""
    monthly, most = _whole(monthly_hours), _whole(max_hours_per_grant)
    if monthly is None or not 0 <= monthly <= MAX_MONTHLY_HOURS:
        raise ValidationError(
            _("Hours a month: a whole number from 0 to %(max)s.") % {"max": f"{MAX_MONTHLY_HOURS:,}"},
            code="parking.allowance_hours",
            fields={"monthly_hours": "parking.allowance_hours"},
        )
    if most is None or not 1 <= most <= MAX_HOURS_PER_GRANT:
        raise ValidationError(
            _("Most hours in one grant: a whole number from 1 to %(max)s.") % {"max": MAX_HOURS_PER_GRANT},
            code="parking.allowance_max",
            fields={"max_hours_per_grant": "parking.allowance_max"},
        )
    merchant = _merchant(merchant_id)
    with transaction.atomic(durable=True):
        _row, created = GrantAllowance.objects.get_or_create(merchant_id=merchant.pk)
        allowance = lock_one(GrantAllowance.objects.filter(merchant_id=merchant.pk))
        before = (None, None) if created else (allowance.monthly_hours, allowance.max_hours_per_grant)
        if before == (monthly, most):
            return allowance
        allowance.monthly_hours, allowance.max_hours_per_grant = monthly, most
        allowance.updated_by = actor.label[:100]
        allowance.save()
        audit_record(
            actor=actor,
            action="parking.grant_allowance",
            target_type="merchant",
            target_id=merchant.pk,
            target_label=merchant.name,
            mall_group_id=merchant.mall.group_id,
            changes={
                "monthly_hours": [before[0], monthly],
                "max_hours_per_grant": [before[1], most],
            },
        )
        return allowance


def grants_settle_in_tx(
    session: ParkingSession, result: rules.FeeResult | Sequence[rules.BenefitLine] | None
) -> tuple[int, ...]:
    """Record the merchant grants a stay's fee used. `result` is the fee (selectors.session_fee's FeeResult) or its
    benefit lines: each grant line that saved something (`is_used`: fen > 0) gets the stay, the minutes it took off
    and the fen it covered; a line that saved nothing (not needed, or hours under a daily cap already reached) leaves
    its grant free for a later stay and bills nothing. Runs in the caller's transaction with the stay's row locked;
    the grants' rows are locked here. A grant revoked meanwhile, or already taken by another stay of the same plate
    (the plate parked in two car parks at once), is left as it is: never recorded for two stays, never billed twice.
    Returns the ids of the grants recorded for this stay. `result` None (a stay priced without benefits: already
    paid) records nothing."""
    if result is None:
        return ()
    benefit_lines = result.benefits if isinstance(result, rules.FeeResult) else result
    lines = {
        int(line.source_id): line
        for line in benefit_lines
        if line.kind == rules.BenefitKind.MERCHANT_GRANT and line.source_id and line.is_used
    }
    if not lines:
        return ()
    recorded: list[int] = []
    for grant in lock_rows(ParkingGrant.objects.filter(pk__in=list(lines))):
        line = lines[grant.pk]
        if grant.revoked_at is not None or grant.session_id not in (None, session.pk):
            continue
        if (grant.session_id, grant.minutes_used, grant.fen_used) != (session.pk, line.minutes_used, line.fen):
            grant.session_id, grant.minutes_used, grant.fen_used = session.pk, line.minutes_used, line.fen
            grant.save(update_fields=["session", "minutes_used", "fen_used"])
        recorded.append(grant.pk)
    return tuple(recorded)


__all__ = [
    "allowance_save",
    "grant_create",
    "grant_revoke",
    "grant_valid_until",
    "grants_settle_in_tx",
]
