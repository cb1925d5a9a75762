"""Member app URLs for privacy rights (consents, export, account deletion), included by app/urls.py."""

from django.urls import URLPattern, path

from . import privacy_views

urlpatterns: list[URLPattern] = [
    path("profile/privacy/", privacy_views.privacy, name="privacy"),
    path("profile/privacy/consent/", privacy_views.consent, name="privacy_consent"),
    path("profile/privacy/export/", privacy_views.export_create, name="privacy_export_create"),
    path("profile/privacy/exports/<int:export_id>/", privacy_views.export_view, name="privacy_export"),
    path(
        "profile/privacy/exports/<int:export_id>/download/",
        privacy_views.export_download,
        name="privacy_export_download",
    ),
    path("profile/privacy/delete/", privacy_views.delete, name="privacy_delete"),
    path("profile/privacy/delete/cancel/", privacy_views.delete_cancel, name="privacy_delete_cancel"),
]
