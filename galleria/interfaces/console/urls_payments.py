"""Console URLs: payments (docs/payments.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import payments

urlpatterns: list[URLPattern] = [
    path("payments/", payments.payments, name="payments"),
    path("payments/notices/", payments.payment_notices, name="payment_notices"),
    path("payments/settings/", payments.payment_settings, name="payment_settings"),
    path("payments/qr/", payments.payment_qr, name="payment_qr"),
    path("payments/merchants/<int:merchant_id>/", payments.payment_profile, name="payment_profile"),
    path("payments/<int:attempt_id>/", payments.payment_detail, name="payment"),
    path("payments/<int:attempt_id>/sync/", payments.payment_sync, name="payment_sync"),
]
