from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError, NotFoundError, ValidationError


class WalletNotEmptyError(ConflictError):
    code = "privacy.wallet_not_empty"

    def default_message(self) -> str:
        return str(
            _(
                "The stored-value wallet still holds money. Ask the service desk to refund it before the account "
                "can be deleted."
            )
        )


class ErasurePendingError(ConflictError):
    code = "privacy.erasure_pending"

    def default_message(self) -> str:
        return str(_("An account deletion is already pending."))


class NoPendingErasureError(NotFoundError):
    code = "privacy.no_pending_erasure"

    def default_message(self) -> str:
        return str(_("There is no pending account deletion to cancel."))


class MemberNotActiveError(ConflictError):
    code = "privacy.member_not_active"

    def default_message(self) -> str:
        return str(_("This member is no longer active."))


class ConfirmationError(ValidationError):
    code = "privacy.confirmation_invalid"

    def default_message(self) -> str:
        return str(_("Enter the last 4 digits of your phone number and tick the box to confirm."))


class ExportNotFoundError(NotFoundError):
    code = "privacy.export_not_found"

    def default_message(self) -> str:
        return str(_("This export does not exist or has expired."))
