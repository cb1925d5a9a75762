"""Console URLs of the privacy area (included into the console namespace by console/urls.py)."""

from django.urls import URLPattern, path  # noqa: F401

urlpatterns: list[URLPattern] = []
