from __future__ import annotations

from galleria.core.errors import ApplicationError, NotFoundError, ValidationError


class ReceiptImageInvalidError(ValidationError):
    code = "receipt.image_invalid"


class ReceiptRefusedError(ApplicationError):
    """A receipt the rules refuse (duplicate, too old, over a limit, blocked member, merchant not accepting)."""

    code = "receipt.refused"
    status = 409


class ReceiptInvalidError(ValidationError):
    code = "receipt.invalid"


class ReceiptStateError(ApplicationError):
    code = "receipt.state"
    status = 409


class ReceiptNotFoundError(NotFoundError):
    code = "receipt.not_found"
