"""Forms of the merchant portal's online shop (shop_catalog.py): the shop's settings, a product's fields, its options
and the SKU matrix, a picture, a stock count. Bounds come from galleria.commerce.rules_catalog, so the form refuses
what the service would, and the service's own field errors land on the same fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from galleria.commerce import rules_catalog
from galleria.commerce.types import OptionIn, SkuIn
from galleria.core.errors import ApplicationError
from galleria.core.money import fen_to_yuan_str, yuan_to_fen

PHONE_INPUT = {"inputmode": "tel", "autocomplete": "tel"}


def put_errors(form: forms.Form, exc: ApplicationError) -> None:
    """A service's field errors next to their fields (its message above the form when it names none of them)."""
    placed = False
    for name, message in exc.fields.items():
        target = {"ship_from_store": "ship_from_store", "pickup_stores": "pickup_stores"}.get(name, name)
        if target in form.fields:
            form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


class ShopSettingsForm(forms.Form):
    is_open = forms.BooleanField(label=gettext_lazy("The shop is open in the online mall"), required=False)
    ship_from_store = forms.TypedChoiceField(
        label=gettext_lazy("Ships from"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=gettext_lazy("The store parcels leave from. None: the shop does not deliver."),
    )
    pickup_stores = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Pickup stores"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Members may pick their orders up at these stores."),
    )
    service_phone = forms.CharField(
        label=gettext_lazy("Customer service phone"),
        max_length=rules_catalog.PHONE_MAX,
        required=False,
        widget=forms.TextInput(attrs=PHONE_INPUT),
    )
    return_address = forms.CharField(
        label=gettext_lazy("Return address"),
        max_length=rules_catalog.ADDRESS_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, stores: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ship = self.fields["ship_from_store"]
        pickup = self.fields["pickup_stores"]
        assert isinstance(ship, forms.TypedChoiceField) and isinstance(pickup, forms.TypedMultipleChoiceField)
        ship.choices = [("", _("No delivery")), *stores]
        pickup.choices = list(stores)


class ProductForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=rules_catalog.TITLE_MAX)
    subtitle = forms.CharField(label=gettext_lazy("Subtitle"), max_length=rules_catalog.SUBTITLE_MAX, required=False)
    category = forms.TypedChoiceField(
        label=pgettext_lazy("online mall", "Category"), coerce=int, empty_value=None, required=False
    )
    allow_pickup = forms.BooleanField(label=gettext_lazy("Pickup at a store"), required=False, initial=True)
    allow_delivery = forms.BooleanField(label=gettext_lazy("Delivery"), required=False)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=rules_catalog.DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    sort_order = forms.IntegerField(
        label=gettext_lazy("Sort order"),
        min_value=0,
        max_value=9999,
        initial=0,
        help_text=gettext_lazy("Smaller numbers come first in the shop."),
    )

    def __init__(self, *args: Any, categories: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.TypedChoiceField)
        category.choices = [("", "—"), *categories]


class ImageForm(forms.Form):
    image = forms.ImageField(label=gettext_lazy("Add a picture"))


class StockForm(forms.Form):
    store = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    mode = forms.ChoiceField(choices=[("set", "set"), ("adjust", "adjust")])
    value = forms.IntegerField(
        label=gettext_lazy("Count"), min_value=-rules_catalog.MAX_STOCK, max_value=rules_catalog.MAX_STOCK
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=100, required=False)


# ------------------------------------------------------------------------------------------------- options → SKUs

MAX_OPTION_ROWS = rules_catalog.MAX_OPTIONS


@dataclass
class MatrixRow:
    """One combination of option values in the SKU editor, as typed (strings) and its error."""

    options: dict[str, str]
    key: str
    label: str
    sell: bool = True
    price: str = ""
    list_price: str = ""
    barcode: str = ""
    error: str = ""


@dataclass
class OptionsEditor:
    """What the options page shows and posts: up to three options (a name and values separated by commas or spaces)
    and the matrix of their combinations, each sold or not, with its price, list price and barcode."""

    option_rows: list[tuple[str, str]]  # (name, "value, value")
    rows: list[MatrixRow] = field(default_factory=list)
    option_errors: dict[int, str] = field(default_factory=dict)
    error: str = ""

    def options(self) -> list[OptionIn]:
        out = []
        for name, values in self.option_rows:
            if name.strip() or values.strip():
                out.append(OptionIn(name=name.strip(), values=tuple(split_values(values))))
        return out


