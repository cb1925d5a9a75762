"""Console forms of the parking area: car parks (with their same-day spend steps as rows), zones, gates, tariff
versions (with holiday rows), the fee preview, the stays search, the exception actions and the reports' range.

Forms only parse and say what is missing; the rules (codes, capacities, tariffs the engine can price) are checked by
galleria/parking/services_admin.py, whose field errors land back on these fields (`apply_errors`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from galleria.core.errors import ApplicationError
from galleria.parking import selectors_console
from galleria.parking.services_admin import (
    MAX_HOLIDAY_RULES,
    MAX_SPEND_STEPS,
    CarParkIn,
    GateIn,
    HolidayIn,
    TariffIn,
    ZoneIn,
)
from galleria.parking.types import GateDirection, SessionException, SessionState

from ..coupon_forms import DateTimeLocalInput, TimeInput
from .loyalty_forms import YuanField

STEP_ROWS = 3
HOLIDAY_ROWS = 3
assert STEP_ROWS <= MAX_SPEND_STEPS and HOLIDAY_ROWS <= MAX_HOLIDAY_RULES
MAX_HOURS = 744
SPLIT = re.compile(r"[\s,，;；、]+")

WEEKDAYS = [
    (0, pgettext_lazy("weekday", "Mon")),
    (1, pgettext_lazy("weekday", "Tue")),
    (2, pgettext_lazy("weekday", "Wed")),
    (3, pgettext_lazy("weekday", "Thu")),
    (4, pgettext_lazy("weekday", "Fri")),
    (5, pgettext_lazy("weekday", "Sat")),
    (6, pgettext_lazy("weekday", "Sun")),
]
FREE_MODES = [
    ("charge_from_entry", _("Longer stays pay from entry")),
    ("deduct", _("Every stay gets them off")),
]
CAP_MODES = [
    ("calendar_day", _("Per calendar day (midnight to midnight)")),
    ("rolling_24h", _("Per 24 hours from entry")),
]
UNIT_CHOICES = [(15, _("15 minutes")), (30, _("30 minutes")), (60, _("1 hour"))]


def apply_errors(form: forms.Form, exc: ApplicationError, rename: Mapping[str, str] | None = None) -> None:
    """A service's field errors onto the form's fields (renamed where the form calls them otherwise); what names no
    field of the form goes on top of the form."""
    rename = rename or {}
    placed = False
    for name, message in exc.fields.items():
        target = rename.get(name, name)
        if target in form.fields:
            form.add_error(target, str(message))
            placed = True
        elif not placed:
            form.add_error(None, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


def _int(label: Any, *, min_value: int = 0, max_value: int = 100_000, required: bool = True, **kw: Any) -> Any:
    return forms.IntegerField(label=label, min_value=min_value, max_value=max_value, required=required, **kw)


# ---------------------------------------------------------------------------------------------------- car parks


class CarParkForm(forms.Form):
    mall = forms.TypedChoiceField(label=_("Mall"), coerce=int, choices=())
    code = forms.SlugField(
        label=pgettext_lazy("parking object", "Code"),
        max_length=40,
        help_text=_("Letters, digits, - and _: how the car-park system names it."),
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    capacity = _int(_("Spaces"), max_value=100_000)
    store = forms.TypedChoiceField(
        label=_("Operator's store"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=(),
        help_text=_("Parking paid in the app is a sale of this store. Without one, members cannot pay in the app."),
    )
    opens_at = forms.TimeField(label=_("Opens at"), required=False, widget=TimeInput())
    closes_at = forms.TimeField(
        label=_("Closes at"), required=False, widget=TimeInput(), help_text=_("Both empty: open day and night.")
    )
    leave_grace_minutes = _int(_("Minutes to leave after paying"), max_value=1440)
    auto_pay_cap_fen = YuanField(
        label=_("Frictionless exit: most per exit (¥)"),
        help_text=_("A fee above this is not charged at the barrier; the driver pays first."),
    )
    lost_ticket_fen = YuanField(
        label=_("Lost-ticket fee (¥)"), help_text=_("What an exit with no recorded entry pays (usually a day's cap).")
    )
    is_active = forms.BooleanField(label=_("In service"), required=False)

    def __init__(
        self,
        *args: Any,
        malls: list[tuple[int, str]],
        stores: list[tuple[str, list[tuple[int, str]]]],
        with_mall: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if with_mall:
            self.fields["mall"].choices = malls  # type: ignore[attr-defined]
        else:
            del self.fields["mall"]
        self.fields["store"].choices = [("", _("No store: no payments in the app")), *stores]  # type: ignore[attr-defined]
        for i in range(1, STEP_ROWS + 1):
            self.fields[f"step{i}_threshold"] = YuanField(label=_("Spend at least (¥)"), required=False, min_fen=1)
            self.fields[f"step{i}_hours"] = _int(_("Free hours"), min_value=1, max_value=MAX_HOURS, required=False)

    def step_rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"step{i}_threshold"], self[f"step{i}_hours"]) for i in range(1, STEP_ROWS + 1)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for i in range(1, STEP_ROWS + 1):
            threshold, hours = data.get(f"step{i}_threshold"), data.get(f"step{i}_hours")
            if threshold is not None and hours is None and f"step{i}_hours" not in self.errors:
                self.add_error(f"step{i}_hours", _("How many hours does this spend give?"))
            if hours is not None and threshold is None and f"step{i}_threshold" not in self.errors:
                self.add_error(f"step{i}_threshold", _("From what spend?"))
        return data

    @staticmethod
    def initial_for(park: Any) -> dict[str, Any]:
        initial = {
            name: getattr(park, name)
            for name in (
                "code",
                "name",
                "capacity",
                "opens_at",
                "closes_at",
                "leave_grace_minutes",
                "auto_pay_cap_fen",
                "lost_ticket_fen",
                "is_active",
            )
        }
        initial["store"] = park.store_id
        for i, (threshold, hours) in enumerate(park.spend_steps or [], start=1):
            initial[f"step{i}_threshold"], initial[f"step{i}_hours"] = int(threshold), int(hours)
        return initial

    def to_input(self) -> CarParkIn:
        d = self.cleaned_data
        steps = tuple(
            (d[f"step{i}_threshold"], d[f"step{i}_hours"])
            for i in range(1, STEP_ROWS + 1)
            if d.get(f"step{i}_threshold") is not None and d.get(f"step{i}_hours") is not None
        )
        return CarParkIn(
            code=d["code"],
            name=d["name"].strip(),
            capacity=d["capacity"],
            store_id=d.get("store"),
            opens_at=d.get("opens_at"),
            closes_at=d.get("closes_at"),
            leave_grace_minutes=d["leave_grace_minutes"],
            auto_pay_cap_fen=d["auto_pay_cap_fen"],
            lost_ticket_fen=d["lost_ticket_fen"],
            spend_steps=steps,
            is_active=bool(d.get("is_active")),
        )


CAR_PARK_ERRORS = {"spend_steps": "step1_threshold"}


class ZoneForm(forms.Form):
    code = forms.CharField(
        label=pgettext_lazy("parking object", "Code"),
        max_length=20,
        help_text=_("As the car-park system names it, e.g. B1."),
    )
    name = forms.CharField(label=_("Name"), max_length=60)
    floor = forms.CharField(label=_("Floor"), max_length=20, required=False)
    capacity = _int(_("Spaces"), max_value=100_000)

    def to_input(self) -> ZoneIn:
        d = self.cleaned_data
        return ZoneIn(code=d["code"].strip(), name=d["name"].strip(), floor=d["floor"].strip(), capacity=d["capacity"])


class GateForm(forms.Form):
    code = forms.CharField(
        label=pgettext_lazy("parking object", "Code"),
        max_length=20,
        help_text=_("As the car-park system names it, e.g. E1."),
    )
    name = forms.CharField(label=_("Name"), max_length=60)
    direction = forms.ChoiceField(label=_("Direction"), choices=GateDirection.choices)
    zone = forms.TypedChoiceField(label=_("Zone"), coerce=int, empty_value=None, required=False, choices=())

    def __init__(self, *args: Any, zones: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["zone"].choices = [("", _("No zone")), *zones]  # type: ignore[attr-defined]

    def to_input(self) -> GateIn:
        d = self.cleaned_data
        return GateIn(code=d["code"].strip(), name=d["name"].strip(), direction=d["direction"], zone_id=d.get("zone"))


# ---------------------------------------------------------------------------------------------------- tariffs


class DatesField(forms.CharField):
    """ "2026-10-01, 2026-10-02" or a range "2026-10-01~2026-10-07" (also "..", "至") → sorted dates."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update({"maxlength": "400", "placeholder": "2026-10-01~2026-10-07, 2027-01-01"})

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(d.isoformat() for d in value) if isinstance(value, list | tuple) else value

    def to_python(self, value: Any) -> list[dt.date]:  # type: ignore[override]
        text = str(super().to_python(value) or "").replace("..", "~").replace("至", "~")
        days: set[dt.date] = set()
        for part in SPLIT.split(text.replace(" ~ ", "~")):
            if not part:
                continue
            try:
                if "~" in part:
                    first, last = (dt.date.fromisoformat(p) for p in part.split("~", 1))
                    if last < first or (last - first).days > 366:
                        raise ValueError(part)
                    days.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
                else:
                    days.add(dt.date.fromisoformat(part))
            except ValueError as exc:
                raise forms.ValidationError(
                    _("Write dates as 2026-10-01, and ranges as 2026-10-01~2026-10-07."), code="invalid"
                ) from exc
        if len(days) > 100:
            raise forms.ValidationError(_("At most 100 dates in one rule."), code="max_items")
        return sorted(days)


