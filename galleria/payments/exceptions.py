from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ApplicationError, ConflictError, NotFoundError, ValidationError


class ProviderNotConfiguredError(ValidationError):
    code = "payments.provider_not_configured"

    def default_message(self) -> str | Promise:
        return _("This payment method is not available here.")


class GatewayDownError(ApplicationError):
    code = "payments.gateway_unavailable"
    status = 503

    def default_message(self) -> str | Promise:
        return _("The payment service cannot be reached right now. Nothing was charged; please try again.")


class GatewayRefusedPaymentError(ApplicationError):
    code = "payments.gateway_refused"
    status = 502

    def default_message(self) -> str | Promise:
        return _("The payment service refused the request.")


class AttemptNotFoundError(NotFoundError):
    code = "payments.not_found"

    def default_message(self) -> str | Promise:
        return _("No such payment.")


class AmountInvalidError(ValidationError):
    code = "payments.amount_invalid"

    def default_message(self) -> str | Promise:
        return _("Enter an amount between ¥0.01 and ¥50,000.")


class IdempotencyConflictError(ConflictError):
    code = "payments.idempotency_conflict"

    def default_message(self) -> str | Promise:
        return _("This request was already made with different details.")


class RefundNotAllowedError(ConflictError):
    code = "payments.refund_not_allowed"

    def default_message(self) -> str | Promise:
        return _("This payment cannot be refunded.")


class RefundExceedsError(ValidationError):
    code = "payments.refund_exceeds"

    def default_message(self) -> str | Promise:
        return _("The refund is more than what is left of the payment.")


class StoreUnavailableError(ValidationError):
    code = "payments.store_unavailable"

    def default_message(self) -> str | Promise:
        return _("This shop does not take payments in the app.")
