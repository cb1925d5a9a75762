"""API credential errors: each a stable `code` (docs/api.md, "Tokens") and a translatable message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ApplicationError, NotFoundError, ValidationError


class TokenInvalidError(ApplicationError):
    """A refresh token that does not work (as OAuth's invalid_grant: 400; a bearer access token that does not work
    is the API's 401 auth.required)."""

    code = "auth.token_invalid"
    status = 400

    def default_message(self) -> str:
        return str(_("The token is unknown, expired or revoked: sign in again."))


class RefreshReusedError(TokenInvalidError):
    code = "auth.refresh_reused"

    def default_message(self) -> str:
        return str(_("This refresh token was already used: the device is signed out for safety. Sign in again."))


class DeviceNotFoundError(NotFoundError):
    code = "auth.device_not_found"

    def default_message(self) -> str:
        return str(_("No such signed-in device."))


class StaffTokenNotFoundError(NotFoundError):
    code = "auth.staff_token_not_found"

    def default_message(self) -> str:
        return str(_("No such API token."))


class StaffTokenInvalidError(ValidationError):
    code = "auth.staff_token_invalid"
