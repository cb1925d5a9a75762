"""Console: outbound webhooks (docs/api.md, "Webhooks") — a group's endpoints (create: the signing secret is shown
once, on the page that answers the creation, and never again; edit the URL and event types; turn off/on; send a
test event), the delivery log with each attempt's answer, and replay. Everything needs `webhooks.manage` (group
admins); galleria.webhooks' services audit every change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for
from galleria.webhooks import rules, selectors, services
from galleria.webhooks.types import DeliveryStatus

from ..helpers import console_view, page_of
from ..loyalty import group_context


class EndpointForm(forms.Form):
    url = forms.CharField(  # checked by the service (https, no credentials in it); a text box the design styles
        label=gettext_lazy("URL"),
        max_length=500,
        widget=forms.TextInput(attrs={"inputmode": "url", "placeholder": "https://", "autocomplete": "off"}),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=120, required=False)
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("Events to send"),
        choices=[(k, f"{k} — {v}") for k, v in rules.EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", gettext_lazy("All")), *DeliveryStatus.choices]
    )


def _save(request: HttpRequest, form: EndpointForm, g: Any, endpoint: Any) -> Any:
    """Create or update from a valid form: (created endpoint with its secret | updated endpoint), or None with the
    service's errors put on the form."""
    data = form.cleaned_data
    try:
        if endpoint is None:
            return services.endpoint_create(
                mall_group_id=g.id,
                url=data["url"],
                description=data["description"],
                event_types=list(data["event_types"]),
                actor=actor_for(request),
            )
        return services.endpoint_update(
            mall_group_id=g.id,
            endpoint_id=endpoint.pk,
            url=data["url"],
            description=data["description"],
            event_types=list(data["event_types"]),
            actor=actor_for(request),
        )
    except ApplicationError as exc:
        for name, message in exc.fields.items():
            form.add_error(name if name in form.fields else None, str(message))
        if not exc.fields:
            form.add_error(None, str(exc.message))
        return None


@console_view(perms.WEBHOOKS_MANAGE)
def webhooks(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    rows = [
        {"endpoint": e, "types": rules.event_types_of(e.event_types)}
        for e in selectors.endpoint_list(mall_group_id=g.id)
    ]
    return render(request, "console/webhooks/list.html", {"nav": "webhooks", "g": g, "rows": rows})


@console_view(perms.WEBHOOKS_MANAGE)
def webhook_new(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    status = 200
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            created = _save(request, form, g, None)
            if created is not None:
                endpoint = selectors.endpoint_get(mall_group_id=g.id, endpoint_id=created.endpoint_id)
                # the only time the secret is shown: this answer is not cached and the secret is in no URL
                response = render(
                    request,
                    "console/webhooks/created.html",
                    {"nav": "webhooks", "g": g, "endpoint": endpoint, "secret": created.secret},
                )
                response["Cache-Control"] = "no-store"
                return response
        status = 422
    else:
        form = EndpointForm(initial={"event_types": list(rules.EVENT_TYPES)})
    return render(
        request,
        "console/webhooks/form.html",
        {"nav": "webhooks", "g": g, "form": form, "endpoint": None},
        status=status,
    )


def _endpoint_or_404(request: HttpRequest, endpoint_id: int) -> tuple[Any, Any]:
    g = group_context(request)
    endpoint = selectors.endpoint_get(mall_group_id=g.id, endpoint_id=endpoint_id)
    if endpoint is None:
        raise Http404("endpoint")
    return endpoint, g


@console_view(perms.WEBHOOKS_MANAGE)
def webhook_endpoint(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint, g = _endpoint_or_404(request, endpoint_id)
    status = 200
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid() and _save(request, form, g, endpoint) is not None:
            messages.success(request, _("Endpoint saved."))
            return redirect(f"{request.path}{g.query}")
        status = 422
    else:
        form = EndpointForm(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "event_types": rules.event_types_of(endpoint.event_types),
            }
        )
    page, query = page_of(request, selectors.delivery_list(mall_group_id=g.id, endpoint_id=endpoint.pk))
    return render(
        request,
        "console/webhooks/form.html",
        {"nav": "webhooks", "g": g, "form": form, "endpoint": endpoint, "page_obj": page, "query": query},
        status=status,
    )


@require_POST
@console_view(perms.WEBHOOKS_MANAGE)
def webhook_endpoint_toggle(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint, g = _endpoint_or_404(request, endpoint_id)
    enabled = request.POST.get("enabled") == "1"
    services.endpoint_set_enabled(
        mall_group_id=g.id, endpoint_id=endpoint.pk, enabled=enabled, actor=actor_for(request)
    )
    messages.success(request, _("Endpoint turned on.") if enabled else _("Endpoint turned off."))
    return redirect(reverse("console:webhook_endpoint", args=[endpoint.pk]) + g.query)


@require_POST
@console_view(perms.WEBHOOKS_MANAGE)
def webhook_endpoint_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint, g = _endpoint_or_404(request, endpoint_id)
    delivery = services.endpoint_send_test(mall_group_id=g.id, endpoint_id=endpoint.pk, actor=actor_for(request))
    if delivery.status == DeliveryStatus.DELIVERED:
        messages.success(request, _("Test event delivered (HTTP %(code)s).") % {"code": delivery.last_status_code})
    else:
        messages.error(
            request,
            _("The test event was not accepted (%(answer)s): see the delivery log.")
            % {"answer": delivery.last_status_code or _("no answer")},
        )
    return redirect(reverse("console:webhook_endpoint", args=[endpoint.pk]) + g.query)


@console_view(perms.WEBHOOKS_MANAGE)
def webhook_deliveries(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = DeliveryFilterForm(request.GET or None)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    page, query = page_of(request, selectors.delivery_list(mall_group_id=g.id, status=status or ""))
    return render(
        request,
        "console/webhooks/deliveries.html",
        {"nav": "webhook_deliveries", "g": g, "form": form, "page_obj": page, "query": query},
    )


@console_view(perms.WEBHOOKS_MANAGE)
def webhook_delivery(request: HttpRequest, delivery_id: int) -> HttpResponse:
    g = group_context(request)
    delivery = selectors.delivery_get(mall_group_id=g.id, delivery_id=delivery_id)
    if delivery is None:
        raise Http404("delivery")
    return render(
        request,
        "console/webhooks/delivery.html",
        {
            "nav": "webhook_deliveries",
            "g": g,
            "d": delivery,
            "attempts": selectors.delivery_attempts(delivery_id=delivery.pk)[:50],
            "body": services.delivery_body(delivery=delivery),
        },
    )


@require_POST
@console_view(perms.WEBHOOKS_MANAGE)
def webhook_delivery_replay(request: HttpRequest, delivery_id: int) -> HttpResponse:
    g = group_context(request)
    try:
        replay = services.delivery_replay(mall_group_id=g.id, delivery_id=delivery_id, actor=actor_for(request))
    except ApplicationError as exc:
        raise Http404("delivery") from exc
    messages.success(request, _("The event will be sent again within a minute."))
    return redirect(reverse("console:webhook_delivery", args=[replay.pk]) + g.query)
