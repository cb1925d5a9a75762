"""Audience errors: each a stable `code` (docs/marketing.md, "Errors") and a translatable message."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError, NotFoundError, ValidationError

# rules.SegmentError codes → what the builder shows next to the condition
SEGMENT_REASONS: dict[str, Any] = {
    "not_a_segment": _("This is not a segment definition."),
    "unknown_match": _("Choose “all” or “any”."),
    "too_many_conditions": _("A segment has at most 20 conditions."),
    "empty_group": _("A group needs at least one condition."),
    "not_a_condition": _("This is not a condition."),
    "too_deep": _("Groups can hold conditions, not further groups."),
    "unknown_field": _("Unknown condition."),
    "unknown_key": _("Unknown setting for this condition."),
    "not_a_number": _("Enter a whole number."),
    "out_of_range": _("This number is out of range."),
    "choose_some": _("Choose at least one."),
    "unknown_choice": _("Unknown choice."),
    "give_a_bound": _("Enter a minimum, a maximum or both."),
    "min_above_max": _("The minimum is above the maximum."),
}


class SegmentNotFoundError(NotFoundError):
    code = "audience.segment_not_found"

    def default_message(self) -> str:
        return str(_("No such segment."))


class TagNotFoundError(NotFoundError):
    code = "audience.tag_not_found"

    def default_message(self) -> str:
        return str(_("No such tag."))


class SegmentInvalidError(ValidationError):
    """A definition the rules refused: `extra` has the reason code and the path of the offending condition."""

    code = "audience.segment_invalid"

    def __init__(self, *, reason: str, path: str) -> None:
        super().__init__(SEGMENT_REASONS.get(reason, reason), extra={"reason": reason, "path": path})


class AudienceInvalidError(ValidationError):
    code = "audience.invalid"


class AutoTagReadOnlyError(ConflictError):
    code = "audience.auto_tag_read_only"

    def default_message(self) -> str:
        return str(_("Automatic tags are kept by the system: they cannot be given or taken by hand."))
