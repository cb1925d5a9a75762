"""Enums of this app that other apps may use (import them from here, not from models)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    UNKNOWN = "unknown", _("Not given")
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class JoinChannel(models.TextChoices):
    APP = "app", _("Member app")
    POS = "pos", _("POS (pay = join)")
    DESK = "desk", _("Service desk")
    IMPORT = "import", _("Import")
    PARKING = "parking", _("Parking")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MERGED = "merged", _("Merged into another member")
    ERASED = "erased", _("Erased")


class IdentifierKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    CARD = "card", _("Member card number")
    PHYSICAL_CARD = "physical_card", _("Physical card")
    WECHAT_OPENID = "wechat_openid", _("WeChat openid")
    WECHAT_UNIONID = "wechat_unionid", _("WeChat unionid")
    PLATE = "plate", _("Licence plate")


class PlateVerifiedVia(models.TextChoices):
    """How a member proved a bound plate is theirs (docs/parking.md, "Plates verified once")."""

    DESK = "desk", _("Vehicle licence shown at the service desk")
    DOCUMENT = "document", _("Vehicle licence photo reviewed")


class ConsentPurpose(models.TextChoices):
    PRIVACY_POLICY = "privacy_policy", _("Privacy policy and membership terms")
    MARKETING_SMS = "marketing_sms", _("Marketing by SMS")
    MARKETING_WECHAT = "marketing_wechat", _("Marketing by WeChat")
    MARKETING_EMAIL = "marketing_email", _("Marketing by email")
    PERSONALISATION = "personalisation", _("Personalised offers from purchase history")
    RECOMMENDATIONS = "recommendations", _("Personalised recommendations")


# Purposes a member has until they switch them off (no record = granted): personalised recommendations (PIPL art. 24
# lets the member refuse them; docs/recommendations.md). Every other purpose is opt-in (no record = not granted).
OPT_OUT_PURPOSES: frozenset[str] = frozenset({ConsentPurpose.RECOMMENDATIONS})


MARKETING_PURPOSES: dict[str, str] = {
    "sms": ConsentPurpose.MARKETING_SMS,
    "wechat": ConsentPurpose.MARKETING_WECHAT,
    "email": ConsentPurpose.MARKETING_EMAIL,
}


class OtpPurpose(models.TextChoices):
    LOGIN = "login", _("Sign in or join")


@dataclass(frozen=True)
class PlateBinding:
    """A plate bound to a member (members.selectors.member_plate_bindings / plate_binding)."""

    identifier_id: int
    member_id: int
    plate: str
    bound_at: dt.datetime
    verified_at: dt.datetime | None
    verified_via: str  # PlateVerifiedVia value, "" while unverified

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


@dataclass(frozen=True)
class PlateVerified:
    """What members.services.plate_verify_in_tx did: the binding, and the member it was taken from (if any)."""

    binding: PlateBinding
    previous_member_id: int | None
    was_verified_elsewhere: bool
