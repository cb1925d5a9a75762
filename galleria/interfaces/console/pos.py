"""POS terminals and API keys in the console: forms, and the section of the merchant page that lists a merchant's
terminals with their keys. The views are in views/pos_keys.py; the secret never passes through here. What the merchant
portal shares (forms, listing, key actions) is in galleria.interfaces.pos_keys_ui."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from galleria.accounts.types import Scope
from galleria.interfaces import pos_keys_ui
from galleria.interfaces.pos_keys_ui import PosKeyForm, TerminalRow, terminal_rows
from galleria.merchants.models import Merchant, MerchantStatus, PosTerminal

from .forms import MerchantChoiceField

# ---------------------------------------------------------------- forms


class PosTerminalForm(pos_keys_ui.PosTerminalForm):
    """Add a terminal to one of the merchant's open stores."""

    invalid_store_message = _("Choose an open store of this merchant.")


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


def terminal_form(merchant: Merchant, data: Any = None) -> PosTerminalForm:
    return pos_keys_ui.terminal_form(merchant, data, form_class=PosTerminalForm)


# ---------------------------------------------------------------- the merchant page's POS section


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

    def key_add_url(terminal: PosTerminal) -> str:
        return reverse("console:pos_key_add", args=[merchant.pk, terminal.pk])

    return PosSection(
        terminals=terminal_rows(merchant, key_add_url=key_add_url, key_forms=key_forms),
        terminal_form=form or terminal_form(merchant),
        merchant_usable=merchant.status != MerchantStatus.TERMINATED,
    )
