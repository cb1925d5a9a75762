"""Console coupon forms besides the template form (galleria/interfaces/coupon_forms.py): the list filters and grants."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from galleria.audience.selectors import segment_list
from galleria.coupons.models import CouponKind, TemplateStatus
from galleria.malls.models import Mall

from ..coupon_forms import tier_choices
from .forms import DateInput
from .loyalty_forms import GroupMallField

MAX_GRANT_LINES = 2000
LINE_SPLIT = re.compile(r"[\r\n,，;；]+")


def new_key() -> str:
    return secrets.token_urlsafe(18)


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class TemplateFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Coupon name"), "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=_blank(_("All kinds")) + list(CouponKind.choices))
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank(_("All statuses")) + list(TemplateStatus.choices)
    )

    def filters(self) -> dict[str, str]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"q": (data.get("q") or "").strip(), "kind": data.get("kind") or "", "status": data.get("status") or ""}


class GrantOneForm(forms.Form):
    """Give one coupon to one member: the member by phone, card number or member code."""

    member = forms.CharField(
        label=_("Member"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": _("Phone, card number or member code")}),
    )
    note = forms.CharField(label=_("Note"), max_length=100, required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class GrantToMemberForm(forms.Form):
    """On the member's page: which coupon to give."""

    template = forms.TypedChoiceField(label=_("Coupon"), coerce=int, choices=[])
    note = forms.CharField(label=_("Note"), max_length=100, required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, templates: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = templates  # type: ignore[attr-defined]


class GrantBatchForm(forms.Form):
    """A grant to a pasted list of phones / card numbers, or to a segment."""

    target = forms.ChoiceField(
        label=_("Give to"),
        choices=[
            ("list", _("A list of members")),
            ("saved", _("A saved segment")),
            ("segment", _("Members by tier, join date and mall")),
        ],
        widget=forms.RadioSelect,
        initial="list",
    )
    members = forms.CharField(
        label=_("Phones or card numbers"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "13800138000\n812345678903"}),
        help_text=_("One per line (or separated by commas), at most 2,000."),
    )
    min_tier_rank = forms.TypedChoiceField(label=_("Minimum tier"), coerce=int, required=False, choices=[])
    joined_from = forms.DateField(label=_("Joined from"), required=False, widget=DateInput())
    joined_until = forms.DateField(label=_("Joined until"), required=False, widget=DateInput())
    join_mall: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Join mall"), required=False, queryset=Mall.objects.none()
    )
    saved_segment = forms.TypedChoiceField(label=_("Segment"), coerce=int, required=False, choices=[])
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, group_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["saved_segment"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((s.pk, f"{s.name} ({s.last_count or 0:,})") for s in segment_list(mall_group_id=group_id)),
        ]
        self.fields["min_tier_rank"].choices = tier_choices(group_id, everyone=_("Every tier"))  # type: ignore[attr-defined]
        self.fields["join_mall"] = GroupMallField(
            group_id=group_id, label=_("Join mall"), required=False, empty_label=_("All malls")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("target") == "list":
            lines = [line.strip() for line in LINE_SPLIT.split(data.get("members") or "") if line.strip()]
            if not lines:
                self.add_error("members", _("Paste at least one phone or card number."))
            elif len(lines) > MAX_GRANT_LINES:
                self.add_error("members", _("At most 2,000 members at a time."))
            data["lines"] = list(dict.fromkeys(lines))
        if data.get("target") == "saved" and not data.get("saved_segment"):
            self.add_error("saved_segment", _("Choose a segment."))
        start, end = data.get("joined_from"), data.get("joined_until")
        if start and end and end < start:
            self.add_error("joined_until", _("The end must be after the start."))
        return data

    def segment(self) -> dict[str, Any]:
        d = self.cleaned_data
        segment: dict[str, Any] = {}
        if d.get("min_tier_rank"):
            segment["min_tier_rank"] = d["min_tier_rank"]
        if d.get("joined_from"):
            segment["joined_from"] = d["joined_from"].isoformat()
        if d.get("joined_until"):
            segment["joined_until"] = d["joined_until"].isoformat()
        if d.get("join_mall"):
            segment["join_mall_id"] = d["join_mall"].pk
        return segment
