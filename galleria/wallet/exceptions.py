from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)


class WalletInsufficientError(ValidationError):
    """The member's principal + bonus does not cover the payment. `extra` carries available and requested fen."""

    code = "wallet.insufficient"

    def default_message(self) -> str | Promise:
        return _("The wallet balance is not enough for this payment.")


class WalletAmountInvalidError(ValidationError):
    code = "wallet.amount_invalid"

    def default_message(self) -> str | Promise:
        return _("The amount is not valid.")


class WalletMemberInvalidError(ValidationError):
    code = "wallet.member_invalid"

    def default_message(self) -> str | Promise:
        return _("This member cannot use a wallet here.")


class WalletMerchantInvalidError(ValidationError):
    code = "wallet.merchant_invalid"

    def default_message(self) -> str | Promise:
        return _("Unknown merchant for this mall group.")


class TopUpNotFoundError(NotFoundError):
    code = "wallet.topup_not_found"

    def default_message(self) -> str | Promise:
        return _("No such top-up.")


class TopUpAmountMismatchError(ValidationError):
    """The gateway reports a paid amount different from the top-up's amount: nothing is credited."""

    code = "wallet.topup_amount_mismatch"

    def default_message(self) -> str | Promise:
        return _("The paid amount does not match the top-up.")


class TopUpNotPaidError(ValidationError):
    code = "wallet.topup_not_paid"

    def default_message(self) -> str | Promise:
        return _("This top-up has not been paid.")


class TopUpRefundExceedsError(ValidationError):
    """More than the top-up's unrefunded amount, or more than the member's unspent principal."""

    code = "wallet.topup_refund_exceeds"

    def default_message(self) -> str | Promise:
        return _("The refund is more than what can still be refunded from this top-up.")


class PaymentNotFoundError(NotFoundError):
    code = "wallet.payment_not_found"

    def default_message(self) -> str | Promise:
        return _("No such wallet payment.")


class RefundExceedsPaymentError(ValidationError):
    code = "wallet.refund_exceeds"

    def default_message(self) -> str | Promise:
        return _("The refund is more than what is left of the payment.")


class IdempotencyConflictError(ConflictError):
    """The same idempotency key (or payment source) was used before with a different request."""

    code = "wallet.idempotency_conflict"

    def default_message(self) -> str | Promise:
        return _("This request key was already used for a different request.")


class GatewayUnavailableError(ApplicationError):
    """The payment gateway could not create the payment; the top-up stays pending and can be started again."""

    code = "wallet.gateway_unavailable"
    status = 503

    def default_message(self) -> str | Promise:
        return _("The payment service is not available. Please try again.")


# ---------------------------------------------------------------- wallet balance refunds at the service desk


class BalanceRefundExceedsError(ValidationError):
    """More than the member's own money (principal) in the wallet. `extra` carries available and requested fen."""

    code = "wallet.refund_exceeds_balance"

    def default_message(self) -> str | Promise:
        return _("The refund is more than the member's own money in the wallet.")


class BalanceRefundNothingError(ValidationError):
    code = "wallet.nothing_to_refund"

    def default_message(self) -> str | Promise:
        return _("The wallet holds none of the member's own money: there is nothing to refund.")


class BalanceRefundPendingError(ConflictError):
    code = "wallet.refund_pending"

    def default_message(self) -> str | Promise:
        return _("A wallet refund for this member is already waiting for approval.")


class BalanceRefundNotFoundError(NotFoundError):
    code = "wallet.refund_not_found"

    def default_message(self) -> str | Promise:
        return _("No such wallet refund.")


class BalanceRefundDecidedError(ConflictError):
    code = "wallet.refund_decided"

    def default_message(self) -> str | Promise:
        return _("This wallet refund was already approved or rejected.")


class BalanceRefundSamePersonError(PermissionDeniedError):
    code = "wallet.approval_same_person"

    def default_message(self) -> str | Promise:
        return _("You requested this refund: a second person must approve it.")


# ---------------------------------------------------------------- cash top-ups at the service desk


class TopUpAwaitingApprovalError(ConflictError):
    """A cash top-up above the threshold waits for a second person: no gateway path may credit it."""

    code = "wallet.topup_awaiting_approval"

    def default_message(self) -> str | Promise:
        return _("This cash top-up is waiting for a second person's approval.")


class TopUpCancelledError(ConflictError):
    code = "wallet.topup_cancelled"

    def default_message(self) -> str | Promise:
        return _("This top-up was cancelled: the cash was given back.")


class CashTopUpNotFoundError(NotFoundError):
    code = "wallet.cash_topup_not_found"

    def default_message(self) -> str | Promise:
        return _("No such cash top-up.")


class CashTopUpDecidedError(ConflictError):
    code = "wallet.cash_topup_decided"

    def default_message(self) -> str | Promise:
        return _("This cash top-up was already approved or rejected.")


class CashTopUpSamePersonError(PermissionDeniedError):
    code = "wallet.cash_topup_same_person"

    def default_message(self) -> str | Promise:
        return _("You took this cash: a second person must approve the top-up.")
