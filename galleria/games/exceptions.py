"""Games errors: each a stable `code` (docs/games.md, "Errors") and a translatable message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ApplicationError, NotFoundError, ValidationError


class GameNotFoundError(NotFoundError):
    code = "games.not_found"

    def default_message(self) -> str:
        return str(_("No such game."))


class DrawNotFoundError(NotFoundError):
    code = "games.draw_not_found"

    def default_message(self) -> str:
        return str(_("No prize with this code."))


class GameInvalidError(ValidationError):
    code = "games.invalid"


class StreakRuleInvalidError(ValidationError):
    code = "games.streak_invalid"


class _Conflict(ApplicationError):
    status = 409


class GameNotOpenError(_Conflict):
    code = "games.not_open"

    def default_message(self) -> str:
        return str(_("This game is not open now."))


class GameLockedError(_Conflict):
    code = "games.locked"

    def default_message(self) -> str:
        return str(_("The prizes of a published game cannot change: its odds were published with it."))


class PlayLimitError(_Conflict):
    code = "games.play_limit"

    def default_message(self) -> str:
        return str(_("You have no plays left for this game."))


class PointsInsufficientError(_Conflict):
    code = "games.points_insufficient"

    def default_message(self) -> str:
        return str(_("You do not have enough points to play."))


class IdempotencyConflictError(_Conflict):
    code = "games.idempotency_conflict"

    def default_message(self) -> str:
        return str(_("This request key was already used for another game."))


class AlreadyPickedUpError(_Conflict):
    code = "games.already_picked_up"

    def default_message(self) -> str:
        return str(_("This gift was already handed over."))


class MakeupNotAllowedError(_Conflict):
    code = "games.makeup_not_allowed"
