"""Forms of the console's online mall (views/online_catalog.py): the settings, a category (with its icon), a shelf,
a product's takedown, the product filters. Bounds come from galleria.commerce.rules_catalog."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from galleria.commerce import rules_catalog
from galleria.commerce.types import ShelfPlacement

SETTING_LABELS = {
    "pay_minutes": _("Minutes to pay an order"),
    "auto_receive_days": _("Days after shipping an order counts as received"),
    "return_days": _("Days to ask for a return after receipt"),
    "pickup_days": _("Days to pick an order up"),
    "after_sale_response_hours": _("Hours a shop has to answer an after-sales request"),
    "review_window_days": _("Days to review after receipt"),
}


class OnlineSettingsForm(forms.Form):
    is_open = forms.BooleanField(label=_("The online mall is open to members"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, low, high in rules_catalog.SETTINGS_BOUNDS:
            self.fields[name] = forms.IntegerField(
                label=SETTING_LABELS[name],
                min_value=low,
                max_value=high,
                help_text=_("From %(low)s to %(high)s.") % {"low": low, "high": high},
            )


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=rules_catalog.CATEGORY_NAME_MAX)
    parent = forms.TypedChoiceField(
        label=_("Parent"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("Empty: a top category. Categories have two levels."),
    )
    sort_order = forms.IntegerField(label=_("Sort order"), min_value=0, max_value=9999, initial=0)
    is_active = forms.BooleanField(label=_("Shown to members"), required=False, initial=True)
    icon = forms.ImageField(
        label=_("Icon"), required=False, help_text=_("A square picture; JPEG or PNG, shown small on the mall's home.")
    )

    def __init__(self, *args: Any, parents: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        assert isinstance(parent, forms.TypedChoiceField)
        parent.choices = [("", "—"), *parents]


class ShelfForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=rules_catalog.SHELF_TITLE_MAX)
    placement = forms.ChoiceField(label=_("Shown on"), choices=ShelfPlacement.choices)
    category = forms.TypedChoiceField(
        label=_("Category page"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("For a shelf on a category page."),
    )
    sort_order = forms.IntegerField(label=_("Sort order"), min_value=0, max_value=9999, initial=0)
    starts_at = forms.DateTimeField(
        label=_("Shown from"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("Shown until"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    is_active = forms.BooleanField(label=_("Shown to members"), required=False, initial=True)

    def __init__(self, *args: Any, categories: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.TypedChoiceField)
        category.choices = [("", "—"), *categories]


class BlockForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason shown to the merchant"),
        max_length=rules_catalog.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=_("Title"), max_length=60, required=False)
    merchant = forms.TypedChoiceField(label=_("Merchant"), coerce=int, empty_value=None, required=False)
    blocked = forms.ChoiceField(
        label=_("Takedown"),
        required=False,
        choices=[("", _("All")), ("yes", _("Taken down")), ("no", _("Not taken down"))],
    )

    def __init__(self, *args: Any, merchants: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        merchant = self.fields["merchant"]
        assert isinstance(merchant, forms.TypedChoiceField)
        merchant.choices = [("", _("All")), *merchants]
