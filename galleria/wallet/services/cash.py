"""Cash top-ups at the service desk: the desk took the member's money and puts it into the wallet.

`wallet_topup_cash` records the top-up (gateway "cash", who took the money, the desk's note) with the bonus the
rules give on the mall-local day, as any top-up. Up to GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN it is credited at
once (services.topups.wallet_topup_confirm_in_tx, in the same transaction); above it, it waits for a second person
(`wallet_topup_cash_decide`; the person who took the cash cannot decide their own top-up), as wallet refunds do.
Nothing is credited while it waits, and no gateway path can credit it (wallet_topup_confirm_in_tx refuses a top-up
awaiting approval). Approval records the decision on the locked row, then credits it through
wallet_topup_confirm_in_tx; rejection cancels it (status cancelled: the desk gives the cash back).

Locks: the member's wallet accounts, then the top-up row, like every wallet use case. A repeat with the same
idempotency key returns the first top-up (another amount or mall: IdempotencyConflictError); the decision is
taken once under the row lock, so a second or concurrent decision gets CashTopUpDecidedError and nothing moves
twice. Every request and decision is audited (target: the member, so it shows in the member's history).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.errors import NotFoundError
from galleria.core.locking import lock_one
from galleria.core.money import format_cny
from galleria.malls.selectors import mall_list

from .. import exceptions, rules
from ..models import TopUp, TopUpStatus
from ..selectors import cash_topup_approval_threshold_fen, topup_bonus_for
from ..types import CASH_GATEWAY
from ._common import active_member, request_key_check, wallet_lock
from .topups import wallet_topup_confirm_in_tx

NOTE_MAX = 200


def _note(text: str) -> str:
    return " ".join((text or "").split())[:NOTE_MAX]


def _check_amount(amount_fen: int) -> None:
    if not rules.MIN_TOPUP_FEN <= amount_fen <= rules.MAX_TOPUP_FEN:
        message = _("From %(min)s to %(max)s per top-up.") % {
            "min": format_cny(rules.MIN_TOPUP_FEN),
            "max": format_cny(rules.MAX_TOPUP_FEN),
        }
        raise exceptions.WalletAmountInvalidError(
            message,
            extra={"min_fen": rules.MIN_TOPUP_FEN, "max_fen": rules.MAX_TOPUP_FEN, "amount_fen": amount_fen},
            fields={"amount": message},
        )


def _summary(topup: TopUp) -> dict[str, object]:
    return {
        "reference": topup.reference,
        "amount_fen": topup.amount_fen,
        "member_wallet_bonus": topup.bonus_fen,  # the audit log reads this key as "Wallet bonus", in yuan
        "approval_required": topup.approval_required,
        "paid_at": topup.paid_at.isoformat() if topup.paid_at is not None else None,  # credited at; None: not (yet)
    }


def wallet_topup_cash(
    *,
    mall_id: int,
    member_id: int,
    amount_fen: int,
    actor: Actor,
    idempotency_key: str = "",
    note: str = "",
    at: dt.datetime | None = None,
) -> TopUp:
    """The desk at `mall_id` took `amount_fen` in cash for the member's wallet: credit it at once up to the
    threshold, else leave it pending for a second person's approval (see the module docstring). Returns the
    TopUp (status paid, or pending with `approval_required`)."""
    key = request_key_check(idempotency_key)
    note = _note(note)
    _check_amount(amount_fen)
    mall = mall_list(mall_group_id=None).filter(pk=mall_id).first()
    if mall is None:
        raise NotFoundError(_("Unknown mall."), code="wallet.mall_unknown")
    member = active_member(member_id=member_id, mall_group_id=mall.group_id)
    when = at or timezone.now()
    with transaction.atomic(durable=True):
        # the member's wallet accounts first: this serialises requests for the member, so the key check is exact
        wallet_lock(mall_group_id=member.mall_group_id, member_id=member.pk)
        if key:
            previous = TopUp.objects.filter(member_id=member.pk, idempotency_key=key).first()
            if previous is not None:
                if (previous.amount_fen, previous.mall_id, previous.gateway) != (amount_fen, mall.pk, CASH_GATEWAY):
                    raise exceptions.IdempotencyConflictError(extra={"topup_id": previous.pk})
                return previous
        choice = topup_bonus_for(mall_group_id=mall.group_id, tz_name=mall.timezone, amount_fen=amount_fen, at=when)
        reference = f"TU{secrets.token_hex(12)}"
        needs_approval = rules.cash_topup_needs_approval(amount_fen, threshold_fen=cash_topup_approval_threshold_fen())
        topup = TopUp.objects.create(
            mall_group_id=mall.group_id,
            mall=mall,
            member_id=member.pk,
            amount_fen=amount_fen,
            bonus_fen=choice.bonus_fen,
            bonus_rule_id=choice.rule_id,
            gateway=CASH_GATEWAY,
            reference=reference,
            gateway_ref=f"{CASH_GATEWAY}_{reference}",
            idempotency_key=key,
            requested_by_id=actor.user_id,
            approval_required=needs_approval,
            decided_at=None if needs_approval else when,
            note=note,
        )
        if not needs_approval:
            wallet_topup_confirm_in_tx(topup_id=topup.pk, paid_amount_fen=amount_fen, paid_at=when)
            topup.refresh_from_db()
        audit_record(
            actor=actor,
            action="wallet.cash_topup_request",
            target_type="member",
            target_id=member.pk,
            target_label=member.card_no,
            mall_group_id=member.mall_group_id,
            changes={**_summary(topup), "note": note},
        )
        return topup


def wallet_topup_cash_decide(
    *, topup_id: int, mall_group_id: int | None, approve: bool, actor: Actor, note: str = ""
) -> TopUp:
    """Approve (credit principal and bonus) or reject (cancel: the desk gives the cash back) a cash top-up awaiting
    approval. The person who took the cash cannot decide it. A top-up already decided: CashTopUpDecidedError."""
    found = TopUp.objects.select_related("member").filter(pk=topup_id, gateway=CASH_GATEWAY).first()
    if found is None or (mall_group_id is not None and found.mall_group_id != mall_group_id):
        raise exceptions.CashTopUpNotFoundError()
    if not found.approval_required:
        raise exceptions.CashTopUpDecidedError()  # credited at once (or not a desk top-up): nothing to decide
    when = timezone.now()
    with transaction.atomic(durable=True):
        # approving moves money: the wallet accounts first (refused if the member was merged or erased meanwhile)
        if approve:
            wallet_lock(mall_group_id=found.mall_group_id, member_id=found.member_id)
        topup = lock_one(TopUp.objects.filter(pk=found.pk))
        if not topup.is_awaiting_approval:
            raise exceptions.CashTopUpDecidedError()
        if actor.user_id is not None and actor.user_id == topup.requested_by_id:
            raise exceptions.CashTopUpSamePersonError()
        topup.decided_by_id = actor.user_id
        topup.decided_at = when
        topup.decision_note = _note(note)
        if not approve:
            topup.status = TopUpStatus.CANCELLED
        topup.save(update_fields=["decided_by", "decided_at", "decision_note", "status"])
        if approve:  # the decision is on the row now: the confirmation credits it (once: it holds the row lock)
            wallet_topup_confirm_in_tx(topup_id=topup.pk, paid_amount_fen=topup.amount_fen, paid_at=when)
            topup.refresh_from_db()
        audit_record(
            actor=actor,
            action="wallet.cash_topup_approve" if approve else "wallet.cash_topup_reject",
            target_type="member",
            target_id=topup.member_id,
            target_label=found.member.card_no,
            mall_group_id=topup.mall_group_id,
            changes={**_summary(topup), "note": topup.decision_note},
        )
        return topup
