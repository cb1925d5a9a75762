"""Rates in templates: `{{ rate_bp|percent_bp }}` → "8.00%" for 800 basis points (a merchant's commission, a
share). Exact integer arithmetic: a basis point is a hundredth of a percent, so the two decimals are the remainder
of the division by 100 — no float, no rounding."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent_bp(basis_points: int | None) -> str:
    """800 → "8.00%", 5 → "0.05%", 10000 → "100.00%", −250 → "−2.50%"; anything but an int → ""."""
    if basis_points is None or isinstance(basis_points, bool) or not isinstance(basis_points, int):
        return ""
    sign = "−" if basis_points < 0 else ""
    whole, part = divmod(abs(basis_points), 100)
    return f"{sign}{whole}.{part:02d}%"