class TariffForm(forms.Form):
    code = forms.CharField(label=_("Version code"), max_length=40, help_text=_("Shown on fee explanations."))
    effective_from = forms.DateTimeField(
        label=_("In force from"),
        required=False,
        widget=DateTimeLocalInput(),
        help_text=_("Mall time. Empty: from now. Stays are priced by the version in force when they entered."),
    )
    unit_minutes = forms.TypedChoiceField(label=_("Billing unit"), coerce=int, choices=UNIT_CHOICES, initial=60)
    free_minutes = _int(_("Free minutes"), max_value=1440, initial=0)
    free_minutes_mode = forms.ChoiceField(
        label=_("Free minutes rule"),
        choices=FREE_MODES,
        help_text=_("Usually a stay within the free minutes is free and a longer one pays from entry."),
    )
    day_price_fen = YuanField(label=_("Price per unit (¥)"))
    day_cap_fen = YuanField(
        label=_("Day band cap (¥)"), required=False, help_text=_("The most one day band may cost. Empty: no cap.")
    )
    night_starts = forms.TimeField(label=_("Night from"), required=False, widget=TimeInput())
    night_ends = forms.TimeField(
        label=_("Night until"), required=False, widget=TimeInput(), help_text=_("Both empty: no night band.")
    )
    night_price_fen = YuanField(label=_("Night price per unit (¥)"), required=False)
    night_cap_fen = YuanField(label=_("Night cap (¥)"), required=False, help_text=_("The most one night may cost."))
    daily_cap_fen = YuanField(label=_("Daily cap (¥)"), required=False, help_text=_("Empty: no daily cap."))
    cap_mode = forms.ChoiceField(label=_("The daily cap counts"), choices=CAP_MODES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, HOLIDAY_ROWS + 1):
            self.fields[f"h{i}_dates"] = DatesField(label=_("Dates"))
            self.fields[f"h{i}_weekdays"] = forms.TypedMultipleChoiceField(
                label=_("Weekdays"),
                coerce=int,
                choices=WEEKDAYS,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
            self.fields[f"h{i}_day_price"] = YuanField(label=_("Price per unit (¥)"), required=False)
            self.fields[f"h{i}_day_cap"] = YuanField(label=_("Day band cap (¥)"), required=False)
            self.fields[f"h{i}_night_price"] = YuanField(label=_("Night price per unit (¥)"), required=False)
            self.fields[f"h{i}_night_cap"] = YuanField(label=_("Night cap (¥)"), required=False)
            self.fields[f"h{i}_daily_cap"] = YuanField(label=_("Daily cap (¥)"), required=False)

    def holiday_rows(self) -> list[list[Any]]:
        names = ("dates", "weekdays", "day_price", "day_cap", "night_price", "night_cap", "daily_cap")
        return [[self[f"h{i}_{n}"] for n in names] for i in range(1, HOLIDAY_ROWS + 1)]

    @staticmethod
    def initial_for(version: Any) -> dict[str, Any]:
        """A saved version's settings to start a new version from (never to edit it)."""
        initial = {
            name: getattr(version, name)
            for name in (
                "unit_minutes",
                "free_minutes",
                "free_minutes_mode",
                "day_price_fen",
                "day_cap_fen",
                "night_starts",
                "night_ends",
                "night_price_fen",
                "night_cap_fen",
                "daily_cap_fen",
                "cap_mode",
            )
        }
        for i, row in enumerate((version.holidays or [])[:HOLIDAY_ROWS], start=1):
            initial[f"h{i}_dates"] = [dt.date.fromisoformat(d) for d in row.get("dates", [])]
            initial[f"h{i}_weekdays"] = [int(w) for w in row.get("weekdays", [])]
            for short, key in (
                ("day_price", "day_price_fen"),
                ("day_cap", "day_cap_fen"),
                ("night_price", "night_price_fen"),
                ("night_cap", "night_cap_fen"),
                ("daily_cap", "daily_cap_fen"),
            ):
                initial[f"h{i}_{short}"] = row.get(key)
        return initial

    def to_input(self) -> TariffIn:
        d = self.cleaned_data
        holidays = []
        for i in range(1, HOLIDAY_ROWS + 1):
            row = HolidayIn(
                dates=tuple(d.get(f"h{i}_dates") or ()),
                weekdays=tuple(d.get(f"h{i}_weekdays") or ()),
                day_price_fen=d.get(f"h{i}_day_price"),
                day_cap_fen=d.get(f"h{i}_day_cap"),
                night_price_fen=d.get(f"h{i}_night_price"),
                night_cap_fen=d.get(f"h{i}_night_cap"),
                daily_cap_fen=d.get(f"h{i}_daily_cap"),
            )
            if row != HolidayIn():
                holidays.append(row)
        return TariffIn(
            code=d["code"].strip(),
            effective_from=d.get("effective_from"),
            unit_minutes=d["unit_minutes"],
            free_minutes=d["free_minutes"],
            free_minutes_mode=d["free_minutes_mode"],
            day_price_fen=d["day_price_fen"],
            day_cap_fen=d.get("day_cap_fen"),
            night_starts=d.get("night_starts"),
            night_ends=d.get("night_ends"),
            night_price_fen=d.get("night_price_fen"),
            night_cap_fen=d.get("night_cap_fen"),
            daily_cap_fen=d.get("daily_cap_fen"),
            cap_mode=d["cap_mode"],
            holidays=tuple(holidays),
        )

    def error_names(self) -> dict[str, str]:
        """Where the service's holiday errors ("holidays.0") land: the dates field of the row the person filled."""
        filled = [
            i
            for i in range(1, HOLIDAY_ROWS + 1)
            if any(
                self.cleaned_data.get(f"h{i}_{n}") not in (None, [], ())
                for n in ("dates", "weekdays", "day_price", "day_cap", "night_price", "night_cap", "daily_cap")
            )
        ]
        names = {f"holidays.{k}": f"h{i}_dates" for k, i in enumerate(filled)}
        names["holidays"] = "h1_dates"
        return names


class PreviewForm(forms.Form):
    """A stay to price: entry and exit in mall time, and the benefits a member might have."""

    prefix = "p"

    entry_at = forms.DateTimeField(label=_("Entered"), widget=DateTimeLocalInput())
    exit_at = forms.DateTimeField(label=_("Left at"), widget=DateTimeLocalInput())
    tier_hours = _int(_("Tier free hours"), max_value=MAX_HOURS, required=False)
    spend_today_fen = YuanField(label=_("Spent in the mall that day (¥)"), required=False)
    grant_hours = _int(_("Hours granted by a merchant"), max_value=MAX_HOURS, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        entry, exit_ = data.get("entry_at"), data.get("exit_at")
        if entry and exit_ and exit_ < entry:
            self.add_error("exit_at", _("The exit is before the entry."))
        return data


# ---------------------------------------------------------------------------------------------------- stays


def _choices(choices: Any, all_label: Any) -> list[tuple[str, Any]]:
    return [("", all_label), *((v, label) for v, label in choices if v)]


class StayFilterForm(forms.Form):
    car_park = forms.TypedChoiceField(label=_("Car park"), coerce=int, empty_value=None, required=False, choices=())
    plate = forms.CharField(
        label=_("Plate"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("粤B12345, or part of it: 12345"), "autocomplete": "off"}),
    )
    member = forms.CharField(
        label=_("Member"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Card number or phone"), "autocomplete": "off"}),
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=_choices(SessionState.choices, _("All")))
    exception = forms.ChoiceField(
        label=_("Exception"), required=False, choices=_choices(SessionException.choices, _("Any"))
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, car_parks: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["car_park"].choices = [("", _("All car parks")), *car_parks]  # type: ignore[attr-defined]

    def clean_plate(self) -> str:
        text = self.cleaned_data.get("plate") or ""
        if text.strip() and selectors_console.plate_query(text) is None:
            raise forms.ValidationError(_("Type a plate or part of one (at least 2 characters)."), code="invalid")
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end is before the start."))
        return data


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why close it"),
        max_length=160,
        min_length=4,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. the car left while the exit camera was down")}),
    )


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("settled", _("Settled outside Galleria")), ("written_off", _("Written off"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Why"), max_length=160, min_length=4)


# ---------------------------------------------------------------------------------------------------- reports


class ReportForm(forms.Form):
    car_park = forms.TypedChoiceField(label=_("Car park"), coerce=int, empty_value=None, required=False, choices=())
    first = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    last = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args: Any, car_parks: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["car_park"].choices = [("", _("All car parks")), *car_parks]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last:
            if last < first:
                self.add_error("last", _("The end is before the start."))
            elif (last - first).days >= selectors_console.MAX_REPORT_DAYS:
                self.add_error("last", _("At most %(n)s days at a time.") % {"n": selectors_console.MAX_REPORT_DAYS})
        return data
