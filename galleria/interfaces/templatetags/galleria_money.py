"""Money in templates: `{{ amount_fen|cny }}` → "¥1,234.50" (core.money.format_cny; fen are integers);
`{{ amount_fen|yuan }}` → "1234.50"."""

from __future__ import annotations

from django import template

from galleria.core.money import fen_to_yuan_str, format_cny

register = template.Library()


@register.filter
def cny(amount_fen: int | None) -> str:
    if amount_fen is None or isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        return ""
    return format_cny(amount_fen)


@register.filter
def yuan(amount_fen: int | None) -> str:
    """`{{ amount_fen|yuan }}` → "1234.50": the plain figure a yuan input field takes (core.money.fen_to_yuan_str)."""
    if amount_fen is None or isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        return ""
    return fen_to_yuan_str(amount_fen)
