"""Staff accounts and roles of the scope."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from galleria.accounts import permissions as perms
from galleria.accounts.selectors import staff_list, two_step_enabled
from galleria.accounts.services import staff_create, staff_update
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of

from ..forms import StaffCreateForm, StaffEditForm, StaffFilterForm
from ..helpers import add_application_error, console_view, page_of


@console_view(perms.STAFF_MANAGE)
def staff_list_view(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    form = StaffFilterForm(request.GET or None)
    query = form.cleaned_data.get("q", "") if form.is_valid() else ""
    page, query_string = page_of(request, staff_list(scope=scope, query=query))
    return render(
        request,
        "console/staff/list.html",
        {
            "nav": "staff",
            "form": form,
            "page_obj": page,
            "query_string": query_string,
            "show_group": scope.is_platform,
        },
    )


@console_view(perms.STAFF_MANAGE)
def staff_new(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    form = StaffCreateForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = staff_create(
                scope=scope,
                actor=actor_for(request),
                username=data["username"],
                password=data["password"],
                role=data["role"],
                display_name=data.get("display_name", ""),
                mall_group_id=form.mall_group_id,
                merchant_id=form.merchant_id,
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, _("Staff account “%(username)s” created.") % {"username": user.username})
            return redirect("console:staff")
    return render(
        request,
        "console/staff/form.html",
        {"nav": "staff", "form": form, "staff_user": None},
        status=400 if form.is_bound and form.errors else 200,
    )


@console_view(perms.STAFF_MANAGE)
def staff_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    scope = scope_of(request)
    user = staff_list(scope=scope).filter(pk=user_id).first()
    if user is None:
        raise Http404("staff")
    initial = {
        "display_name": user.display_name,
        "role": user.role,
        "merchant": user.merchant_id,
        "is_active": user.is_active,
    }
    form = StaffEditForm(request.POST or None, scope=scope, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = staff_update(
                scope=scope,
                actor=actor_for(request),
                user_id=user.pk,
                role=data["role"],
                display_name=data.get("display_name", ""),
                is_active=data.get("is_active", False),
                merchant_id=form.merchant_id,
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        except ObjectDoesNotExist as exc:  # the account (accounts' User) is gone
            raise Http404("staff") from exc
        else:
            messages.success(request, _("Staff account “%(username)s” saved.") % {"username": user.username})
            return redirect("console:staff")
    return render(
        request,
        "console/staff/form.html",
        {
            "nav": "staff",
            "form": form,
            "staff_user": user,
            "is_self": user.pk == scope.user_id,
            "two_step_on": two_step_enabled(user_id=user.pk),
        },
        status=400 if form.is_bound and form.errors else 200,
    )
