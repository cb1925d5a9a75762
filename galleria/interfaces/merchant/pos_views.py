"""Merchant portal: POS terminals and their API keys (owners and managers).

A key's secret exists only in the response to the POST that created it: it is never stored (the service derives it),
never put in the session, the messages framework or a log, and that response is marked `no-store`. Every terminal and
key is looked up through the signed-in user's merchant, so another merchant's id is a 404. The forms, the listing and
the key actions are shared with the console (galleria.interfaces.pos_keys_ui).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.interfaces import pos_keys_ui
from galleria.interfaces.pos_keys_ui import (
    API_BASE_PATH,
    OncePerSubmission,
    PosKeyRevokeForm,
    TerminalRow,
    key_form,
    key_mint,
    key_revoke,
    secret_response,
    terminal_add,
    terminal_form,
    terminal_rows,
)
from galleria.merchants.models import Merchant, PosKey, PosTerminal, Store
from galleria.merchants.selectors import pos_key_list, pos_terminal_list, store_list

from .forms import PosKeyForm, PosTerminalForm
from .portal import apply_form_error, portal_merchant, portal_render, portal_view

_GUARD = OncePerSubmission("merchant_pos_key_requests")  # ids of key-creation forms already used (no secrets)


@dataclass
class StoreRow:
    store: Store
    terminals: list[TerminalRow] = field(default_factory=list)


def _pos_url(terminal_id: int) -> str:
    return reverse("merchant:pos") + f"#terminal-{terminal_id}"


def _key_add_url(terminal: PosTerminal) -> str:
    return reverse("merchant:pos_key_add", args=[terminal.pk])


def _pos_page(
    request: HttpRequest,
    merchant: Merchant,
    *,
    terminal_form: PosTerminalForm | None = None,
    key_forms: dict[int, pos_keys_ui.PosKeyForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Stores → terminals → keys in three queries, newest usable keys first, revoked keys last."""
    rows = {s.pk: StoreRow(store=s) for s in store_list(merchant_id=merchant.pk)}
    terminals = terminal_rows(merchant, key_add_url=_key_add_url, key_forms=key_forms, key_form_class=PosKeyForm)
    for row in terminals:
        rows[row.terminal.store_id].terminals.append(row)
    store_rows = list(rows.values())
    context = {
        "store_rows": store_rows,
        "terminal_form": terminal_form or _terminal_form(merchant),
        "has_open_store": any(r.store.is_active for r in store_rows),
        "terminal_count": len(terminals),
        "active_key_count": sum(r.active_keys for r in terminals),
        "tz": timeutil.zone(merchant.mall.timezone),
        "api_base": request.build_absolute_uri(API_BASE_PATH),
    }
    return portal_render(request, "merchant/pos.html", context, nav="pos", merchant=merchant, status=status)


def _terminal_form(merchant: Merchant, data: object = None) -> PosTerminalForm:
    return terminal_form(merchant, data, form_class=PosTerminalForm)


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


# ---------------------------------------------------------------- views


@portal_view(perms.PORTAL_POS_MANAGE)
def pos(request: HttpRequest) -> HttpResponse:
    return _pos_page(request, portal_merchant(request))


@require_POST
@portal_view(perms.PORTAL_POS_MANAGE)
def pos_terminal_add(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    form = _terminal_form(merchant, request.POST)
    terminal = terminal_add(request, form, apply_error=apply_form_error)
    if terminal is not None:
        return redirect(_pos_url(terminal.pk))
    return _pos_page(request, merchant, terminal_form=form, status=422)


@require_POST
@portal_view(perms.PORTAL_POS_MANAGE)
@sensitive_variables("minted", "context", "response")
def pos_key_add(request: HttpRequest, terminal_id: int) -> HttpResponse:
    merchant = portal_merchant(request)
    terminal = _terminal_or_404(merchant, terminal_id)
    form = key_form(terminal.pk, request.POST, form_class=PosKeyForm)
    minted = key_mint(request, terminal, form, guard=_GUARD, apply_error=apply_form_error)
    if minted.repeated:
        messages.warning(
            request,
            _(
                "This form was already sent and its key created; its secret is not shown again. "
                "If you did not copy it, revoke that key and create a new one."
            ),
        )
        return redirect(_pos_url(terminal.pk))
    if minted.key is None:
        return _pos_page(request, merchant, key_forms={terminal.pk: form}, status=422)
    context = {
        "key": minted.key,
        "secret": minted.secret,
        "terminal": terminal,
        "api_base": request.build_absolute_uri(API_BASE_PATH),
        "tz": timeutil.zone(merchant.mall.timezone),
        "done_url": _pos_url(terminal.pk),
    }
    response = portal_render(request, "merchant/pos_key_created.html", context, nav="pos", merchant=merchant)
    return secret_response(response)


@portal_view(perms.PORTAL_POS_MANAGE)
def pos_key_revoke_view(request: HttpRequest, key_pk: int) -> HttpResponse:
    merchant = portal_merchant(request)
    key = _key_or_404(merchant, key_pk)
    if request.method != "POST" or key.revoked_at is not None:
        return _revoke_page(request, merchant, key, PosKeyRevokeForm())
    form = PosKeyRevokeForm(request.POST)
    if key_revoke(request, key, form, apply_error=apply_form_error):
        return redirect(_pos_url(key.terminal_id))
    return _revoke_page(request, merchant, key, form, status=422)


def _revoke_page(
    request: HttpRequest, merchant: Merchant, key: PosKey, form: PosKeyRevokeForm, *, status: int = 200
) -> HttpResponse:
    context = {
        "key": key,
        "terminal": key.terminal,
        "form": form,
        "tz": timeutil.zone(merchant.mall.timezone),
        "back": _pos_url(key.terminal_id),
    }
    return portal_render(request, "merchant/pos_key_revoke.html", context, nav="pos", merchant=merchant, status=status)
