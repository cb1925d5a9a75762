"""Console forms of member services (docs/amenities.md): the desk screen, item types, desks and stock, services
with their weekly hours, booking decisions and the rentals filter."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from galleria.amenities import rules
from galleria.amenities.types import (
    Access,
    BookingState,
    DepositKind,
    FeeUnit,
    ItemIcon,
    OfferingKind,
    RentalState,
    WeeklyHours,
)


def _money(label: Any) -> forms.DecimalField:
    return forms.DecimalField(label=label, initial=0, max_digits=9, decimal_places=2, min_value=0)


def _choices(field: forms.Field, choices: list[Any]) -> None:
    cast(forms.ChoiceField, field).choices = choices


class LookupForm(forms.Form):
    q = forms.CharField(
        label=_("Member code, phone or card"),
        max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "inputmode": "text"}),
        help_text=_("Scan the member code in the member's app, or type the phone or card number."),
    )


class LendForm(forms.Form):
    item_type = forms.TypedChoiceField(label=_("Item"), coerce=int)
    deposit_kind = forms.ChoiceField(label=_("Deposit"), choices=DepositKind.choices)

    def __init__(self, *args: Any, item_types: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["item_type"], item_types)


class ItemTypeForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=30)
    name = forms.CharField(label=_("Name"), max_length=40)
    icon = forms.ChoiceField(label=_("Icon"), choices=ItemIcon.choices)
    deposit_points = forms.IntegerField(label=_("Deposit in points"), min_value=0, max_value=10_000_000, initial=0)
    deposit_yuan = _money(_("Deposit from the wallet (yuan)"))
    free_minutes = forms.IntegerField(
        label=_("Free minutes"), min_value=0, max_value=rules.MAX_FREE_MINUTES, initial=120
    )
    tier_minutes = forms.CharField(
        label=_("Free minutes by tier"),
        required=False,
        max_length=300,
        help_text=_(
            "Tier code = minutes, separated by commas, e.g. gold=240, black=1440. Other tiers: the free minutes."
        ),
    )
    fee_unit = forms.ChoiceField(label=_("Overdue fee"), choices=FeeUnit.choices)
    fee_yuan = _money(_("Fee per unit (yuan)"))
    cap_yuan = _money(_("At most per day (yuan, 0: no cap)"))
    lost_yuan = _money(_("Lost-item fee (yuan)"))
    is_active = forms.BooleanField(label=_("Lent at the desks"), required=False, initial=True)

    def clean_tier_minutes(self) -> dict[str, int]:
        parsed = rules.parse_tier_minutes(self.cleaned_data.get("tier_minutes") or "")
        if parsed is None:
            raise forms.ValidationError(_("Write tier code = minutes, e.g. gold=240."))
        return parsed


class DeskForm(forms.Form):
    mall = forms.TypedChoiceField(label=_("Mall"), coerce=int)
    name = forms.CharField(label=_("Name"), max_length=60)
    place = forms.CharField(label=_("Place"), max_length=120, required=False)
    opening_hours = forms.CharField(label=_("Opening hours"), max_length=120, required=False)
    store = forms.TypedChoiceField(
        label=_("Store that books the fees"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("The mall's own store (e.g. the customer service centre): late and lost-item fees are its sales."),
    )
    is_active = forms.BooleanField(label=_("Open"), required=False, initial=True)

    def __init__(self, *args: Any, malls: list[tuple[int, str]], stores: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["mall"], malls)
        _choices(self.fields["store"], [("", _("— none: fees are not collected —")), *stores])


class StockForm(forms.Form):
    desk = forms.TypedChoiceField(label=_("Desk"), coerce=int)
    item_type = forms.TypedChoiceField(label=_("Item"), coerce=int)
    delta = forms.IntegerField(label=_("Change (+ or −)"), min_value=-10_000, max_value=10_000)
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args: Any, desks: list[tuple[int, str]], items: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["desk"], desks)
        _choices(self.fields["item_type"], items)


class OfferingForm(forms.Form):
    mall = forms.TypedChoiceField(label=_("Mall"), coerce=int)
    kind = forms.ChoiceField(label=_("Kind"), choices=OfferingKind.choices)
    name = forms.CharField(label=_("Name"), max_length=60)
    place = forms.CharField(label=_("Place"), max_length=120, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    access = forms.ChoiceField(label=_("Who may book"), choices=Access.choices)
    min_tier = forms.TypedChoiceField(label=_("Lowest tier"), coerce=int, required=False, empty_value=None)
    slot_minutes = forms.IntegerField(label=_("Slot length (minutes)"), min_value=15, max_value=480, initial=60)
    price_points = forms.IntegerField(
        label=_("Price in points (0: free)"), min_value=0, max_value=10_000_000, initial=0, required=False
    )
    store = forms.TypedChoiceField(label=_("Store that books the points"), coerce=int, required=False, empty_value=None)
    is_active = forms.BooleanField(label=_("Bookable"), required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        malls: list[tuple[int, str]],
        tiers: list[tuple[int, str]],
        stores: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["mall"], malls)
        _choices(self.fields["min_tier"], [("", "—"), *tiers])
        _choices(self.fields["store"], [("", "—"), *stores])


HOURS_LINE = re.compile(r"^\s*([0-6])(?:-([0-6]))?\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s+(\d{1,3})\s*$")


class HoursForm(forms.Form):
    hours = forms.CharField(
        label=_("Weekly hours"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono"}),
        help_text=_(
            "One line per period: weekday (0 = Monday … 6 = Sunday, or a range like 0-4), from-to, bookings per slot. "
            "E.g. 0-6 10:00-18:00 2"
        ),
    )

    def clean_hours(self) -> list[WeeklyHours]:
        rows: list[WeeklyHours] = []
        for line in (self.cleaned_data.get("hours") or "").splitlines():
            if not line.strip():
                continue
            match = HOURS_LINE.match(line)
            if match is None:
                raise forms.ValidationError(_("This line does not read: %(line)s") % {"line": line.strip()[:40]})
            first, last, start, end, capacity = match.groups()
            try:
                start_t, end_t = dt.time.fromisoformat(start.zfill(5)), dt.time.fromisoformat(end.zfill(5))
            except ValueError:
                raise forms.ValidationError(
                    _("This line does not read: %(line)s") % {"line": line.strip()[:40]}
                ) from None
            for day in range(int(first), int(last or first) + 1):
                rows.append(WeeklyHours(day, start_t, end_t, int(capacity)))
        return rows


def hours_text(rows: list[WeeklyHours]) -> str:
    return "\n".join(f"{r.weekday} {r.start:%H:%M}-{r.end:%H:%M} {r.capacity}" for r in rows)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("confirm", "confirm"), ("decline", "decline"), ("done", "done"), ("no_show", "no_show")]
    )
    reason = forms.CharField(label=_("Reason (told to the member)"), max_length=200, required=False)


class RentalFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All")), *RentalState.choices])
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)


class BookingFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All")), *BookingState.choices])
    day = forms.DateField(label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
