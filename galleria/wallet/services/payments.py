"""Paying from the wallet (principal first, bonus last) and refunding a wallet payment back to the wallet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from galleria.core.locking import lock_one
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind, Asset, TransactionKind
from galleria.ledger.types import Leg
from galleria.merchants.models import Merchant

from .. import exceptions, rules
from ..models import WalletPayment, WalletRefund
from ..types import Split, WalletPaymentResult, WalletRefundResult
from ._common import active_member, wallet_accounts_check, wallet_lock


def _payment_result(payment: WalletPayment) -> WalletPaymentResult:
    return WalletPaymentResult(
        payment_id=payment.pk,
        member_id=payment.member_id,
        merchant_id=payment.merchant_id,
        amount_fen=payment.amount_fen,
        principal_fen=payment.principal_fen,
        bonus_fen=payment.bonus_fen,
        transaction_id=payment.transaction_id,
        source=payment.source,
    )


def wallet_pay_in_tx(
    *,
    mall_group_id: int,
    member_id: int,
    accounts: Mapping[str, Account],
    amount_fen: int,
    merchant_id: int | None,
    occurred_at: dt.datetime,
    source: str,
) -> WalletPaymentResult:
    """Pay `amount_fen` from the member's wallet to a merchant (None: the mall itself, e.g. parking).

    Principal first, bonus last (rules.split_payment). `accounts` are the member's locked wallet accounts (kind →
    row, as ledger.services.lock_member_accounts returns them); their cached balances are updated in place.
    Raises WalletInsufficientError (code "wallet.insufficient") when principal + bonus is not enough.
    `source` (≤ 60 characters, e.g. "sale:123") is unique per mall group: paying the same source again with the
    same member, merchant and amount returns the first payment; anything else is IdempotencyConflictError.
    """
    principal, bonus = wallet_accounts_check(accounts, mall_group_id=mall_group_id, member_id=member_id)
    source = source[:60]
    if source:
        previous = WalletPayment.objects.filter(mall_group_id=mall_group_id, source=source).first()
        if previous is not None:
            if (previous.member_id, previous.merchant_id, previous.amount_fen) != (member_id, merchant_id, amount_fen):
                raise exceptions.IdempotencyConflictError(extra={"payment_id": previous.pk})
            return _payment_result(previous)
    if merchant_id is not None and not Merchant.objects.filter(pk=merchant_id, mall__group_id=mall_group_id).exists():
        raise exceptions.WalletMerchantInvalidError()
    split = rules.split_payment(
        amount_fen, principal_available_fen=principal.balance or 0, bonus_available_fen=bonus.balance or 0
    )
    spent_id = ledger.system_account_id(
        mall_group_id=mall_group_id, kind=AccountKind.WALLET_SPENT, merchant_id=merchant_id
    )
    tx = ledger.post(
        mall_group_id=mall_group_id,
        kind=TransactionKind.WALLET_PAY,
        legs=[
            Leg(principal.pk, Asset.CNY, -split.principal_fen),
            Leg(bonus.pk, Asset.CNY, -split.bonus_fen),
            Leg(spent_id, Asset.CNY, amount_fen),
        ],
        member_accounts={principal.pk: principal, bonus.pk: bonus},
        occurred_at=occurred_at,
        source=source,
        explanation={"principal_fen": split.principal_fen, "bonus_fen": split.bonus_fen, "merchant": merchant_id},
    )
    payment = WalletPayment.objects.create(
        mall_group_id=mall_group_id,
        member_id=member_id,
        merchant_id=merchant_id,
        amount_fen=amount_fen,
        principal_fen=split.principal_fen,
        bonus_fen=split.bonus_fen,
        source=source,
        occurred_at=occurred_at,
        transaction=tx,
    )
    return _payment_result(payment)


def wallet_pay(
    *,
    member_id: int,
    amount_fen: int,
    merchant_id: int | None,
    source: str,
    occurred_at: dt.datetime | None = None,
    mall_group_id: int | None = None,
) -> WalletPaymentResult:
    """Durable wrapper of wallet_pay_in_tx for payments outside a sale (online orders, parking)."""
    member = active_member(member_id=member_id, mall_group_id=mall_group_id)
    with transaction.atomic(durable=True):
        accounts = wallet_lock(mall_group_id=member.mall_group_id, member_id=member.pk)
        return wallet_pay_in_tx(
            mall_group_id=member.mall_group_id,
            member_id=member.pk,
            accounts=accounts,
            amount_fen=amount_fen,
            merchant_id=merchant_id,
            occurred_at=occurred_at or timezone.now(),
            source=source,
        )


def _refund_result(refund: WalletRefund) -> WalletRefundResult:
    return WalletRefundResult(
        refund_id=refund.pk,
        payment_id=refund.payment_id,
        amount_fen=refund.amount_fen,
        principal_fen=refund.principal_fen,
        bonus_fen=refund.bonus_fen,
        transaction_id=refund.transaction_id,
    )


def wallet_refund_in_tx(
    *,
    payment: WalletPayment,
    amount_fen: int,
    accounts: Mapping[str, Account],
    occurred_at: dt.datetime,
    source: str = "",
) -> WalletRefundResult:
    """Give `amount_fen` of a wallet payment back to the wallet, split over principal and bonus in the payment's
    proportion, cumulatively (rules.refund_split): partial refunds add up exactly and a full refund returns
    exactly what was paid. Never more than what is left of the payment (RefundExceedsPaymentError).

    `accounts` are the payment member's locked wallet accounts. The payment row is locked (after them) and
    re-read here, so a stale `payment` object is fine. `source` (e.g. "refund:45") is unique per payment: a
    repeat with the same amount returns the first refund.
    """
    principal, bonus = wallet_accounts_check(accounts, mall_group_id=payment.mall_group_id, member_id=payment.member_id)
    payment = lock_one(WalletPayment.objects.filter(pk=payment.pk))
    source = source[:60]
    if source:
        previous = WalletRefund.objects.filter(payment=payment, source=source).first()
        if previous is not None:
            if previous.amount_fen != amount_fen:
                raise exceptions.IdempotencyConflictError(extra={"refund_id": previous.pk})
            return _refund_result(previous)
    left = payment.amount_fen - payment.refunded_fen
    if amount_fen <= 0:
        raise exceptions.WalletAmountInvalidError(extra={"amount_fen": amount_fen})
    if amount_fen > left:
        raise exceptions.RefundExceedsPaymentError(extra={"refundable_fen": left, "requested_fen": amount_fen})
    split = rules.refund_split(
        paid=Split(payment.principal_fen, payment.bonus_fen),
        refunded=Split(payment.refunded_principal_fen, payment.refunded_bonus_fen),
        amount_fen=amount_fen,
    )
    spent_id = ledger.system_account_id(
        mall_group_id=payment.mall_group_id, kind=AccountKind.WALLET_SPENT, merchant_id=payment.merchant_id
    )
    tx = ledger.post(
        mall_group_id=payment.mall_group_id,
        kind=TransactionKind.REFUND,
        legs=[
            Leg(principal.pk, Asset.CNY, split.principal_fen),
            Leg(bonus.pk, Asset.CNY, split.bonus_fen),
            Leg(spent_id, Asset.CNY, -amount_fen),
        ],
        member_accounts={principal.pk: principal, bonus.pk: bonus},
        occurred_at=occurred_at,
        source=source or f"wallet_payment:{payment.pk}",
        explanation={"payment": payment.pk, "principal_fen": split.principal_fen, "bonus_fen": split.bonus_fen},
    )
    refund = WalletRefund.objects.create(
        payment=payment,
        amount_fen=amount_fen,
        principal_fen=split.principal_fen,
        bonus_fen=split.bonus_fen,
        source=source,
        occurred_at=occurred_at,
        transaction=tx,
    )
    payment.refunded_principal_fen += split.principal_fen
    payment.refunded_bonus_fen += split.bonus_fen
    payment.save(update_fields=["refunded_principal_fen", "refunded_bonus_fen"])
    return _refund_result(refund)


def wallet_refund(
    *, payment_id: int, amount_fen: int, source: str = "", occurred_at: dt.datetime | None = None
) -> WalletRefundResult:
    """Durable wrapper of wallet_refund_in_tx."""
    payment = WalletPayment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise exceptions.PaymentNotFoundError()
    with transaction.atomic(durable=True):
        accounts = wallet_lock(mall_group_id=payment.mall_group_id, member_id=payment.member_id)
        return wallet_refund_in_tx(
            payment=payment,
            amount_fen=amount_fen,
            accounts=accounts,
            occurred_at=occurred_at or timezone.now(),
            source=source,
        )
