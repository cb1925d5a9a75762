from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError, ValidationError


class InsufficientBalanceError(ValidationError):
    code = "ledger.insufficient"

    def default_message(self) -> str:
        return str(_("The balance is not enough for this."))


class UnbalancedTransactionError(ValidationError):
    code = "ledger.unbalanced"


class AlreadyReversedError(ConflictError):
    code = "ledger.already_reversed"

    def default_message(self) -> str:
        return str(_("This transaction has already been reversed."))


class AccountClosedError(ConflictError):
    """The member's accounts were closed: merged into another member (post to the survivor) or erased."""

    code = "member.account_closed"

    def default_message(self) -> str:
        return str(_("This member's account is closed: merged into another member, or deleted."))


class HoldConflictError(ConflictError):
    """A hold key already names a hold of another account or amount (a key is used once)."""

    code = "ledger.hold_conflict"

    def default_message(self) -> str:
        return str(_("This reservation key is already used for a different reservation."))
