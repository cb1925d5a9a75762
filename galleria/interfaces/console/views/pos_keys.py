"""POS terminals and their API keys, for mall operators: on a merchant's page (add a terminal, create a key, revoke)
and on one group-wide list of every key.

A key's secret exists only in the response to the POST that created it: the service derives it and does not store
it; it is never put in the session, the messages framework, a log or the audit trail, and that response is marked
`no-store`. Merchants, terminals and keys are looked up within the signed-in person's mall group (every group for
platform admins), so another group's id is a 404. The services write the audit trail.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import scope_of
from galleria.interfaces.pos_keys_ui import (
    API_BASE_PATH,
    OncePerSubmission,
    PosKeyRevokeForm,
    key_form,
    key_mint,
    key_revoke,
    secret_response,
    terminal_add,
)
from galleria.merchants.models import Merchant, PosKey, PosTerminal
from galleria.merchants.selectors import pos_key_list, pos_terminal_list

from ..helpers import add_application_error, add_django_error, console_view, is_htmx, page_of
from ..pos import KeyStatus, PosKeyFilterForm, terminal_form
from .merchants import _detail, _merchant_or_404

_GUARD = OncePerSubmission("console_pos_key_requests")  # ids of key-creation forms already used (never a secret)


def _pos_url(merchant_id: int, terminal_id: int | None = None) -> str:
    anchor = f"#terminal-{terminal_id}" if terminal_id else "#pos"
    return reverse("console:merchant_detail", args=[merchant_id]) + anchor


def _terminal_or_404(merchant: Merchant, terminal_id: int) -> PosTerminal:
    terminal = pos_terminal_list(merchant_id=merchant.pk).filter(pk=terminal_id).first()
    if terminal is None:
        raise Http404("terminal")
    return terminal


def _key_or_404(request: HttpRequest, key_pk: int) -> PosKey:
    key = pos_key_list(mall_group_id=scope_of(request).mall_group_id).filter(pk=key_pk).first()
    if key is None:
        raise Http404("key")
    return key


def _apply_error(form: forms.Form, exc: ApplicationError | DjangoValidationError) -> None:
    if isinstance(exc, ApplicationError):
        add_application_error(form, exc)
    else:
        add_django_error(form, exc)


# ---------------------------------------------------------------- on the merchant's page


@require_POST
@console_view(perms.POS_MANAGE)
def pos_terminal_add(request: HttpRequest, merchant_id: int) -> HttpResponse:
    merchant = _merchant_or_404(request, merchant_id)
    form = terminal_form(merchant, request.POST)
    terminal = terminal_add(request, form, apply_error=_apply_error)
    if terminal is not None:
        return redirect(_pos_url(merchant.pk, terminal.pk))
    return _detail(request, merchant, terminal_form=form, status=422)


@require_POST
@console_view(perms.POS_MANAGE)
@sensitive_variables("minted", "context", "response")
def pos_key_add(request: HttpRequest, merchant_id: int, terminal_id: int) -> HttpResponse:
    merchant = _merchant_or_404(request, merchant_id)
    terminal = _terminal_or_404(merchant, terminal_id)
    form = key_form(terminal.pk, request.POST)
    minted = key_mint(request, terminal, form, guard=_GUARD, apply_error=_apply_error)
    if minted.repeated:
        messages.warning(
            request,
            _(
                "This form was already sent and its key created; its secret is not shown again. "
                "If nobody copied it, revoke that key and create a new one."
            ),
        )
        return redirect(_pos_url(merchant.pk, terminal.pk))
    if minted.key is None:
        return _detail(request, merchant, key_forms={terminal.pk: form}, status=422)
    context = {
        "nav": "merchants",
        "merchant": merchant,
        "key": minted.key,
        "secret": minted.secret,
        "terminal": terminal,
        "api_base": request.build_absolute_uri(API_BASE_PATH),
        "done_url": _pos_url(merchant.pk, terminal.pk),
    }
    return secret_response(render(request, "console/pos/key_created.html", context))


# ---------------------------------------------------------------- every key of the group


@console_view(perms.POS_MANAGE)
def pos_key_list_view(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    form = PosKeyFilterForm(request.GET or None, scope=scope)
    filters = form.filters()
    keys = pos_key_list(mall_group_id=scope.mall_group_id).select_related(
        "terminal__store__merchant__mall__group", "terminal__store"
    )
    if filters["merchant_id"]:
        keys = keys.filter(terminal__store__merchant_id=filters["merchant_id"])
    if filters["status"] == KeyStatus.ACTIVE:
        keys = keys.filter(revoked_at__isnull=True)
    elif filters["status"] == KeyStatus.REVOKED:
        keys = keys.filter(revoked_at__isnull=False)
    if filters["query"]:
        q = filters["query"][:40]
        keys = keys.filter(Q(key_id__icontains=q) | Q(label__icontains=q) | Q(terminal__name__icontains=q))
    page, query_string = page_of(request, keys)
    context = {
        "nav": "pos_keys",
        "form": form,
        "page_obj": page,
        "query_string": query_string,
        "filtered": any(filters.values()),
        "show_group": scope.is_platform,
    }
    template = "console/pos/_keys.html" if is_htmx(request) else "console/pos/keys.html"
    return render(request, template, context)


@console_view(perms.POS_MANAGE)
def pos_key_revoke_view(request: HttpRequest, key_pk: int) -> HttpResponse:
    key = _key_or_404(request, key_pk)
    back_to_list = (request.POST.get("back") or request.GET.get("back")) == "list"
    back = reverse("console:pos_keys") if back_to_list else _pos_url(key.terminal.store.merchant_id, key.terminal_id)
    if request.method != "POST" or key.revoked_at is not None:
        return _revoke_page(request, key, PosKeyRevokeForm(), back=back, back_to_list=back_to_list)
    form = PosKeyRevokeForm(request.POST)
    if key_revoke(request, key, form, apply_error=_apply_error):
        return redirect(back)
    return _revoke_page(request, key, form, back=back, back_to_list=back_to_list, status=422)


def _revoke_page(
    request: HttpRequest, key: PosKey, form: PosKeyRevokeForm, *, back: str, back_to_list: bool, status: int = 200
) -> HttpResponse:
    context = {
        "nav": "pos_keys" if back_to_list else "merchants",
        "key": key,
        "terminal": key.terminal,
        "merchant": key.terminal.store.merchant,
        "form": form,
        "back": back,
        "back_to_list": back_to_list,
    }
    return render(request, "console/pos/key_revoke.html", context, status=status)
