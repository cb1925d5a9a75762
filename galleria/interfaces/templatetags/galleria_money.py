"""Money in templates: `{{ amount_fen|cny }}` → "¥1,234.50" (core.money.format_cny; fen are integers)."""

from __future__ import annotations

from django import template

from galleria.core.money import format_cny

register = template.Library()


@register.filter
def cny(amount_fen: int | None) -> str:
    if amount_fen is None or isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        return ""
    return format_cny(amount_fen)
