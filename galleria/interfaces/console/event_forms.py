"""Console forms of events (docs/events.md): the editor, the registrations filter, the check-in desk, the no-show
rule. Times are entered mall-local (the console renders in the mall's time zone)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from galleria.events.types import EventIn, EventStatus, QuestionIn, QuestionKind, RegistrationState, TierMode
from galleria.interfaces.console.loyalty_forms import YuanField


def _dt_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EventForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=60)
    mall = forms.TypedChoiceField(label=_("Mall"), coerce=int)
    place = forms.CharField(label=_("Place"), max_length=120)
    description = forms.CharField(
        label=_("Description"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    poster = forms.FileField(label=_("Poster"), required=False, help_text=_("JPEG, PNG or WebP, up to 8 MB."))
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=_dt_widget())
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=_dt_widget())
    registration_opens_at = forms.DateTimeField(label=_("Registration opens"), required=False, widget=_dt_widget())
    registration_closes_at = forms.DateTimeField(
        label=_("Registration closes"), required=False, widget=_dt_widget(), help_text=_("Empty: at the start.")
    )
    capacity = forms.IntegerField(label=_("Capacity (seats)"), min_value=1, max_value=100_000)
    per_member_limit = forms.IntegerField(label=_("Seats per member"), min_value=1, max_value=10, initial=1)
    tier_mode = forms.ChoiceField(label=_("Who may register"), choices=TierMode.choices, initial=TierMode.OPEN)
    min_tier = forms.TypedChoiceField(label=_("Tier"), coerce=int, required=False, empty_value=None)
    priority_until = forms.DateTimeField(label=_("Tier priority until"), required=False, widget=_dt_widget())
    price_points = forms.IntegerField(
        label=_("Points per seat"), min_value=0, max_value=10_000_000, initial=0, help_text=_("0: free.")
    )
    price_fen = YuanField(
        label=_("Price per seat (¥)"),
        required=False,
        max_fen=10_000_000,
        help_text=_("Paid with WeChat Pay or Alipay when registering; 0 or empty: no money."),
    )
    store = forms.TypedChoiceField(
        label=_("Store of the points sales"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Points-priced events only: usually the service desk."),
    )
    cancel_hours_before = forms.IntegerField(
        label=_("Members may cancel until (hours before the start)"), min_value=0, max_value=720, initial=24
    )
    status = forms.ChoiceField(label=_("Status"), choices=EventStatus.choices, initial=EventStatus.DRAFT)

    def __init__(self, *args: Any, malls: Any = (), tiers: Any = (), stores: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mall"].choices = [(m.pk, m.name) for m in malls]  # type: ignore[attr-defined]
        self.fields["min_tier"].choices = [("", "—")] + [(t.pk, t.name) for t in tiers]  # type: ignore[attr-defined]
        self.fields["store"].choices = [("", "—")] + [(s.pk, str(s)) for s in stores]  # type: ignore[attr-defined]

    def to_data(self) -> EventIn:
        d = self.cleaned_data
        return EventIn(
            title=d["title"],
            mall_id=d["mall"],
            place=d["place"],
            description=d["description"],
            starts_at=d["starts_at"],
            ends_at=d["ends_at"],
            registration_opens_at=d["registration_opens_at"],
            registration_closes_at=d["registration_closes_at"],
            capacity=d["capacity"],
            per_member_limit=d["per_member_limit"],
            tier_mode=d["tier_mode"],
            min_tier_id=d["min_tier"],
            priority_until=d["priority_until"],
            price_points=d["price_points"],
            price_fen=d.get("price_fen") or 0,
            store_id=d["store"],
            cancel_hours_before=d["cancel_hours_before"],
            status=d["status"],
        )


def initial_of(event: Any) -> dict[str, Any]:
    return {
        "title": event.title,
        "mall": event.mall_id,
        "place": event.place,
        "description": event.description,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "registration_opens_at": event.registration_opens_at,
        "registration_closes_at": event.registration_closes_at,
        "capacity": event.capacity,
        "per_member_limit": event.per_member_limit,
        "tier_mode": event.tier_mode,
        "min_tier": event.min_tier_id,
        "priority_until": event.priority_until,
        "price_points": event.price_points,
        "price_fen": event.price_fen,
        "store": event.store_id,
        "cancel_hours_before": event.cancel_hours_before,
        "status": event.status,
    }


class EventFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=60, required=False, help_text=_("Title or place"))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", "—"), *EventStatus.choices])


class RegistrationFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"), max_length=40, required=False, help_text=_("Card number, phone, name or ticket code")
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", "—"), *RegistrationState.choices])


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=pgettext_lazy("event ticket", "Ticket code"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "autofocus": True}),
    )


class PolicyForm(forms.Form):
    limit = forms.IntegerField(label=_("No-shows that block (0: off)"), min_value=0, max_value=20)
    window_days = forms.IntegerField(label=_("Within days"), min_value=1, max_value=365)
    block_days = forms.IntegerField(label=_("Block registration for days"), min_value=1, max_value=365)
    offer_hours = forms.IntegerField(label=_("Hours to confirm an offered seat"), min_value=1, max_value=168)


class QuestionForm(forms.Form):
    """A registration question: the text, the kind of answer, the choices (one per line) and whether required."""

    label = forms.CharField(label=_("Question"), max_length=120)
    kind = forms.ChoiceField(label=_("Answer"), choices=QuestionKind.choices, initial=QuestionKind.TEXT)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, for one choice or several choices."),
    )
    required = forms.BooleanField(label=_("Required"), required=False)

    def to_input(self) -> QuestionIn:
        d = self.cleaned_data
        return QuestionIn(
            label=d["label"],
            kind=d["kind"],
            choices=tuple(line.strip() for line in (d.get("choices") or "").splitlines() if line.strip()),
            required=bool(d.get("required")),
        )
