"""Member app forms: input checks only; the member services decide and raise ApplicationError."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from galleria.members.models import Gender


class LoginForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=32,
        error_messages={"required": _("Enter your mobile phone number.")},
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": _("Mobile phone number"),
            }
        ),
    )
    code = forms.CharField(
        label=_("Verification code"),
        max_length=6,
        required=False,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9]*",
                "placeholder": _("6-digit code"),
            }
        ),
    )
    agree = forms.BooleanField(label=_("I agree to the membership terms and privacy policy"), required=False)

    def clean_phone(self) -> str:
        return str(self.cleaned_data["phone"]).strip()

    def clean_code(self) -> str:
        return str(self.cleaned_data.get("code") or "").strip()


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    birthday = forms.DateField(
        label=_("Birthday"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    email = forms.EmailField(label=_("Email"), max_length=254, required=False)

    def clean_birthday(self) -> dt.date | None:
        birthday: dt.date | None = self.cleaned_data.get("birthday")
        if birthday is not None and not (dt.date(1900, 1, 1) <= birthday <= dt.date.today()):
            raise forms.ValidationError(_("Enter a birthday between 1900 and today."))
        return birthday


class PlateForm(forms.Form):
    plate = forms.CharField(
        label=_("Licence plate"),
        max_length=16,
        error_messages={"required": _("Enter a licence plate.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "placeholder": _("e.g. 粤B12345")}
        ),
    )
