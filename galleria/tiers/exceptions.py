from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError, NotFoundError, ValidationError


class TierLevelUnknownError(NotFoundError):
    code = "tiers.level_unknown"

    def default_message(self) -> str:
        return str(_("There is no such tier in this mall group."))


class MemberUnknownError(NotFoundError):
    code = "tiers.member_unknown"

    def default_message(self) -> str:
        return str(_("There is no such active member."))


class NoLadderError(ValidationError):
    code = "tiers.no_ladder"

    def default_message(self) -> str:
        return str(_("This mall group has no tiers configured."))


class OverrideInvalidError(ValidationError):
    code = "tiers.override_invalid"

    def default_message(self) -> str:
        return str(_("The override needs a reason and an end date that is not in the past."))


class SpendInvalidError(ValidationError):
    code = "tiers.spend_invalid"

    def default_message(self) -> str:
        return str(_("A qualifying spend needs an aware time and a source."))


class SpendConflictError(ConflictError):
    code = "tiers.spend_conflict"

    def default_message(self) -> str:
        return str(_("This source was already recorded with other amounts."))
