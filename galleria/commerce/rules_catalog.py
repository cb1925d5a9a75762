"""Pure rules of the online mall's catalogue (docs/design/online-mall.md §3.1, §8): limits, settings bounds, option
keys and the SKU matrix, the search text and query normalisation. No database, no clock: tests/test_rules_catalog.py
runs them without a database."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence

from django.utils.translation import gettext as _

from .types import OnlineProductIn, OptionIn, SkuIn

# ------------------------------------------------------------------------------------------------- limits

MAX_STOCK = 1_000_000  # units of one SKU at one store (the stock statements' bound, and a CHECK)
MAX_OPTIONS = 3  # options per product (颜色, 尺码, …)
MAX_OPTION_VALUES = 20  # values per option
MAX_SKUS = MAX_OPTION_VALUES**2  # combinations a product may sell (the editor refuses more)
MAX_IMAGES = 9
CART_MAX_QUANTITY = 99
SEARCH_TEXT_MAX = 400
QUERY_MAX = 30

# OnlineSettings bounds: (field, lowest, highest) — the model's CHECK constraints and the editor's checks use these
SETTINGS_BOUNDS: tuple[tuple[str, int, int], ...] = (
    ("pay_minutes", 5, 60),
    ("auto_receive_days", 3, 30),
    ("return_days", 7, 30),  # 七天无理由退货 is the legal minimum for goods bought online
    ("pickup_days", 1, 30),
    ("after_sale_response_hours", 24, 168),
    ("review_window_days", 7, 180),
)
TITLE_MAX = 60
SUBTITLE_MAX = 80
DESCRIPTION_MAX = 5000
OPTION_NAME_MAX = 20
OPTION_VALUE_MAX = 20
BARCODE_MAX = 32
MAX_PRICE_FEN = 100_000_000  # ¥1,000,000
CATEGORY_NAME_MAX = 30
SHELF_TITLE_MAX = 30
SHELF_MAX_ITEMS = 50
REASON_MAX = 200
PHONE_MAX = 20
ADDRESS_MAX = 200

_SPACES = re.compile(r"\s+")
_PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")


# ------------------------------------------------------------------------------------------------- normalisation


def normalise(text: str) -> str:
    """The one form text is searched in: NFKC (full-width ＡＢＣ１２３ and half-width katakana fold to their usual
    form), lower case, runs of white space as one space, no space at either end."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def search_query(text: str) -> str:
    """A member's query as it is searched: normalised, at most QUERY_MAX characters ("" lists the category)."""
    return normalise(text)[:QUERY_MAX].strip()


def search_text(
    *, title: str, subtitle: str = "", categories: Sequence[str] = (), merchant: str = "", values: Sequence[str] = ()
) -> str:
    """`Product.search_text`: title, subtitle, category names, merchant name and option values, normalised, each
    once, joined by a space and cut at SEARCH_TEXT_MAX characters (the title first, so it is never cut)."""
    parts: list[str] = []
    for part in (title, subtitle, *categories, merchant, *values):
        clean = normalise(part)
        if clean and clean not in parts:
            parts.append(clean)
    return " ".join(parts)[:SEARCH_TEXT_MAX].strip()


def grams(text: str) -> set[str]:
    """Every 1- and 2-character substring (what the PostgreSQL index holds: galleria_product_grams)."""
    return {text[i : i + n] for n in (1, 2) for i in range(len(text) - n + 1)}


def query_grams(query: str) -> set[str]:
    """What the index is asked for (galleria_product_query): the query itself up to 2 characters, else its bigrams.
    Every product containing the query has all of them, so the index never loses a hit; `strpos` rechecks."""
    return {query} if len(query) <= 2 else {query[i : i + 2] for i in range(len(query) - 1)}


# ------------------------------------------------------------------------------------------------- options and SKUs


def normalise_name(value: str) -> str:
    """An option name or value as stored: NFKC, single spaces, trimmed (case kept: it is shown)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()


_clean = normalise_name


def option_key(options: Mapping[str, str], names: Sequence[str]) -> str:
    """The normalised key of a combination: "颜色=红|尺码=M" in the product's option order ("" without options)."""
    return "|".join(f"{_clean(name)}={_clean(options[name])}" for name in names)


def sku_label(options: Mapping[str, str], names: Sequence[str]) -> str:
    """The combination as an order line shows it: 红 / M."""
    return " / ".join(_clean(options[name]) for name in names)


def matrix(options: Sequence[OptionIn]) -> list[dict[str, str]]:
    """Every combination of the options' values, in the editor's order (the first option varies slowest)."""
    names = [_clean(o.name) for o in options]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*[o.values for o in options])]


