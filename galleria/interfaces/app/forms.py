"""Member app forms: input checks only; the member services decide and raise ApplicationError."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ApplicationError
from galleria.core.money import yuan_to_fen
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


class TopUpForm(forms.Form):
    """A wallet top-up in yuan. `key` is a random id rendered into the form: submitting the same form twice (a
    double tap, a retry after a timeout) starts one top-up, not two."""

    amount = forms.CharField(
        label=_("Amount (¥)"),
        max_length=20,
        error_messages={"required": _("Enter an amount to top up.")},
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": _("e.g. 1000"), "class": "amount"}
        ),
    )
    method = forms.ChoiceField(
        label=_("Pay with"),
        choices=[("wechat", _("WeChat Pay")), ("alipay", _("Alipay"))],
        error_messages={"required": _("Choose how to pay."), "invalid_choice": _("Choose how to pay.")},
        widget=forms.RadioSelect,
    )
    key = forms.CharField(
        max_length=64,
        min_length=8,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form has expired. Please try again."),
            "min_length": _("This form has expired. Please try again."),
            "max_length": _("This form has expired. Please try again."),
        },
    )

    def clean_amount(self) -> int:
        raw = str(self.cleaned_data["amount"]).strip().replace("¥", "").replace("￥", "").replace(" ", "")
        try:
            return yuan_to_fen(raw)
        except ApplicationError as exc:
            if exc.code == "money.precision":
                raise forms.ValidationError(_("Amounts have at most two decimals, e.g. 99.50.")) from exc
            raise forms.ValidationError(_("Enter an amount in yuan, e.g. 1000 or 99.50.")) from exc

    def clean_key(self) -> str:
        key = str(self.cleaned_data["key"]).strip()
        if not key.isprintable() or " " in key:
            raise forms.ValidationError(_("This form has expired. Please try again."))
        return key
