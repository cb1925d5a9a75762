"""Application errors. Every error a user can cause has a stable `code`; one handler maps codes to HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise


class ApplicationError(Exception):
    """Base of every expected, user-facing error raised by a service.

    `code` is stable (integrators key on it); `message` is translatable; `fields` maps field names to messages.
    """

    code: str = "error"
    status: int = 400

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        fields: Mapping[str, str | Promise] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message()
        if code is not None:
            self.code = code
        self.fields = dict(fields or {})
        self.extra = dict(extra or {})
        super().__init__(str(self.message))

    def default_message(self) -> str | Promise:
        return self.code


class ValidationError(ApplicationError):
    code = "invalid"
    status = 422


class NotFoundError(ApplicationError):
    code = "not_found"
    status = 404


class PermissionDeniedError(ApplicationError):
    code = "forbidden"
    status = 403


class ConflictError(ApplicationError):
    code = "conflict"
    status = 409


class RateLimitedError(ApplicationError):
    code = "rate_limited"
    status = 429
