"""Console URLs: outbound webhooks — endpoints, the delivery log and replay (docs/api.md, "Webhooks")."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import webhooks as v

urlpatterns: list[URLPattern] = [
    path("webhooks/", v.webhooks, name="webhooks"),
    path("webhooks/new/", v.webhook_new, name="webhook_new"),
    path("webhooks/<int:endpoint_id>/", v.webhook_endpoint, name="webhook_endpoint"),
    path("webhooks/<int:endpoint_id>/toggle/", v.webhook_endpoint_toggle, name="webhook_endpoint_toggle"),
    path("webhooks/<int:endpoint_id>/test/", v.webhook_endpoint_test, name="webhook_endpoint_test"),
    path("webhooks/deliveries/", v.webhook_deliveries, name="webhook_deliveries"),
    path("webhooks/deliveries/<int:delivery_id>/", v.webhook_delivery, name="webhook_delivery"),
    path("webhooks/deliveries/<int:delivery_id>/replay/", v.webhook_delivery_replay, name="webhook_delivery_replay"),
]
