"""Console URLs of the dedupe area (included into the console namespace by console/urls.py)."""

from django.urls import URLPattern, path

from .views import dedupe

urlpatterns: list[URLPattern] = [
    path("duplicates/", dedupe.duplicates, name="duplicates"),
    path("duplicates/<int:a_id>/<int:b_id>/", dedupe.duplicate_pair, name="duplicate_pair"),
    path("duplicates/<int:a_id>/<int:b_id>/phones/", dedupe.duplicate_phones, name="duplicate_phones"),
    path("duplicates/<int:a_id>/<int:b_id>/merge/", dedupe.duplicate_merge, name="duplicate_merge"),
    path("duplicates/<int:a_id>/<int:b_id>/dismiss/", dedupe.duplicate_dismiss, name="duplicate_dismiss"),
    path("duplicates/merges/", dedupe.merges, name="merges"),
    path("duplicates/merges/<int:merge_id>/", dedupe.merge_detail, name="merge_detail"),
    path("duplicates/merges/<int:merge_id>/undo/", dedupe.merge_undo, name="merge_undo"),
]
