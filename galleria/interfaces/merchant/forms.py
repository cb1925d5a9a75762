"""Merchant portal forms: input checks only; the services decide and raise ApplicationError."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from galleria.accounts.models import Role
from galleria.interfaces import pos_keys_ui

_PHONE_CHARS = re.compile(r"^\+?[0-9\-\s()]+$")


def phone_validator(value: str) -> None:
    """A shop or contact phone: landline or mobile, 7–15 digits with optional +, spaces, dashes and brackets."""
    digits = sum(ch.isdigit() for ch in value)
    if value and (not _PHONE_CHARS.match(value) or not 7 <= digits <= 15):
        raise ValidationError(_("Enter a phone number of 7 to 15 digits, e.g. 0755-26660018 or 13800138000."))


class LookupForm(forms.Form):
    q = forms.CharField(
        label=_("Member code"),
        max_length=64,
        error_messages={"required": _("Scan or type a member code, card number, phone or plate.")},
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "characters",
                "placeholder": _("Scan the member code, or type card number, phone or plate"),
            }
        ),
    )


class ContactForm(forms.Form):
    contact_name = forms.CharField(label=_("Contact name"), max_length=50, required=False)
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=20,
        required=False,
        validators=[phone_validator],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )


class StorePhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Store phone"),
        max_length=20,
        required=False,
        validators=[phone_validator],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )


class StaffCreateForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[RegexValidator(r"^[\w.@+-]+\Z", _("Letters, digits and @ . + - _ only."))],
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    display_name = forms.CharField(label=_("Display name"), max_length=60, required=False)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            (Role.MERCHANT_CLERK.value, Role.MERCHANT_CLERK.label),
            (Role.MERCHANT_MANAGER.value, Role.MERCHANT_MANAGER.label),
        ],
    )
    password = forms.CharField(
        label=_("Initial password"),
        max_length=128,
        strip=False,
        help_text=_("At least 10 characters; not only digits. Ask them to change it after signing in."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class PosTerminalForm(pos_keys_ui.PosTerminalForm):
    """Add a terminal to one of the merchant's own open stores."""

    invalid_store_message = _("Choose one of your open stores.")
    name_help_text = _("One terminal per till, named so that your staff can tell them apart.")


class PosKeyForm(pos_keys_ui.PosKeyForm):
    label_help_text = _("Optional: where the key is installed, e.g. the till PC.")
