"""Parking rules in plain Python (no Django, no database): plates, tariffs, the fee calculator, benefits, payment.

An import-linter contract keeps this package free of Django. Money is integer fen; moments are aware datetimes;
explanations are keys + params (translated by the interfaces). Reference: docs/parking.md.
"""

from galleria.core.plates import PlateKind, format_plate, mask_plate, normalize_plate, plate_in_text, plate_kind

from .benefits import (
    NO_BENEFITS,
    BenefitKind,
    BenefitLine,
    Benefits,
    Funder,
    MerchantGrant,
    ParkingCoupon,
    spend_hours,
)
from .engine import Segment
from .errors import FeeError, ParkingRuleError, PlateError, TariffError
from .fees import ExtraFee, FeeResult, calculate_fee, extra_fee, leave_by
from .payment import PaymentPlan, PointsQuote, PointsRate, auto_pay_allowed, plan_payment, points_usable
from .tariff import Band, CapMode, FreeMinutesMode, HolidayRule, NightBand, Rate, RateSet, Tariff, tariff_for

__all__ = [
    "NO_BENEFITS",
    "Band",
    "BenefitKind",
    "BenefitLine",
    "Benefits",
    "CapMode",
    "ExtraFee",
    "FeeError",
    "FeeResult",
    "FreeMinutesMode",
    "Funder",
    "HolidayRule",
    "MerchantGrant",
    "NightBand",
    "ParkingCoupon",
    "ParkingRuleError",
    "PaymentPlan",
    "PlateError",
    "PlateKind",
    "PointsQuote",
    "PointsRate",
    "Rate",
    "RateSet",
    "Segment",
    "Tariff",
    "TariffError",
    "auto_pay_allowed",
    "calculate_fee",
    "extra_fee",
    "format_plate",
    "leave_by",
    "mask_plate",
    "normalize_plate",
    "plan_payment",
    "plate_in_text",
    "plate_kind",
    "points_usable",
    "spend_hours",
    "tariff_for",
]
