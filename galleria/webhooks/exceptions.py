"""Webhooks errors: each a stable `code` (docs/api.md, "Webhooks") and a translatable message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import NotFoundError, ValidationError


class EndpointNotFoundError(NotFoundError):
    code = "webhooks.endpoint_not_found"

    def default_message(self) -> str:
        return str(_("No such webhook endpoint."))


class DeliveryNotFoundError(NotFoundError):
    code = "webhooks.delivery_not_found"

    def default_message(self) -> str:
        return str(_("No such webhook delivery."))


class EndpointInvalidError(ValidationError):
    code = "webhooks.invalid"
