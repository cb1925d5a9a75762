"""Writes of settlement with merchants (docs/settlement.md). Each use case is one durable transaction that locks the
rows it changes; every step is a statement event and an audit record.

- `statements_generate`: a period's drafts for every merchant with settlement legs or sales in it (or some
  merchants). The (group, period) run row is locked first, so two generations of a period run one after the other.
  An open statement (draft, or disputed) is regenerated from the ledger; a disputed one whose figures change goes
  back to draft (the merchant looks again). A confirmed or later statement never changes: what the period's legs
  add up to beyond the frozen statements — postings that arrived late, dated in the period — becomes a
  supplementary statement of the same period (number 2, 3, …).
- `statement_confirm` / `statement_dispute`: the merchant (portal), on a draft, naming the version it read.
- `statement_approve`: finance, on a confirmed statement (or a disputed one, with a note saying how the dispute
  was settled): posts the commission (source "settlement:<id>") in the same transaction. The row lock makes two
  approvals one: the second finds the statement approved.
- A statement of a month that has not ended yet (mall time) is a preview: generating and regenerating it refresh its
  figures, but confirm, dispute and approve refuse it (`settlement.period_not_ended`) until the month is over —
  otherwise the rest of the month's sales could only land in supplementary statements.
- `statement_mark_paid`: finance records the payment reference and posts the payout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.locking import lock_one, lock_rows
from galleria.core.money import format_cny
from galleria.ledger import services as ledger
from galleria.ledger.types import Leg

from . import rules, selectors
from .exceptions import (
    CommentRequiredError,
    PaymentReferenceRequiredError,
    PeriodNotEndedError,
    StatementChangedError,
    StatementNotFoundError,
    StatementStateError,
)
from .models import Statement, StatementEvent, StatementRun
from .types import (
    BANK_ACCOUNT,
    COMMISSION_ACCOUNT,
    COMMISSION_INCOME_ACCOUNT,
    FROZEN_STATUSES,
    OPEN_STATUSES,
    PAYOUT_ACCOUNT,
    TX_COMMISSION,
    TX_PAYOUT,
    EventAction,
    GenerateResult,
    LedgerFigures,
    Period,
    StatementFigures,
    StatementStatus,
)

MAX_COMMENT = 2000
MAX_REFERENCE = 100
CNY = "cny"  # the ledger's Asset value for money
FIGURE_FIELDS = (
    "collected_fen",
    "wallet_fen",
    "points_value_fen",
    "coupon_mall_fen",
    "merchant_points_fen",
    "coupon_merchant_fen",
    "parking_grants_fen",
    "sales_count",
    "sales_fen",
    "refunds_count",
    "refunds_fen",
    "commission_base_fen",
    "commission_bp",
    "commission_fen",
    "net_fen",
)


def _values(figures: StatementFigures, remaining: LedgerFigures) -> dict[str, int]:
    values = asdict(figures)
    values["refunds_count"] = remaining.refunds
    return {name: int(values[name]) for name in FIGURE_FIELDS}


def _snapshot(s: Statement) -> dict[str, int]:
    return {name: int(getattr(s, name)) for name in FIGURE_FIELDS}


def _event(s: Statement, action: str, actor: Actor, at: dt.datetime, **extra: Any) -> StatementEvent:
    return StatementEvent(
        statement=s,
        action=action,
        at=at,
        actor_user_id=actor.user_id,
        actor=actor.label[:100],
        version=s.version,
        **extra,
    )


def _audit(s: Statement, action: str, actor: Actor, changes: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=f"settlement.{action}",
        target_type="statement",
        target_id=s.pk,
        target_label=f"{s.merchant.name} {s.period_start:%Y-%m}" + (f" #{s.sequence}" if s.sequence > 1 else ""),
        mall_group_id=s.mall_group_id,
        changes=changes,
    )


# ---------------------------------------------------------------------------------------------- generation


def _lock_run(*, mall_group_id: int, period: Period) -> StatementRun:
    StatementRun.objects.get_or_create(mall_group_id=mall_group_id, period_start=period.start, period_end=period.end)
    return lock_one(
        StatementRun.objects.filter(mall_group_id=mall_group_id, period_start=period.start, period_end=period.end)
    )


def _plan(
    merchant: Any, total: LedgerFigures, statements: list[Statement]
) -> tuple[Statement | None, dict[str, int] | None]:
    """(the open statement, the figures it should have) — or (None, figures) for a new statement; None figures when
    there is nothing to write (no open statement and nothing left to settle)."""
    open_ = next((s for s in statements if s.status in OPEN_STATUSES), None)
    frozen = [s for s in statements if s.status in FROZEN_STATUSES]
    remaining = total.minus(selectors.frozen_figures(frozen))
    if open_ is None and remaining.is_empty:
        return None, None
    figures = rules.statement_figures(remaining, commission_bp=merchant.commission_bp)  # the rate at generation
    return open_, _values(figures, remaining)


def statements_generate(
    *, mall_group_id: int, period: Period, actor: Actor, merchant_ids: Sequence[int] | None = None
) -> GenerateResult:
    """Generate or regenerate the period's drafts (see the module docstring). Idempotent: a second run with no new
    postings changes nothing."""
    with transaction.atomic(durable=True):
        run = _lock_run(mall_group_id=mall_group_id, period=period)
        totals = selectors.period_figures(mall_group_id=mall_group_id, period=period, merchant_ids=merchant_ids)
        now = timezone.now()
        existing = Statement.objects.filter(mall_group_id=mall_group_id, period_start=period.start)
        if merchant_ids is not None:
            existing = existing.filter(merchant_id__in=list(merchant_ids))
        by_merchant: dict[int, list[Statement]] = {}
        for s in lock_rows(existing):
            by_merchant.setdefault(s.merchant_id, []).append(s)
        merchants = selectors.group_merchants(mall_group_id=mall_group_id, merchant_ids=set(totals) | set(by_merchant))
        created: list[Statement] = []
        changed: list[tuple[Statement, dict[str, int]]] = []
        unchanged = 0
        for merchant_id in sorted(set(totals) | set(by_merchant)):
            merchant = merchants.get(merchant_id)
            if merchant is None:  # legs of a merchant outside the group cannot be: the ledger is per group
                continue
            statements = sorted(by_merchant.get(merchant_id, []), key=lambda s: s.sequence)
            open_, values = _plan(merchant, totals.get(merchant_id, LedgerFigures()), statements)
            if values is None:
                continue
            if open_ is None:
                created.append(
                    Statement(
                        mall_group_id=mall_group_id,
                        merchant=merchant,
                        period_start=period.start,
                        period_end=period.end,
                        sequence=len(statements) + 1,
                        generated_at=now,
                        generated_by_user_id=actor.user_id,
                        generated_by=actor.label[:100],
                        **values,
                    )
                )
            elif _snapshot(open_) != values:
                changed.append((open_, values))
            else:
                unchanged += 1
        _write(created, changed, actor=actor, now=now)
        run.last_run_at, run.last_run_by, run.runs = now, actor.label[:100], run.runs + 1
        run.save(update_fields=["last_run_at", "last_run_by", "runs"])
        result = GenerateResult(
            period=period,
            created=len(created),
            regenerated=len(changed),
            unchanged=unchanged,
            supplements=sum(1 for s in created if s.sequence > 1),
            statement_ids=tuple(sorted([s.pk for s in created] + [s.pk for s, _v in changed])),
        )
        audit_record(
            actor=actor,
            action="settlement.generate",
            target_type="settlement_period",
            target_id=period.label,
            target_label=period.label,
            mall_group_id=mall_group_id,
            changes={
                "created": result.created,
                "regenerated": result.regenerated,
                "unchanged": result.unchanged,
                "supplements": result.supplements,
            },
        )
        return result


def _write(
    created: list[Statement], changed: list[tuple[Statement, dict[str, int]]], *, actor: Actor, now: dt.datetime
) -> None:
    """Insert the new statements, update the regenerated ones, and their events (bulk: a handful of statements)."""
    Statement.objects.bulk_create(created)
    events = [_event(s, EventAction.GENERATED, actor, now, changes=_snapshot(s)) for s in created]
    for s, values in changed:
        before = _snapshot(s)
        for name, value in values.items():
            setattr(s, name, value)
        s.version += 1
        s.status = StatementStatus.DRAFT  # a disputed statement with new figures: the merchant looks again
        s.generated_at, s.generated_by_user_id, s.generated_by = now, actor.user_id, actor.label[:100]
        diff = {k: [before[k], v] for k, v in values.items() if before[k] != v}
        events.append(_event(s, EventAction.REGENERATED, actor, now, changes=diff))
    if changed:
        Statement.objects.bulk_update(
            [s for s, _v in changed],
            [*FIGURE_FIELDS, "version", "status", "generated_at", "generated_by_user", "generated_by"],
        )
    StatementEvent.objects.bulk_create(events)


# ---------------------------------------------------------------------------------------------- the merchant


def _lock(statement_id: int, *, mall_group_id: int | None = None, merchant_id: int | None = None) -> Statement:
    qs = Statement.objects.select_related("merchant", "merchant__mall").filter(pk=statement_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    try:
        return lock_one(qs, of=("self",))
    except Statement.DoesNotExist as exc:
        raise StatementNotFoundError() from exc


def _require(s: Statement, *allowed: str) -> None:
    if s.status not in allowed:
        raise StatementStateError(
            _("This statement is %(status)s: that step is not possible now.")
            % {"status": StatementStatus(s.status).label},
            extra={"status": s.status},
        )


def _require_period_ended(s: Statement, now: dt.datetime) -> None:
    """A statement of a month that is not over (mall time) is a preview: no confirmation, dispute or approval yet."""
    if not rules.period_has_ended(Period(start=s.period_start, end=s.period_end), s.merchant.mall.timezone, now=now):
        raise PeriodNotEndedError(
            _(
                "The month of this statement is not over yet: it is a preview, and its figures still change with "
                "the month's sales. It can be confirmed, disputed or approved from %(end)s 00:00 (mall time)."
            )
            % {"end": f"{s.period_end:%Y-%m-%d}"},
            extra={"period_end": s.period_end.isoformat()},
        )


def _check_version(s: Statement, version: int | None) -> None:
    if version is not None and version != s.version:
        raise StatementChangedError(
            _("The statement was regenerated since you opened it: check the new figures first."),
            extra={"version": s.version},
        )


def statement_confirm(*, statement_id: int, merchant_id: int, actor: Actor, version: int | None) -> Statement:
    """The merchant confirms its draft statement as it read it (`version`)."""
    with transaction.atomic(durable=True):
        s = _lock(statement_id, merchant_id=merchant_id)
        _require(s, StatementStatus.DRAFT)
        now = timezone.now()
        _require_period_ended(s, now)
        _check_version(s, version)
        s.status, s.confirmed_at, s.confirmed_by_user_id, s.confirmed_by = (
            StatementStatus.CONFIRMED,
            now,
            actor.user_id,
            actor.label[:100],
        )
        s.save(update_fields=["status", "confirmed_at", "confirmed_by_user", "confirmed_by"])
        _event(s, EventAction.CONFIRMED, actor, now).save()
        _audit(s, "confirm", actor, {"status": ["draft", "confirmed"], "net_fen": s.net_fen})
        return s


def statement_dispute(
    *, statement_id: int, merchant_id: int, actor: Actor, comment: str, version: int | None
) -> Statement:
    """The merchant disputes its draft statement, saying why."""
    comment = (comment or "").strip()
    if not comment:
        raise CommentRequiredError(_("Say what is wrong with the statement."), fields={"comment": "required"})
    if len(comment) > MAX_COMMENT:
        raise CommentRequiredError(_("At most %(n)s characters.") % {"n": MAX_COMMENT}, fields={"comment": "too_long"})
    with transaction.atomic(durable=True):
        s = _lock(statement_id, merchant_id=merchant_id)
        _require(s, StatementStatus.DRAFT)
        now = timezone.now()
        _require_period_ended(s, now)
        _check_version(s, version)
        s.status, s.disputed_at, s.disputed_by_user_id, s.disputed_by = (
            StatementStatus.DISPUTED,
            now,
            actor.user_id,
            actor.label[:100],
        )
        s.dispute_comment = comment
        s.save(update_fields=["status", "disputed_at", "disputed_by_user", "disputed_by", "dispute_comment"])
        _event(s, EventAction.DISPUTED, actor, now, comment=comment).save()
        _audit(s, "dispute", actor, {"status": ["draft", "disputed"], "comment": comment})
        return s


# ---------------------------------------------------------------------------------------------- finance


def _post(
    s: Statement, *, kind: str, pairs: tuple[tuple[str, str], tuple[int, int]], at: dt.datetime, memo: str
) -> Any:
    """One balanced ledger transaction on the merchant's account and its group-level counterpart."""
    (mine, theirs), (my_leg, their_leg) = pairs
    legs = [
        Leg(
            ledger.system_account_id(mall_group_id=s.mall_group_id, kind=mine, merchant_id=s.merchant_id),
            CNY,
            my_leg,
        ),
        Leg(ledger.system_account_id(mall_group_id=s.mall_group_id, kind=theirs), CNY, their_leg),
    ]
    return ledger.post(
        mall_group_id=s.mall_group_id,
        kind=kind,
        legs=legs,
        occurred_at=at,
        source=f"settlement:{s.pk}",
        memo=memo[:200],
        explanation={"statement": s.pk, "merchant": s.merchant_id, "period": f"{s.period_start:%Y-%m}"},
    )


