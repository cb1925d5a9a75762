from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ConflictError, NotFoundError, RateLimitedError, ValidationError


class InvalidPhoneError(ValidationError):
    code = "members.phone_invalid"

    def default_message(self) -> str:
        return str(_("Enter a valid mobile phone number."))


class InvalidPlateError(ValidationError):
    code = "members.plate_invalid"

    def default_message(self) -> str:
        return str(_("Enter a valid licence plate, e.g. 粤B12345 or 粤BD12345."))


class PhoneTakenError(ConflictError):
    code = "members.phone_taken"

    def default_message(self) -> str:
        return str(_("This phone number already belongs to a member."))


class IdentifierTakenError(ConflictError):
    code = "members.identifier_taken"

    def default_message(self) -> str:
        return str(_("This identifier already belongs to another member."))


class PlateTakenError(ConflictError):
    code = "members.plate_taken"

    def default_message(self) -> str:
        return str(
            _(
                "This plate is bound to another membership. If the car is yours, verify it with a photo of your "
                "vehicle licence (行驶证) and it moves to you."
            )
        )


class PlateVerifiedError(ConflictError):
    code = "members.plate_already_verified"

    def default_message(self) -> str:
        return str(_("This plate is already verified as yours."))


class PlateLimitError(ValidationError):
    code = "members.plate_limit"

    def default_message(self) -> str:
        return str(_("A member can bind at most 5 licence plates."))


class MemberNotFoundError(NotFoundError):
    code = "members.not_found"

    def default_message(self) -> str:
        return str(_("No member matches this identifier."))


class MemberCodeStaleError(ValidationError):
    code = "members.code_stale"

    def default_message(self) -> str:
        return str(_("This member code has expired. Ask the member to refresh it."))


class OtpRateLimitedError(RateLimitedError):
    code = "otp.rate_limited"

    def default_message(self) -> str:
        return str(_("Too many codes requested. Please wait and try again."))


class OtpLockedError(RateLimitedError):
    code = "otp.locked"

    def default_message(self) -> str:
        return str(_("Too many wrong codes. This phone is locked for a while."))


class OtpInvalidError(ValidationError):
    code = "otp.invalid"

    def default_message(self) -> str:
        return str(_("The code is wrong or has expired."))


class WechatPhoneRequiredError(ValidationError):
    code = "members.wechat_phone_required"

    def default_message(self) -> str:
        return str(_("This WeChat account is not a member yet: share the phone number to join or sign in."))
