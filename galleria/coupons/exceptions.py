"""Errors of the coupons app. Each has a stable `code` (integrators key on it) and a translatable message."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ApplicationError, ConflictError, NotFoundError, ValidationError


class CouponNotFoundError(NotFoundError):
    code = "coupon.not_found"

    def default_message(self) -> str | Promise:
        return _("No such coupon.")


class TemplateNotFoundError(NotFoundError):
    code = "coupon_template.not_found"

    def default_message(self) -> str | Promise:
        return _("No such coupon template.")


class PromotionNotFoundError(NotFoundError):
    code = "promotion.not_found"

    def default_message(self) -> str | Promise:
        return _("No such promotion.")


class TemplateInvalidError(ValidationError):
    """A template or promotion that does not make sense; `code` is the first problem's code and
    `extra["problems"]` lists every problem as {"field", "code"}."""

    code = "coupon_template.invalid"

    def default_message(self) -> str | Promise:
        return _("The coupon settings are not valid.")


class TemplateStatusError(ConflictError):
    code = "coupon_template.status"

    def default_message(self) -> str | Promise:
        return _("This cannot be done in the template's current status.")


class TemplateLockedFieldError(ValidationError):
    code = "coupon_template.locked_field"

    def default_message(self) -> str | Promise:
        return _("This setting cannot be changed once the template has been activated.")


class CouponExpiredError(ValidationError):
    code = "coupon.expired"

    def default_message(self) -> str | Promise:
        return _("This coupon has expired.")


class CouponNotYetValidError(ValidationError):
    code = "coupon.not_yet_valid"

    def default_message(self) -> str | Promise:
        return _("This coupon is not valid yet.")


class CouponUsedError(ConflictError):
    code = "coupon.used"

    def default_message(self) -> str | Promise:
        return _("This coupon has already been used.")


class CouponVoidError(ValidationError):
    code = "coupon.void"

    def default_message(self) -> str | Promise:
        return _("This coupon has been cancelled.")


class CouponWrongMemberError(ValidationError):
    code = "coupon.wrong_member"

    def default_message(self) -> str | Promise:
        return _("This coupon belongs to another member.")


class CouponSoldOutError(ConflictError):
    code = "coupon.sold_out"

    def default_message(self) -> str | Promise:
        return _("All coupons of this kind have been claimed.")


class CouponLimitReachedError(ConflictError):
    code = "coupon.limit_reached"

    def default_message(self) -> str | Promise:
        return _("You already have as many of these coupons as allowed.")


class CouponDailyLimitReachedError(ConflictError):
    code = "coupon.daily_limit_reached"

    def default_message(self) -> str | Promise:
        return _("You have claimed as many of these coupons today as allowed.")


class CouponTierRequiredError(ValidationError):
    code = "coupon.tier_required"

    def default_message(self) -> str | Promise:
        return _("This coupon is for members of a higher tier.")


class CouponNewMembersOnlyError(ValidationError):
    code = "coupon.new_members_only"

    def default_message(self) -> str | Promise:
        return _("This coupon is for new members only.")


class CouponNotClaimableError(ValidationError):
    code = "coupon.not_claimable"

    def default_message(self) -> str | Promise:
        return _("This coupon cannot be claimed now.")


class CouponPointsInsufficientError(ValidationError):
    code = "coupon.points_insufficient"

    def default_message(self) -> str | Promise:
        return _("You do not have enough points for this coupon.")


class CouponNotApplicableError(ValidationError):
    """Not for this merchant, these goods or this channel."""

    code = "coupon.not_applicable"

    def default_message(self) -> str | Promise:
        return _("This coupon cannot be used for this purchase.")


class CouponTimeRestrictedError(ValidationError):
    code = "coupon.time_restricted"

    def default_message(self) -> str | Promise:
        return _("This coupon cannot be used at this day or hour.")


class CouponThresholdNotMetError(ValidationError):
    code = "coupon.threshold_not_met"

    def default_message(self) -> str | Promise:
        return _("The purchase does not reach this coupon's minimum.")


class CouponNotCombinableError(ValidationError):
    code = "coupon.not_combinable"

    def default_message(self) -> str | Promise:
        return _("These coupons cannot be used together.")


class CouponStandaloneOnlyError(ValidationError):
    """Exchange, parking and shipping coupons are redeemed on their own, not against a basket."""

    code = "coupon.standalone_only"

    def default_message(self) -> str | Promise:
        return _("This coupon is redeemed on its own, not at the till.")


class CouponBasketOnlyError(ValidationError):
    code = "coupon.basket_only"

    def default_message(self) -> str | Promise:
        return _("This coupon is used at the till with a purchase.")


class CouponIdempotencyConflictError(ConflictError):
    code = "coupon.idempotency_conflict"

    def default_message(self) -> str | Promise:
        return _("This request key was already used for a different request.")


class CouponRefundUnknownLineError(ValidationError):
    code = "coupon.refund_line_unknown"

    def default_message(self) -> str | Promise:
        return _("The refund names a line or quantity the sale does not have.")


class CouponHeldError(ConflictError):
    code = "coupon.held"

    def default_message(self) -> str | Promise:
        return _("This coupon is reserved by an online order waiting for payment.")


# Reason codes (rules / selectors) → the error a use case raises.
ERRORS: dict[str, type[ApplicationError]] = {
    "coupon.not_found": CouponNotFoundError,
    "coupon.expired": CouponExpiredError,
    "coupon.not_yet_valid": CouponNotYetValidError,
    "coupon.used": CouponUsedError,
    "coupon.void": CouponVoidError,
    "coupon.wrong_member": CouponWrongMemberError,
    "coupon.sold_out": CouponSoldOutError,
    "coupon.limit_reached": CouponLimitReachedError,
    "coupon.daily_limit_reached": CouponDailyLimitReachedError,
    "coupon.tier_required": CouponTierRequiredError,
    "coupon.new_members_only": CouponNewMembersOnlyError,
    "coupon.not_claimable": CouponNotClaimableError,
    "coupon.not_applicable": CouponNotApplicableError,
    "coupon.time_restricted": CouponTimeRestrictedError,
    "coupon.threshold_not_met": CouponThresholdNotMetError,
    "coupon.not_combinable": CouponNotCombinableError,
    "coupon.standalone_only": CouponStandaloneOnlyError,
    "coupon.basket_only": CouponBasketOnlyError,
    "coupon.held": CouponHeldError,
}


def error_for(reason: str, **extra: object) -> ApplicationError:
    cls = ERRORS.get(reason)
    if cls is None:
        return ValidationError(code=reason, extra=extra)
    return cls(extra=extra)
