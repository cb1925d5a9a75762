"""Item categories are free codes that tills send with each sale line ("gift_card", "tobacco"); staff type them into
rules as the POS sends them. Screens show the common ones by name, and any other code as it is."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

ITEM_CATEGORY_LABELS: dict[str, Promise] = {
    "gift_card": _("Gift cards"),
    "stored_value": _("Stored-value cards"),
    "tobacco": _("Tobacco"),
    "alcohol": _("Alcohol"),
    "lottery": _("Lottery tickets"),
    "deposit": _("Deposits"),
    "service_fee": _("Service fees"),
    "delivery": _("Delivery fees"),
    "parking": _("Parking fees"),
    "infant_formula": _("Infant formula"),
    "medicine": _("Medicine"),
    "gold": _("Gold bullion"),
}


def item_category_label(code: str) -> str:
    """ "gift_card" → "Gift cards" (translated); an unknown code is shown as it is."""
    label = ITEM_CATEGORY_LABELS.get(code.strip().lower())
    return str(label) if label is not None else code


def list_separator() -> str:
    """ ", " in English, "、" in Chinese: between the items of a list in running text."""
    return pgettext("list separator", ", ")


def item_categories_text(codes: Iterable[str]) -> str:
    return list_separator().join(item_category_label(code) for code in codes)
