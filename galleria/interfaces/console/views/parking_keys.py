"""The car-park system's API keys, for mall operators with parking.manage: the car parks with their keys, a car park's
keys (issue one, revoke one), and the once-only page that shows a new key's secret.

As with POS keys (pos_keys.py), a key's secret exists only in the response to the POST that issued it: the service
derives it and does not store it; it is never put in the session, the messages framework, a log or the audit trail,
and that response is marked `no-store`. Car parks and keys are looked up within the signed-in person's mall group
(every group for platform admins), so another group's id is a 404. The services write the audit trail.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of
from galleria.interfaces.pos_keys_ui import OncePerSubmission, PosKeyForm, key_form, secret_response
from galleria.parking.selectors import car_park_get, car_park_list
from galleria.parking.services_keys import (
    car_park_key_create,
    car_park_key_get,
    car_park_key_list,
    car_park_key_revoke,
)

from ..helpers import add_application_error, console_view

API_BASE_PATH = "/api/v1/parking/"
_GUARD = OncePerSubmission("console_parking_key_requests")  # ids of key forms already used (never a secret)


class CarParkKeyForm(PosKeyForm):
    label_help_text = gettext_lazy("e.g. the barrier controller or the vendor's system it is for")


class CarParkKeyRevokeForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that the car-park system using this key stops working at once."),
        error_messages={"required": gettext_lazy("Tick the box to confirm that you want to revoke this key.")},
    )


def _car_park_or_404(request: HttpRequest, car_park_id: int) -> Any:
    car_park = car_park_get(car_park_id=car_park_id, mall_group_id=scope_of(request).mall_group_id)
    if car_park is None:
        raise Http404("car park")
    return car_park


def _keys_url(car_park_id: int) -> str:
    return reverse("console:parking_car_park_keys", args=[car_park_id])


@console_view(perms.PARKING_MANAGE)
def parking_key_car_parks(request: HttpRequest) -> HttpResponse:
    """The car parks of the group with how many usable keys each has: where to issue or revoke one."""
    scope = scope_of(request)
    car_parks = car_park_list(mall_group_id=scope.mall_group_id).annotate(
        active_keys=Count("keys", filter=Q(keys__revoked_at__isnull=True)), all_keys=Count("keys")
    )
    context = {"nav": "parking_keys", "car_parks": car_parks, "show_group": scope.is_platform}
    return render(request, "console/parking/keys_car_parks.html", context)


@console_view(perms.PARKING_MANAGE)
@sensitive_variables("key", "secret", "context")
def parking_car_park_keys(request: HttpRequest, car_park_id: int) -> HttpResponse:
    """A car park's keys; POST issues a new one and answers with its secret, once."""
    car_park = _car_park_or_404(request, car_park_id)
    if request.method != "POST":
        return _keys_page(request, car_park, key_form(car_park.pk, form_class=CarParkKeyForm))
    form = key_form(car_park.pk, request.POST, form_class=CarParkKeyForm)
    if not form.is_valid():
        return _keys_page(request, car_park, form, status=422)
    if _GUARD.already_submitted(request, form.cleaned_data["request_id"]):
        messages.warning(
            request,
            _(
                "This form was already sent and its key created; its secret is not shown again. "
                "If nobody copied it, revoke that key and create a new one."
            ),
        )
        return redirect(_keys_url(car_park.pk))
    try:
        key, secret = car_park_key_create(
            actor=actor_for(request), car_park_id=car_park.pk, label=form.cleaned_data["label"]
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
        return _keys_page(request, car_park, form, status=422)
    _GUARD.remember(request, form.cleaned_data["request_id"])
    context = {
        "nav": "parking_keys",
        "car_park": car_park,
        "key": key,
        "secret": secret,
        "api_base": request.build_absolute_uri(API_BASE_PATH),
        "done_url": _keys_url(car_park.pk),
    }
    return secret_response(render(request, "console/parking/keys_created.html", context))


def _keys_page(request: HttpRequest, car_park: Any, form: PosKeyForm, *, status: int = 200) -> HttpResponse:
    context = {
        "nav": "parking_keys",
        "car_park": car_park,
        "keys": list(car_park_key_list(car_park_id=car_park.pk)),
        "form": form,
        "api_base": request.build_absolute_uri(API_BASE_PATH),
    }
    return render(request, "console/parking/keys.html", context, status=status)


@console_view(perms.PARKING_MANAGE)
def parking_key_revoke(request: HttpRequest, car_park_id: int, key_pk: int) -> HttpResponse:
    car_park = _car_park_or_404(request, car_park_id)
    key = car_park_key_get(key_pk=key_pk, car_park_id=car_park.pk)
    if key is None:
        raise Http404("key")
    form = CarParkKeyRevokeForm(request.POST if request.method == "POST" and key.revoked_at is None else None)
    if form.is_bound and form.is_valid():
        car_park_key_revoke(actor=actor_for(request), key_pk=key.pk)
        messages.success(
            request,
            _("Key %(key_id)s was revoked. Requests signed with it are refused from now on.") % {"key_id": key.key_id},
        )
        return redirect(_keys_url(car_park.pk))
    context = {"nav": "parking_keys", "car_park": car_park, "key": key, "form": form}
    return render(request, "console/parking/keys_revoke.html", context, status=422 if form.is_bound else 200)
