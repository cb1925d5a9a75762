"""What every merchant portal view shares: the gate, the signed-in user's merchant, the page shell, form errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import django_errors, forbidden, scope_of, staff_view
from galleria.merchants.models import Merchant
from galleria.merchants.selectors import merchant_get

F = TypeVar("F", bound=Callable[..., HttpResponse])


def portal_tz(request: HttpRequest) -> str | None:
    """The time zone of the signed-in user's merchant's mall (None: the default mall time zone)."""
    scope = scope_of(request)
    assert scope.merchant_id is not None  # guaranteed by portal_view
    tz_name: str | None = (
        Merchant.objects.filter(pk=scope.merchant_id, mall__group_id=scope.mall_group_id)
        .values_list("mall__timezone", flat=True)
        .first()
    )
    return tz_name


def portal_view(permission: str) -> Callable[[F], F]:
    """Signed-in staff of a merchant whose role grants `permission`; mall and platform staff get a 403.
    The view runs (and renders) in the merchant's mall time zone: every time staff read is mall time."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not scope_of(request).is_merchant:
                return forbidden(request)
            with timezone.override(timeutil.zone(portal_tz(request))):
                return view(request, *args, **kwargs)

        return staff_view(permission)(cast(F, wrapped))

    return decorator


def portal_merchant(request: HttpRequest) -> Merchant:
    """The signed-in user's own merchant: the only merchant a portal view ever reads or writes."""
    scope = scope_of(request)
    assert scope.merchant_id is not None  # guaranteed by portal_view
    return merchant_get(mall_group_id=scope.mall_group_id, merchant_id=scope.merchant_id)


def portal_render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    nav: str,
    merchant: Merchant | None = None,
    status: int = 200,
) -> HttpResponse:
    scope = scope_of(request)
    merchant = merchant or portal_merchant(request)
    ctx = {
        "nav": nav,
        "merchant": merchant,
        "can_edit_profile": scope.can(perms.PORTAL_PROFILE_EDIT),
        "can_manage_staff": scope.can(perms.PORTAL_STAFF_MANAGE),
        "can_lookup": scope.can(perms.PORTAL_MEMBER_LOOKUP),
        "can_manage_pos": scope.can(perms.PORTAL_POS_MANAGE),
        **context,
    }
    return render(request, template, ctx, status=status)


def apply_form_error(form: forms.Form, exc: ApplicationError | DjangoValidationError) -> None:
    """Show a service error next to the fields it names, or above the form."""
    if isinstance(exc, DjangoValidationError):
        errors = django_errors(exc)
        for field, message in errors.items():
            form.add_error(field if field in form.fields else None, message)
        return
    placed = False
    for field in exc.fields:
        if field in form.fields:
            form.add_error(field, str(exc.message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))
