"""Errors of the dedupe app. Each has a stable `code` and a translatable message (docs/merge.md lists them)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError, NotFoundError, ValidationError


class MemberNotFoundError(NotFoundError):
    code = "dedupe.member_not_found"

    def default_message(self) -> str | Promise:
        return _("No such member.")


class MergeNotFoundError(NotFoundError):
    code = "dedupe.merge_not_found"

    def default_message(self) -> str | Promise:
        return _("No such merge.")


class SameMemberError(ValidationError):
    code = "dedupe.same_member"

    def default_message(self) -> str | Promise:
        return _("A member cannot be merged into itself.")


class DifferentGroupsError(ValidationError):
    code = "dedupe.different_groups"

    def default_message(self) -> str | Promise:
        return _("Only members of the same mall group can be merged.")


class MemberNotActiveError(ConflictError):
    code = "dedupe.member_not_active"

    def default_message(self) -> str | Promise:
        return _("One of the members is already merged or erased.")


class PendingTopUpError(ConflictError):
    code = "dedupe.pending_topup"

    def default_message(self) -> str | Promise:
        return _("A wallet top-up of this member is still waiting for payment. Try again when it is finished.")


class PendingAdjustmentError(ConflictError):
    code = "dedupe.pending_adjustment"

    def default_message(self) -> str | Promise:
        return _("A points adjustment of this member is waiting for approval. Decide it first.")


class KeyConflictError(ConflictError):
    code = "dedupe.key_conflict"

    def default_message(self) -> str | Promise:
        return _("Both members have a top-up with the same request key; they cannot be merged automatically.")


class UndoWindowPassedError(ConflictError):
    code = "dedupe.undo_window_passed"

    def default_message(self) -> str | Promise:
        return _("This merge is too old to be undone.")


class UndoSurvivorActivityError(ConflictError):
    code = "dedupe.undo_survivor_activity"

    def default_message(self) -> str | Promise:
        return _("The surviving member has used points or wallet money since the merge; it cannot be undone.")


class UndoCouponChangedError(ConflictError):
    code = "dedupe.undo_coupon_changed"

    def default_message(self) -> str | Promise:
        return _("A coupon that moved with the merge has been used or changed since; the merge cannot be undone.")


class UndoTierChangedError(ConflictError):
    code = "dedupe.undo_tier_changed"

    def default_message(self) -> str | Promise:
        return _("The surviving member's tier changed since the merge; it cannot be undone.")


class UndoNotLiveError(ConflictError):
    code = "dedupe.undo_not_live"

    def default_message(self) -> str | Promise:
        return _("This merge was already undone, or one of its members has changed status since.")


class PairInvalidError(ValidationError):
    code = "dedupe.pair_invalid"

    def default_message(self) -> str | Promise:
        return _("Choose two different members of your mall group.")
