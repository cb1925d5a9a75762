"""Journey errors: each a stable `code` (docs/marketing.md, "Journeys") and a translatable message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError, NotFoundError, ValidationError


class JourneyNotFoundError(NotFoundError):
    code = "journeys.not_found"

    def default_message(self) -> str:
        return str(_("No such journey."))


class JourneyInvalidError(ValidationError):
    code = "journeys.invalid"


class JourneyStateError(ConflictError):
    code = "journeys.state"

    def default_message(self) -> str:
        return str(_("The journey is no longer in a state that allows this."))
