"""Writes of the privacy area: data exports, erasure requests (cooling-off, cancel), the erasure and retention jobs.

Each public function is one durable transaction (the jobs: one per member), with the member row locked first and
then the member's ledger accounts (primary-key order, `ledger.services.lock_member_accounts`)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from galleria.audit.services import audit_record, audit_redact_member
from galleria.audit.types import Actor
from galleria.core.events import publish
from galleria.core.locking import lock_one
from galleria.coupons.services import coupons_void_for_member_in_tx
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind, Asset, Entry, TransactionKind
from galleria.ledger.types import Leg
from galleria.members.models import Member, MemberIdentifier
from galleria.members.rules import mask_phone
from galleria.members.selectors import members_active
from galleria.members.services import member_anonymise_in_tx
from galleria.messaging.services import channels_member_erase, sms_redact_phone
from galleria.points.models import LotMovement, PointsLot
from galleria.sales.models import Sale
from galleria.wallet.selectors import wallet_balance

from . import conf, exceptions
from .models import PrivacyRequest, RequestKind, RequestStatus, RequestVia
from .selectors import member_export_document

logger = logging.getLogger("galleria.privacy")
ERASURE_ACCOUNT_KINDS = (AccountKind.MEMBER_POINTS, AccountKind.MEMBER_WALLET, AccountKind.MEMBER_WALLET_BONUS)


def _lock_member_row(qs: QuerySet[Member]) -> Member:
    """Lock one member row FOR NO KEY UPDATE: it serialises privacy use cases on the member without blocking the
    foreign-key checks (FOR KEY SHARE) of a concurrent sale that already holds the member's ledger accounts —
    with a plain FOR UPDATE the two would deadlock (the erasure then waits for those accounts)."""
    return lock_one(qs, no_key=True)


def _lock_member(*, member_id: int, mall_group_id: int | None) -> Member:
    qs = Member.objects.filter(pk=member_id)
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    member = _lock_member_row(qs)
    if not member.is_active:
        raise exceptions.MemberNotActiveError()
    return member


# ---------------------------------------------------------------- export


def export_create(
    *, member_id: int, mall_group_id: int | None, actor: Actor, via: str, now: dt.datetime | None = None
) -> PrivacyRequest:
    """Build the member's data export now (bounded by their own history) and keep it downloadable by the member
    for GALLERIA_PRIVACY_EXPORT_TTL_DAYS. Staff may request it on the member's behalf; only the member downloads."""
    moment = now or timezone.now()
    with transaction.atomic(durable=True):
        member = _lock_member(member_id=member_id, mall_group_id=mall_group_id)
        document = member_export_document(member=member, now=moment)
        request = PrivacyRequest.objects.create(
            mall_group_id=member.mall_group_id,
            member=member,
            kind=RequestKind.EXPORT,
            status=RequestStatus.READY,
            via=via,
            requested_by_id=actor.user_id,
            requested_at=moment,
            finished_at=moment,
            expires_at=moment + dt.timedelta(days=conf.export_ttl_days()),
            data=document,
        )
        audit_record(
            actor=actor,
            action="privacy.export",
            target_type="member",
            target_id=member.pk,
            target_label=member.card_no,
            mall_group_id=member.mall_group_id,
            changes={"request": request.pk, "via": via},
        )
        return request


def export_downloaded(*, request: PrivacyRequest, actor: Actor, fmt: str) -> None:
    """Record that the member downloaded (or viewed) their export."""
    audit_record(
        actor=actor,
        action="privacy.export_download",
        target_type="member",
        target_id=request.member_id,
        mall_group_id=request.mall_group_id,
        changes={"request": request.pk, "format": fmt},
    )


# ---------------------------------------------------------------- erasure requests


