"""Merchant counter forms: input checks only (the checkout pipeline decides the price, the points and the coupons)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from galleria.interfaces.console.loyalty_forms import YuanField
from galleria.interfaces.item_categories import ITEM_CATEGORY_LABELS

from .counter_flow import TOKEN_RE, Basket, basket_lines

MAX_LINES = 5  # item lines on the counter form (the first one is the amount when no items are typed)
MAX_QUANTITY = 9999
MAX_LINE_FEN = 10**9  # ¥10,000,000 a line: a counter, not a wholesale desk

# The money the shopper paid at the shop's own till. The member's wallet is not offered here: the wallet pays
# through the member's own confirmation (the app or an integrated POS), not a clerk's click.
PAYMENT_METHODS = [
    ("wechat", _("WeChat Pay")),
    ("alipay", _("Alipay")),
    ("card", _("Bank card")),
    ("cash", _("Cash")),
    ("unionpay", _("UnionPay QR")),
    ("other", _("Other")),
]


def category_choices() -> list[tuple[str, Any]]:
    return [("", _("No category")), *ITEM_CATEGORY_LABELS.items()]


class CounterLookupForm(forms.Form):
    q = forms.CharField(
        label=_("Member code"),
        max_length=64,
        error_messages={"required": _("Scan or type a member code, card number, phone or plate.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "characters",
                "placeholder": _("Scan the member code, or type card number, phone or plate"),
                "data-testid": "counter-code",
            }
        ),
    )


class BasketForm(forms.Form):
    """The basket at the counter. Row 1 alone is "an amount"; rows 2–5 are optional item lines."""

    ticket = forms.CharField(widget=forms.HiddenInput, max_length=200)
    store = forms.TypedChoiceField(label=_("Store"), coerce=int, choices=())
    method = forms.ChoiceField(label=_("Paid with"), choices=PAYMENT_METHODS, initial="wechat")
    points_to_use = forms.IntegerField(
        label=_("Points to use"),
        min_value=0,
        max_value=10**9,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1", "data-testid": "counter-points"}),
    )
    coupon = forms.TypedMultipleChoiceField(
        label=_("Coupons to use"), coerce=int, required=False, choices=(), widget=forms.CheckboxSelectMultiple
    )
    coupons_chosen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, stores: list[tuple[int, str]], coupons: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        store_field = self.fields["store"]
        assert isinstance(store_field, forms.TypedChoiceField)
        store_field.choices = stores
        if stores and not self.is_bound:
            self.initial.setdefault("store", stores[0][0])
        coupon_field = self.fields["coupon"]
        assert isinstance(coupon_field, forms.TypedMultipleChoiceField)
        coupon_field.choices = coupons
        for i in range(1, MAX_LINES + 1):
            self.fields[f"name_{i}"] = forms.CharField(
                label=_("Item"),
                max_length=120,
                required=False,
                widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": _("Optional")}),
            )
            self.fields[f"category_{i}"] = forms.ChoiceField(
                label=_("Category"), choices=category_choices(), required=False
            )
            self.fields[f"quantity_{i}"] = forms.IntegerField(
                label=_("Quantity"),
                min_value=1,
                max_value=MAX_QUANTITY,
                required=False,
                initial=1,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"}),
            )
            self.fields[f"price_{i}"] = YuanField(
                label=_("Amount") if i == 1 else _("Unit price"),
                min_fen=1,
                max_fen=MAX_LINE_FEN,
                required=False,
            )
        self.fields["price_1"].widget.attrs["data-testid"] = "counter-amount"

    def line_rows(self) -> list[dict[str, Any]]:
        """The bound fields of each item row, for the template."""
        return [
            {
                "n": i,
                "name": self[f"name_{i}"],
                "category": self[f"category_{i}"],
                "quantity": self[f"quantity_{i}"],
                "price": self[f"price_{i}"],
            }
            for i in range(1, MAX_LINES + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rows = []
        for i in range(1, MAX_LINES + 1):
            price = data.get(f"price_{i}")
            typed = data.get(f"name_{i}") or data.get(f"category_{i}")
            if price is None:
                if f"price_{i}" in self.errors:
                    continue
                if i == 1:
                    self.add_error(f"price_{i}", _("Enter the amount the member paid."))
                elif typed:
                    self.add_error(f"price_{i}", _("Enter this item's price."))
                continue
            quantity = data.get(f"quantity_{i}") or 1
            rows.append(
                {
                    "name": data.get(f"name_{i}") or "",
                    "category": data.get(f"category_{i}") or "",
                    "quantity": quantity,
                    "unit_price_fen": price,
                }
            )
        data["rows"] = rows
        return data

    def basket(self) -> Basket:
        data = self.cleaned_data
        chosen = bool(data.get("coupons_chosen"))
        return Basket(
            store_id=int(data["store"]),
            lines=basket_lines(data["rows"]),
            method=str(data["method"]),
            points_to_use=int(data.get("points_to_use") or 0),
            coupon_ids=tuple(dict.fromkeys(data.get("coupon") or ())) if chosen else None,
        )


class SellForm(forms.Form):
    """What the quote adds to the basket when the clerk records the sale."""

    token = forms.RegexField(regex=TOKEN_RE, max_length=32, widget=forms.HiddenInput)
    expect_paid = forms.IntegerField(min_value=0, max_value=10**13, widget=forms.HiddenInput)


class RefundForm(forms.Form):
    """Refund the whole sale, or some units of some lines (qty_<line_no>)."""

    token = forms.RegexField(regex=TOKEN_RE, max_length=32, widget=forms.HiddenInput)
    what = forms.ChoiceField(choices=[("all", "all"), ("lines", "lines")])

    def __init__(self, *args: Any, lines: list[tuple[int, int]], **kwargs: Any) -> None:
        """`lines`: (line number, units still refundable) of the sale."""
        super().__init__(*args, **kwargs)
        self.refundable = dict(lines)
        for line_no, left in lines:
            self.fields[f"qty_{line_no}"] = forms.IntegerField(
                min_value=0, max_value=max(left, 0), required=False, initial=0
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("what") != "lines":
            return data
        wanted = {n: int(data.get(f"qty_{n}") or 0) for n in self.refundable}
        wanted = {n: q for n, q in wanted.items() if q > 0}
        if not wanted and not self.errors:
            raise forms.ValidationError(_("Enter how many units of which items to refund."))
        data["wanted"] = wanted
        return data
