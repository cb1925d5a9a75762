"""POS terminals and their API keys: what the merchant portal and the mall console share.

Both audiences add terminals, create keys and revoke them with the same forms, the same listing of terminals with their
keys and the same once-only secret page; each side keeps its own views (who may, which merchant, where to go next),
URLs and page shells, and passes its own URLs and wording to the partials in templates/galleria/pos/.

A key's secret exists only in the response to the POST that created it: the service derives it and does not store it;
it is never put in the session, the messages framework, a log or the audit trail, and `secret_response` marks that
response `no-store` and `no-referrer`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for
from galleria.merchants.models import Merchant, PosKey, PosTerminal, Store
from galleria.merchants.selectors import pos_key_list, pos_terminal_list, store_list
from galleria.merchants.services import pos_key_create, pos_key_revoke, pos_terminal_create

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

API_BASE_PATH = "/api/v1/pos/"

ApplyError = Callable[[forms.Form, ApplicationError | DjangoValidationError], None]
"""Each side shows a service error on a form its own way (portal.apply_form_error, the console's helpers)."""


# ---------------------------------------------------------------- forms


class StoreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Store)
        return f"{obj.name} · {obj.unit_no}"


class PosTerminalForm(forms.Form):
    """Add a terminal to one of the merchant's open stores; the view passes those stores and the existing terminals.

    Each side subclasses it for its own wording: `invalid_store_message` (required) and `name_help_text`.
    """

    invalid_store_message: ClassVar[StrOrPromise]
    name_help_text: ClassVar[StrOrPromise] = ""

    store = StoreChoiceField(label=_("Store"), queryset=Store.objects.none(), empty_label=None)
    name = forms.CharField(
        label=_("Terminal name"),
        max_length=60,
        error_messages={"required": _("Give the terminal a name.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": _("e.g. Front counter 1")}),
    )

    def __init__(self, *args: Any, stores: QuerySet[Store], terminals: QuerySet[PosTerminal], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        store = cast(StoreChoiceField, self.fields["store"])
        store.queryset = stores
        store.error_messages["invalid_choice"] = self.invalid_store_message  # a per-instance copy of the messages
        self.fields["name"].help_text = self.name_help_text
        self._terminals = terminals

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        store, name = data.get("store"), (data.get("name") or "").strip()
        if store is not None and name and self._terminals.filter(store=store, name__iexact=name).exists():
            self.add_error("name", _("This store already has a terminal with this name."))
        data["name"] = name
        return data


class PosKeyForm(forms.Form):
    """A key's label; `label_help_text` (a side's own) only names the label in the widget's aria-describedby."""

    label_help_text: ClassVar[StrOrPromise] = ""

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["label"].help_text = self.label_help_text


class PosKeyRevokeForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that the POS using this key stops working at once."),
        error_messages={"required": _("Tick the box to confirm that you want to revoke this key.")},
    )


def key_form(terminal_pk: int, data: Any = None, *, form_class: type[PosKeyForm] = PosKeyForm) -> PosKeyForm:
    """A key form for one terminal of a page that lists several, with a fresh request id."""
    return form_class(data, prefix=f"t{terminal_pk}", initial={"request_id": uuid.uuid4().hex})


_F = TypeVar("_F", bound=PosTerminalForm)


def terminal_form(merchant: Merchant, data: Any = None, *, form_class: type[_F]) -> _F:
    return form_class(
        data,
        stores=store_list(merchant_id=merchant.pk).filter(is_active=True),
        terminals=pos_terminal_list(merchant_id=merchant.pk),
    )


# ---------------------------------------------------------------- a merchant's terminals with their keys


@dataclass
class TerminalRow:
    terminal: PosTerminal
    form: PosKeyForm
    key_add_url: str
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


