"""Console URLs of the privacy area (included into the console namespace by console/urls.py)."""

from django.urls import URLPattern, path

from .views import privacy

urlpatterns: list[URLPattern] = [
    path("members/<int:member_id>/privacy/consent/", privacy.member_consent, name="member_privacy_consent"),
    path("members/<int:member_id>/privacy/export/", privacy.member_export, name="member_privacy_export"),
    path("members/<int:member_id>/privacy/erasure/", privacy.member_erasure, name="member_privacy_erasure"),
    path(
        "members/<int:member_id>/privacy/erasure/cancel/",
        privacy.member_erasure_cancel,
        name="member_privacy_erasure_cancel",
    ),
    path("privacy/requests/", privacy.request_list, name="privacy_requests"),
    path("privacy/access-log/", privacy.access_log, name="privacy_access_log"),
]
