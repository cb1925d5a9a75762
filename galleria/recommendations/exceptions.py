"""Recommendations errors: each a stable `code` and a translatable message (docs/recommendations.md)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ValidationError


class NothingToTrainError(ValidationError):
    code = "recommendations.nothing_to_train"

    def default_message(self) -> str:
        return str(_("There are no purchases to train on."))


class BlockUnknownError(ValidationError):
    code = "recommendations.block_unknown"

    def default_message(self) -> str:
        return str(_("Unknown recommendation block."))
