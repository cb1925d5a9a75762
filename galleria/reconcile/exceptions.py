from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError, NotFoundError, ValidationError


class FindingNotFoundError(NotFoundError):
    code = "reconcile.finding_not_found"

    def default_message(self) -> str | Promise:
        return _("No such reconciliation finding.")


class FindingClosedError(ConflictError):
    code = "reconcile.finding_closed"

    def default_message(self) -> str | Promise:
        return _("This finding was already fixed or resolved.")


class NoteRequiredError(ValidationError):
    code = "reconcile.note_required"

    def default_message(self) -> str | Promise:
        return _("Say what was found and done: the note is kept with the finding.")


class NoAutomaticFixError(ConflictError):
    code = "reconcile.no_fix"

    def default_message(self) -> str | Promise:
        return _("There is no automatic fix-up for this finding: explain it and resolve it.")


class BillDateInvalidError(ValidationError):
    code = "reconcile.date_invalid"

    def default_message(self) -> str | Promise:
        return _("Choose a past date (the gateways publish a day's bill the next morning).")


class ShareNotFoundError(NotFoundError):
    code = "reconcile.share_not_found"

    def default_message(self) -> str | Promise:
        return _("No such profit-sharing order.")


class ShareStateError(ConflictError):
    code = "reconcile.share_state"

    def default_message(self) -> str | Promise:
        return _("This profit-sharing order cannot do that in its current state.")
