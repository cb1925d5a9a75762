"""Console URLs of the imports area (included into the console namespace by console/urls.py)."""

from django.urls import URLPattern, path

from .views import imports

urlpatterns: list[URLPattern] = [
    path("imports/", imports.imports, name="imports"),
    path("imports/new/", imports.import_new, name="import_new"),
    path("imports/<int:job_id>/", imports.import_detail, name="import"),
    path("imports/<int:job_id>/mapping/", imports.import_mapping, name="import_mapping"),
    path("imports/<int:job_id>/start/", imports.import_start, name="import_start"),
    path("imports/<int:job_id>/dry-run/", imports.import_dry_run, name="import_dry_run"),
    path("imports/<int:job_id>/result.csv", imports.import_result, name="import_result"),
]
