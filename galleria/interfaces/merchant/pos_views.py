"""Merchant portal: POS terminals and their API keys (owners and managers).

A key's secret exists only in the response to the POST that created it: it is never stored (the service derives it),
never put in the session, the messages framework or a log, and that response is marked `no-store`. Every terminal and
key is looked up through the signed-in user's merchant, so another merchant's id is a 404.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for
from galleria.merchants.models import Merchant, PosKey, PosTerminal, Store
from galleria.merchants.selectors import pos_key_list, pos_terminal_list, store_list
from galleria.merchants.services import pos_key_create, pos_key_revoke, pos_terminal_create

from .forms import PosKeyForm, PosKeyRevokeForm, PosTerminalForm
from .portal import apply_form_error, portal_merchant, portal_render, portal_view

API_BASE_PATH = "/api/v1/pos/"
_SUBMITTED_SESSION_KEY = "merchant_pos_key_requests"  # ids of key-creation forms already used (no secrets)
_SUBMITTED_REMEMBERED = 20


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
class StoreRow:
    store: Store
    terminals: list[TerminalRow] = field(default_factory=list)


def _key_form(terminal_pk: int, data: Any = None) -> PosKeyForm:
    return PosKeyForm(data, prefix=f"t{terminal_pk}", initial={"request_id": uuid.uuid4().hex})


def _terminal_form(merchant: Merchant, data: Any = None) -> PosTerminalForm:
    return PosTerminalForm(
        data,
        stores=store_list(merchant_id=merchant.pk).filter(is_active=True),
        terminals=pos_terminal_list(merchant_id=merchant.pk),
    )


def _pos_page(
    request: HttpRequest,
    merchant: Merchant,
    *,
    terminal_form: PosTerminalForm | None = None,
    key_forms: dict[int, PosKeyForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Stores → terminals → keys in three queries, newest usable keys first, revoked keys last."""
    bound = key_forms or {}
    rows = {s.pk: StoreRow(store=s) for s in store_list(merchant_id=merchant.pk)}
    terminals: dict[int, TerminalRow] = {}
    for terminal in pos_terminal_list(merchant_id=merchant.pk):
        row = TerminalRow(terminal=terminal, form=bound.get(terminal.pk) or _key_form(terminal.pk))
        terminals[terminal.pk] = row
        rows[terminal.store_id].terminals.append(row)
    for key in pos_key_list(merchant_id=merchant.pk):  # newest first
        terminals[key.terminal_id].keys.append(key)
    for row in terminals.values():
        row.keys.sort(key=lambda k: k.revoked_at is not None)  # stable: keeps newest first within each group
    store_rows = list(rows.values())
    terminal_form = terminal_form or _terminal_form(merchant)
    context = {
        "store_rows": store_rows,
        "terminal_form": terminal_form,
        "has_open_store": any(r.store.is_active for r in store_rows),
        "terminal_count": len(terminals),
        "active_key_count": sum(r.active_keys for r in terminals.values()),
        "tz": timeutil.zone(merchant.mall.timezone),
        "api_base": request.build_absolute_uri(API_BASE_PATH),
    }
    return portal_render(request, "merchant/pos.html", context, nav="pos", merchant=merchant, status=status)


def _terminal_or_404(merchant: Merchant, terminal_id: int) -> PosTerminal:
    terminal = pos_terminal_list(merchant_id=merchant.pk).filter(pk=terminal_id).first()
    if terminal is None:
        raise Http404
    return terminal


def _key_or_404(merchant: Merchant, key_pk: int) -> PosKey:
    key = pos_key_list(merchant_id=merchant.pk).filter(pk=key_pk).first()
    if key is None:
        raise Http404
    return key


def _already_submitted(request: HttpRequest, request_id: str) -> bool:
    """Was this key form already used? Then a refresh or a double click must not mint a second, unseen key."""
    return bool(request_id) and request_id in request.session.get(_SUBMITTED_SESSION_KEY, [])


def _remember_submitted(request: HttpRequest, request_id: str) -> None:
    if request_id:
        seen: list[str] = list(request.session.get(_SUBMITTED_SESSION_KEY, []))
        request.session[_SUBMITTED_SESSION_KEY] = [*seen, request_id][-_SUBMITTED_REMEMBERED:]


# ---------------------------------------------------------------- views


