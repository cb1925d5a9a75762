"""Campaign errors: each a stable `code` (docs/marketing.md, "Errors") and a translatable message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError, NotFoundError, ValidationError


class CampaignNotFoundError(NotFoundError):
    code = "campaigns.not_found"

    def default_message(self) -> str:
        return str(_("No such campaign."))


class CampaignInvalidError(ValidationError):
    code = "campaigns.invalid"


class CampaignStateError(ConflictError):
    code = "campaigns.state"

    def default_message(self) -> str:
        return str(_("The campaign is no longer in a state that allows this."))
