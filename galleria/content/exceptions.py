"""Errors of the content app (home layout, images). Each has a stable `code` and a translatable message."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError, NotFoundError, ValidationError


class LayoutInvalidError(ValidationError):
    code = "content.layout_invalid"

    def default_message(self) -> str | Promise:
        return _("The home layout is not valid.")


class LayoutStaleError(ConflictError):
    code = "content.layout_stale"

    def default_message(self) -> str | Promise:
        return _("Someone else changed the draft in the meantime. Reload the page and make your change again.")


class NothingToPublishError(ConflictError):
    code = "content.nothing_to_publish"

    def default_message(self) -> str | Promise:
        return _("The draft is the same as the published layout: there is nothing to publish.")


class BlockNotFoundError(NotFoundError):
    code = "content.block_not_found"

    def default_message(self) -> str | Promise:
        return _("That block is no longer in the draft.")


class ImageInvalidError(ValidationError):
    code = "content.image_invalid"

    def default_message(self) -> str | Promise:
        return _("Upload a PNG, JPEG, GIF or WebP image.")


class ImageNotFoundError(NotFoundError):
    code = "content.image_not_found"

    def default_message(self) -> str | Promise:
        return _("No such image.")
