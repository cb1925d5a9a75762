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
  In the same transaction each recorded grant is **billed to its merchant** through the ledger (`_bill_in_tx`): one
  balanced `parking_grant` transaction (source `parking_grant:<id>`) for the difference between its `fen_used` and
  what was posted for it so far, so a re-priced stay posts a correction, a retry or a re-run posts nothing, and the
  total posted for a grant always equals its `fen_used`. The merchant's monthly settlement statement shows it as
  "Parking granted to customers" and nets it in the payout (docs/settlement.md).

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
from galleria.ledger import selectors as ledger_selectors
from galleria.ledger import services as ledger
from galleria.ledger.types import Leg
from galleria.merchants.selectors import merchant_get
from galleria.settlement.rules import parking_grant_legs
from galleria.settlement.types import PARKING_GRANT_ACCOUNT, PARKING_INCOME_ACCOUNT, TX_PARKING_GRANT

from . import rules
from .models import GrantAllowance, ParkingGrant, ParkingSession
from .selectors_grants import granted_hours, month_bounds, month_of

MAX_HOURS_PER_GRANT = 24  # a grant is valid for one day
MAX_MONTHLY_HOURS = 100_000
MAX_NOTE = 80
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
ACTIVE = "active"  # merchants.models.MerchantStatus.ACTIVE
CNY = "cny"  # the ledger's Asset value for money (ledger.models.Asset; its tables are private to it)


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
    its grant free for a later stay and bills nothing — and a grant this stay had taken at an earlier pricing that
    now saves nothing is freed again and its bill given back. Runs in the caller's transaction with the stay's row
    locked; the grants' rows are locked here. A grant revoked meanwhile, or already taken by another stay of the same
    plate (the plate parked in two car parks at once), is left as it is: never recorded for two stays, never billed
    twice.
    Returns the ids of the grants recorded for this stay. `result` None (a stay priced without benefits: already
    paid) records nothing."""
    if result is None:
        return ()
    benefit_lines = result.benefits if isinstance(result, rules.FeeResult) else result
    lines = {
        int(line.source_id): line
        for line in benefit_lines
        if line.kind == rules.BenefitKind.MERCHANT_GRANT and line.source_id
    }
    if not lines:
        return ()
    recorded: list[ParkingGrant] = []
    for grant in lock_rows(ParkingGrant.objects.select_related("mall").filter(pk__in=list(lines)), of=("self",)):
        line = lines[grant.pk]
        if grant.revoked_at is not None or grant.session_id not in (None, session.pk):
            continue
        if not line.is_used:
            if grant.session_id == session.pk:  # re-priced: this stay no longer needs it — free again, billed back
                grant.session_id, grant.minutes_used, grant.fen_used = None, 0, 0
                grant.save(update_fields=["session", "minutes_used", "fen_used"])
                _bill_in_tx([grant])
            continue
        if (grant.session_id, grant.minutes_used, grant.fen_used) != (session.pk, line.minutes_used, line.fen):
            grant.session_id, grant.minutes_used, grant.fen_used = session.pk, line.minutes_used, line.fen
            grant.save(update_fields=["session", "minutes_used", "fen_used"])
        recorded.append(grant)
    _bill_in_tx(recorded)
    return tuple(grant.pk for grant in recorded)


def grant_source(grant_id: int) -> str:
    """The ledger source of a grant's billing transactions: every one of them, the first and the corrections."""
    return f"parking_grant:{grant_id}"


def _bill_in_tx(grants: Sequence[ParkingGrant]) -> int:
    """Bill each grant's merchant for what the grant covered (docs/settlement.md, figure 6), in the caller's
    transaction with the grants' rows locked (so what was posted for a grant cannot change while it is read).

    What was posted so far is read from the ledger itself (the legs on the merchant's PARKING_GRANT_COST account of
    the transactions with the grant's source), and only the difference to `fen_used` is posted: the merchant's
    account −Δ, the group's PARKING_GRANT_INCOME +Δ (`settlement.rules.parking_grant_legs`). A stay re-priced to
    another fee posts the correction (a negative Δ gives back what was billed too much), a retry or a re-run posts
    nothing, a grant whose posting is missing is caught up the next time its stay is settled. The transaction is
    dated when the grant was made: a grant's cost belongs to the month it was granted in, as the portal counts it
    (selectors_grants), so a correction made after that month's statement was confirmed goes to a supplementary
    statement of that month. The explanation keeps the masked plate, the hours and the minutes used (the
    statement's drill-down shows them); never the plate in full. Returns how many transactions it posted."""
    if not grants:
        return 0
    posts = 0
    by_group: dict[int, list[ParkingGrant]] = {}
    for grant in grants:
        by_group.setdefault(grant.mall.group_id, []).append(grant)
    for group_id, group_grants in by_group.items():
        posted = ledger_selectors.source_sums(
            mall_group_id=group_id, sources=[grant_source(g.pk) for g in group_grants], kind=PARKING_GRANT_ACCOUNT
        )
        for grant in group_grants:
            billed = -posted.get(grant_source(grant.pk), 0)  # the merchant's legs are negative: what it owes
            delta = grant.fen_used - billed
            if delta:
                _post_bill(grant, group_id=group_id, billed=billed, delta=delta)
                posts += 1
    return posts


def grants_bill_backlog(*, batch: int = 500) -> int:
    """Bill every used grant whose postings do not add up to its `fen_used` — the grants recorded before billing
    existed (`galleria parking_grants_bill`, once after the upgrade). Each batch of grants is one transaction with
    their rows locked, so a stay settling one of them meanwhile waits, and it is idempotent: a second run posts
    nothing. Returns how many transactions it posted."""
    ids = list(ParkingGrant.objects.filter(fen_used__gt=0).order_by("pk").values_list("pk", flat=True))
    posts = 0
    for start in range(0, len(ids), batch):
        with transaction.atomic(durable=True):
            chunk = ParkingGrant.objects.select_related("mall").filter(pk__in=ids[start : start + batch])
            posts += _bill_in_tx(lock_rows(chunk, of=("self",)))
    return posts


def _post_bill(grant: ParkingGrant, *, group_id: int, billed: int, delta: int) -> None:
    mine, theirs = parking_grant_legs(delta)
    plate = rules.mask_plate(grant.plate)
    ledger.post(
        mall_group_id=group_id,
        kind=TX_PARKING_GRANT,
        legs=[
            Leg(
                ledger.system_account_id(
                    mall_group_id=group_id, kind=PARKING_GRANT_ACCOUNT, merchant_id=grant.merchant_id
                ),
                CNY,
                mine,
            ),
            Leg(ledger.system_account_id(mall_group_id=group_id, kind=PARKING_INCOME_ACCOUNT), CNY, theirs),
        ],
        member_accounts={},
        occurred_at=grant.granted_at,
        source=grant_source(grant.pk),
        memo=f"{plate} · {grant.hours} h · {grant.minutes_used} min" + (" · re-priced" if billed else ""),
        explanation={
            "grant": grant.pk,
            "merchant": grant.merchant_id,
            "session": grant.session_id,
            "plate": plate,
            "hours": grant.hours,
            "minutes_used": grant.minutes_used,
            "fen_used": grant.fen_used,
            "billed_before_fen": billed,
            "delta_fen": delta,
        },
    )


__all__ = [
    "allowance_save",
    "grant_create",
    "grant_revoke",
    "grant_source",
    "grant_valid_until",
    "grants_bill_backlog",
    "grants_settle_in_tx",
]