def terminal_rows(
    merchant: Merchant,
    *,
    key_add_url: Callable[[PosTerminal], str],
    key_forms: dict[int, PosKeyForm] | None = None,
    key_form_class: type[PosKeyForm] = PosKeyForm,
) -> list[TerminalRow]:
    """The merchant's terminals with their keys — usable keys first, newest first — in two queries.

    A terminal whose key form was just sent keeps that bound form (with its errors); the others get a fresh one.
    """
    bound = key_forms or {}
    rows: dict[int, TerminalRow] = {}
    for terminal in pos_terminal_list(merchant_id=merchant.pk):
        form = bound.get(terminal.pk) or key_form(terminal.pk, form_class=key_form_class)
        rows[terminal.pk] = TerminalRow(terminal=terminal, form=form, key_add_url=key_add_url(terminal))
    for key in pos_key_list(merchant_id=merchant.pk):  # newest first
        rows[key.terminal_id].keys.append(key)
    for row in rows.values():
        row.keys.sort(key=lambda k: k.revoked_at is not None)  # stable: newest first within each group
    return list(rows.values())


# ---------------------------------------------------------------- the actions


def terminal_add(request: HttpRequest, form: PosTerminalForm, *, apply_error: ApplyError) -> PosTerminal | None:
    """Add the terminal a valid form names and say so; None (errors on the form) when it is not added."""
    if not form.is_valid():
        return None
    store: Store = form.cleaned_data["store"]
    try:
        terminal = pos_terminal_create(actor=actor_for(request), store_id=store.pk, name=form.cleaned_data["name"])
    except (ApplicationError, DjangoValidationError) as exc:
        apply_error(form, exc)
        return None
    messages.success(
        request,
        gettext("Terminal %(terminal)s was added to %(store)s. Create an API key for it to connect the POS.")
        % {"terminal": terminal.name, "store": store.name},
    )
    return terminal


@dataclass(frozen=True)
class OncePerSubmission:
    """Each key form carries a fresh request id; one already used (a refresh, a double click) must not mint a second,
    unseen key. The session keeps the last few ids, never a secret."""

    session_key: str
    remembered: int = 20

    def already_submitted(self, request: HttpRequest, request_id: str) -> bool:
        return bool(request_id) and request_id in request.session.get(self.session_key, [])

    def remember(self, request: HttpRequest, request_id: str) -> None:
        if request_id:
            seen: list[str] = list(request.session.get(self.session_key, []))
            request.session[self.session_key] = [*seen, request_id][-self.remembered :]


@dataclass
class MintedKey:
    """What a key form's POST came to: a new key and its secret, the form sent again, or errors on the form."""

    key: PosKey | None = None
    secret: str = field(default="", repr=False)
    repeated: bool = False


@sensitive_variables("secret")
def key_mint(
    request: HttpRequest,
    terminal: PosTerminal,
    form: PosKeyForm,
    *,
    guard: OncePerSubmission,
    apply_error: ApplyError,
) -> MintedKey:
    """Create a key for the terminal, once per rendered form. No key when the form is invalid, the terminal or its
    store is switched off (errors on the form) or the form was sent before (`repeated`); 404 if the terminal is gone."""
    if not form.is_valid():
        return MintedKey()
    if not (terminal.is_active and terminal.store.is_active):
        form.add_error(None, gettext("This terminal or its store is switched off, so a key for it would not work."))
        return MintedKey()
    if guard.already_submitted(request, form.cleaned_data["request_id"]):
        return MintedKey(repeated=True)
    try:
        key, secret = pos_key_create(
            actor=actor_for(request), terminal_id=terminal.pk, label=form.cleaned_data["label"]
        )
    except ObjectDoesNotExist as exc:  # the terminal vanished in between
        raise Http404("terminal") from exc
    except (ApplicationError, DjangoValidationError) as exc:
        apply_error(form, exc)
        return MintedKey()
    guard.remember(request, form.cleaned_data["request_id"])
    return MintedKey(key=key, secret=secret)


def secret_response(response: HttpResponse) -> HttpResponse:
    """The page that shows a secret: kept by no cache and its address sent to no other site."""
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    response["Referrer-Policy"] = "no-referrer"
    return response


def key_revoke(request: HttpRequest, key: PosKey, form: PosKeyRevokeForm, *, apply_error: ApplyError) -> bool:
    """Revoke the key once the form confirms it and say so; False (errors on the form) when it is not revoked."""
    if not form.is_valid():
        return False
    try:
        pos_key_revoke(actor=actor_for(request), key_pk=key.pk)
    except (ApplicationError, DjangoValidationError) as exc:
        apply_error(form, exc)
        return False
    messages.success(
        request,
        gettext("Key %(key_id)s was revoked. Requests signed with it are refused from now on.")
        % {"key_id": key.key_id},
    )
    return True
