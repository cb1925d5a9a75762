"""Errors of the imports area, each with a stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError, NotFoundError, ValidationError


class FileRefusedError(ValidationError):
    """The file cannot be imported at all (size, encoding, not a table, no header…). `message` says why."""

    code = "imports.file_refused"


class MappingInvalidError(ValidationError):
    code = "imports.mapping_invalid"

    def default_message(self) -> str:
        return str(_("Map the phone column before going on."))


class ImportStateError(ConflictError):
    code = "imports.state"

    def default_message(self) -> str:
        return str(_("This import is not in a state that allows this step."))


class ImportNotFoundError(NotFoundError):
    code = "imports.not_found"


class ImportFileDeletedError(ConflictError):
    code = "imports.file_deleted"

    def default_message(self) -> str:
        return str(
            _("The uploaded file was deleted (it is kept only while the import is unfinished): upload it again.")
        )
