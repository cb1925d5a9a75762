"""POS terminals and API keys in the console: forms, and the section of the merchant page that lists a merchant's
terminals with their keys. The views are in views/pos_keys.py; the secret never passes through here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _

from galleria.accounts.types import Scope
from galleria.merchants.models import Merchant, MerchantStatus, PosKey, PosTerminal, Store
from galleria.merchants.selectors import pos_key_list, pos_terminal_list, store_list

from .forms import MerchantChoiceField

API_BASE_PATH = "/api/v1/pos/"


# ---------------------------------------------------------------- forms


class StoreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Store)
        return f"{obj.name} · {obj.unit_no}"


class PosTerminalForm(forms.Form):
    """Add a terminal to one of the merchant's open stores (the view passes those stores and the terminals)."""

    store = StoreChoiceField(
        label=_("Store"),
        queryset=Store.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose an open store of this merchant.")},
    )
    name = forms.CharField(
        label=_("Terminal name"),
        max_length=60,
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


class KeyStatus:
    ACTIVE = "active"
    REVOKED = "revoked"
    CHOICES = (("", _("All keys")), (ACTIVE, _("Active")), (REVOKED, _("Revoked")))


class PosKeyFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Key ID, label or terminal"), "autocomplete": "off"}
        ),
    )
    merchant = forms.ModelChoiceField(label=_("Merchant"), required=False, queryset=Merchant.objects.none())
    status = forms.ChoiceField(label=_("Status"), required=False, choices=KeyStatus.CHOICES)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["merchant"] = MerchantChoiceField(
            scope=scope, label=_("Merchant"), required=False, empty_label=_("All merchants")
        )

    def filters(self) -> dict[str, Any]:
        """The valid filters only: a bad value is ignored rather than failing the page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        merchant = data.get("merchant")
        return {
            "query": (data.get("q") or "").strip(),
            "merchant_id": merchant.pk if merchant else None,
            "status": data.get("status") or "",
        }


def key_form(terminal_pk: int, data: Any = None) -> PosKeyForm:
    return PosKeyForm(data, prefix=f"t{terminal_pk}", initial={"request_id": uuid.uuid4().hex})


def terminal_form(merchant: Merchant, data: Any = None) -> PosTerminalForm:
    return PosTerminalForm(
        data,
        stores=store_list(merchant_id=merchant.pk).filter(is_active=True),
        terminals=pos_terminal_list(merchant_id=merchant.pk),
    )


# ---------------------------------------------------------------- the merchant page's POS section


@dataclass
class TerminalRow:
    terminal: PosTerminal
    form: PosKeyForm
    keys: list[PosKey] = field(default_factory=list)

    @property
    def active_keys(self) -> int:
        return sum(1 for k in self.keys if k.revoked_at is None)

    @property
    def last_used_at(self) -> Any:
        used = [k.last_used_at for k in self.keys if k.last_used_at is not None]
        return max(used) if used else None

    @property
    def usable(self) -> bool:
        return self.terminal.is_active and self.terminal.store.is_active


@dataclass
class PosSection:
    terminals: list[TerminalRow]
    terminal_form: PosTerminalForm
    merchant_usable: bool

    @property
    def active_key_count(self) -> int:
        return sum(row.active_keys for row in self.terminals)

    @property
    def has_open_store(self) -> bool:
        return bool(self.terminal_form.fields["store"].queryset.exists())  # type: ignore[attr-defined]


def pos_section(
    merchant: Merchant,
    *,
    form: PosTerminalForm | None = None,
    key_forms: dict[int, PosKeyForm] | None = None,
) -> PosSection:
    """The merchant's terminals (by store) with their keys — usable keys first, newest first — in two queries."""
    bound = key_forms or {}
    rows: dict[int, TerminalRow] = {}
    for terminal in pos_terminal_list(merchant_id=merchant.pk):
        rows[terminal.pk] = TerminalRow(terminal=terminal, form=bound.get(terminal.pk) or key_form(terminal.pk))
    for key in pos_key_list(merchant_id=merchant.pk):  # newest first
        rows[key.terminal_id].keys.append(key)
    for row in rows.values():
        row.keys.sort(key=lambda k: k.revoked_at is not None)  # stable: newest first within each group
    return PosSection(
        terminals=list(rows.values()),
        terminal_form=form or terminal_form(merchant),
        merchant_usable=merchant.status != MerchantStatus.TERMINATED,
    )
