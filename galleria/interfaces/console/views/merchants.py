"""Merchants and their stores: list, create, edit, detail with stores."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audit.selectors import audit_list
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.merchants.models import Merchant, Store
from galleria.merchants.selectors import merchant_get, merchant_list, store_get, store_list
from galleria.merchants.services import merchant_create, merchant_update, store_save

from ..forms import MerchantFilterForm, MerchantForm, StoreForm
from ..helpers import add_application_error, add_django_error, bp_percent, console_view, is_htmx, page_of, trail
from ..pos import PosKeyForm, PosTerminalForm, pos_section

HISTORY_LIMIT = 15


def _merchant_or_404(request: HttpRequest, merchant_id: int) -> Merchant:
    try:
        return merchant_get(mall_group_id=scope_of(request).mall_group_id, merchant_id=merchant_id)
    except Merchant.DoesNotExist as exc:
        raise Http404("merchant") from exc


@console_view(perms.MERCHANTS_VIEW)
def merchant_list_view(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    form = MerchantFilterForm(request.GET or None, scope=scope)
    filters = form.filters()
    merchants = merchant_list(mall_group_id=scope.mall_group_id, **filters)
    if scope.is_platform:
        merchants = merchants.select_related("mall__group")
    page, query_string = page_of(request, merchants)
    context = {
        "nav": "merchants",
        "form": form,
        "page_obj": page,
        "rows": [(m, bp_percent(m.commission_bp)) for m in page.object_list],
        "query_string": query_string,
        "filtered": any(filters.values()),
        "can_edit": scope.can(perms.MERCHANTS_EDIT),
        "show_group": scope.is_platform,
    }
    template = "console/merchants/_results.html" if is_htmx(request) else "console/merchants/list.html"
    return render(request, template, context)


@console_view(perms.MERCHANTS_EDIT)
def merchant_new(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    form = MerchantForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        mall_id = form.mall_id
        assert mall_id is not None
        try:
            merchant = merchant_create(actor=actor_for(request), mall_id=mall_id, values=form.values())
        except ApplicationError as exc:
            add_application_error(form, exc)
        except DjangoValidationError as exc:
            add_django_error(
                form,
                exc,
                unique_field="name",
                unique_message=_("A merchant with this name already exists in this mall."),
            )
        else:
            messages.success(request, _("Merchant “%(name)s” created.") % {"name": merchant.name})
            return redirect("console:merchant_detail", merchant.pk)
    return render(
        request,
        "console/merchants/form.html",
        {"nav": "merchants", "form": form, "merchant": None},
        status=400 if form.is_bound and form.errors else 200,
    )


@console_view(perms.MERCHANTS_EDIT)
def merchant_edit(request: HttpRequest, merchant_id: int) -> HttpResponse:
    scope = scope_of(request)
    merchant = _merchant_or_404(request, merchant_id)
    form = MerchantForm(request.POST or None, scope=scope, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        try:
            merchant = merchant_update(actor=actor_for(request), merchant_id=merchant.pk, values=form.values())
        except ApplicationError as exc:
            add_application_error(form, exc)
        except DjangoValidationError as exc:
            add_django_error(
                form,
                exc,
                unique_field="name",
                unique_message=_("A merchant with this name already exists in this mall."),
            )
        else:
            messages.success(request, _("Merchant “%(name)s” saved.") % {"name": merchant.name})
            return redirect("console:merchant_detail", merchant.pk)
    return render(
        request,
        "console/merchants/form.html",
        {"nav": "merchants", "form": form, "merchant": merchant},
        status=400 if form.is_bound and form.errors else 200,
    )


def _detail(
    request: HttpRequest,
    merchant: Merchant,
    *,
    store_form: StoreForm | None = None,
    terminal_form: PosTerminalForm | None = None,
    key_forms: dict[int, PosKeyForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The merchant page; the POS section (terminals and API keys) only for roles that manage POS keys."""
    scope = scope_of(request)
    history = []
    if scope.can(perms.AUDIT_VIEW):
        events = audit_list(mall_group_id=scope.mall_group_id, target_type="merchant", target_id=merchant.pk)
        history = trail(events[:HISTORY_LIMIT], scope)
    context = {
        "nav": "merchants",
        "merchant": merchant,
        "commission": bp_percent(merchant.commission_bp),
        "stores": store_list(merchant_id=merchant.pk),
        "store_form": store_form or StoreForm(merchant=merchant, initial={"is_active": True}),
        "can_edit": scope.can(perms.MERCHANTS_EDIT),
        "history": history,
        "pos": (
            pos_section(merchant, form=terminal_form, key_forms=key_forms) if scope.can(perms.POS_MANAGE) else None
        ),
    }
    return render(request, "console/merchants/detail.html", context, status=status)


@console_view(perms.MERCHANTS_VIEW)
def merchant_detail(request: HttpRequest, merchant_id: int) -> HttpResponse:
    return _detail(request, _merchant_or_404(request, merchant_id))


def _save_store(request: HttpRequest, merchant: Merchant, form: StoreForm, store: Store | None) -> Store | None:
    try:
        return store_save(
            actor=actor_for(request),
            merchant_id=merchant.pk,
            store_id=store.pk if store else None,
            values=form.values(),
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
    except DjangoValidationError as exc:
        add_django_error(
            form, exc, unique_field="unit_no", unique_message=_("This merchant already has a store in this unit.")
        )
    except Store.DoesNotExist:
        form.add_error(None, _("This store no longer exists."))
    return None


@require_POST
@console_view(perms.MERCHANTS_EDIT)
def store_new(request: HttpRequest, merchant_id: int) -> HttpResponse:
    merchant = _merchant_or_404(request, merchant_id)
    form = StoreForm(request.POST, merchant=merchant)
    if form.is_valid():
        store = _save_store(request, merchant, form, None)
        if store is not None:
            messages.success(request, _("Store “%(name)s” added.") % {"name": store.name})
            return redirect(reverse("console:merchant_detail", args=[merchant.pk]) + "#stores")
    return _detail(request, merchant, store_form=form, status=400)


@console_view(perms.MERCHANTS_EDIT)
def store_edit(request: HttpRequest, merchant_id: int, store_id: int) -> HttpResponse:
    merchant = _merchant_or_404(request, merchant_id)
    try:
        store = store_get(merchant_id=merchant.pk, store_id=store_id)
    except Store.DoesNotExist as exc:
        raise Http404("store") from exc
    form = StoreForm(request.POST or None, merchant=merchant, store=store)
    if request.method == "POST" and form.is_valid():
        saved = _save_store(request, merchant, form, store)
        if saved is not None:
            messages.success(request, _("Store “%(name)s” saved.") % {"name": saved.name})
            return redirect(reverse("console:merchant_detail", args=[merchant.pk]) + "#stores")
    return render(
        request,
        "console/merchants/store_form.html",
        {"nav": "merchants", "merchant": merchant, "store": store, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )
