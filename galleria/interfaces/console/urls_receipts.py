"""Console URLs of the receipt-photo points area (included into the console namespace by console/urls.py)."""

from django.urls import URLPattern, path

from .views import receipts

urlpatterns: list[URLPattern] = [
    path("receipts/", receipts.receipts_queue, name="receipts"),
    path("receipts/bulk-approve/", receipts.receipts_bulk_approve, name="receipts_bulk_approve"),
    path("receipts/settings/", receipts.receipt_settings, name="receipt_settings"),
    path("receipts/<int:receipt_id>/", receipts.receipt_review, name="receipt_review"),
    path("receipts/<int:receipt_id>/image/", receipts.receipt_image, name="receipt_image"),
]