def erasure_request(
    *,
    member_id: int,
    mall_group_id: int | None,
    actor: Actor,
    via: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> PrivacyRequest:
    """Ask for the member's account to be deleted after the cooling-off window (GALLERIA_ERASURE_COOLING_OFF_DAYS).
    Refused while the wallet holds the member's own money (it must be refunded first). A second request while one
    is pending returns the pending one."""
    moment = now or timezone.now()
    with transaction.atomic(durable=True):
        member = _lock_member(member_id=member_id, mall_group_id=mall_group_id)
        pending = PrivacyRequest.objects.filter(
            member=member, kind=RequestKind.ERASURE, status=RequestStatus.PENDING
        ).first()
        if pending is not None:
            return pending
        # a plain read: money arriving after this is caught by the job, which re-checks under the account lock
        if wallet_balance(member_id=member.pk).principal_fen > 0:
            raise exceptions.WalletNotEmptyError()
        due_at = moment + dt.timedelta(days=conf.cooling_off_days())
        request = PrivacyRequest.objects.create(
            mall_group_id=member.mall_group_id,
            member=member,
            kind=RequestKind.ERASURE,
            status=RequestStatus.PENDING,
            via=via,
            requested_by_id=actor.user_id,
            reason=(reason or "").strip()[:200],
            requested_at=moment,
            due_at=due_at,
        )
        audit_record(
            actor=actor,
            action="privacy.erasure_request",
            target_type="member",
            target_id=member.pk,
            target_label=member.card_no,
            mall_group_id=member.mall_group_id,
            changes={"request": request.pk, "via": via, "due_at": due_at.isoformat(), "reason": request.reason},
        )
        return request


def erasure_cancel(
    *, member_id: int, mall_group_id: int | None, actor: Actor, reason: str = "", now: dt.datetime | None = None
) -> PrivacyRequest:
    """Cancel the member's pending erasure (the member, during the cooling-off window, or staff)."""
    moment = now or timezone.now()
    with transaction.atomic(durable=True):
        member = _lock_member(member_id=member_id, mall_group_id=mall_group_id)
        request = PrivacyRequest.objects.filter(
            member=member, kind=RequestKind.ERASURE, status=RequestStatus.PENDING
        ).first()
        if request is None:
            raise exceptions.NoPendingErasureError()
        request.status = RequestStatus.CANCELLED
        request.finished_at = moment
        request.note = (reason or "").strip()[:200]
        request.save(update_fields=["status", "finished_at", "note"])
        audit_record(
            actor=actor,
            action="privacy.erasure_cancel",
            target_type="member",
            target_id=member.pk,
            target_label=member.card_no,
            mall_group_id=member.mall_group_id,
            changes={"request": request.pk, "reason": request.note},
        )
        return request


# ---------------------------------------------------------------- the erasure itself


@dataclass(frozen=True)
class ErasureOutcome:
    erased: bool
    points_forfeited: int = 0
    bonus_forfeited_fen: int = 0
    coupons_voided: int = 0
    blocked_reason: str = ""


def _forfeit_points_in_tx(
    *, member: Member, account_balance: int, points_account_id: int, accounts: dict[str, Account]
) -> int:
    """Post the whole points balance to the expired-points (breakage) account and empty the member's lots."""
    if account_balance <= 0:
        return 0
    lots = list(PointsLot.objects.filter(member_id=member.pk, remaining__gt=0).order_by("expires_on", "id"))
    tx = ledger.post(
        mall_group_id=member.mall_group_id,
        kind=TransactionKind.EXPIRE,
        legs=[
            Leg(points_account_id, Asset.POINTS, -account_balance),
            Leg(
                ledger.system_account_id(mall_group_id=member.mall_group_id, kind=AccountKind.POINTS_EXPIRED),
                Asset.POINTS,
                account_balance,
            ),
        ],
        member_accounts={acc.pk: acc for acc in accounts.values()},
        source=f"erasure:{member.pk}",
        memo="account erased: points forfeited",
        explanation={"reason": "erasure", "points": account_balance, "lots": [lot.pk for lot in lots]},
    )
    PointsLot.objects.filter(pk__in=[lot.pk for lot in lots]).update(remaining=0)  # every open lot, emptied at once
    LotMovement.objects.bulk_create([LotMovement(lot_id=lot.pk, transaction=tx, points=-lot.remaining) for lot in lots])
    return account_balance


def _forfeit_bonus_in_tx(*, member: Member, bonus: int, bonus_account_id: int, accounts: dict[str, Account]) -> int:
    """Promotional wallet bonus (not the member's money) goes back to the bonus fund it came from."""
    if bonus <= 0:
        return 0
    ledger.post(
        mall_group_id=member.mall_group_id,
        kind=TransactionKind.ADJUST,
        legs=[
            Leg(bonus_account_id, Asset.CNY, -bonus),
            Leg(
                ledger.system_account_id(mall_group_id=member.mall_group_id, kind=AccountKind.WALLET_BONUS_FUND),
                Asset.CNY,
                bonus,
            ),
        ],
        member_accounts={acc.pk: acc for acc in accounts.values()},
        source=f"erasure:{member.pk}",
        memo="account erased: wallet bonus forfeited",
        explanation={"reason": "erasure", "bonus_fen": bonus},
    )
    return bonus


def _personal_values(member: Member) -> list[str]:
    """The member's personal values as other tables may have copied them: phone (+86… and national), card,
    name, e-mail and every identifier (plates, WeChat ids)."""
    values = {member.phone, member.card_no, member.name, member.email}
    if member.phone.startswith("+86"):
        values.add(member.phone[3:])
    values.update(MemberIdentifier.objects.filter(member=member).values_list("value", flat=True))
    # longest first, so that a value containing another (the phone and its national form) is replaced whole
    return sorted((v for v in values if v and len(v) >= 2), key=len, reverse=True)


def _erase_copies_in_tx(*, member: Member) -> dict[str, int]:
    """Copies of the member's personal data outside the member's rows: audit diffs about the member, the SMS outbox,
    and whatever the areas in settings.GALLERIA_ERASURE_HANDLERS keep (import reports, merge records)."""
    values = _personal_values(member)
    counts = {
        "audit_events_redacted": audit_redact_member(member_id=member.pk, values=values),
        "sms_redacted": sms_redact_phone(phone=member.phone, replacement=mask_phone(member.phone))
        if member.phone
        else 0,
        "channels_redacted": channels_member_erase(member_id=member.pk),
    }
    elsewhere = 0
    for path in settings.GALLERIA_ERASURE_HANDLERS:
        handler = import_string(path)
        elsewhere += int(
            handler(member_id=member.pk, mall_group_id=member.mall_group_id, phone=member.phone, values=values)
        )
    counts["copies_redacted"] = elsewhere
    return counts


def _erase_in_tx(*, member: Member, request: PrivacyRequest, actor: Actor, now: dt.datetime) -> ErasureOutcome:
    """Erase a locked, active member for `request` (pending): or block the request if the wallet holds money."""
    accounts = ledger.lock_member_accounts(
        mall_group_id=member.mall_group_id, member_id=member.pk, kinds=ERASURE_ACCOUNT_KINDS
    )
    principal = int(accounts[AccountKind.MEMBER_WALLET].balance or 0)
    if principal > 0:
        request.status = RequestStatus.BLOCKED
        request.finished_at = now
        request.note = f"wallet holds {principal} fen: refund it, then request again"
        request.save(update_fields=["status", "finished_at", "note"])
        audit_record(
            actor=actor,
            action="privacy.erasure_blocked",
            target_type="member",
            target_id=member.pk,
            target_label=member.card_no,
            mall_group_id=member.mall_group_id,
            changes={"request": request.pk, "wallet_fen": principal},
        )
        return ErasureOutcome(erased=False, blocked_reason=request.note)
    points_account = accounts[AccountKind.MEMBER_POINTS]
    bonus_account = accounts[AccountKind.MEMBER_WALLET_BONUS]
    points = _forfeit_points_in_tx(
        member=member,
        account_balance=int(points_account.balance or 0),
        points_account_id=points_account.pk,
        accounts=accounts,
    )
    bonus = _forfeit_bonus_in_tx(
        member=member, bonus=int(bonus_account.balance or 0), bonus_account_id=bonus_account.pk, accounts=accounts
    )
    coupons, coupons_paid_fen = coupons_void_for_member_in_tx(member_id=member.pk, at=now)
    # nothing is posted to an erased member any more: a sale that resolved them before this commit and waited for
    # their accounts is refused once it gets the lock (a refund of an earlier sale still goes through)
    ledger.member_accounts_close(member_id=member.pk, at=now)
    card_no = member.card_no
    copies = _erase_copies_in_tx(member=member)
    removed = member_anonymise_in_tx(member=member, at=now)
    # export documents hold the personal data too: drop them
    PrivacyRequest.objects.filter(member=member, kind=RequestKind.EXPORT).exclude(data=None).update(
        data=None, status=RequestStatus.EXPIRED
    )
    request.status = RequestStatus.DONE
    request.finished_at = now
    request.note = f"points forfeited {points}; wallet bonus forfeited {bonus} fen; unused coupons voided {coupons}"
    request.save(update_fields=["status", "finished_at", "note"])
    audit_record(
        actor=actor,
        action="member.erase",
        target_type="member",
        target_id=member.pk,
        target_label=card_no,
        mall_group_id=member.mall_group_id,
        changes={
            "request": request.pk,
            "via": request.via,
            "points_forfeited": points,
            "bonus_forfeited_fen": bonus,
            "coupons_voided": coupons,
            "coupons_paid_fen": coupons_paid_fen,
            **copies,
            **removed,
        },
    )
    publish("member.erased", member_id=member.pk, mall_group_id=member.mall_group_id)  # webhooks (ids only)
    return ErasureOutcome(erased=True, points_forfeited=points, bonus_forfeited_fen=bonus, coupons_voided=coupons)


def _ensure_accounts(*, mall_group_id: int, member_id: int) -> None:
    """Create the member's ledger accounts, each in its own short transaction, before the erasure's transaction
    locks them: created inside it, they would take unique-index locks in another order than a concurrent sale
    creating the same accounts (a deadlock on PostgreSQL)."""
    for kind in ERASURE_ACCOUNT_KINDS:
        ledger.member_account(mall_group_id=mall_group_id, member_id=member_id, kind=kind)


def erasure_execute(*, request_id: int, actor: Actor | None = None, now: dt.datetime | None = None) -> ErasureOutcome:
    """Carry out one due erasure request. Idempotent: a request that is no longer pending (done, cancelled,
    blocked) is left alone, so a re-run or a concurrent run does nothing twice."""
    moment = now or timezone.now()
    who = actor or Actor.system("privacy-erasure")
    row = PrivacyRequest.objects.filter(pk=request_id).values_list("member_id", "mall_group_id").first()
    if row is None:
        return ErasureOutcome(erased=False, blocked_reason="unknown request")
    member_id, mall_group_id = row
    _ensure_accounts(mall_group_id=mall_group_id, member_id=member_id)
    with transaction.atomic(durable=True):
        member = _lock_member_row(Member.objects.filter(pk=member_id))  # member, then the request: one lock order
        request = lock_one(PrivacyRequest.objects.filter(pk=request_id))
        if request.status != RequestStatus.PENDING or request.kind != RequestKind.ERASURE:
            return ErasureOutcome(erased=False, blocked_reason="not pending")
        if not member.is_active:  # merged or erased meanwhile: nothing left to erase here
            request.status = RequestStatus.CANCELLED
            request.finished_at = moment
            request.note = f"member is {member.status}"
            request.save(update_fields=["status", "finished_at", "note"])
            return ErasureOutcome(erased=False, blocked_reason=request.note)
        return _erase_in_tx(member=member, request=request, actor=who, now=moment)


@dataclass(frozen=True)
class JobResult:
    erased: int = 0
    blocked: int = 0
    skipped: int = 0


def erasure_run_due(*, now: dt.datetime | None = None, batch: int | None = None) -> JobResult:
    """The periodic job: erase every pending request whose cooling-off window has ended. One transaction per
    member; resumable and idempotent (a done request is no longer pending)."""
    moment = now or timezone.now()
    size = batch or conf.job_batch()
    erased = blocked = 0
    last_id = 0
    while True:
        ids = list(
            PrivacyRequest.objects.filter(
                kind=RequestKind.ERASURE, status=RequestStatus.PENDING, due_at__lte=moment, pk__gt=last_id
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return JobResult(erased=erased, blocked=blocked)
        for request_id in ids:
            try:
                outcome = erasure_execute(request_id=request_id, now=moment)
            except DatabaseError:  # e.g. a deadlock with a concurrent sale: still pending, the next run retries
                logger.exception("erasure of request %s failed; it stays pending", request_id)
                continue
            erased += outcome.erased
            blocked += bool(outcome.blocked_reason) and outcome.blocked_reason.startswith("wallet")
        last_id = ids[-1]


# ---------------------------------------------------------------- retention


def retention_candidates(*, cutoff: dt.datetime) -> QuerySet[Member]:
    """Active members with no sign of life since `cutoff`: not joined, not active in the app or at a till,
    no sale and no ledger movement (points, wallet) since then."""
    recent_sale = Sale.objects.filter(member_id=OuterRef("pk"), occurred_at__gte=cutoff)
    recent_entry = Entry.objects.filter(account__member_id=OuterRef("pk"), occurred_at__gte=cutoff)
    return (
        members_active()
        .filter(created_at__lt=cutoff)
        .filter(Q(last_active_at__isnull=True) | Q(last_active_at__lt=cutoff))
        .exclude(Exists(recent_sale))
        .exclude(Exists(recent_entry))
    )


def retention_run(*, now: dt.datetime | None = None, batch: int | None = None, days: int | None = None) -> JobResult:
    """Anonymise members inactive for longer than GALLERIA_RETENTION_INACTIVE_DAYS (0 = off) through the same
    erasure path (a request `via=retention`, done at once). Members with a pending erasure are left to the
    erasure job; members whose wallet holds money are skipped (their money is owed to them). Batched by id,
    one transaction per member, idempotent (an erased member is no longer a candidate)."""
    limit_days = conf.retention_inactive_days() if days is None else days
    if limit_days <= 0:
        return JobResult()
    moment = now or timezone.now()
    cutoff = moment - dt.timedelta(days=limit_days)
    size = batch or conf.job_batch()
    pending = PrivacyRequest.objects.filter(
        member_id=OuterRef("pk"), kind=RequestKind.ERASURE, status=RequestStatus.PENDING
    )
    erased = skipped = 0
    last_id = 0
    actor = Actor.system("privacy-retention")
    while True:
        ids = list(
            retention_candidates(cutoff=cutoff)
            .filter(pk__gt=last_id)
            .exclude(Exists(pending))
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return JobResult(erased=erased, skipped=skipped)
        for member_id in ids:
            if _retention_erase(member_id=member_id, cutoff=cutoff, actor=actor, now=moment):
                erased += 1
            else:
                skipped += 1
        last_id = ids[-1]


def _retention_erase(*, member_id: int, cutoff: dt.datetime, actor: Actor, now: dt.datetime) -> bool:
    mall_group_id = Member.objects.filter(pk=member_id).values_list("mall_group_id", flat=True).get()
    _ensure_accounts(mall_group_id=mall_group_id, member_id=member_id)
    with transaction.atomic(durable=True):
        member = _lock_member_row(Member.objects.filter(pk=member_id))
        # re-check under the lock: the member may have come back since the batch was read
        if not retention_candidates(cutoff=cutoff).filter(pk=member_id).exists():
            return False
        balance = (
            ledger.lock_member_accounts(
                mall_group_id=member.mall_group_id, member_id=member.pk, kinds=[AccountKind.MEMBER_WALLET]
            )[AccountKind.MEMBER_WALLET].balance
            or 0
        )
        if balance > 0:
            return False
        try:
            with transaction.atomic():
                request = PrivacyRequest.objects.create(
                    mall_group_id=member.mall_group_id,
                    member=member,
                    kind=RequestKind.ERASURE,
                    status=RequestStatus.PENDING,
                    via=RequestVia.RETENTION,
                    reason=f"inactive since before {cutoff.date().isoformat()}",
                    requested_at=now,
                    due_at=now,
                )
        except IntegrityError:  # a member's own request arrived meanwhile: the erasure job handles it
            return False
        return _erase_in_tx(member=member, request=request, actor=actor, now=now).erased