def options_problems(options: Sequence[OptionIn]) -> dict[str, str]:
    """Field errors of a product's options: at most 3, each named once, 1–20 distinct values."""
    if len(options) > MAX_OPTIONS:
        return {"options": _("A product has at most %(n)s options.") % {"n": MAX_OPTIONS}}
    names = [_clean(o.name) for o in options]
    for i, (option, name) in enumerate(zip(options, names, strict=True)):
        field = f"options.{i}"
        values = [_clean(v) for v in option.values]
        if not name or len(name) > OPTION_NAME_MAX or "=" in name or "|" in name:
            return {field: _("Name the option in at most %(n)s characters (no = or |).") % {"n": OPTION_NAME_MAX}}
        if name in names[:i]:
            return {field: _("Each option needs a name of its own.")}
        if not values or len(values) > MAX_OPTION_VALUES:
            return {field: _("Give the option 1 to %(n)s values.") % {"n": MAX_OPTION_VALUES}}
        if len(set(values)) != len(values):
            return {field: _("The values of an option must differ.")}
        if any(not v or len(v) > OPTION_VALUE_MAX or "|" in v for v in values):
            return {field: _("Each value has 1 to %(n)s characters (no |).") % {"n": OPTION_VALUE_MAX}}
    return {}


def skus_problems(options: Sequence[OptionIn], skus: Sequence[SkuIn]) -> dict[str, str]:
    """Field errors of the SKUs sold: at least one; each a combination of the options' values, once; prices in
    fen within bounds (a list price, when given, at least the price); barcodes at most 32 characters, once."""
    if not skus:
        return {"skus": _("Sell at least one combination.")}
    allowed = {option_key(c, [_clean(o.name) for o in options]) for c in matrix(options)}
    names = [_clean(o.name) for o in options]
    seen: set[str] = set()
    barcodes: set[str] = set()
    for i, sku in enumerate(skus):
        field = f"skus.{i}"
        chosen = {_clean(k): v for k, v in sku.options.items()}
        key = option_key(chosen, names) if set(chosen) == set(names) else None
        if key is None or key not in allowed:
            return {field: _("Choose one value of every option.")}
        if key in seen:
            return {field: _("This combination is listed twice.")}
        seen.add(key)
        if not 0 < sku.price_fen <= MAX_PRICE_FEN:
            return {field: _("Enter a price above ¥0 and at most ¥1,000,000.")}
        if sku.list_price_fen is not None and not sku.price_fen <= sku.list_price_fen <= MAX_PRICE_FEN:
            return {field: _("The list price, when given, is at least the price.")}
        barcode = sku.barcode.strip()
        if len(barcode) > BARCODE_MAX or (barcode and not barcode.isascii()):
            return {field: _("A barcode has at most %(n)s letters and digits.") % {"n": BARCODE_MAX}}
        if barcode and barcode in barcodes:
            return {field: _("Two combinations cannot share a barcode.")}
        if barcode:
            barcodes.add(barcode)
    return {}


def price_range(prices: Sequence[int]) -> tuple[int, int]:
    """(lowest, highest) price of the active SKUs ((0, 0) when none)."""
    return (min(prices), max(prices)) if prices else (0, 0)


# ------------------------------------------------------------------------------------------------- editors


def product_problems(data: OnlineProductIn) -> dict[str, str]:
    errors: dict[str, str] = {}
    title = data.title.strip()
    if not title or len(title) > TITLE_MAX:
        errors["title"] = _("Enter a title of at most %(n)s characters.") % {"n": TITLE_MAX}
    if len(data.subtitle.strip()) > SUBTITLE_MAX:
        errors["subtitle"] = _("The subtitle has at most %(n)s characters.") % {"n": SUBTITLE_MAX}
    if len(data.description) > DESCRIPTION_MAX:
        errors["description"] = _("The description has at most %(n)s characters.") % {"n": DESCRIPTION_MAX}
    if not (data.allow_pickup or data.allow_delivery):
        errors["allow_pickup"] = _("Allow pickup, delivery or both.")
    if data.on_sale_from and data.on_sale_until and data.on_sale_until <= data.on_sale_from:
        errors["on_sale_until"] = _("The end must be after the start.")
    return errors


def publish_problems(
    *,
    is_blocked: bool,
    active_prices: Sequence[int],
    has_category: bool,
    allow_delivery: bool,
    ships: bool,
    picks: bool,
) -> list[str]:
    """Why a product cannot go on sale (messages; empty when it can)."""
    problems = []
    if is_blocked:
        problems.append(_("The mall has taken this product down."))
    if not active_prices:
        problems.append(_("Set the options and at least one SKU with a price."))
    if not has_category:
        problems.append(_("Choose a category."))
    if allow_delivery and not ships:
        problems.append(_("Choose the store the shop ships from, or do not offer delivery."))
    if not allow_delivery and not picks:
        problems.append(_("Choose at least one pickup store for the shop."))
    return problems


def settings_problems(values: Mapping[str, int]) -> dict[str, str]:
    errors = {}
    for name, low, high in SETTINGS_BOUNDS:
        value = values[name]
        if not low <= value <= high:
            errors[name] = _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
    return errors


def shop_problems(*, return_address: str, service_phone: str) -> dict[str, str]:
    errors = {}
    if len(return_address.strip()) > ADDRESS_MAX:
        errors["return_address"] = _("The address has at most %(n)s characters.") % {"n": ADDRESS_MAX}
    phone = service_phone.strip()
    if phone and not _PHONE.match(phone):
        errors["service_phone"] = _("Enter a phone number (digits, +, - and spaces).")
    return errors


def stock_count_problem(on_hand: int) -> str:
    if not 0 <= on_hand <= MAX_STOCK:
        return _("Enter a count from 0 to %(n)s.") % {"n": f"{MAX_STOCK:,}"}
    return ""