@portal_view(perms.PORTAL_POS_MANAGE)
def pos(request: HttpRequest) -> HttpResponse:
    return _pos_page(request, portal_merchant(request))


@require_POST
@portal_view(perms.PORTAL_POS_MANAGE)
def pos_terminal_add(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    form = _terminal_form(merchant, request.POST)
    if form.is_valid():
        store: Store = form.cleaned_data["store"]
        try:
            terminal = pos_terminal_create(actor=actor_for(request), store_id=store.pk, name=form.cleaned_data["name"])
        except (ApplicationError, DjangoValidationError) as exc:
            apply_form_error(form, exc)
        else:
            messages.success(
                request,
                _("Terminal %(terminal)s was added to %(store)s. Create an API key for it to connect the POS.")
                % {"terminal": terminal.name, "store": store.name},
            )
            return redirect(reverse("merchant:pos") + f"#terminal-{terminal.pk}")
    return _pos_page(request, merchant, terminal_form=form, status=422)


@require_POST
@portal_view(perms.PORTAL_POS_MANAGE)
@sensitive_variables("secret", "context", "response")
def pos_key_add(request: HttpRequest, terminal_id: int) -> HttpResponse:
    merchant = portal_merchant(request)
    terminal = _terminal_or_404(merchant, terminal_id)
    form = _key_form(terminal.pk, request.POST)
    if not form.is_valid():
        return _pos_page(request, merchant, key_forms={terminal.pk: form}, status=422)
    if not (terminal.is_active and terminal.store.is_active):
        form.add_error(None, _("This terminal or its store is switched off, so a key for it would not work."))
        return _pos_page(request, merchant, key_forms={terminal.pk: form}, status=422)
    if _already_submitted(request, form.cleaned_data["request_id"]):
        messages.warning(
            request,
            _(
                "This form was already sent and its key created; its secret is not shown again. "
                "If you did not copy it, revoke that key and create a new one."
            ),
        )
        return redirect(reverse("merchant:pos") + f"#terminal-{terminal.pk}")
    try:
        key, secret = pos_key_create(
            actor=actor_for(request), terminal_id=terminal.pk, label=form.cleaned_data["label"]
        )
    except ObjectDoesNotExist as exc:  # the terminal vanished in between
        raise Http404 from exc
    except (ApplicationError, DjangoValidationError) as exc:
        apply_form_error(form, exc)
        return _pos_page(request, merchant, key_forms={terminal.pk: form}, status=422)
    _remember_submitted(request, form.cleaned_data["request_id"])
    context = {
        "key": key,
        "secret": secret,
        "terminal": terminal,
        "api_base": request.build_absolute_uri(API_BASE_PATH),
        "tz": timeutil.zone(merchant.mall.timezone),
    }
    response = portal_render(request, "merchant/pos_key_created.html", context, nav="pos", merchant=merchant)
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    response["Referrer-Policy"] = "no-referrer"
    return response


@portal_view(perms.PORTAL_POS_MANAGE)
def pos_key_revoke_view(request: HttpRequest, key_pk: int) -> HttpResponse:
    merchant = portal_merchant(request)
    key = _key_or_404(merchant, key_pk)
    if request.method != "POST" or key.revoked_at is not None:
        form = PosKeyRevokeForm()
        return _revoke_page(request, merchant, key, form)
    form = PosKeyRevokeForm(request.POST)
    if form.is_valid():
        try:
            pos_key_revoke(actor=actor_for(request), key_pk=key.pk)
        except (ApplicationError, DjangoValidationError) as exc:
            apply_form_error(form, exc)
        else:
            messages.success(
                request,
                _("Key %(key_id)s was revoked. Requests signed with it are refused from now on.")
                % {"key_id": key.key_id},
            )
            return redirect(reverse("merchant:pos") + f"#terminal-{key.terminal_id}")
    return _revoke_page(request, merchant, key, form, status=422)


def _revoke_page(
    request: HttpRequest, merchant: Merchant, key: PosKey, form: PosKeyRevokeForm, *, status: int = 200
) -> HttpResponse:
    context = {"key": key, "terminal": key.terminal, "form": form, "tz": timeutil.zone(merchant.mall.timezone)}
    return portal_render(request, "merchant/pos_key_revoke.html", context, nav="pos", merchant=merchant, status=status)
