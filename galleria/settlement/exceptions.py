"""Errors of settlement with merchants, each with a stable code (docs/settlement.md)."""

from __future__ import annotations

from galleria.core.errors import ApplicationError, ConflictError, NotFoundError, ValidationError


class PeriodInvalidError(ValidationError):
    code = "settlement.period_invalid"


class StatementNotFoundError(NotFoundError):
    code = "settlement.not_found"


class StatementStateError(ConflictError):
    """The statement is not in a state that allows this step (e.g. approving a draft, confirming twice)."""

    code = "settlement.state"


class StatementChangedError(ConflictError):
    """The statement was regenerated after the page showing it was loaded: its figures may differ."""

    code = "settlement.changed"


class PeriodNotEndedError(ConflictError):
    """The statement's month is not over yet (mall time): it is a preview, which can be regenerated but neither
    confirmed, disputed nor approved until the month has ended."""

    code = "settlement.period_not_ended"


class CommentRequiredError(ValidationError):
    """A dispute (or approving over a dispute) needs a comment saying why."""

    code = "settlement.comment_required"


class PaymentReferenceRequiredError(ValidationError):
    code = "settlement.reference_required"


class SettlementForbiddenError(ApplicationError):
    """The statement belongs to another merchant or group (shown as not found to the caller)."""

    code = "settlement.forbidden"
    status = 404
