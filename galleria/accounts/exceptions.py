from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from galleria.core.errors import ApplicationError, RateLimitedError, ValidationError


class SignInFailedError(ApplicationError):
    """Wrong username or password. The same message whether or not the account exists."""

    code = "auth.invalid"
    status = 401

    def default_message(self) -> str:
        return str(_("Please enter a correct username and password. Both fields may be case-sensitive."))


class SignInLockedError(RateLimitedError):
    """Too many failures for the account, the second step or the IP address. One message for all three, so the
    answer tells nothing about whether the account exists."""

    code = "auth.locked"

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(extra={"retry_after": self.retry_after})

    def default_message(self) -> str:
        minutes = max(1, -(-self.retry_after // 60))  # rounded up: "wait 1 minute" while 10 s remain
        return ngettext(
            "Too many failed sign-in attempts. Please wait %(minutes)d minute and try again.",
            "Too many failed sign-in attempts. Please wait %(minutes)d minutes and try again.",
            minutes,
        ) % {"minutes": minutes}


class TwoStepInvalidError(ValidationError):
    code = "auth.two_step_invalid"

    def default_message(self) -> str:
        return str(_("This code is not valid. Enter the current code from your authenticator app."))


class TwoStepStateError(ValidationError):
    code = "auth.two_step_state"

    def default_message(self) -> str:
        return str(_("2-step sign-in is not in the state this action needs. Reload the page and try again."))
