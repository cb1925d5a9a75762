"""Member services' errors: each a stable `code` (docs/amenities.md, "Errors") and a translatable message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ApplicationError, NotFoundError, ValidationError


class _Conflict(ApplicationError):
    status = 409


class InvalidError(ValidationError):
    code = "amenities.invalid"


class DeskNotFoundError(NotFoundError):
    code = "amenities.desk_not_found"

    def default_message(self) -> str:
        return str(_("No such service desk."))


class ItemTypeNotFoundError(NotFoundError):
    code = "amenities.item_type_not_found"

    def default_message(self) -> str:
        return str(_("No such item."))


class RentalNotFoundError(NotFoundError):
    code = "amenities.rental_not_found"

    def default_message(self) -> str:
        return str(_("No such rental."))


class OutOfStockError(_Conflict):
    code = "amenities.out_of_stock"

    def default_message(self) -> str:
        return str(_("None of these is left at this desk."))


class DepositNotOfferedError(ValidationError):
    code = "amenities.deposit_not_offered"

    def default_message(self) -> str:
        return str(_("This item takes no deposit of that kind."))


class DepositInsufficientError(_Conflict):
    code = "amenities.deposit_insufficient"

    def default_message(self) -> str:
        return str(_("The member does not have enough available for the deposit."))


class AlreadyBorrowingError(_Conflict):
    code = "amenities.already_borrowing"

    def default_message(self) -> str:
        return str(_("The member already has one of these and must return it first."))


class RentalClosedError(_Conflict):
    code = "amenities.rental_closed"

    def default_message(self) -> str:
        return str(_("This rental is already closed."))


class IdempotencyConflictError(_Conflict):
    code = "amenities.idempotency_conflict"

    def default_message(self) -> str:
        return str(_("This form was already used for something else. Please start again."))


class StockNegativeError(_Conflict):
    code = "amenities.stock_negative"

    def default_message(self) -> str:
        return str(_("The count on hand cannot go below zero."))


class OfferingNotFoundError(NotFoundError):
    code = "amenities.offering_not_found"

    def default_message(self) -> str:
        return str(_("No such service."))


class SlotNotFoundError(NotFoundError):
    code = "amenities.slot_not_found"

    def default_message(self) -> str:
        return str(_("No such time slot."))


class BookingNotFoundError(NotFoundError):
    code = "amenities.booking_not_found"

    def default_message(self) -> str:
        return str(_("No such booking."))


class SlotFullError(_Conflict):
    code = "amenities.slot_full"

    def default_message(self) -> str:
        return str(_("This time slot is fully booked. Please choose another."))


class SlotPastError(_Conflict):
    code = "amenities.slot_past"

    def default_message(self) -> str:
        return str(_("This time slot has already started."))


class AlreadyBookedError(_Conflict):
    code = "amenities.already_booked"

    def default_message(self) -> str:
        return str(_("You already booked this time slot."))


class TierRequiredError(_Conflict):
    code = "amenities.tier_required"

    def default_message(self) -> str:
        return str(_("This service is a benefit of higher tiers."))


class BookingStateError(_Conflict):
    code = "amenities.booking_state"

    def default_message(self) -> str:
        return str(_("This booking cannot be changed any more."))
