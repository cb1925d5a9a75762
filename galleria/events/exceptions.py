"""Events errors: each a stable `code` (docs/events.md, "Errors") and a translatable message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ApplicationError, NotFoundError, ValidationError


class EventNotFoundError(NotFoundError):
    code = "events.not_found"

    def default_message(self) -> str:
        return str(_("No such event."))


class RegistrationNotFoundError(NotFoundError):
    code = "events.registration_not_found"

    def default_message(self) -> str:
        return str(_("No such registration."))


class EventInvalidError(ValidationError):
    code = "events.invalid"


class AnswersInvalidError(ValidationError):
    code = "events.answers_invalid"


class QuestionNotFoundError(NotFoundError):
    code = "events.question_not_found"


class ImageInvalidError(ValidationError):
    code = "events.image_invalid"


class _Conflict(ApplicationError):
    status = 409


class RegistrationClosedError(_Conflict):
    code = "events.registration_closed"

    def default_message(self) -> str:
        return str(_("Registration for this event is not open now."))


class TierRequiredError(_Conflict):
    code = "events.tier_required"

    def default_message(self) -> str:
        return str(_("This event is for members of a higher tier."))


class TierPriorityError(_Conflict):
    code = "events.tier_priority"

    def default_message(self) -> str:
        return str(_("Higher tiers register first: registration opens to everyone a little later."))


class SeatsInvalidError(ApplicationError):
    code = "events.seats_invalid"
    status = 422

    def default_message(self) -> str:
        return str(_("Choose how many seats, within this event's limit per member."))


class AlreadyRegisteredError(_Conflict):
    code = "events.already_registered"

    def default_message(self) -> str:
        return str(_("You are already registered for this event."))


class NoShowBlockedError(_Conflict):
    code = "events.no_show_blocked"

    def default_message(self) -> str:
        return str(_("You missed recent events you had registered for, so you cannot register for a while."))


class CancelNotAllowedError(_Conflict):
    code = "events.cancel_not_allowed"

    def default_message(self) -> str:
        return str(_("This registration can no longer be cancelled."))


class OfferNotOpenError(_Conflict):
    code = "events.offer_not_open"

    def default_message(self) -> str:
        return str(_("This seat offer is no longer open."))


class TicketInvalidError(ApplicationError):
    code = "events.ticket_invalid"
    status = 422

    def default_message(self) -> str:
        return str(_("No ticket with this code. Check the digits and try again."))


class AlreadyCheckedInError(_Conflict):
    code = "events.already_checked_in"

    def default_message(self) -> str:
        return str(_("This ticket has already been checked in. Welcome back — no need to check in twice."))


class TicketNotValidError(_Conflict):
    code = "events.ticket_not_valid"

    def default_message(self) -> str:
        return str(_("This ticket is not valid for check-in (cancelled, waiting or not confirmed)."))


class CheckInClosedError(_Conflict):
    code = "events.check_in_closed"

    def default_message(self) -> str:
        return str(_("Check-in is open from two hours before the start until the end of the event."))


class IdempotencyConflictError(_Conflict):
    code = "events.idempotency_conflict"

    def default_message(self) -> str:
        return str(_("This form was already used for another registration. Please start again."))


class PaymentRequiredError(_Conflict):
    code = "events.payment_required"

    def default_message(self) -> str:
        return str(_("This seat is confirmed when it is paid with WeChat Pay or Alipay."))


class PaymentNotOpenError(_Conflict):
    code = "events.payment_not_open"

    def default_message(self) -> str:
        return str(_("This seat is no longer held for payment. Register again if seats are left."))