def split_values(text: str) -> list[str]:
    """ "红, 蓝，白、黑" → ["红", "蓝", "白", "黑"] (commas — also the Chinese one —, 、 and semicolons separate)."""
    for sep in ("，", "、", ";", "；"):
        text = text.replace(sep, ",")
    return [v.strip() for v in text.split(",") if v.strip()]


def _price_text(fen: int | None) -> str:
    return fen_to_yuan_str(fen) if fen is not None else ""


def editor_from_product(option_rows: Sequence[tuple[str, Sequence[str]]], skus: Sequence[Any]) -> OptionsEditor:
    """The editor as the product is now: its options and its active SKUs (other combinations unticked)."""
    editor = OptionsEditor(option_rows=[(name, "，".join(values)) for name, values in option_rows])
    by_key = {s.option_key: s for s in skus}
    editor.rows = _matrix_rows(editor.options())
    for row in editor.rows:
        sku = by_key.get(row.key)
        row.sell = sku is not None or not skus
        if sku is not None:
            row.price, row.list_price, row.barcode = (
                _price_text(sku.price_fen),
                _price_text(sku.list_price_fen),
                sku.barcode,
            )
    return editor


def _matrix_rows(options: Sequence[OptionIn]) -> list[MatrixRow]:
    if rules_catalog.options_problems(options):
        return []
    names = [rules_catalog.normalise_name(o.name) for o in options]
    cleaned = [
        OptionIn(name=n, values=tuple(rules_catalog.normalise_name(v) for v in o.values))
        for n, o in zip(names, options, strict=True)
    ]
    return [
        MatrixRow(
            options=combo,
            key=rules_catalog.option_key(combo, names),
            label=rules_catalog.sku_label(combo, names) or _("One kind"),
        )
        for combo in rules_catalog.matrix(cleaned)
    ]


def editor_from_post(data: Mapping[str, Any]) -> OptionsEditor:
    """The editor from a POST: the options typed, the matrix they make, and each combination's row as posted (found
    by its key, so rows keep their values when an option is added or removed)."""
    option_rows = [
        (str(data.get(f"option-{i}-name", ""))[:40], str(data.get(f"option-{i}-values", ""))[:600])
        for i in range(MAX_OPTION_ROWS)
    ]
    editor = OptionsEditor(option_rows=option_rows)
    posted: dict[str, dict[str, str]] = {}
    for i in range(rules_catalog.MAX_SKUS):
        key = data.get(f"sku-{i}-key")
        if key is None:
            break
        posted[str(key)] = {
            name: str(data.get(f"sku-{i}-{name}", ""))[:40] for name in ("sell", "price", "list_price", "barcode")
        }
    editor.rows = _matrix_rows(editor.options())
    for row in editor.rows:
        got = posted.get(row.key)
        if got is None:
            row.sell = True  # a new combination: ticked, its price to fill in (or untick it)
            continue
        row.sell = bool(got["sell"])
        row.price, row.list_price, row.barcode = got["price"].strip(), got["list_price"].strip(), got["barcode"].strip()
    return editor


def _fen(text: str, *, required: bool) -> int | None:
    if not text:
        if required:
            raise DjangoValidationError(_("Enter a price."))
        return None
    try:
        return yuan_to_fen(text)
    except ApplicationError as exc:
        raise DjangoValidationError(str(exc.message)) from None


def editor_skus(editor: OptionsEditor) -> list[SkuIn] | None:
    """The SKUs to save, or None after putting an error on each row whose price cannot be read."""
    skus: list[SkuIn] = []
    ok = True
    for row in editor.rows:
        if not row.sell:
            continue
        try:
            price = _fen(row.price, required=True)
            list_price = _fen(row.list_price, required=False)
        except DjangoValidationError as exc:
            row.error = " ".join(exc.messages)
            ok = False
            continue
        assert price is not None
        skus.append(SkuIn(options=dict(row.options), price_fen=price, list_price_fen=list_price, barcode=row.barcode))
    if not ok:
        return None
    return skus


def place_options_errors(editor: OptionsEditor, exc: ApplicationError, sold: Sequence[MatrixRow]) -> None:
    """The service's "options.N" / "skus.N" errors next to that option or that (sold) row."""
    for name, message in exc.fields.items():
        kind, _dot, index = name.partition(".")
        if kind == "options" and index.isdigit():
            editor.option_errors[int(index)] = str(message)
        elif kind == "skus" and index.isdigit() and int(index) < len(sold):
            sold[int(index)].error = str(message)
        else:
            editor.error = str(message)
    if not exc.fields:
        editor.error = str(exc.message)