def statement_approve(*, statement_id: int, mall_group_id: int | None, actor: Actor, note: str = "") -> Statement:
    """Finance approves a confirmed statement (a disputed one needs a note on how the dispute was settled) and the
    commission is posted: the merchant's COMMISSION account −c, the group's COMMISSION_INCOME +c."""
    note = (note or "").strip()[:MAX_COMMENT]
    with transaction.atomic(durable=True):
        s = _lock(statement_id, mall_group_id=mall_group_id)
        _require(s, StatementStatus.CONFIRMED, StatementStatus.DISPUTED)
        now = timezone.now()
        _require_period_ended(s, now)
        if s.status == StatementStatus.DISPUTED and not note:
            raise CommentRequiredError(
                _("The merchant disputed this statement: say how the dispute was settled."), fields={"note": "required"}
            )
        before = s.status
        if s.commission_fen:
            s.commission_transaction = _post(
                s,
                kind=TX_COMMISSION,
                pairs=((COMMISSION_ACCOUNT, COMMISSION_INCOME_ACCOUNT), rules.commission_legs(s.commission_fen)),
                at=now,
                memo=f"{s.merchant.name} {s.period_start:%Y-%m} commission {format_cny(s.commission_fen)}",
            )
        s.status, s.approved_at, s.approved_by_user_id, s.approved_by = (
            StatementStatus.APPROVED,
            now,
            actor.user_id,
            actor.label[:100],
        )
        s.approval_note = note
        s.save(
            update_fields=[
                "status",
                "approved_at",
                "approved_by_user",
                "approved_by",
                "approval_note",
                "commission_transaction",
            ]
        )
        _event(s, EventAction.APPROVED, actor, now, comment=note).save()
        _audit(s, "approve", actor, {"status": [before, "approved"], "commission_fen": s.commission_fen})
        return s


