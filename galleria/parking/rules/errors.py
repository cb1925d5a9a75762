"""Errors of the parking rules. Plain Python: each carries a stable `code` and `params`, never a translated text.

The service layer maps a code to a translated message (and to a form field through `params["field"]` where there is
one). The `str()` of an error is a developer message for logs only.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from galleria.core.plates import PlateError

__all__ = ["FeeError", "ParkingRuleError", "PlateError", "TariffError"]


class ParkingRuleError(ValueError):
    """Bad input to a parking rule. `code` is stable; `params` are the values a translated message may show."""

    def __init__(self, code: str, message: str, **params: int | str) -> None:
        self.code = code
        self.params: Mapping[str, int | str] = MappingProxyType(dict(params))
        super().__init__(f"{code}: {message}")


class TariffError(ParkingRuleError):
    """A tariff definition that cannot be priced (codes `tariff.*`, `params["field"]` names the field)."""


class FeeError(ParkingRuleError):
    """Bad input to the fee calculator or the payment helpers (codes `parking.*`)."""
