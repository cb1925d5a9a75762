"""Console forms of the points mall (docs/points-mall.md): the item editor, stock, the shop's settings and
categories, the orders' filters, shipping, cancelling, the desk's code, the statistics' period. Bounded inputs;
the services check everything again and their field errors land on these fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from galleria.commerce.types import Fulfilment, OrderState, ProductIn, ProductKind, ProductStatus

MAX_DAYS = 366


def _dt_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _limit(label: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=1, max_value=1_000_000, help_text=_("Empty: no limit.")
    )


class ItemForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=60)
    subtitle = forms.CharField(label=_("Subtitle"), max_length=80, required=False)
    kind = forms.ChoiceField(label=_("What it is"), choices=ProductKind.choices)
    coupon_template = forms.TypedChoiceField(
        label=_("Coupon issued"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("A coupon of the group (parking hours, mall services, shops): each unit issues one."),
    )
    category = forms.TypedChoiceField(
        label=pgettext_lazy("points mall", "Category"), coerce=int, required=False, empty_value=None
    )
    price_points = forms.IntegerField(label=_("Points"), min_value=1, max_value=100_000_000)
    price_yuan = forms.DecimalField(
        label=_("Plus cash (¥)"), min_value=Decimal(0), max_value=Decimal(1_000_000), decimal_places=2, initial=0
    )
    allow_pickup = forms.BooleanField(label=_("Pick up at the service desk"), required=False)
    allow_delivery = forms.BooleanField(label=_("Deliver to an address"), required=False)
    per_member_limit = _limit(_("Limit per member"))
    per_day_limit = _limit(_("Limit per member per day"))
    min_tier = forms.TypedChoiceField(label=_("Only for tier and above"), coerce=int, required=False, empty_value=None)
    on_sale_from = forms.DateTimeField(label=_("On sale from"), required=False, widget=_dt_widget())
    on_sale_until = forms.DateTimeField(label=_("On sale until"), required=False, widget=_dt_widget())
    status = forms.ChoiceField(label=_("Status"), choices=ProductStatus.choices)
    sort_order = forms.IntegerField(
        label=_("Sort order"), min_value=-100_000, max_value=100_000, initial=0, help_text=_("Smaller comes first.")
    )
    member_cancellable = forms.BooleanField(
        label=_("Members may cancel before pickup or shipping"), required=False, initial=True
    )
    initial_stock = forms.IntegerField(label=_("Stock"), min_value=0, max_value=1_000_000, initial=0)
    description = forms.CharField(
        label=_("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    image = forms.ImageField(
        label=_("Picture"), required=False, help_text=_("JPEG, PNG or WebP, at most 8 MB; shown square in the app.")
    )

    def __init__(
        self,
        *args: Any,
        categories: Sequence[tuple[int, str]],
        templates: Sequence[tuple[int, str]],
        tiers: Sequence[tuple[int, str]],
        creating: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", _("No category")), *categories]
        cast(forms.ChoiceField, self.fields["coupon_template"]).choices = [("", "—"), *templates]
        cast(forms.ChoiceField, self.fields["min_tier"]).choices = [("", _("Every member")), *tiers]
        if not creating:
            del self.fields["initial_stock"]

    def to_input(self) -> ProductIn:
        d = self.cleaned_data
        return ProductIn(
            title=d["title"],
            subtitle=d.get("subtitle") or "",
            description=d.get("description") or "",
            kind=d["kind"],
            category_id=d.get("category"),
            coupon_template_id=d.get("coupon_template"),
            price_points=d["price_points"],
            price_fen=int((d.get("price_yuan") or Decimal(0)) * 100),
            allow_pickup=bool(d.get("allow_pickup")),
            allow_delivery=bool(d.get("allow_delivery")),
            per_member_limit=d.get("per_member_limit"),
            per_day_limit=d.get("per_day_limit"),
            min_tier_id=d.get("min_tier"),
            on_sale_from=d.get("on_sale_from"),
            on_sale_until=d.get("on_sale_until"),
            sort_order=d.get("sort_order") or 0,
            status=d["status"],
            member_cancellable=bool(d.get("member_cancellable")),
            initial_stock=d.get("initial_stock") or 0,
        )

    @staticmethod
    def initial_for(product: Any, sku: Any) -> dict[str, Any]:
        return {
            "title": product.title,
            "subtitle": product.subtitle,
            "description": product.description,
            "kind": product.kind,
            "coupon_template": product.coupon_template_id,
            "category": product.category_id,
            "price_points": sku.price_points if sku else None,
            "price_yuan": Decimal(sku.price_fen) / 100 if sku else 0,
            "allow_pickup": product.allow_pickup,
            "allow_delivery": product.allow_delivery,
            "per_member_limit": product.per_member_limit,
            "per_day_limit": product.per_day_limit,
            "min_tier": product.min_tier_id,
            "on_sale_from": product.on_sale_from,
            "on_sale_until": product.on_sale_until,
            "status": product.status,
            "sort_order": product.sort_order,
            "member_cancellable": product.member_cancellable,
        }


class ItemFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=60, required=False)
    category = forms.TypedChoiceField(
        label=pgettext_lazy("points mall", "Category"), coerce=int, required=False, empty_value=None
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *ProductStatus.choices])
    kind = forms.ChoiceField(label=_("What it is"), required=False, choices=[("", _("All")), *ProductKind.choices])

    def __init__(self, *args: Any, categories: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", _("All")), *categories]


class StockForm(forms.Form):
    delta = forms.IntegerField(
        label=_("Change"), min_value=-1_000_000, max_value=1_000_000, help_text=_("+20 received, −2 damaged.")
    )
    reason = forms.CharField(label=_("Reason"), max_length=100)


class SettingsForm(forms.Form):
    store = forms.TypedChoiceField(
        label=_("Points mall store"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Exchanges are sales of this store (the mall's own service desk), channel “points mall”."),
    )
    pickup_place = forms.CharField(label=_("Where gifts are picked up"), max_length=120, required=False)
    pickup_hours = forms.CharField(label=_("Pickup hours"), max_length=60, required=False)
    is_open = forms.BooleanField(label=_("Open to members"), required=False)

    def __init__(self, *args: Any, stores: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["store"]).choices = [("", _("None: the points mall is closed")), *stores]


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=30)
    sort_order = forms.IntegerField(label=_("Sort order"), min_value=-1000, max_value=1000, initial=0)
    is_active = forms.BooleanField(label=_("Shown"), required=False, initial=True)


class OrderFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        max_length=40,
        required=False,
        help_text=_("Order number, pickup code, member card or phone ending, item"),
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All")), *OrderState.choices])
    fulfilment = forms.ChoiceField(
        label=pgettext_lazy("points mall", "Receiving"), required=False, choices=[("", _("All")), *Fulfilment.choices]
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end must not be before the start."))
        return data


class ShipForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=40)
    tracking_no = forms.CharField(label=_("Tracking number"), max_length=60)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class PickupForm(forms.Form):
    code = forms.CharField(
        label=_("Pickup code"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "autofocus": True}),
    )


class PeriodForm(forms.Form):
    first = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def period(self, today: dt.date, default_days: int = 30) -> tuple[dt.date, dt.date]:
        data = self.cleaned_data if self.is_valid() else {}
        last = data.get("last") or today
        first = data.get("first") or last - dt.timedelta(days=default_days - 1)
        if first > last:
            first, last = last, first
        return max(first, last - dt.timedelta(days=MAX_DAYS - 1)), last