def statement_mark_paid(
    *, statement_id: int, mall_group_id: int | None, actor: Actor, reference: str, note: str = ""
) -> Statement:
    """Finance records that the statement was paid (the bank transfer's reference) and the payout is posted: the
    merchant's MERCHANT_PAYOUT account −net, the group's SETTLEMENT_BANK +net (the other way round when the net is
    negative: the merchant paid the mall)."""
    reference = (reference or "").strip()
    if not reference:
        raise PaymentReferenceRequiredError(
            _("Enter the payment's reference (e.g. the bank transfer number)."), fields={"reference": "required"}
        )
    if len(reference) > MAX_REFERENCE:
        raise PaymentReferenceRequiredError(
            _("At most %(n)s characters.") % {"n": MAX_REFERENCE}, fields={"reference": "too_long"}
        )
    with transaction.atomic(durable=True):
        s = _lock(statement_id, mall_group_id=mall_group_id)
        _require(s, StatementStatus.APPROVED)
        now = timezone.now()
        if s.net_fen:
            s.payout_transaction = _post(
                s,
                kind=TX_PAYOUT,
                pairs=((PAYOUT_ACCOUNT, BANK_ACCOUNT), rules.payout_legs(s.net_fen)),
                at=now,
                memo=f"{s.merchant.name} {s.period_start:%Y-%m} {reference}",
            )
        s.status, s.paid_at, s.paid_by_user_id, s.paid_by = StatementStatus.PAID, now, actor.user_id, actor.label[:100]
        s.payment_reference = reference
        s.save(
            update_fields=["status", "paid_at", "paid_by_user", "paid_by", "payment_reference", "payout_transaction"]
        )
        _event(s, EventAction.PAID, actor, now, comment=note.strip()[:MAX_COMMENT] or reference).save()
        _audit(s, "pay", actor, {"status": ["approved", "paid"], "reference": reference, "net_fen": s.net_fen})
        return s


def statement_regenerate(*, statement_id: int, mall_group_id: int | None, actor: Actor) -> GenerateResult:
    """Regenerate one merchant's period (its open statement, or a supplement for late postings)."""
    s = selectors.statement_get(statement_id=statement_id, mall_group_id=mall_group_id)
    return statements_generate(
        mall_group_id=s.mall_group_id,
        period=Period(start=s.period_start, end=s.period_end),
        actor=actor,
        merchant_ids=[s.merchant_id],
    )
