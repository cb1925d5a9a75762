"""Merchant portal forms: input checks only; the services decide and raise ApplicationError."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from galleria.accounts.models import Role
from galleria.merchants.models import PosTerminal, Store

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


class StoreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.unit_no}"


class PosTerminalForm(forms.Form):
    """Add a terminal to one of the merchant's open stores; the view passes those stores and existing terminals."""

    store = StoreChoiceField(
        label=_("Store"),
        queryset=Store.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of your open stores.")},
    )
    name = forms.CharField(
        label=_("Terminal name"),
        max_length=60,
        help_text=_("One terminal per till, named so that your staff can tell them apart."),
        error_messages={"required": _("Give the terminal a name.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": _("e.g. Front counter 1")}),
    )

    def __init__(self, *args: Any, stores: QuerySet[Store], terminals: QuerySet[PosTerminal], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(StoreChoiceField, self.fields["store"]).queryset = stores
        self._terminals = terminals

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        store, name = data.get("store"), (data.get("name") or "").strip()
        if store is not None and name and self._terminals.filter(store=store, name__iexact=name).exists():
            self.add_error("name", _("This store already has a terminal with this name."))
        data["name"] = name
        return data


class PosKeyForm(forms.Form):
    label = forms.CharField(
        label=_("Key label"),
        max_length=60,
        required=False,
        help_text=_("Optional: where the key is installed, e.g. the till PC."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": _("Label (optional)"), "aria-label": _("Key label")}
        ),
    )
    # One id per rendered form: the view refuses to mint a second key when the same form is sent again (a refresh).
    request_id = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)


class PosKeyRevokeForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that the POS using this key stops working at once."),
        error_messages={"required": _("Tick the box to confirm that you want to revoke this key.")},
    )
