"""Merchant portal URLs: payments (docs/payments.md)."""

from __future__ import annotations

from django.urls import path

from . import payments

urlpatterns = [
    path("payments/", payments.payments_list, name="payments"),
    path("payments/live/", payments.payments_live, name="payments_live"),
    path("payments/live/feed/", payments.payments_live_feed, name="payments_live_feed"),
    path("payments/qr/", payments.payments_qr, name="payments_qr"),
    path("payments/<int:attempt_id>/", payments.payment_detail, name="payment_detail"),
    path("payments/<int:attempt_id>/refund/", payments.payment_refund, name="payment_refund"),
]
